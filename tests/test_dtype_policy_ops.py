"""The dtype policy of the primitives, with PyTorch as the oracle of result dtypes and values.

* Float-valued ops (exp, log, sigmoid, tanh, true division, fractional powers, mean, sqrt, ...) turn integer
  and boolean tensors into float32.
* Integer-valued ops (add, mul, neg, relu, max, movement, integer powers, ...) keep the integer dtype; sum of
  integers or booleans gives int64.
* Python and numpy scalars are weak: they take the tensor's dtype, except that a float scalar makes an integer
  or boolean tensor float32 and an int scalar makes a boolean tensor int64.
* A cast to an integer or boolean dtype cuts the graph; float16 and complex casts are refused.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor

DTYPES = [np.bool_, np.uint8, np.int32, np.int64, np.float32, np.float64]
INT_DTYPES = [np.bool_, np.uint8, np.int32, np.int64]


def _values(dtype):
    return np.array([1, 0, 2, 3], dtype=dtype)  # non-negative: integer powers stay defined


def _torch_dtype(torch, dtype):
    return getattr(torch, np.dtype(dtype).name if np.dtype(dtype) != np.bool_ else "bool")


def _same(torch, ours, theirs):
    """Same dtype and (NaN-aware) values as torch's result."""
    want = theirs.detach().numpy()
    assert ours.dtype == want.dtype, f"got {ours.dtype}, torch gives {want.dtype}"
    if want.dtype.kind == "f":
        tol = 1e-6 if want.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(ours.data, want, rtol=tol, atol=tol)
    else:
        np.testing.assert_array_equal(ours.data, want)


# ---------------------------------------------------------------- float-valued ops promote to float32
FLOAT_VALUED = {
    "exp": (lambda t: t.exp(), lambda torch, t: torch.exp(t)),
    "log": (lambda t: (t + 1).log(), lambda torch, t: torch.log(t + 1)),
    "sigmoid": (lambda t: t.sigmoid(), lambda torch, t: torch.sigmoid(t)),
    "tanh": (lambda t: t.tanh(), lambda torch, t: torch.tanh(t)),
    "erf": (lambda t: t.erf(), lambda torch, t: torch.erf(t)),
    "sqrt": (lambda t: F.sqrt(t), lambda torch, t: torch.sqrt(t)),
    "pow_half": (lambda t: t ** 0.5, lambda torch, t: t ** 0.5),
    "pow_float_integral": (lambda t: t ** 2.0, lambda torch, t: t ** 2.0),
    "div_scalar": (lambda t: t / 2, lambda torch, t: t / 2),
    "rdiv_scalar": (lambda t: 3 / (t + 1), lambda torch, t: 3 / (t + 1)),
    "div_tensor": (lambda t: t / (t + 1), lambda torch, t: t / (t + 1)),
    "rpow_float_base": (lambda t: 2.5 ** t, lambda torch, t: 2.5 ** t),
}


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(FLOAT_VALUED))
def test_float_valued_ops_promote_integers_to_float32(torch, name, dtype):
    ours_fn, theirs_fn = FLOAT_VALUED[name]
    if dtype is np.bool_ and name in {"log", "rdiv_scalar", "div_tensor"}:
        pytest.skip("t + 1 on a boolean tensor is a logical or in both libraries")
    x = _values(dtype)
    ours = ours_fn(Tensor(x))
    assert ours.dtype == np.float32, f"{name} of {np.dtype(dtype)} gave {ours.dtype}"
    _same(torch, ours, theirs_fn(torch, torch.from_numpy(x.copy())))


def test_the_reported_cases():
    x = Tensor(np.array([1, 2, 3], dtype=np.int64))
    np.testing.assert_allclose((x ** 0.5).data, np.sqrt([1.0, 2.0, 3.0]), rtol=1e-6)
    np.testing.assert_allclose(x.sigmoid().data, 1 / (1 + np.exp(-np.array([1.0, 2.0, 3.0]))), rtol=1e-6)
    assert (x ** 0.5).dtype == x.sigmoid().dtype == np.float32


def test_float_tensors_keep_their_dtype_in_float_valued_ops():
    for dtype in (np.float32, np.float64):
        x = Tensor(np.array([0.5, 1.0], dtype=dtype))
        for y in (x.exp(), x.log(), x.sigmoid(), x.tanh(), x ** 0.5, x / 2, 2.0 ** x, F.sqrt(x)):
            assert y.dtype == dtype


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_mean_of_integers_is_float32(dtype):
    x = np.array([[1, 0, 1], [1, 1, 0]], dtype=dtype)
    got = Tensor(x).mean(axis=1)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.data, x.astype(np.float64).mean(axis=1), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_logsumexp_of_integers_is_float32(dtype):
    x = np.array([[1, 2, 3], [0, 0, 5]], dtype=dtype)
    got = Tensor(x).logsumexp(axis=1)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.data, np.log(np.exp(x.astype(np.float64)).sum(axis=1)), rtol=1e-6)


