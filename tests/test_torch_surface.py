"""The surface a PyTorch user expects (issue 13 §4): ``dim=``/``keepdim=``, ``float(t)``, ``format``, ``view``,
``unsqueeze``, ``squeeze(dim)``, ``flatten``, ``clone``, ``clamp``/``clip``, ``t()``, ``argmax``/``argmin``, the
factories, and ``t.size()`` pointing to ``.shape``. PyTorch is the oracle for values, gradients and errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(13)
X = RNG.standard_normal((2, 3, 4))


def tg64(a: np.ndarray, requires_grad: bool = True) -> tg.Tensor:
    return tg.Tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad)


def th64(a: np.ndarray, requires_grad: bool = True) -> "torch.Tensor":
    return torch.tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad)


def check_against_torch(ours, theirs, a: np.ndarray = X, rtol: float = 1e-10) -> None:
    """Forward values and gradients (for a random cotangent) of ``ours(tg)`` and ``theirs(torch)`` agree."""
    x, xt = tg64(a), th64(a)
    y, yt = ours(x), theirs(xt)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=rtol, atol=1e-12)
    assert y.shape == tuple(yt.shape)
    g = RNG.standard_normal(y.shape)
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=1e-12)


# ---------------------------------------------------------------- dim= and keepdim=
def values(result):
    """The values of ``x.max(dim=d)`` (a (values, indices) pair for an int ``d``, as in torch), or the tensor."""
    return result.values if isinstance(result, tuple) else result


REDUCTIONS = [
    ("sum", lambda x, **k: x.sum(**k), lambda x, **k: x.sum(**k)),
    ("mean", lambda x, **k: x.mean(**k), lambda x, **k: x.mean(**k)),
    ("max", lambda x, **k: values(x.max(**k)), lambda x, **k: x.amax(**k)),
    ("min", lambda x, **k: values(x.min(**k)), lambda x, **k: x.amin(**k)),
    ("var", lambda x, **k: x.var(**k), lambda x, **k: x.var(correction=0, **k)),
    ("logsumexp", lambda x, **k: x.logsumexp(**k), lambda x, **k: torch.logsumexp(x, **k)),
]


@pytest.mark.parametrize("name,ours,theirs", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
@pytest.mark.parametrize("dim", [1, -1, (0, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_reductions_take_dim_and_keepdim(name, ours, theirs, dim, keepdim) -> None:
    check_against_torch(lambda x: ours(x, dim=dim, keepdim=keepdim), lambda x: theirs(x, dim=dim, keepdim=keepdim))
    # the numpy names give the same result
    a = tg64(X, False)
    np.testing.assert_array_equal(ours(a, dim=dim, keepdim=keepdim).numpy(),
                                  ours(a, axis=dim, keepdims=keepdim).numpy())


@pytest.mark.parametrize("name,ours,theirs", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reductions_differentiate_twice_with_dim(name, ours, theirs) -> None:
    x = tg64(RNG.standard_normal((3, 4)))
    assert tg.gradcheck(lambda t: ours(t, dim=1, keepdim=True), (x,))
    assert tg.gradgradcheck(lambda t: ours(t, dim=1, keepdim=True), (x,))


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_takes_dim(fn, dim) -> None:
    check_against_torch(lambda x: getattr(x, fn)(dim=dim), lambda x: getattr(torch, fn)(x, dim=dim))
    x = tg64(RNG.standard_normal((3, 4)))
    assert tg.gradgradcheck(lambda t: getattr(F, fn)(t, dim=dim), (x,))


def test_softmax_default_axis_is_still_the_last() -> None:
    a = tg64(X, False)
    np.testing.assert_array_equal(a.softmax().numpy(), a.softmax(-1).numpy())
    np.testing.assert_array_equal(a.log_softmax().numpy(), a.log_softmax(axis=2).numpy())


CALLS_WITH_BOTH = [
    ("sum", lambda x: x.sum(axis=0, dim=0)), ("sum", lambda x: x.sum(keepdims=True, keepdim=True)),
    ("mean", lambda x: x.mean(0, dim=1)), ("max", lambda x: x.max(axis=1, dim=1)),
    ("min", lambda x: x.min(keepdims=False, keepdim=True)), ("var", lambda x: x.var(axis=0, dim=0)),
    ("var", lambda x: x.var(ddof=1, correction=1)), ("softmax", lambda x: x.softmax(axis=0, dim=0)),
    ("log_softmax", lambda x: F.log_softmax(x, 1, dim=1)), ("logsumexp", lambda x: x.logsumexp(0, dim=1)),
    ("argmax", lambda x: x.argmax(axis=0, dim=0)), ("argmin", lambda x: x.argmin(keepdims=True, keepdim=True)),
    ("squeeze", lambda x: x.squeeze(axis=0, dim=0)), ("expand_dims", lambda x: x.expand_dims(0, dim=0)),
    ("flip", lambda x: x.flip(axis=0, dims=0)),
]


@pytest.mark.parametrize("op,call", CALLS_WITH_BOTH, ids=[f"{c[0]}-{i}" for i, c in enumerate(CALLS_WITH_BOTH)])
def test_both_names_of_one_argument_is_a_type_error_naming_the_op(op, call) -> None:
    with pytest.raises(TypeError, match=rf"^{op}: got both .* pass one of them"):
        call(tg64(X, False))


def test_resolve_axis_is_the_one_helper() -> None:
    from tinygrad_cnn.ops.reduction import resolve_axis, resolve_keepdims

    assert resolve_axis("op", None, None) is None
    assert resolve_axis("op", None, None, default=-1) == -1
    assert resolve_axis("op", 2, None) == 2 and resolve_axis("op", None, (0, 1)) == (0, 1)
    assert resolve_keepdims("op", None, None) is False and resolve_keepdims("op", None, True) is True
    with pytest.raises(TypeError, match="^myop: got both axis=0 and dim=1"):
        resolve_axis("myop", 0, 1)


def test_argmax_argmin_match_torch() -> None:
    a = RNG.standard_normal((3, 4, 5))
    a[0, 0, :2] = 9.0  # a tie: the first index, as torch
    x, xt = tg.Tensor(a), torch.tensor(a)
    for name in ("argmax", "argmin"):
        for kw in ({}, {"keepdim": True}, {"dim": 1}, {"dim": -1, "keepdim": True}, {"dim": 0, "keepdim": False}):
            ours, theirs = getattr(x, name)(**kw), getattr(xt, name)(**kw)
            assert ours.dtype == np.int64 and not ours.requires_grad
            assert ours.shape == tuple(theirs.shape), (name, kw)
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        np.testing.assert_array_equal(getattr(x, name)(1, True).numpy(), getattr(xt, name)(1, True).numpy())
    w = tg64(a)
    assert not w.argmax(dim=0).requires_grad and not F.argmin(w).requires_grad


def test_argmax_errors() -> None:
    with pytest.raises(ValueError, match="argmin: cannot take the argmin over an empty axis"):
        tg.Tensor(np.zeros((0, 3))).argmin(dim=0)
    with pytest.raises(torch.IndexError if hasattr(torch, "IndexError") else IndexError):
        torch.zeros(2, 3).argmax(dim=2)
    with pytest.raises(IndexError, match="argmax: axis 2 is out of range"):
        tg.Tensor(np.zeros((2, 3))).argmax(dim=2)


# ---------------------------------------------------------------- float(), int(), format()
def test_float_int_format_of_one_element_tensors() -> None:
    for shape in ((), (1,), (1, 1)):
        x, xt = tg.Tensor(np.full(shape, 2.71828)), torch.full(shape, 2.71828, dtype=torch.float64)
        assert float(x) == float(xt) and type(float(x)) is float
        assert int(x) == int(xt) == 2 and type(int(x)) is int
    assert int(tg.Tensor(np.array([-2.7]))) == int(torch.tensor([-2.7])) == -2  # truncates, as int()
    x0 = tg.Tensor(np.float32(0.123456))
    assert format(x0, ".3f") == format(torch.tensor(0.123456), ".3f") == "0.123"
    assert f"{tg.Tensor(np.array([7]))}" == str(tg.Tensor(np.array([7])))
    assert f"{tg.Tensor(np.array([1234.5])):>10.1f}" == "    1234.5"
    assert f"{tg.Tensor(np.array(3, dtype=np.int64)):04d}" == "0003"


def test_float_int_format_of_larger_tensors_raise() -> None:
    x = tg.Tensor(np.arange(3.0))
    with pytest.raises(ValueError):  # torch raises ValueError too
        float(torch.arange(3.0))
    with pytest.raises(ValueError, match=r"float\(\): only a one-element tensor .* shape \(3,\)"):
        float(x)
    with pytest.raises(ValueError, match=r"int\(\): only a one-element tensor"):
        int(x)
    with pytest.raises(TypeError):
        format(torch.arange(3.0), ".3f")
    with pytest.raises(TypeError, match=r"format: the spec '.3f' needs a one-element tensor, got shape \(3,\)"):
        format(x, ".3f")


# ---------------------------------------------------------------- t.size stays numpy's; t.size() points to .shape
def test_size_is_the_element_count_and_size_call_points_to_shape() -> None:
    x = tg.Tensor(np.zeros((2, 3)))
    assert x.size == 6 and isinstance(x.size, int) and repr(x.size) == "6"
    assert type(x.size + 1) is int and type(x.size * 2) is int
    assert pickle.loads(pickle.dumps(x.size)) == 6 and type(pickle.loads(pickle.dumps(x.size))) is int
    assert x.reshape(x.size).shape == (6,) and list(range(x.size)) == list(range(6))
    with pytest.raises(TypeError, match=r"Tensor\.size is numpy's element count \(an int\); for PyTorch's size\(\) "
                                        r"use \.shape"):
        x.size()
    with pytest.raises(TypeError, match=r"use \.shape"):
        x.size(0)
    assert ".shape" in tg.Tensor.__doc__ and "size()" in tg.Tensor.__doc__


# ---------------------------------------------------------------- view, unsqueeze, squeeze, flatten, t
@pytest.mark.parametrize("shape", [(6, 4), (-1, 4), (2, -1, 2), ((3, 8),), ([24],), (-1,)])
def test_view_is_reshape_with_torch_semantics(shape) -> None:
    check_against_torch(lambda x: x.view(*shape), lambda x: x.view(*shape))


def test_view_errors_as_torch() -> None:
    x, xt = tg.Tensor(X), torch.tensor(X)
    for bad in ((5, -1), (-1, -1), (7, 4)):
        with pytest.raises(RuntimeError):
            xt.view(*bad)
        with pytest.raises(ValueError, match="reshape"):
            x.view(*bad)
    assert tg.Tensor(np.zeros((0, 3))).view(-1, 3).shape == tuple(torch.zeros(0, 3).view(-1, 3).shape)
    with pytest.raises(RuntimeError):
        torch.zeros(0, 3).view(-1, 0)
    with pytest.raises(ValueError):
        tg.Tensor(np.zeros((0, 3))).view(-1, 0)


@pytest.mark.parametrize("dim", [0, 1, 3, -1, -4])
def test_unsqueeze_matches_torch(dim) -> None:
    check_against_torch(lambda x: x.unsqueeze(dim), lambda x: x.unsqueeze(dim))
    assert tg64(X, False).expand_dims(dim=dim).shape == tuple(torch.tensor(X).unsqueeze(dim).shape)


def test_unsqueeze_out_of_range() -> None:
    with pytest.raises(IndexError):
        torch.tensor(X).unsqueeze(4)
    with pytest.raises(ValueError, match=r"unsqueeze: axis 4 is out of range for a tensor of shape \(2, 3, 4\)"):
        tg.Tensor(X).unsqueeze(4)


@pytest.mark.parametrize("dim", [0, 1, 2, -1, (0, 2), (1, 3)])
def test_squeeze_dim_leaves_other_sizes_like_torch(dim) -> None:
    a = RNG.standard_normal((1, 3, 1, 2))
    check_against_torch(lambda x: x.squeeze(dim=dim), lambda x: x.squeeze(dim), a)
    check_against_torch(lambda x: x.squeeze(), lambda x: x.squeeze(), a)


def test_squeeze_axis_keeps_numpy_rule() -> None:
    with pytest.raises(ValueError, match="not 1"):
        tg.Tensor(np.zeros((2, 1))).squeeze(0)
    with pytest.raises(ValueError, match="not 1"):
        tg.Tensor(np.zeros((2, 1))).squeeze(axis=0)
    assert tg.Tensor(np.zeros((2, 1))).squeeze(dim=0).shape == (2, 1)


@pytest.mark.parametrize("start,end", [(0, -1), (1, -1), (0, 1), (1, 2), (-2, -1), (2, 2)])
def test_flatten_method_matches_torch(start, end) -> None:
    check_against_torch(lambda x: x.flatten(start, end), lambda x: x.flatten(start, end))
    check_against_torch(lambda x: x.flatten(start_dim=start, end_dim=end),
                        lambda x: torch.flatten(x, start_dim=start, end_dim=end))
    assert tg.Tensor(X).flatten().shape == (24,)


def test_flatten_errors_as_torch() -> None:
    with pytest.raises(RuntimeError):
        torch.tensor(X).flatten(2, 1)
    with pytest.raises(ValueError, match="flatten: start_dim 2 comes after end_dim 1"):
        tg.Tensor(X).flatten(2, 1)


@pytest.mark.parametrize("shape", [(3, 4), (5,), ()])
def test_t_matches_torch(shape) -> None:
    check_against_torch(lambda x: x.t(), lambda x: x.t(), RNG.standard_normal(shape))


def test_t_of_more_than_two_dims_raises() -> None:
    with pytest.raises(RuntimeError):
        torch.tensor(X).t()
    with pytest.raises(ValueError, match=r"t: expects a tensor of at most 2 dimensions, got shape \(2, 3, 4\)"):
        tg.Tensor(X).t()


def test_flip_takes_dims() -> None:
    check_against_torch(lambda x: x.flip(dims=(0, 2)), lambda x: x.flip(dims=(0, 2)))


def test_movement_methods_differentiate_twice() -> None:
    a = RNG.standard_normal((1, 3, 2))
    for fn in (lambda t: (t.view(3, -1) ** 2), lambda t: t.unsqueeze(1) ** 3, lambda t: t.squeeze(dim=0) ** 2,
               lambda t: t.flatten(1) ** 3, lambda t: t.squeeze(dim=0).t() ** 3):
        assert tg.gradcheck(fn, (tg64(a),)) and tg.gradgradcheck(fn, (tg64(a),))


# ---------------------------------------------------------------- clone
def test_clone_is_a_differentiable_copy() -> None:
    a = np.array([1.0, -0.0, np.inf, np.nan, -3.5])
    x, xt = tg64(a), th64(a)
    y, yt = x.clone(), xt.clone()
    assert y.numpy() is not x.numpy() and not np.shares_memory(y.numpy(), x.numpy())
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    assert np.signbit(y.numpy()[1])  # -0.0 stays -0.0
    assert y.requires_grad and not y.is_leaf and y.dtype == x.dtype
    g = RNG.standard_normal(5)
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
    f = tg64(RNG.standard_normal((2, 3)))
    assert tg.gradcheck(lambda t: t.clone() ** 3, (f,)) and tg.gradgradcheck(lambda t: t.clone() ** 3, (f,))
    with tg.no_grad():
        assert not f.clone().requires_grad
    c = tg.Tensor(np.float32(1.5) * np.ones(3, dtype=np.float32)).clone()
    assert c.dtype == np.float32
    n = tg.Tensor(np.arange(3))
    m = n.clone()
    assert m.dtype == np.int64 and not np.shares_memory(m.numpy(), n.numpy())
    m.numpy()[0] = 9
    assert n.numpy()[0] == 0


# ---------------------------------------------------------------- clamp / clip
@pytest.mark.parametrize("lo,hi", [(-0.5, 0.5), (None, 0.25), (-0.25, None), (0.5, -0.5)])
def test_clamp_matches_torch_values_and_gradients(lo, hi) -> None:
    a = np.array([-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 2.0])  # includes the bounds themselves
    check_against_torch(lambda x: x.clamp(lo, hi), lambda x: x.clamp(lo, hi), a)
    check_against_torch(lambda x: x.clip(min=lo, max=hi), lambda x: x.clip(min=lo, max=hi), a)
    check_against_torch(lambda x: F.clamp(x, min=lo, max=hi), lambda x: torch.clamp(x, min=lo, max=hi), a)


def test_clamp_is_out_of_place_and_differentiates_twice() -> None:
    x = tg64(np.array([-2.0, 0.3, 5.0]))
    y = x.clamp(-1, 1)
    assert y is not x and x.numpy().tolist() == [-2.0, 0.3, 5.0] and y.numpy().tolist() == [-1.0, 0.3, 1.0]
    z = tg64(RNG.standard_normal((3, 4)))
    fn = lambda t: t.clamp(-0.5, 0.5) ** 3  # noqa: E731
    assert tg.gradcheck(fn, (z,)) and tg.gradgradcheck(fn, (z,))


def test_clamp_dtypes_and_tensor_bounds() -> None:
    assert tg.Tensor(np.ones(2, dtype=np.float32)).clamp(0, 0.5).dtype == np.float32
    i, it = tg.Tensor(np.arange(5)), torch.arange(5)
    assert i.clamp(1, 3).dtype == np.int64 and i.clamp(1, 3).tolist() == it.clamp(1, 3).tolist()
    # a tensor bound receives the gradient where it was chosen, as in torch
    a, lo = RNG.standard_normal(6), np.zeros(6)
    x, xt, m, mt = tg64(a), th64(a), tg64(lo), th64(lo)
    x.clamp(min=m).sum().backward()
    xt.clamp(min=mt).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
    np.testing.assert_array_equal(m.grad.numpy(), mt.grad.numpy())


def test_clamp_errors() -> None:
    with pytest.raises(RuntimeError):
        torch.zeros(2).clamp()
    with pytest.raises(ValueError, match="clamp: give min, max or both"):
        tg.Tensor(np.zeros(2)).clamp()
    with pytest.raises(TypeError, match="clamp: bounds must be numbers or tensors, got 'a'"):
        tg.Tensor(np.zeros(2)).clip("a")
    with pytest.raises(TypeError, match="clamp: bounds must be numbers"):
        tg.Tensor(np.zeros(2)).clamp(max=True)


# ---------------------------------------------------------------- factories
def _same(ours: tg.Tensor, theirs: "torch.Tensor") -> None:
    assert ours.shape == tuple(theirs.shape)
    assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", "")), (ours.dtype, theirs.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_like_factories() -> None:
    for a in (np.zeros((2, 3), np.float32), np.arange(4), np.zeros((1, 2), np.float64), np.array(True)):
        x, xt = tg.Tensor(a), torch.tensor(a)
        _same(tg.zeros_like(x), torch.zeros_like(xt))
        _same(tg.ones_like(x), torch.ones_like(xt))
        _same(tg.zeros_like(x, dtype=np.float64), torch.zeros_like(xt, dtype=torch.float64))
    w = tg.ones_like(tg.Tensor(np.zeros(3)), requires_grad=True)
    assert w.requires_grad and w.is_leaf
    o = tg.Tensor(np.zeros(2))
    assert not np.shares_memory(tg.zeros_like(o).numpy(), o.numpy())


@pytest.mark.parametrize("shape,value", [((2, 3), 1.5), ((4,), 7), ((2, 2), True), ((), -2.0), (3, 0.5)])
def test_full_matches_torch(shape, value) -> None:
    _same(tg.full(shape, value), torch.full(shape if isinstance(shape, tuple) else (shape,), value))
    _same(tg.full(shape, value, dtype=np.float64),
          torch.full(shape if isinstance(shape, tuple) else (shape,), value, dtype=torch.float64))


@pytest.mark.parametrize("args", [(5,), (2, 9), (2, 9, 3), (0, 1, 0.25), (1.5,), (-3, 3, 0.5), (5, 0, -1), (3, 3)])
def test_arange_matches_torch(args) -> None:
    _same(tg.arange(*args), torch.arange(*args))
    _same(tg.arange(*args, dtype=np.float64), torch.arange(*args, dtype=torch.float64))


def test_arange_errors() -> None:
    with pytest.raises(RuntimeError):
        torch.arange(0, 3, 0)
    with pytest.raises(ValueError, match="arange: step must be nonzero"):
        tg.arange(0, 3, 0)


@pytest.mark.parametrize("n,m", [(3, None), (2, 4), (4, 2), (0, None)])
def test_eye_matches_torch(n, m) -> None:
    _same(tg.eye(n, m), torch.eye(n) if m is None else torch.eye(n, m))
    _same(tg.eye(n, m, dtype=np.float64), torch.eye(n, m if m is not None else n, dtype=torch.float64))
    assert tg.eye(2, requires_grad=True).requires_grad


def test_factories_are_exported() -> None:
    for name in ("zeros_like", "ones_like", "full", "arange", "eye"):
        assert name in tg.__all__ and callable(getattr(tg, name))


def test_factories_refuse_non_numbers() -> None:
    with pytest.raises(TypeError, match="full: expected a number, got 'x'"):
        tg.full((2,), "x")
    with pytest.raises(TypeError, match="arange: expected a number"):
        tg.arange(tg.Tensor(np.arange(3)))


@pytest.mark.parametrize("fn", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_and_min_with_an_int_dim_give_values_and_indices_as_torch(fn, keepdim) -> None:
    a = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    ours = getattr(tg.Tensor(a), fn)(dim=1, keepdim=keepdim)
    theirs = getattr(torch.tensor(a), fn)(dim=1, keepdim=keepdim)
    v, i = ours  # unpacks as torch's
    np.testing.assert_array_equal(v.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(i.numpy(), theirs.indices.numpy())
    assert ours.indices.dtype == np.int64 and not ours.indices.requires_grad
    assert isinstance(getattr(tg.Tensor(a), fn)(1), tg.Tensor)  # numpy's axis: the values only
