"""gradcheck and gradgradcheck must pass right gradients and catch wrong ones, with a useful report."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor


def x64(*shape):
    return Tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)


def test_catches_a_detached_factor():
    with pytest.raises(tg.GradcheckError) as err:
        tg.gradcheck(lambda t: (t * t.detach()).sum(), (x64(3),))
    msg = str(err.value)
    assert "input 0" in msg and "analytical" in msg and "numerical" in msg and "max abs error" in msg
    assert not tg.gradcheck(lambda t: (t * t.detach()).sum(), (x64(3),), raise_exception=False)


def test_report_names_the_worst_element():
    wrong = tg.register_op("test_wrong_at_one", lambda x: x * 1.0,
                           vjps=[lambda g, out, x: g * Tensor._make(np.array([1.0, 1.0, 3.0, 1.0]))], replace=True)
    try:
        with pytest.raises(tg.GradcheckError, match=r"element \(2,\).*analytical 3 vs numerical 1"):
            tg.gradcheck(wrong, (x64(4),))
    finally:
        del tg.REGISTRY["test_wrong_at_one"]


def test_checks_only_inputs_that_require_grad():
    a, b = x64(2), Tensor(np.ones(2))
    assert tg.gradcheck(lambda a, b: (a * b.detach()).sum(), (a, b))  # b is not checked


def test_float32_inputs_get_a_clear_error():
    with pytest.raises(TypeError, match="float64"):
        tg.gradcheck(lambda t: t.sum(), (Tensor(np.ones(2, np.float32), requires_grad=True),))


def test_does_not_modify_the_callers_tensors():
    x = x64(3)
    before = x.data.copy()
    tg.gradcheck(lambda t: t.exp().sum(), (x,))
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None


def test_multiple_outputs_and_inputs():
    assert tg.gradcheck(lambda a, b: (a * b, (a - b).tanh()), (x64(2, 2), x64(2, 2) * 1.0 + 0.5))


def test_gradgradcheck_catches_a_first_order_correct_but_non_differentiable_vjp():
    # The VJP is right in value but treats x as a constant, so its own derivative is wrong.
    sq = tg.register_op("test_square_detached_vjp", np.square,
                        vjps=[lambda g, out, x: g * 2 * x.detach()], replace=True)
    try:
        assert tg.gradcheck(sq, (x64(3),))
        with pytest.raises(tg.GradcheckError):
            tg.gradgradcheck(sq, (x64(3),))
    finally:
        del tg.REGISTRY["test_square_detached_vjp"]