@pytest.mark.oracle
def test_logsumexp_and_softmax_of_booleans_are_float32(torch):
    x = np.array([True, False, True])
    _same(torch, Tensor(x).logsumexp(axis=0), torch.logsumexp(torch.from_numpy(x), 0))
    got = Tensor(x).softmax(axis=0)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.data, np.exp([1, 0, 1]) / np.exp([1, 0, 1]).sum(), rtol=1e-6)


# ---------------------------------------------------------------- integer-valued ops keep the dtype
INT_VALUED = {
    "add": (lambda t: t + t, lambda torch, t: t + t),
    "mul": (lambda t: t * t, lambda torch, t: t * t),
    "pow2": (lambda t: t ** 2, lambda torch, t: t ** 2),
    "pow0": (lambda t: t ** 0, lambda torch, t: t ** 0),
    "rpow_int_base": (lambda t: 2 ** t, lambda torch, t: 2 ** t),
    "max": (lambda t: t.max(), lambda torch, t: t.max()),
    "max_axis": (lambda t: t.reshape(2, 2).max(axis=1), lambda torch, t: torch.amax(t.reshape(2, 2), 1)),
    "sum": (lambda t: t.sum(), lambda torch, t: t.sum()),
    "sum_axis": (lambda t: t.reshape(2, 2).sum(axis=0, keepdims=True),
                 lambda torch, t: t.reshape(2, 2).sum(0, keepdim=True)),
    "reshape": (lambda t: t.reshape(2, 2), lambda torch, t: t.reshape(2, 2)),
    "permute": (lambda t: t.reshape(2, 2).permute(1, 0), lambda torch, t: t.reshape(2, 2).permute(1, 0)),
    "getitem": (lambda t: t[1:3], lambda torch, t: t[1:3]),
    "flip": (lambda t: t.flip(0), lambda torch, t: t.flip(0)),
    "broadcast_to": (lambda t: t.broadcast_to((2, 4)), lambda torch, t: t.broadcast_to((2, 4))),
    "where_tensor": (lambda t: F.where(t > 1, t, t * t), lambda torch, t: torch.where(t > 1, t, t * t)),
    "matmul": (lambda t: t.reshape(2, 2) @ t.reshape(2, 2), lambda torch, t: t.reshape(2, 2) @ t.reshape(2, 2)),
}
NOT_FOR_BOOL = {"pow2", "pow0", "matmul", "rpow_int_base"}  # torch: bool pow / bool matmul differ or are missing


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(INT_VALUED))
def test_integer_valued_ops_keep_integer_dtypes(torch, name, dtype):
    if dtype is np.bool_ and name in NOT_FOR_BOOL:
        pytest.skip("not defined for booleans in torch")
    ours_fn, theirs_fn = INT_VALUED[name]
    x = _values(dtype)
    _same(torch, ours_fn(Tensor(x)), theirs_fn(torch, torch.from_numpy(x.copy())))


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.int64])
def test_neg_relu_keep_integer_dtypes(dtype):
    x = np.array([1, 0, 2], dtype=dtype)
    assert (-Tensor(x)).dtype == dtype and Tensor(x).relu().dtype == dtype
    np.testing.assert_array_equal(Tensor(x).relu().data, x)


def test_bool_powers_follow_torch():
    b = Tensor(np.array([True, False, True]))
    assert (b ** 2).dtype == np.int64 and (b ** 2).tolist() == [1, 0, 1]
    assert (b ** 0.5).dtype == np.float32
    assert (2 ** b).dtype == np.int64 and (2 ** b).tolist() == [2, 1, 2]


def test_sum_of_integers_and_booleans_is_int64_as_torch():
    for dtype in (np.bool_, np.uint8, np.int8, np.int32):
        assert Tensor(np.ones(3, dtype=dtype)).sum().dtype == np.int64


def test_integer_to_a_negative_integer_power_raises():
    x = Tensor(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match=r"pow: .*negative"):
        x ** -1
    with pytest.raises(ValueError, match=r"rpow: .*negative"):
        2 ** Tensor(np.array([1, -1]))
    assert (2 ** Tensor(np.array([0, 3]))).tolist() == [1, 8]
    assert (Tensor(np.array([2.0])) ** -1).tolist() == [0.5]  # floats are fine


@pytest.mark.parametrize("fn", [lambda b: -b, lambda b: b - b, lambda b: b.relu(), lambda b: 1 - b,
                                lambda b: b - True, lambda b: Tensor(np.array([1, 2])) - True])
def test_boolean_negation_and_subtraction_are_refused(fn):
    with pytest.raises(TypeError, match=r"(neg|sub|relu): .*bool"):
        fn(Tensor(np.array([True, False])))


