"""x ** y with a tensor exponent: PyTorch's values and gradients at the edges (0^0, 0^y, negative bases),
broadcasting, integer operands, and no numpy warnings on the way."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_and_both_gradients_match_torch_at_the_edges(torch, dtype):
    x = np.array([[2.0, 0.0, 0.0, 0.0, 3.0, -2.0, -2.0, 1.5]], dtype)
    y = np.array([[3.0, 0.0, 2.0, -1.0, 0.5, 2.0, 0.5, -0.7], [1.0, 1.0, 0.0, 3.0, -2.0, 3.0, 1.0, 2.0]], dtype)
    X, Y = tg.Tensor(x, requires_grad=True), tg.Tensor(y, requires_grad=True)  # x broadcasts over y's rows
    TX, TY = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    with warnings.catch_warnings():  # 0 ** -1 = inf has ln 0 = -inf in its dy, and numpy's log says so
        warnings.simplefilter("ignore")
        z = X ** Y
        z.backward(np.ones(z.shape, dtype))
    tz = TX ** TY
    tz.backward(torch.ones_like(tz))
    for ours, theirs in ((z, tz), (X.grad, TX.grad), (Y.grad, TY.grad)):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-6, equal_nan=True)


def test_zero_to_a_non_negative_power_warns_nothing():
    x, y = tg.Tensor([0.0, 0.0, 2.0], requires_grad=True), tg.Tensor([0.0, 2.0, 0.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x ** y).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0] and y.grad.tolist() == [0.0, 0.0, pytest.approx(np.log(2.0))]


def test_gradgradcheck_and_integer_operands():
    rng = np.random.default_rng(0)
    x = tg.Tensor(rng.uniform(0.5, 2.0, (3, 2)), requires_grad=True)
    y = tg.Tensor(rng.standard_normal(2), requires_grad=True)
    assert tg.gradcheck(lambda a, b: a ** b, (x, y)) and tg.gradgradcheck(lambda a, b: a ** b, (x, y))
    z = tg.Tensor(np.array([2, 3])) ** tg.Tensor(np.array([3, 2]))
    assert z.dtype == np.float32 and z.tolist() == [8.0, 9.0]
    assert tg.Tensor([2.0]).pow(tg.Tensor([0.5])).tolist() == [pytest.approx(2 ** 0.5)]
