"""The activation composites and maximum / minimum: PyTorch as the oracle for values and gradients (at the
kinks, in the tails, float32 and float64), gradcheck and gradgradcheck away from the kinks, the errors
for bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F

# (our function, torch's name in torch.nn.functional, keyword arguments, the kinks to keep clear of)
ACTIVATIONS = [
    (F.leaky_relu, "leaky_relu", {}, (0.0,)),
    (F.leaky_relu, "leaky_relu", {"negative_slope": 0.2}, (0.0,)),
    (F.elu, "elu", {}, (0.0,)),
    (F.elu, "elu", {"alpha": 0.5}, (0.0,)),
    (F.softplus, "softplus", {}, (20.0,)),
    (F.softplus, "softplus", {"beta": 2.0, "threshold": 5.0}, (2.5,)),
    (F.silu, "silu", {}, ()),
    (F.mish, "mish", {}, (20.0,)),
    (F.hardtanh, "hardtanh", {}, (-1.0, 1.0)),
    (F.hardtanh, "hardtanh", {"min_val": -2.0, "max_val": 0.5}, (-2.0, 0.5)),
    (F.relu6, "relu6", {}, (0.0, 6.0)),
    (F.hardswish, "hardswish", {}, (-3.0, 3.0)),
]
IDS = [f"{a[1]}{a[2] or ''}" for a in ACTIVATIONS]
# the kinks themselves, both tails, and the inside
POINTS = [-100.0, -30.0, -6.0, -3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0, 6.0, 7.0, 20.0, 25.0, 100.0]


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn, name, kw, kinks", ACTIVATIONS, ids=IDS)
def test_values_and_gradients_match_torch_at_the_kinks_and_in_the_tails(torch, fn, name, kw, kinks, dtype):
    rng = np.random.default_rng(0)
    data = np.concatenate([POINTS, rng.standard_normal(40) * 4]).astype(dtype)
    x, tx = tg.Tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    y, ty = fn(x, **kw), getattr(torch.nn.functional, name)(tx, **kw)
    g = rng.standard_normal(data.shape).astype(dtype)
    y.backward(g)
    ty.backward(torch.tensor(g))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    assert y.dtype == x.grad.dtype == dtype
    np.testing.assert_allclose(y.data, ty.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), **tol)
    assert np.isfinite(x.grad.data).all()


def _away_from(kinks: tuple[float, ...], values: list[float]) -> np.ndarray:
    v = np.array(values)
    for k in kinks:
        v = np.where(np.abs(v - k) < 1e-2, v + 0.05, v)
    return v


@pytest.mark.parametrize("fn, name, kw, kinks", ACTIVATIONS, ids=IDS)
@given(values=st.lists(st.floats(-8, 8, allow_nan=False), min_size=1, max_size=6))
def test_gradcheck_and_gradgradcheck_away_from_the_kinks(fn, name, kw, kinks, values):
    x = tg.Tensor(_away_from(kinks, values), requires_grad=True)
    assert tg.gradcheck(lambda t: fn(t, **kw), (x,))
    assert tg.gradgradcheck(lambda t: fn(t, **kw), (x,))


@pytest.mark.parametrize("fn", [F.leaky_relu, F.elu, F.softplus, F.silu, F.mish, F.relu6, F.hardswish, F.hardtanh])
def test_integer_input_gives_float32(fn):
    assert fn(tg.Tensor(np.array([-2, 0, 3]))).dtype == np.float32


@pytest.mark.parametrize("call, err, match", [
    (lambda x: F.leaky_relu(x, "0.1"), TypeError, "leaky_relu: negative_slope must be a number"),
    (lambda x: F.elu(x, alpha=True), TypeError, "elu: alpha must be a number"),
    (lambda x: F.softplus(x, beta=0), ValueError, "softplus: beta must be non-zero"),
    (lambda x: F.softplus(x, threshold=float("nan")), ValueError, "softplus: threshold must be finite"),
    (lambda x: F.hardtanh(x, 1.0, -1.0), ValueError, "hardtanh: min_val 1.0 must not exceed max_val -1.0"),
    (lambda x: F.maximum(x, tg.Tensor(np.zeros(4))), ValueError, "maximum"),
])
def test_bad_arguments_name_the_op_and_the_rule(call, err, match):
    with pytest.raises(err, match=match):
        call(tg.Tensor(np.zeros(3, np.float32)))


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_maximum_and_minimum_match_torch_with_ties_nan_and_broadcasting(torch, name, dtype):
    a = np.array([[1.0, 2.0, 3.0, np.nan], [0.0, -1.0, 5.0, 2.0]], dtype)
    b = np.array([2.0, 2.0, 1.0, 0.0], dtype)  # ties at [0, 1] and [1, 3]; broadcast over rows
    A, B = tg.Tensor(a, requires_grad=True), tg.Tensor(b, requires_grad=True)
    TA, TB = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    y, ty = getattr(F, name)(A, B), getattr(torch, name)(TA, TB)
    g = np.arange(1.0, 9.0, dtype=dtype).reshape(2, 4)
    y.backward(g)
    ty.backward(torch.tensor(g))
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    np.testing.assert_allclose(A.grad.data, TA.grad.numpy())
    np.testing.assert_allclose(B.grad.data, TB.grad.numpy())
    assert getattr(A, name)(B).shape == (2, 4)  # the method


def test_maximum_of_integers_is_exact_and_keeps_the_dtype():
    y = F.maximum(tg.Tensor(np.array([2**40, -3])), tg.Tensor(np.array([2**40 + 1, -5])))
    assert y.dtype == np.int64 and y.tolist() == [2**40 + 1, -3]
    assert F.minimum(tg.Tensor(np.array([True, False])), False).tolist() == [False, False]


@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=5))
def test_maximum_gradcheck_and_gradgradcheck_without_ties(values):
    a = np.array(values)
    b = np.roll(a, 1) + 0.3  # no ties with a (up to the 0.3 shift of a permutation)
    if np.any(np.abs(a - b) < 1e-3):
        b = b + 0.01
    A, B = tg.Tensor(a, requires_grad=True), tg.Tensor(b, requires_grad=True)
    assert tg.gradcheck(F.maximum, (A, B)) and tg.gradgradcheck(F.minimum, (A, B))


MODULES = [("LeakyReLU", {"negative_slope": 0.1}), ("ELU", {"alpha": 0.7}), ("Softplus", {"beta": 2.0, "threshold": 4.0}),
           ("Hardtanh", {"min_val": -0.5, "max_val": 2.0}), ("SiLU", {}), ("Mish", {}), ("ReLU6", {}),
           ("Hardswish", {})]


@pytest.mark.oracle
@pytest.mark.parametrize("name, kw", MODULES, ids=[m[0] for m in MODULES])
def test_activation_modules_match_torch_and_check_their_arguments_when_made(torch, name, kw):
    x = np.linspace(-8, 8, 33).astype(np.float32)
    ours, theirs = getattr(tg.nn, name)(**kw), getattr(torch.nn, name)(**kw)
    np.testing.assert_allclose(ours(tg.Tensor(x)).data, theirs(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)
    assert repr(ours).startswith(name + "(") and list(ours.state_dict()) == []
    if kw:
        op = {"LeakyReLU": "leaky_relu", "ELU": "elu", "Softplus": "softplus", "Hardtanh": "hardtanh"}[name]
        with pytest.raises(TypeError, match=f"{op}: .* must be a number"):
            getattr(tg.nn, name)(**{k: "bad" for k in kw})


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    x = tg.Tensor(np.ones((8, 16, 3, 3), np.float32), requires_grad=True)
    m = tg.nn.Dropout2d(0.25, rng=0)
    y = m(x)
    per_channel = y.data.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == np.float32(1 / 0.75)).all(-1))  # whole channels
    dropped = (per_channel == 0).all(-1).mean()
    assert 0.1 < dropped < 0.4
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)  # the gradient is the same mask
    m.eval()
    assert m(x) is x
    assert tg.nn.Dropout2d(0.5, rng=1)(x).shape == x.shape and repr(m) == "Dropout2d(p=0.25)"
    with pytest.raises(ValueError, match="dropout2d: needs a 3-D"):
        tg.nn.dropout2d(tg.Tensor(np.ones((2, 3))), 0.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="Dropout2d: p must be a number in"):
        tg.nn.Dropout2d(1.5)


def test_functional_dropout_follows_pytorchs_signature():
    x = tg.Tensor(np.ones((200, 8, 3, 3), np.float32))
    assert F.dropout(x, 0.5, training=False) is x and F.dropout2d(x, training=False) is x
    y = F.dropout(x, 0.25, rng=np.random.default_rng(0)).data
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)} and abs((y == 0).mean() - 0.25) < 0.01
    z = F.dropout2d(x, 0.5, rng=np.random.default_rng(0)).data
    per_channel = z.reshape(200, 8, 9)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # whole channels
    assert abs((per_channel[:, :, 0] == 0).mean() - 0.5) < 0.05
    np.testing.assert_array_equal(F.dropout2d(x, 0.5, rng=np.random.default_rng(0)).data, z)  # seeded
    np.testing.assert_array_equal(tg.nn.dropout2d(x, 0.5, np.random.default_rng(0)).data, z)
    with pytest.raises(ValueError, match="dropout: inplace=True is not supported"):
        F.dropout(x, 0.5, inplace=True)
    with pytest.raises(ValueError, match=r"dropout2d: p must be a number in \[0, 1\]"):
        F.dropout2d(x, 1.5)
    with pytest.raises(TypeError, match="dropout: rng must be None or a numpy Generator"):
        F.dropout(x, rng=0)