# ---------------------------------------------------------------- weak scalars
SCALARS = [True, 3, 2.5, np.bool_(True), np.int64(3), np.int8(3), np.float64(2.5), np.float32(2.5)]
BINARY = {
    "add": (lambda t, s: t + s, lambda t, s: t + s),
    "radd": (lambda t, s: s + t, lambda t, s: s + t),
    "sub": (lambda t, s: t - s, lambda t, s: t - s),
    "rsub": (lambda t, s: s - t, lambda t, s: s - t),
    "mul": (lambda t, s: t * s, lambda t, s: t * s),
    "div": (lambda t, s: t / s, lambda t, s: t / s),
    "rdiv": (lambda t, s: s / (t + 1), lambda t, s: s / (t + 1)),
    "pow": (lambda t, s: t ** s, lambda t, s: t ** s),
    "rpow": (lambda t, s: s ** t, lambda t, s: s ** t),
    "where_a": (lambda t, s: F.where(t > 0, t, s), None),
    "where_b": (lambda t, s: F.where(t > 0, s, t), None),
    "lt": (lambda t, s: t < s, lambda t, s: t < s),
    "eq": (lambda t, s: t == s, lambda t, s: t == s),
}


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("scalar", SCALARS, ids=lambda s: f"{type(s).__name__}")
@pytest.mark.parametrize("name", sorted(BINARY))
def test_scalars_are_weak(torch, name, scalar, dtype):
    """Each binary op with a Python or numpy scalar gives torch's dtype (and values), or both refuse."""
    ours_fn, theirs_fn = BINARY[name]
    if name == "rdiv" and dtype is np.bool_:
        pytest.skip("t + 1 on a boolean tensor is a logical or")
    x = _values(dtype)
    py = scalar.item() if isinstance(scalar, np.generic) else scalar  # torch sees the Python number
    tx = torch.from_numpy(x.copy())
    try:
        if theirs_fn is None:
            pick = (tx, py) if name == "where_a" else (py, tx)
            theirs = torch.where(tx > 0, *pick)
        else:
            theirs = theirs_fn(tx, py)
    except (RuntimeError, TypeError, NotImplementedError):
        with pytest.raises((TypeError, ValueError), match=r"\w+: "):
            ours_fn(Tensor(x), scalar)
        return
    _same(torch, ours_fn(Tensor(x), scalar), theirs)


@pytest.mark.parametrize("a,b,dtype", [(1, 2, np.int64), (True, False, np.bool_), (1, 2.5, np.float32),
                                       (np.int32(1), 2, np.int64), (1.5, 2.5, np.float32)])
def test_where_of_two_scalars(a, b, dtype):
    got = F.where(Tensor(np.array([True, False])), a, b)
    assert got.dtype == dtype
    assert got.tolist() == [a, b]


def test_int_scalar_out_of_range_for_the_tensor_dtype_raises():
    """Arithmetic refuses (PyTorch would wrap silently); comparisons stay exact, as numpy's."""
    i8 = Tensor(np.array([1, 2], dtype=np.int8))
    with pytest.raises(OverflowError, match=r"add: .*300.*int8"):
        i8 + 300
    with pytest.raises(OverflowError, match=r"where: .*-129.*int8"):
        F.where(i8 > 1, i8, -129)
    assert (i8 == 300).tolist() == [False, False] and (i8 < 300).tolist() == [True, True]


def test_mixed_tensor_dtypes():
    i32, f32 = Tensor(np.array([1, 2], np.int32)), Tensor(np.array([1.0, 2.0], np.float32))
    f64 = Tensor(np.array([1.0, 2.0]))
    assert (i32 * f32).dtype == np.float32 and (i32 + f64).dtype == np.float64
    assert (i32 + Tensor(np.array([1, 2], np.int64))).dtype == np.int64
    assert (Tensor(np.array([True, False])) + i32).dtype == np.int32
    assert (i32 / Tensor(np.array([2, 2], np.int64))).dtype == np.float32


# ---------------------------------------------------------------- casts
def test_cast_to_integer_or_bool_cuts_the_graph():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    for dtype in (np.int32, np.int64, np.uint8, np.bool_):
        y = w.astype(dtype)
        assert y.dtype == dtype and not y.requires_grad and y.op is None
    np.testing.assert_array_equal(w.astype(np.int32).data, [1, 2])
    loss = (w.astype(np.int32) * 2.7).sum()
    assert not loss.requires_grad
    with pytest.raises(ValueError, match="does not require grad"):
        loss.backward()
    assert w.grad is None


def test_cast_op_refuses_integer_targets_when_called_directly():
    with pytest.raises(TypeError, match=r"cast: .*astype"):
        tg.REGISTRY["cast"](Tensor(np.array([1.0]), requires_grad=True), dtype=np.dtype(np.int32))


@pytest.mark.parametrize("dtype", [np.float16, np.complex64, np.complex128, np.longdouble, np.str_, object])
def test_cast_to_unsupported_dtypes_is_refused(dtype):
    if np.dtype(dtype) == np.float64:
        pytest.skip("longdouble is float64 on this platform")
    for x in (Tensor(np.array([1.0, 2.0], np.float32)), Tensor(np.array([1, 2]))):
        with pytest.raises(TypeError, match=r"astype: .*" + np.dtype(dtype).name):
            x.astype(dtype)


def test_float_casts_stay_differentiable():
    w = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    y = w.astype(np.float64)
    assert y.dtype == np.float64 and y.op == "cast"
    (y * 3.0).sum().backward()
    assert w.grad.dtype == np.float32 and w.grad.tolist() == [3.0, 3.0]
    i = Tensor(np.array([1, 2]))
    assert i.astype(np.float32).dtype == np.float32 and i.float().dtype == np.float32
