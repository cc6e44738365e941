"""Normalisation: the ``standardize`` primitive's hand-derived VJP (checked against the composite it
simplifies, finite differences and torch), batch / layer / group norm against torch in float32 and float64
(running statistics included), their modules' state dicts and train/eval behaviour, and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
import tinygrad_cnn.nn as nn
from tinygrad_cnn import Tensor
from tinygrad_cnn.core.registry import REGISTRY

TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-12)}


def _t(torch, a, grad=False):
    return torch.from_numpy(np.array(a)).requires_grad_(grad)


# ---------------------------------------------------------------- the primitive
def _composite_standardize(x: Tensor, axes: tuple[int, ...], eps: float) -> Tensor:
    """The forward written out in primitives: its autograd gradient is what the one-expression VJP simplifies."""
    n = int(np.prod([x.shape[a] for a in axes]))
    xc = x - x.sum(axis=axes, keepdims=True) * (1.0 / n)
    var = (xc * xc).sum(axis=axes, keepdims=True) * (1.0 / n)
    return xc * (var + eps) ** -0.5


@pytest.mark.parametrize("i", range(len(REGISTRY["standardize"].samples(np.random.default_rng(0)))))
def test_the_one_expression_vjp_equals_the_composites_gradient(i):
    s = REGISTRY["standardize"].samples(np.random.default_rng(0))[i]
    x = s.inputs[0]
    g = np.random.default_rng(i).standard_normal(x.shape)
    a, b = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    F.standardize(a, **s.attrs).backward(g)
    _composite_standardize(b, **s.attrs).backward(g)
    np.testing.assert_allclose(a.grad.data, b.grad.data, rtol=1e-10, atol=1e-12)
    # and under create_graph (r recomputed in registered ops) the first-order value is the same
    c = Tensor(x, requires_grad=True)
    (gc,) = tg.gradients((F.standardize(c, **s.attrs) * Tensor(g)).sum(), [c], create_graph=True)
    np.testing.assert_allclose(gc.data, a.grad.data, rtol=1e-12, atol=1e-13)


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data(), eps=st.sampled_from([1e-5, 0.1, 1.0]),
       seed=st.integers(0, 2**16))
def test_standardize_gradcheck_and_gradgradcheck_over_generated_shapes_and_axes(shape, data, eps, seed):
    ndim = len(shape)
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, ndim - 1), min_size=1))))
    n = int(np.prod([shape[a] for a in axes]))
    if n < 2:  # a single value normalises to exactly 0 whatever x is: nothing to check
        return
    x = np.random.default_rng(seed).standard_normal(shape) * 1.5 + 0.3
    f = lambda t: F.standardize(t, axes, eps)  # noqa: E731
    assert tg.gradcheck(f, [Tensor(x)])
    assert tg.gradgradcheck(f, [Tensor(x)])


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("i", range(len(REGISTRY["standardize"].samples(np.random.default_rng(0)))))
def test_standardize_matches_torch(torch, dtype, i):
    s = REGISTRY["standardize"].samples(np.random.default_rng(0))[i]
    axes, eps = s.attrs["axes"], s.attrs["eps"]
    x = s.inputs[0].astype(dtype)
    ours, theirs = Tensor(x, requires_grad=True), _t(torch, x, True)
    y = F.standardize(ours, axes, eps)
    ty = (theirs - theirs.mean(dim=axes, keepdim=True)) / torch.sqrt(
        theirs.var(dim=axes, unbiased=False, keepdim=True) + eps)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.data, ty.detach().numpy(), **TOL[dtype])
    g = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    y.backward(g)
    ty.backward(_t(torch, g))
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), **TOL[dtype])
    assert ours.grad.dtype == dtype


def test_every_normalization_op_is_covered_here():
    assert sorted(n for n, op in REGISTRY.items() if op.kind == "normalization") == ["standardize"]


# ---------------------------------------------------------------- the functional norms against torch
BN_SHAPES = [(6, 3), (4, 3, 5), (4, 3, 5, 5), (2, 2, 3, 1)]


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_and_eval_match_torch(torch, dtype, shape, affine):
    rng = np.random.default_rng(sum(shape))
    c = shape[1]
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    w, b = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    rm, rv = rng.standard_normal(c).astype(dtype), rng.uniform(0.5, 2, c).astype(dtype)
    ours = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [_t(torch, a, True) for a in (x, w, b)]
    orm, orv, trm, trv = Tensor(rm.copy()), Tensor(rv.copy()), _t(torch, rm), _t(torch, rv)
    g = rng.standard_normal(shape).astype(dtype)
    for training in (True, False):
        for t in ours:
            t.grad = None
        for t in theirs:
            t.grad = None
        wo, bo = (ours[1], ours[2]) if affine else (None, None)
        wt, bt = (theirs[1], theirs[2]) if affine else (None, None)
        y = F.batch_norm(ours[0], orm, orv, wo, bo, training=training, momentum=0.3)
        ty = torch.nn.functional.batch_norm(theirs[0], trm, trv, wt, bt, training=training, momentum=0.3)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), **TOL[dtype])
        np.testing.assert_allclose(orm.data, trm.numpy(), **TOL[dtype])  # running stats, unbiased variance
        np.testing.assert_allclose(orv.data, trv.numpy(), **TOL[dtype])
        y.backward(g)
        ty.backward(_t(torch, g))
        for a, t in zip(ours, theirs):
            if t.grad is not None:
                np.testing.assert_allclose(a.grad.data, t.grad.numpy(), **TOL[dtype])
        assert y.dtype == dtype and orm.dtype == dtype


def _same_as_torch(torch, ours_fn, torch_fn, arrays, dtype, seed):
    """ours_fn(*Tensors) and torch_fn(*torch tensors) agree in value and in every input's gradient."""
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [_t(torch, a, True) for a in arrays]
    y, ty = ours_fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), **TOL[dtype])
    g = np.random.default_rng(seed).standard_normal(y.shape).astype(dtype)
    y.backward(g)
    ty.backward(_t(torch, g))
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), **TOL[dtype])


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,norm", [((4, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((2, 3, 2, 2), (3, 2, 2))])
def test_layer_norm_matches_torch(torch, dtype, shape, norm):
    rng = np.random.default_rng(3)
    arrays = [(rng.standard_normal(s) * 2).astype(dtype) for s in (shape, norm, norm)]
    _same_as_torch(torch, lambda x, w, b: F.layer_norm(x, norm, w, b, eps=1e-4),
                   lambda x, w, b: torch.nn.functional.layer_norm(x, norm, w, b, eps=1e-4), arrays, dtype, 3)


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,groups", [((2, 6, 3, 3), 3), ((2, 4, 5), 2), ((3, 4), 2), ((2, 4, 2, 2), 1)])
def test_group_norm_matches_torch(torch, dtype, shape, groups):
    rng = np.random.default_rng(4)
    c = shape[1]
    arrays = [(rng.standard_normal(s) * 2).astype(dtype) for s in (shape, (c,), (c,))]
    _same_as_torch(torch, lambda x, w, b: F.group_norm(x, groups, w, b),
                   lambda x, w, b: torch.nn.functional.group_norm(x, groups, w, b), arrays, dtype, 4)


