"""Numerics at the edges, against numpy and PyTorch: scalar ** tensor for zero and negative bases,
logsumexp over infinities, relu and max at NaN, powers at zero."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor

EXPONENTS = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0])
BASES = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, math.e, 10.0]


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn()


# ---------------------------------------------------------------- scalar ** tensor
def test_the_reported_rpow_cases():
    assert ((-2) ** Tensor([2.0])).item() == 4.0
    assert (0 ** Tensor([0.0])).item() == 1.0
    assert (0.0 ** Tensor([2.0])).item() == 0.0
    assert (2 ** Tensor([3.0])).item() == 8.0  # exact, not exp(3 ln 2)


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rpow_values_match_numpy(base, dtype):
    y = EXPONENTS.astype(dtype)
    got = _quiet(lambda: base ** Tensor(y))
    want = _quiet(lambda: np.power(np.asarray(base, dtype), y))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.data, want)


@pytest.mark.oracle
@pytest.mark.parametrize("base", BASES)
def test_rpow_values_and_gradients_match_torch(torch, base):
    y = Tensor(EXPONENTS.copy(), requires_grad=True)
    ty = torch.from_numpy(EXPONENTS.copy()).requires_grad_()
    out = _quiet(lambda: base ** y)
    tout = base ** ty
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, equal_nan=True)
    cot = np.linspace(0.5, 1.5, len(EXPONENTS))
    _quiet(lambda: out.backward(cot))
    tout.backward(torch.from_numpy(cot))
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), rtol=1e-12, equal_nan=True)


def test_rpow_gradient_at_zero_base():
    """d/dy 0**y: 0 where y >= 0 (as PyTorch), -inf where y < 0 (0**y = inf there)."""
    y = Tensor(np.array([-1.0, 0.0, 0.5, 2.0]), requires_grad=True)
    _quiet(lambda: (0.0 ** y).sum().backward())
    np.testing.assert_array_equal(y.grad.data, [-np.inf, 0.0, 0.0, 0.0])


def test_rpow_gradient_for_a_negative_base_is_nan_never_silently_wrong():
    y = Tensor(np.array([1.0, 2.0, 0.5]), requires_grad=True)
    out = _quiet(lambda: (-2.0) ** y)
    np.testing.assert_array_equal(out.data[:2], [-2.0, 4.0])
    assert np.isnan(out.data[2])
    _quiet(lambda: out.sum().backward())
    assert np.isnan(y.grad.data).all()  # b**y is not differentiable in y for b < 0 (PyTorch: nan too)


@pytest.mark.parametrize("base", [0.5, 2.0, math.e, 3])
def test_rpow_gradcheck_and_higher_order(base):
    y = Tensor(np.array([-1.0, 0.3, 1.7]), requires_grad=True)
    fn = lambda t: base ** t  # noqa: E731
    assert tg.gradcheck(fn, (y,)) and tg.gradgradcheck(fn, (y,))
    (g,) = tg.gradients((base ** y).sum(), y, create_graph=True)
    (h,) = tg.gradients(g.sum(), y)
    np.testing.assert_allclose(h.data, np.power(float(base), y.data) * np.log(base) ** 2, rtol=1e-12)


def test_rpow_bases_as_numpy_scalars_and_0d_arrays():
    y = Tensor(np.array([1.0, 2.0], np.float32))
    for base in (np.float64(3.0), np.int64(3), np.array(3.0), np.float32(3.0)):
        got = base ** y
        assert got.dtype == np.float32 and got.tolist() == [3.0, 9.0]
    with pytest.raises(TypeError, match="rpow"):
        np.array([2.0, 3.0]) ** y


def test_rpow_int_base_int_exponent_is_exact():
    y = Tensor(np.array([0, 1, 10, 39], dtype=np.int64))
    got = 3 ** y
    assert got.dtype == np.int64 and got.tolist() == [1, 3, 3 ** 10, 3 ** 39]
    assert ((-2) ** Tensor(np.array([0, 1, 2, 3]))).tolist() == [1, -2, 4, -8]


# ---------------------------------------------------------------- logsumexp over infinities
LSE_CASES = [[-np.inf, -np.inf, -np.inf], [np.inf, 1.0, 2.0], [np.inf, np.inf], [np.inf, -np.inf],
             [-np.inf, 1.0], [1.0, 2.0, 3.0]]


def test_logsumexp_of_all_minus_inf_is_minus_inf():
    x = Tensor(np.array([[-np.inf, -np.inf], [0.0, 1.0]]))
    got = _quiet(lambda: x.logsumexp(axis=1))
    assert got.data[0] == -np.inf and np.isfinite(got.data[1])
    assert _quiet(lambda: Tensor(np.array([np.inf, 1.0])).logsumexp(axis=0)).item() == np.inf


@pytest.mark.oracle
def test_logsumexp_infinities_match_torch_values_and_gradients(torch):
    for vals in LSE_CASES:
        x = Tensor(np.array(vals), requires_grad=True)
        tx = torch.tensor(vals, dtype=torch.float64, requires_grad=True)
        out = _quiet(lambda: x.logsumexp(axis=0))
        tout = torch.logsumexp(tx, 0)
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, equal_nan=True, err_msg=str(vals))
        _quiet(lambda: out.backward())
        tout.backward()
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, equal_nan=True, err_msg=str(vals))


def test_logsumexp_finite_rows_are_unaffected_by_an_infinite_row():
    x = Tensor(np.array([[1.0, 2.0], [3.0, -np.inf]]), requires_grad=True)
    out = _quiet(lambda: x.logsumexp(axis=1))
    np.testing.assert_allclose(out.data, [np.logaddexp(1.0, 2.0), 3.0], rtol=1e-12)


# ---------------------------------------------------------------- relu and max at NaN
@pytest.mark.oracle
def test_relu_at_nan_matches_torch(torch):
    vals = np.array([np.nan, 1.0, -1.0, 0.0, np.inf, -np.inf])
    x = Tensor(vals.copy(), requires_grad=True)
    tx = torch.from_numpy(vals.copy()).requires_grad_()
    out, tout = x.relu(), torch.relu(tx)
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    out.backward(np.full(6, 2.0))
    tout.backward(torch.full((6,), 2.0, dtype=torch.float64))
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())  # NaN passes the gradient, as PyTorch


def test_relu_gradient_propagates_a_nan_cotangent():
    x = Tensor(np.array([1.0, np.nan, -1.0]), requires_grad=True)
    x.relu().backward(np.array([np.nan, np.nan, np.nan]))
    assert np.isnan(x.grad.data[:2]).all() and x.grad.data[2] == 0.0


@pytest.mark.oracle
def test_max_with_nan_matches_torch_amax(torch):
    vals = np.array([[np.nan, 1.0, 2.0], [0.0, 3.0, 3.0]])
    x = Tensor(vals.copy(), requires_grad=True)
    tx = torch.from_numpy(vals.copy()).requires_grad_()
    out, tout = _quiet(lambda: x.max(axis=1)), torch.amax(tx, 1)
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    _quiet(lambda: out.sum().backward())
    tout.sum().backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


# ---------------------------------------------------------------- powers and division at zero
@pytest.mark.oracle
@pytest.mark.parametrize("c", [0, 0.5, 1, 2, -1, 3])
def test_pow_at_zero_matches_torch(torch, c):
    vals = np.array([0.0, 1.0, 2.0])
    x = Tensor(vals.copy(), requires_grad=True)
    tx = torch.from_numpy(vals.copy()).requires_grad_()
    out, tout = _quiet(lambda: x ** c), tx ** c
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    _quiet(lambda: out.sum().backward())
    tout.sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, equal_nan=True)


def test_sigmoid_and_division_at_the_extremes():
    x = Tensor(np.array([-1000.0, 0.0, 1000.0], np.float32))
    np.testing.assert_array_equal(x.sigmoid().data, [0.0, 0.5, 1.0])
    assert _quiet(lambda: (Tensor(np.array([1, -1])) / Tensor(np.array([0, 0])))).tolist() == [np.inf, -np.inf]
