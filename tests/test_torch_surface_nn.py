"""The torch-shaped surface of nn and optim (issue 13 §4): Parameter, ModuleList/ModuleDict, the loss and
softmax modules, per-module forward hooks, zero_grad, optimizers' param groups and state dicts, schedules on
param groups; against PyTorch where it has the behaviour."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn, optim


def _t(*values, dtype=np.float64):
    return tg.Tensor(np.array(values, dtype=dtype), requires_grad=True)


# -------------------------------------------------------------------- Parameter
def test_parameter_is_a_registered_leaf_even_without_requires_grad():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(np.ones((2, 3), np.float32))
            self.frozen = nn.Parameter(np.zeros(3, np.float32), requires_grad=False)
            self.buf = tg.Tensor(np.zeros(3, np.float32))  # a plain tensor is not a parameter

    m = M()
    assert [k for k, _ in m.named_parameters()] == ["w", "frozen"]
    assert isinstance(m.w, tg.Tensor) and isinstance(m.w, nn.Parameter)
    assert m.w.is_leaf and m.w.requires_grad and not m.frozen.requires_grad
    assert list(m.state_dict()) == ["w", "frozen"]
    assert "Parameter containing" in repr(m.w)


def test_parameter_shares_the_array_of_what_it_wraps():
    arr = np.arange(3.0)
    p = nn.Parameter(arr)
    assert p.data is arr
    t = tg.Tensor(np.arange(3.0))
    q = nn.Parameter(t)
    assert q.data is t.data and q.requires_grad
    (q * q).sum().backward()
    np.testing.assert_array_equal(q.grad.data, 2 * np.arange(3.0))


def test_a_computed_tensor_is_still_refused_as_a_parameter():
    m = nn.Module()
    with pytest.raises(ValueError, match="leaf"):
        m.w = _t(1.0) * 2


# -------------------------------------------------------------------- containers
@pytest.mark.oracle
def test_module_list_and_dict_names_match_torch(torch):
    class Ours(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)])
            self.heads = nn.ModuleDict({"cls": nn.Linear(2, 5), "reg": nn.Linear(2, 1)})
            self.scale = nn.Parameter(np.ones(1, np.float32))

    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList([torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)])
            self.heads = torch.nn.ModuleDict({"cls": torch.nn.Linear(2, 5), "reg": torch.nn.Linear(2, 1)})
            self.scale = torch.nn.Parameter(torch.ones(1))

    ours, theirs = Ours(), Theirs()
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert [k for k, _ in ours.named_modules()] == [k for k, _ in theirs.named_modules()]
    # the same weights give the same outputs, through the state dict's torch-compatible keys
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    h, th = tg.Tensor(x), torch.tensor(x)
    for m, tm in zip(ours.layers, theirs.layers):
        h, th = m(h), tm(th)
    np.testing.assert_allclose(ours.heads["cls"](h).data, theirs.heads["cls"](th).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_module_list_operations_renumber_like_torch():
    a, b, c, d = nn.ReLU(), nn.Tanh(), nn.Linear(2, 2), nn.Sigmoid()
    ml = nn.ModuleList([a, b])
    ml.append(c)
    ml.insert(0, d)
    assert list(ml) == [d, a, b, c] and len(ml) == 4 and ml[-1] is c
    assert [k for k, _ in ml.named_parameters()] == ["3.weight", "3.bias"]
    del ml[0]
    assert list(ml) == [a, b, c] and [k for k, _ in ml.named_parameters()] == ["2.weight", "2.bias"]
    ml[0] = d
    assert ml[0] is d
    sub = ml[1:]
    assert isinstance(sub, nn.ModuleList) and list(sub) == [b, c]
    ml.extend([nn.Identity()])
    assert len(ml) == 4
    with pytest.raises(IndexError):
        ml[4]
    with pytest.raises(TypeError, match="not a Module"):
        ml.append(3)
    with pytest.raises(NotImplementedError):
        ml(tg.Tensor(np.zeros(2)))


def test_module_dict_operations_and_keys_that_are_method_names():
    md = nn.ModuleDict([("keys", nn.Linear(1, 1)), ("b", nn.ReLU())])
    assert md.keys() == ["keys", "b"]  # the key does not hide the method
    assert isinstance(md["keys"], nn.Linear) and md.b is md["b"]
    md["c"] = nn.Tanh()
    assert "c" in md and len(md) == 3 and list(md) == ["keys", "b", "c"]
    assert [k for k, _ in md.named_parameters()] == ["keys.weight", "keys.bias"]
    assert md.pop("b") is not None and list(md) == ["keys", "c"]
    del md["c"]
    assert [k for k, _ in md.items()] == ["keys"]
    with pytest.raises(TypeError, match="not a Module"):
        md["x"] = 1
    with pytest.raises(KeyError):
        md["a.b"] = nn.ReLU()
    with pytest.raises(AttributeError):
        md.nothing


def test_optimizers_and_to_see_container_parameters():
    model = nn.Module()
    model.blocks = nn.ModuleList([nn.Linear(3, 3, rng=0), nn.Linear(3, 1, rng=1)])
    opt = optim.SGD(model, lr=0.1)
    assert opt.paths == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]
    model.to(np.float64)
    assert all(p.dtype == np.float64 for p in model.parameters())


# -------------------------------------------------------------------- losses and softmax modules
@pytest.mark.oracle
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_loss_matches_torch(torch, reduction):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4))
    y = np.array([0, 3, -100, 1, 2, 7])
    y[5] = 7  # ignored too, with ignore_index=7 below
    for ignore in (-100, 7):
        yy = np.where(y == 7, 2, y) if ignore == -100 else np.where(y == -100, 1, y)
        ours, theirs = tg.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        lo = nn.CrossEntropyLoss(ignore_index=ignore, reduction=reduction)(ours, yy)
        lt = torch.nn.CrossEntropyLoss(ignore_index=ignore, reduction=reduction)(theirs, torch.tensor(yy))
        np.testing.assert_allclose(lo.data, lt.detach().numpy(), rtol=1e-12, atol=1e-12)
        lo.sum().backward()
        lt.sum().backward()
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.oracle
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_torch(torch, reduction):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    ours, theirs = tg.Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    lo = nn.MSELoss(reduction=reduction)(ours, b)
    lt = torch.nn.MSELoss(reduction=reduction)(theirs, torch.tensor(b))
    np.testing.assert_allclose(lo.data, lt.detach().numpy(), rtol=1e-12)
    lo.sum().backward()
    lt.sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-12)


@pytest.mark.oracle
@pytest.mark.parametrize("cls", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("dim", [0, 1, -1, 2])
def test_softmax_modules_match_torch(torch, cls, dim):
    x = np.random.default_rng(2).standard_normal((2, 3, 4))
    w = np.random.default_rng(3).standard_normal((2, 3, 4))
    ours, theirs = tg.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = getattr(nn, cls)(dim=dim)(ours), getattr(torch.nn, cls)(dim=dim)(theirs)
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    (yo * tg.Tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_module_argument_checks():
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction=None)
    with pytest.raises(TypeError, match="ignore_index"):
        nn.CrossEntropyLoss(ignore_index=1.5)
    with pytest.raises(TypeError, match="dim"):
        nn.Softmax(dim=1.0)
    with pytest.warns(UserWarning, match="implicit"):
        out = nn.Softmax()(tg.Tensor(np.zeros((2, 3))))  # PyTorch's legacy choice: dim 1 for 2-d input
    np.testing.assert_allclose(out.data, np.full((2, 3), 1 / 3))
    assert repr(nn.LogSoftmax(dim=1)) == "LogSoftmax(dim=1)"


# -------------------------------------------------------------------- zero_grad and forward hooks
def test_module_zero_grad_sets_none_by_default():
    m = nn.Linear(3, 2, rng=0)
    m(tg.Tensor(np.ones((1, 3), np.float32))).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.data.any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_forward_hook_sees_inputs_and_output_and_is_removed():
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.ReLU())
    calls = []
    handle = model[0].register_forward_hook(lambda m, inp, out: calls.append((m, inp, out)))
    x = tg.Tensor(np.ones((1, 3), np.float32))
    y = model(x)
    assert len(calls) == 1  # only the module it was registered on
    m, inp, out = calls[0]
    assert m is model[0] and inp[0] is x and out.shape == (1, 2)
    handle.remove()
    handle.remove()  # twice is harmless
    model(x)
    assert len(calls) == 1
    # a hook returning a value replaces the output, as in PyTorch
    h2 = model[1].register_forward_hook(lambda m, inp, out: out * 0 + 7)
    np.testing.assert_array_equal(model(x).data, np.full((1, 2), 7, np.float32))
    h2.remove()
    np.testing.assert_array_equal(model(x).data, y.data)
    with pytest.raises(TypeError):
        model.register_forward_hook(3)


@pytest.mark.oracle
def test_forward_hook_replacement_matches_torch(torch):
    ours, theirs = nn.Linear(2, 2, rng=0), torch.nn.Linear(2, 2)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    ours.register_forward_hook(lambda m, i, o: o * 2)
    theirs.register_forward_hook(lambda m, i, o: o * 2)
    x = np.ones((1, 2), np.float32)
    np.testing.assert_allclose(ours(tg.Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6)


# -------------------------------------------------------------------- param groups
def _groups_pair(torch, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    start = [rng.standard_normal(s).astype(dtype) for s in [(3, 2), (2,), (4,)]]
    ours = [tg.Tensor(a.copy(), requires_grad=True) for a in start]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    return ours, theirs


GROUP_CONFIGS = [
    ("SGD", dict(lr=0.05, momentum=0.9), [dict(lr=0.2), dict(momentum=0.5, weight_decay=0.01)]),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True), [dict(), dict(lr=0.01, dampening=0.0)]),
    ("Adam", dict(lr=1e-2), [dict(betas=(0.8, 0.9)), dict(lr=3e-2, amsgrad=True, weight_decay=0.1)]),
    ("AdamW", dict(lr=1e-2, weight_decay=0.05), [dict(eps=1e-6), dict(lr=2e-2, weight_decay=0.2)]),
]


def _make_groups(params, extra):
    return [{"params": params[:2], **extra[0]}, {"params": params[2:], **extra[1]}]


@pytest.mark.oracle
@pytest.mark.parametrize("name,kw,extra", GROUP_CONFIGS, ids=[c[0] + str(i) for i, c in enumerate(GROUP_CONFIGS)])
def test_param_groups_match_torch_including_a_changed_lr(torch, name, kw, extra):
    ours, theirs = _groups_pair(torch)
    opt = getattr(optim, name)(_make_groups(ours, extra), **kw)
    topt = getattr(torch.optim, name)(_make_groups(theirs, extra), **kw)
    assert len(opt.param_groups) == 2
    for g, tg_ in zip(opt.param_groups, topt.param_groups):
        assert set(g) <= set(tg_)  # torch's keys (it has more: foreach, maximize, ...), filled from the defaults
        for k in opt.defaults:
            assert g[k] == (tuple(tg_[k]) if isinstance(tg_[k], tuple) else tg_[k]), k
    rng = np.random.default_rng(5)
    for step in range(6):
        if step == 3:  # changed by hand between steps: used at the next step
            opt.param_groups[1]["lr"] = 0.003
            topt.param_groups[1]["lr"] = 0.003
        for p, q in zip(ours, theirs):
            g = rng.standard_normal(p.shape)
            p.grad, q.grad = g, torch.tensor(g)
        opt.step()
        topt.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_lr_attribute_reads_the_first_group_and_sets_all():
    a, b = _t(1.0), _t(2.0)
    opt = optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b]}], lr=0.5, momentum=0.9)
    assert opt.lr == 0.1 and opt.param_groups[1]["lr"] == 0.5 and opt.momentum == 0.9
    opt.lr = 0.25
    assert [g["lr"] for g in opt.param_groups] == [0.25, 0.25]
    with pytest.raises(ValueError, match="SGD: lr must be a finite number"):
        opt.lr = float("nan")
    assert [g["lr"] for g in opt.param_groups] == [0.25, 0.25]
    opt.momentum = 0.5
    assert [g["momentum"] for g in opt.param_groups] == [0.5, 0.5]
    assert opt.defaults["lr"] == 0.5


def test_group_hyperparameters_are_checked_at_construction_and_at_step():
    a, b = _t(1.0), _t(2.0)
    with pytest.raises(ValueError, match=r"SGD: param_groups\[1\]: momentum .* -1"):
        optim.SGD([{"params": [a]}, {"params": [b], "momentum": -1}], lr=0.1)
    with pytest.raises(ValueError, match=r"param_groups\[0\]: Nesterov"):
        optim.SGD([{"params": [a], "nesterov": True}], lr=0.1)
    with pytest.raises(ValueError, match=r"Adam: param_groups\[0\]: betas\[1\]"):
        optim.Adam([{"params": [a], "betas": (0.9, 1.0)}])
    with pytest.raises(ValueError, match=r"empty parameter list in param_groups\[1\]"):
        optim.SGD([{"params": [a]}, {"params": []}], lr=0.1)
    with pytest.raises(ValueError, match="appears twice"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    opt = optim.Adam([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1)  # a lone tensor, as PyTorch
    opt.param_groups[1]["lr"] = float("inf")
    a.grad, b.grad = np.ones(1), np.ones(1)
    with pytest.raises(ValueError, match=r"Adam: param_groups\[1\]: lr .* inf"):
        opt.step()
    assert a.item() == 1.0 and b.item() == 2.0 and not any(opt.state)  # nothing moved
    opt.param_groups[1]["lr"] = np.float32(0.5)
    opt.step()
    assert isinstance(opt.param_groups[1]["lr"], float) and b.item() < 2.0


def test_step_with_grads_takes_one_structure_per_group():
    a, b, c = _t(1.0), _t(2.0), _t(3.0)
    opt = optim.SGD([{"params": {"a": a, "b": b}, "lr": 1.0}, {"params": [c], "lr": 0.5}], lr=0.1)
    one = np.ones(1)
    out = opt.step([{"b": one, "a": one}, [one]])
    assert out is opt.tree
    assert (a.item(), b.item(), c.item()) == (0.0, 1.0, 2.5)
    with pytest.raises(ValueError, match="missing keys"):
        opt.step([{"a": one}, [one]])


def test_optimizer_zero_grad():
    a = _t(1.0)
    opt = optim.SGD([a], lr=0.1)
    a.grad = np.ones(1)
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and a.grad.item() == 0.0
    opt.zero_grad()
    assert a.grad is None


# -------------------------------------------------------------------- optimizer state dicts
STATE_CONFIGS = [
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=1e-2, amsgrad=True)),
]


def _fresh(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [tg.Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in [(3, 2), (2,), (4,)]]


def _run(opt, params, grads):
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = g
        opt.step()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", STATE_CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(STATE_CONFIGS)])
def test_save_load_continues_bit_identically(name, kw, dtype):
    rng = np.random.default_rng(9)
    grads = [[rng.standard_normal(s).astype(dtype) for s in [(3, 2), (2,), (4,)]] for _ in range(5)]
    groups = lambda ps: [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.02}]  # noqa: E731
    straight = _fresh(dtype)
    opt = getattr(optim, name)(groups(straight), **kw)
    _run(opt, straight, grads)

    first = _fresh(dtype)
    opt1 = getattr(optim, name)(groups(first), **kw)
    _run(opt1, first, grads[:3])
    saved = opt1.state_dict()
    second = [tg.Tensor(p.data.copy(), requires_grad=True) for p in first]
    opt2 = getattr(optim, name)(groups(second), lr=0.9)  # other hyperparameters: the state brings them
    opt2.load_state_dict(saved)
    assert opt2.param_groups[1]["lr"] == 0.02 and opt2.lr == kw["lr"]
    _run(opt2, second, grads[3:])
    for p, q in zip(straight, second):
        np.testing.assert_array_equal(p.data, q.data)
    for s, t in zip(opt.state, opt2.state):
        assert set(s) == set(t)
        for k in s:
            np.testing.assert_array_equal(s[k], t[k])


def test_state_dict_round_trip_is_exact_and_a_copy():
    ps = _fresh(np.float64)
    opt = optim.Adam([{"params": ps[:1]}, {"params": ps[1:], "betas": (0.5, 0.6)}], lr=0.1, amsgrad=True)
    for p in ps:
        p.grad = np.ones(p.shape)
    opt.step()
    sd = opt.state_dict()
    assert list(sd) == ["state", "param_groups"]
    assert sorted(sd["state"]) == [0, 1, 2]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2]]
    assert sd["param_groups"][1]["betas"] == (0.5, 0.6)
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert all(isinstance(v, np.ndarray) for k, v in sd["state"][1].items() if k != "step")
    before = {i: {k: np.copy(v) for k, v in st.items()} for i, st in sd["state"].items()}
    opt.step()  # the saved arrays are copies: stepping does not change them
    for i, st in before.items():
        for k, v in st.items():
            np.testing.assert_array_equal(sd["state"][i][k], v)
    opt.load_state_dict(sd)
    again = opt.state_dict()
    assert again["param_groups"] == sd["param_groups"]
    for i in sd["state"]:
        for k, v in sd["state"][i].items():
            np.testing.assert_array_equal(again["state"][i][k], v)
    # a parameter not stepped yet has no entry, as in PyTorch
    q, r = _t(1.0), _t(2.0)
    o = optim.SGD([q, r], lr=0.1, momentum=0.9)
    q.grad = np.ones(1)
    o.step()
    assert list(o.state_dict()["state"]) == [0]


@pytest.mark.oracle
@pytest.mark.parametrize("name,kw", STATE_CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(STATE_CONFIGS)])
def test_state_dict_has_torchs_structure(torch, name, kw):
    ours, theirs = _groups_pair(torch)
    opt = getattr(optim, name)([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.03}], **kw)
    topt = getattr(torch.optim, name)([{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.03}], **kw)
    for p, q in zip(ours, theirs):
        p.grad, q.grad = np.ones(p.shape), torch.ones(q.shape, dtype=torch.float64)
    opt.step()
    topt.step()
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert list(sd) == list(tsd)
    assert list(sd["state"]) == list(tsd["state"])
    for i in sd["state"]:
        assert set(sd["state"][i]) == set(tsd["state"][i])
        for k, v in sd["state"][i].items():
            tv = tsd["state"][i][k]
            np.testing.assert_allclose(np.asarray(v, dtype=np.float64), tv.numpy() if hasattr(tv, "numpy") else tv,
                                       rtol=1e-12)
    for g, tg_ in zip(sd["param_groups"], tsd["param_groups"]):
        assert g["params"] == tg_["params"]
        for k in opt.defaults:
            assert k in tg_ and g[k] == (tuple(tg_[k]) if isinstance(tg_[k], tuple) else tg_[k])


def test_load_state_dict_errors_change_nothing():
    ps = _fresh(np.float64)
    opt = optim.SGD([{"params": ps[:2]}, {"params": ps[2:]}], lr=0.1, momentum=0.9)
    for p in ps:
        p.grad = np.ones(p.shape)
    opt.step()
    sd = opt.state_dict()
    other = optim.SGD(ps, lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="param groups"):
        other.load_state_dict(sd)
    small = optim.SGD([{"params": ps[:1]}, {"params": ps[1:]}], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="parameters"):
        small.load_state_dict(sd)
    bad = {"state": {0: {"momentum_buffer": np.zeros(5)}}, "param_groups": sd["param_groups"]}
    fresh = optim.SGD([{"params": ps[:2]}, {"params": ps[2:]}], lr=0.3, momentum=0.9)
    with pytest.raises(ValueError, match="shape"):
        fresh.load_state_dict(bad)
    nan_lr = {"state": {}, "param_groups": [{**g, "lr": math.nan} for g in sd["param_groups"]]}
    with pytest.raises(ValueError, match="lr"):
        fresh.load_state_dict(nan_lr)
    with pytest.raises(ValueError, match="state"):
        fresh.load_state_dict({"param_groups": []})
    assert fresh.lr == 0.3 and not any(fresh.state)


# -------------------------------------------------------------------- schedules on param groups
@pytest.mark.oracle
@pytest.mark.parametrize("kind", ["step", "cosine"])
def test_schedules_scale_each_group_from_its_initial_lr_as_torch(torch, kind):
    ours, theirs = _groups_pair(torch)
    opt = optim.SGD([{"params": ours[:2], "lr": 0.4}, {"params": ours[2:]}], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([{"params": theirs[:2], "lr": 0.4}, {"params": theirs[2:]}], lr=0.1, momentum=0.9)
    if kind == "step":
        s, ts = optim.StepLR(opt, 2, gamma=0.5), torch.optim.lr_scheduler.StepLR(topt, 2, gamma=0.5)
    else:
        s = optim.CosineAnnealingLR(opt, T_max=5, eta_min=0.01)
        ts = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=5, eta_min=0.01)
    assert s.base_lrs == ts.base_lrs == [0.4, 0.1]
    assert [g["initial_lr"] for g in opt.param_groups] == [0.4, 0.1]
    for _ in range(7):
        for p, q in zip(ours, theirs):
            p.grad, q.grad = np.ones(p.shape), torch.ones(q.shape, dtype=torch.float64)
        opt.step()
        topt.step()
        s.step()
        ts.step()
        np.testing.assert_allclose(s.get_last_lr(), ts.get_last_lr(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose([g["lr"] for g in opt.param_groups], [g["lr"] for g in topt.param_groups],
                                   rtol=1e-12, atol=1e-15)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("make", [lambda o: optim.StepLR(o, 2, gamma=0.5),
                                  lambda o: optim.CosineAnnealingLR(o, T_max=6, eta_min=0.001)])
def test_schedule_state_dict_round_trip_continues_the_same(make):
    def new():
        a, b = _t(1.0), _t(2.0)
        return optim.SGD([{"params": [a], "lr": 0.2}, {"params": [b]}], lr=0.1)

    straight = new()
    s = make(straight)
    for _ in range(5):
        s.step()
    first = new()
    s1 = make(first)
    for _ in range(2):
        s1.step()
    saved_opt, saved = first.state_dict(), s1.state_dict()
    assert saved["last_epoch"] == 2 and saved["base_lrs"] == [0.2, 0.1] and "optimizer" not in saved
    second = new()
    s2 = make(second)
    second.load_state_dict(saved_opt)
    s2.load_state_dict(saved)
    assert s2.state_dict() == saved and s2.get_last_lr() == s1.get_last_lr()
    for _ in range(3):
        s2.step()
    assert s2.get_last_lr() == s.get_last_lr()
    assert [g["lr"] for g in second.param_groups] == [g["lr"] for g in straight.param_groups]
    with pytest.raises(ValueError, match="unknown keys"):
        s2.load_state_dict({"nope": 1})
    with pytest.raises(ValueError, match="base_lrs"):
        s2.load_state_dict({"base_lrs": [0.1]})


def test_a_schedule_refuses_an_invalid_rate_for_any_group_and_sets_none():
    a, b = _t(1.0), _t(2.0)
    opt = optim.SGD([{"params": [a], "lr": 1e-300}, {"params": [b], "lr": 1e200}], lr=0.1)
    s = optim.StepLR(opt, step_size=1, gamma=1e200)
    with pytest.raises(ValueError, match="rate for epoch 1 is invalid"):
        s.step()  # 1e200 * 1e200 overflows in group 1; group 0 is not changed either
    assert [g["lr"] for g in opt.param_groups] == [1e-300, 1e200] and s.last_epoch == 0


def test_a_schedule_made_anew_and_loaded_continues_at_its_rate_as_torch() -> None:
    torch = pytest.importorskip("torch")
    import tinygrad_cnn as tg

    def ours() -> float:
        w = tg.Tensor(np.ones(2), requires_grad=True)
        opt = tg.optim.SGD([w], lr=1.0)
        sch = tg.optim.lr_scheduler.StepLR(opt, 1, 0.1)
        for _ in range(2):
            w.grad = tg.Tensor(np.ones(2))
            opt.step()
            sch.step()
        opt2 = tg.optim.SGD([tg.Tensor(np.ones(2), requires_grad=True)], lr=1.0)
        opt2.load_state_dict(opt.state_dict())
        sch2 = tg.optim.lr_scheduler.StepLR(opt2, 1, 0.1)
        sch2.load_state_dict(sch.state_dict())
        return opt2.param_groups[0]["lr"]

    def theirs() -> float:
        w = torch.ones(2, requires_grad=True)
        opt = torch.optim.SGD([w], lr=1.0)
        sch = torch.optim.lr_scheduler.StepLR(opt, 1, 0.1)
        for _ in range(2):
            w.grad = torch.ones(2)
            opt.step()
            sch.step()
        opt2 = torch.optim.SGD([torch.ones(2, requires_grad=True)], lr=1.0)
        opt2.load_state_dict(opt.state_dict())
        sch2 = torch.optim.lr_scheduler.StepLR(opt2, 1, 0.1)
        sch2.load_state_dict(sch.state_dict())
        return opt2.param_groups[0]["lr"]

    assert ours() == pytest.approx(theirs()) == pytest.approx(0.01)