def test_a_group_of_one_value_normalises_to_exactly_zero():
    """x - mean is exactly 0 for a single value, so the output is the bias and no gradient reaches x (torch's
    float32 kernel leaves rounding noise there, amplified by 1/sqrt(eps))."""
    x = Tensor(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32) * 2, requires_grad=True)
    b = np.arange(4, dtype=np.float32)
    y = F.group_norm(x, 4, Tensor(np.full(4, 2.0, np.float32)), Tensor(b))
    np.testing.assert_array_equal(y.data, np.broadcast_to(b, (3, 4)))
    y.backward(np.ones((3, 4), np.float32))
    np.testing.assert_array_equal(x.grad.data, 0)


def test_the_norms_pass_gradcheck_and_gradgradcheck_in_every_input():
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((3, 4, 2, 2)), rng.standard_normal(4), rng.standard_normal(4)
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    cases = [
        (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, w, b]),
        (lambda x, w, b, m, v: F.batch_norm(x, m, v, w, b, training=False), [x, w, b, rm, rv]),
        (lambda x, w, b: F.layer_norm(x, (2, 2), w.reshape(2, 2), b.reshape(2, 2)), [x, w, b]),
        (lambda x, w, b: F.group_norm(x, 2, w, b), [x, w, b]),
    ]
    for f, args in cases:
        assert tg.gradcheck(f, [Tensor(a) for a in args])
        assert tg.gradgradcheck(f, [Tensor(a) for a in args])


