"""Optimizers and schedules: updates against PyTorch's for several steps, both ways of passing gradients,
and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn, optim
from tinygrad_cnn import functional as F

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=3e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("Adam", dict(lr=1e-2, amsgrad=True)),
    ("AdamW", dict(lr=1e-2)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1, amsgrad=True)),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CONFIGS)]


def _grad_sequence(shapes, steps, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_updates_match_torch(torch, name, kw, dtype):
    shapes = [(4, 3), (3,), (2, 2, 2)]
    rng = np.random.default_rng(1)
    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = _grad_sequence(shapes, 6, dtype)

    ours = [tg.Tensor(a.copy(), requires_grad=True) for a in start]
    opt = getattr(optim, name)(ours, **kw)
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    topt = getattr(torch.optim, name)(theirs, **kw)
    for gs in grads:
        for p, g in zip(ours, gs):
            p.grad = g
        opt.step()
        for p, g in zip(theirs, gs):
            p.grad = torch.tensor(g)
        topt.step()
        for p, q in zip(ours, theirs):
            assert p.dtype == dtype
            rtol = 1e-12 if dtype == np.float64 else 1e-6
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_functional_and_grad_field_paths_agree(name, kw):
    """opt.step(grads) on a parameter dict == opt.step() with .grad on a Module's parameters."""
    model = nn.Sequential(nn.Linear(5, 4, rng=0), nn.Tanh(), nn.Linear(4, 3, rng=1))
    params = {k: tg.Tensor(v, requires_grad=True) for k, v in model.state_dict().items()}
    opt_m = getattr(optim, name)(model.parameters(), **kw)
    opt_f = getattr(optim, name)(params, **kw)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 5)).astype(np.float32), rng.integers(0, 3, 8)

    def loss_fn(p, x, y):
        h = F.tanh(F.linear(tg.Tensor(x), p["0.weight"], p["0.bias"]))
        return F.cross_entropy(F.linear(h, p["2.weight"], p["2.bias"]), y)

    for _ in range(4):
        opt_m.zero_grad()
        F.cross_entropy(model(tg.Tensor(x)), y).backward()
        opt_m.step()
        loss, grads = tg.value_and_grad(loss_fn)(params, x, y)
        returned = opt_f.step(grads)
        assert returned is params
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, params[k].data)


def test_updates_are_in_place_and_keep_dtype():
    p = tg.Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    buf = p.data
    opt = optim.Adam([p], lr=0.1)
    opt.step([np.full((2, 3), 0.5, dtype=np.float32)])
    assert p.data is buf and p.dtype == np.float32
    assert np.allclose(p.data, 0.9)  # Adam's first step moves each coordinate by lr * sign(g)


def test_numpy_array_parameters():
    w = np.array([1.0, -2.0])
    optim.SGD({"w": w}, lr=0.5).step({"w": np.array([2.0, 2.0])})
    np.testing.assert_array_equal(w, [0.0, -3.0])


def test_sgd_minimises_a_quadratic():
    target = np.array([3.0, -1.0, 0.5])
    params = {"x": tg.Tensor(np.zeros(3), requires_grad=True)}
    opt = optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True)
    for _ in range(200):
        _, g = tg.value_and_grad(lambda p: ((p["x"] - target) ** 2).sum())(params)
        opt.step(g)
    np.testing.assert_allclose(params["x"].data, target, atol=1e-6)


def test_params_without_grad_are_skipped():
    a = tg.Tensor(np.ones(2), requires_grad=True)
    b = tg.Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([a, b], lr=1.0)
    a.grad = np.ones(2)
    opt.step()
    np.testing.assert_array_equal(a.data, [0, 0])
    np.testing.assert_array_equal(b.data, [1, 1])
    opt.zero_grad()
    assert a.grad is None


def test_errors_are_clear():
    p = tg.Tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    with pytest.raises(ValueError, match="no parameter has a .grad"):
        optim.SGD([p], lr=0.1).step()
    with pytest.raises(ValueError, match="got 2 gradients for 1 parameters"):
        optim.SGD([p], lr=0.1).step([np.ones((2, 2)), np.ones(2)])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        optim.SGD([p], lr=0.1).step([np.ones(3, dtype=np.float32)])
    with pytest.raises(TypeError, match="float64"):
        optim.SGD([p], lr=0.1).step([np.ones((2, 2))])
    with pytest.raises(TypeError, match="float Tensor"):
        optim.Adam([tg.Tensor(np.arange(3))], lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([p], lr=-1.0)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(0.9, 1.0))


@pytest.mark.oracle
@pytest.mark.parametrize("kind", ["step", "cosine", "cosine_min"])
def test_schedules_match_torch(torch, kind):
    p = tg.Tensor(np.zeros(1), requires_grad=True)
    q = torch.zeros(1, requires_grad=True)
    opt, topt = optim.SGD([p], lr=0.1), torch.optim.SGD([q], lr=0.1)
    if kind == "step":
        s, ts = optim.StepLR(opt, 3, gamma=0.5), torch.optim.lr_scheduler.StepLR(topt, 3, gamma=0.5)
    else:
        eta = 0.01 if kind == "cosine_min" else 0.0
        s = optim.CosineAnnealingLR(opt, 7, eta_min=eta)
        ts = torch.optim.lr_scheduler.CosineAnnealingLR(topt, 7, eta_min=eta)
    lrs, tlrs = [], []
    for _ in range(20):  # past T_max: the cosine continues as PyTorch's does
        lrs.append(s.get_last_lr()[0])
        tlrs.append(ts.get_last_lr()[0])
        q.grad = torch.zeros(1)
        topt.step()
        s.step()
        ts.step()
    # PyTorch computes the cosine recursively, this closed form differs from it only by rounding
    np.testing.assert_allclose(lrs, tlrs, rtol=1e-9, atol=1e-15)
    assert opt.lr == s.get_last_lr()[0]


def test_cosine_endpoints():
    opt = optim.Adam([tg.Tensor(np.zeros(1), requires_grad=True)], lr=0.2)
    s = optim.CosineAnnealingLR(opt, T_max=4, eta_min=0.02)
    got = [opt.lr]
    for _ in range(4):
        s.step()
        got.append(opt.lr)
    assert got[0] == pytest.approx(0.2) and got[2] == pytest.approx(0.11) and got[4] == pytest.approx(0.02)