# ---------------------------------------------------------------- bad arguments
def test_bad_arguments_raise_naming_the_op_and_the_rule():
    x = Tensor(np.ones((4, 3, 2, 2), np.float32))
    three = Tensor(np.ones(3, np.float32))
    with pytest.raises(ValueError, match="batch_norm: expected more than 1 value per channel"):
        F.batch_norm(Tensor(np.ones((1, 3), np.float32)), None, None, training=True)
    with pytest.raises(ValueError, match=r"batch_norm: running_mean must have shape \(3,\)"):
        F.batch_norm(x, Tensor(np.zeros(4, np.float32)), three, training=True)
    with pytest.raises(ValueError, match="batch_norm: evaluation mode .* needs running_mean"):
        F.batch_norm(x, None, None)
    with pytest.raises(ValueError, match="both running_mean and running_var"):
        F.batch_norm(x, three, None, training=True)
    with pytest.raises(TypeError, match="batch_norm: needs a floating-point input"):
        F.batch_norm(Tensor(np.ones((4, 3), np.int64)), None, None, training=True)
    with pytest.raises(ValueError, match="batch_norm: eps must be"):
        F.batch_norm(x, None, None, training=True, eps=-1)
    with pytest.raises(ValueError, match="batch_norm: expected an input with at least 2 dimensions"):
        F.batch_norm(Tensor(np.ones(3, np.float32)), three, three)
    with pytest.raises(ValueError, match="layer_norm: normalized_shape .* trailing dimensions"):
        F.layer_norm(x, (3, 2))
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape \(2, 2\)"):
        F.layer_norm(x, (2, 2), three)
    with pytest.raises(ValueError, match="group_norm: num_groups must be a positive int dividing the 3 channels"):
        F.group_norm(x, 2)
    with pytest.raises(ValueError, match="standardize: axis 4 is out of range"):
        F.standardize(x, (4,))
    with pytest.raises(ValueError, match="BatchNorm2d: expected 3 channels"):
        nn.BatchNorm2d(3)(Tensor(np.ones((2, 4, 2, 2), np.float32)))
    with pytest.raises(ValueError, match="BatchNorm1d: expected a 2-D or 3-D input"):
        nn.BatchNorm1d(3)(x)
    with pytest.raises(ValueError, match="GroupNorm: num_channels 6 must be divisible by num_groups 4"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="BatchNorm2d: momentum must be None or a number in"):
        nn.BatchNorm2d(3, momentum=2.0)


# ---------------------------------------------------------------- modules: state dicts and modes, against torch
@pytest.mark.oracle
@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (4, 3, 4, 4))])
def test_batch_norm_modules_follow_torch_through_training_and_eval(torch, cls, shape, momentum):
    theirs = getattr(torch.nn, cls)(3, momentum=momentum)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-1, 1)
    ours = getattr(nn, cls)(3, momentum=momentum)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    rng = np.random.default_rng(6)
    for _ in range(4):
        x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        np.testing.assert_allclose(ours(Tensor(x)).data, theirs(_t(torch, x)).detach().numpy(), **TOL[np.float32])
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), **TOL[np.float32])
    assert int(ours.num_batches_tracked.item()) == 4
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(ours(Tensor(x)).data, theirs(_t(torch, x)).detach().numpy(), **TOL[np.float32])


@pytest.mark.oracle
def test_norm_modules_without_running_stats_or_affine_match_torch(torch):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 6, 3, 3)).astype(np.float32)
    pairs = [(nn.BatchNorm2d(6, track_running_stats=False), torch.nn.BatchNorm2d(6, track_running_stats=False)),
             (nn.BatchNorm2d(6, affine=False), torch.nn.BatchNorm2d(6, affine=False)),
             (nn.LayerNorm((3, 3)), torch.nn.LayerNorm((3, 3))), (nn.LayerNorm(3, bias=False), torch.nn.LayerNorm(3, bias=False)),
             (nn.GroupNorm(3, 6), torch.nn.GroupNorm(3, 6)), (nn.GroupNorm(2, 6, affine=False), torch.nn.GroupNorm(2, 6, affine=False))]
    for ours, theirs in pairs:
        for p in theirs.parameters():
            with torch.no_grad():
                p.uniform_(-1, 1)
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
        assert list(ours.state_dict()) == list(theirs.state_dict())
        for mode in (True, False):
            ours.train(mode)
            theirs.train(mode)
            np.testing.assert_allclose(ours(Tensor(x)).data, theirs(_t(torch, x)).detach().numpy(), **TOL[np.float32])


def test_buffers_are_state_but_not_parameters():
    bn = nn.BatchNorm2d(4)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert bn.num_parameters() == 8
    model = nn.Sequential(nn.Conv2d(1, 4, 3), bn)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                        "1.running_var", "1.num_batches_tracked"]
    model.to(np.float64)
    assert bn.running_mean.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64
    with pytest.raises(KeyError, match="missing keys"):
        model.load_state_dict({k: v for k, v in model.state_dict().items() if "running" not in k})
    m = nn.Module()
    m.register_buffer("scratch", Tensor(np.zeros(2)), persistent=False)
    assert "scratch" not in m.state_dict() and [n for n, _ in m.named_buffers()] == ["scratch"]
    m.scratch = Tensor(np.ones(3))  # reassigning keeps it a buffer
    assert m.named_buffers().__next__()[1].shape == (3,)
    with pytest.raises(TypeError, match="a buffer must be a Tensor"):
        m.scratch = 3.0
    with pytest.raises(ValueError, match="without dots"):
        m.register_buffer("a.b", None)


def test_eval_mode_uses_the_running_statistics_end_to_end():
    """Train a conv + batch norm model a few steps; in eval mode its output is the affine map of the running
    statistics (not of the batch's), works for a single image, and does not change the statistics."""
    rng = np.random.default_rng(8)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, rng=0), nn.BatchNorm2d(3), nn.ReLU())
    opt = tg.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(20):
        x = Tensor((rng.standard_normal((8, 1, 6, 6)) * 2 + 3).astype(np.float32))
        loss = (model(x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    bn = model[1]
    rm, rv = bn.running_mean.data.copy(), bn.running_var.data.copy()
    assert not np.allclose(rm, 0) and not np.allclose(rv, 1)
    x = Tensor((rng.standard_normal((1, 1, 6, 6)) * 2 + 3).astype(np.float32))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(Tensor(np.ones((1, 3), np.float32)))  # train mode, one value per channel
    model.eval()
    with tg.no_grad():
        y = model(x).data
        h = model[0](x).data
    shape = (1, 3, 1, 1)
    expect = np.maximum((h - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + bn.eps) * bn.weight.data.reshape(shape)
                        + bn.bias.data.reshape(shape), 0)
    np.testing.assert_allclose(y, expect, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(bn.running_mean.data, rm)
    np.testing.assert_array_equal(bn.running_var.data, rv)
    model.train()
    with tg.no_grad():
        assert not np.allclose(model(Tensor(np.concatenate([x.data, x.data + 1]))).data[:1], y, atol=1e-3)


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3.0, -1), (2.0, 0)])
def test_F_normalize_is_pytorchs_division_by_the_p_norm(torch, dtype, p, dim):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, 5)).astype(dtype)
    x[1] = 0  # a zero vector (dim=1) / a zero entry in every column (dim=0): eps takes over, gradients stay finite
    ours, theirs = Tensor(x, requires_grad=True), _t(torch, x, True)
    y, ty = F.normalize(ours, p, dim), torch.nn.functional.normalize(theirs, p, dim)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), **TOL[dtype])
    g = rng.standard_normal(x.shape).astype(dtype)
    y.backward(g)
    ty.backward(_t(torch, g))
    assert np.isfinite(ours.grad.data).all()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), **TOL[dtype])
    np.testing.assert_array_equal(F.normalize(Tensor(x), p, axis=dim).data, y.data)
    with pytest.raises(ValueError, match="normalize: p must be > 0"):
        F.normalize(Tensor(x), 0.0)


def test_running_statistics_keep_their_dtype_and_a_wrong_length_is_refused():
    """Float32 statistics updated from a float64 batch stay float32 (rounded, not re-typed), and the eval
    output follows the input's dtype; statistics of the wrong length raise instead of broadcasting."""
    rng = np.random.default_rng(10)
    x = rng.standard_normal((8, 3, 2, 2)) * 2 + 1
    rm, rv = Tensor(np.zeros(3, np.float32)), Tensor(np.ones(3, np.float32))
    F.batch_norm(Tensor(x), rm, rv, training=True, momentum=0.5)
    assert rm.dtype == np.float32 and rv.dtype == np.float32
    mean = x.mean(axis=(0, 2, 3))
    np.testing.assert_allclose(rm.data, (0.5 * mean).astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(rv.data, 0.5 + 0.5 * x.var(axis=(0, 2, 3), ddof=1), rtol=1e-6)
    assert F.batch_norm(Tensor(x), rm, rv).dtype == np.float64
    with pytest.raises(ValueError, match=r"running_var must have shape \(3,\)"):
        F.batch_norm(Tensor(x), rm, Tensor(np.ones(1, np.float32)))
