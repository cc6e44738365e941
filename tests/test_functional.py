"""Composite functions and the clear errors of the core ops."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor


def t64(*shape, seed=0, grad=True):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=grad)


def test_every_function_is_also_a_method():
    x = t64(3, 4)
    for name in ["relu", "sigmoid", "tanh", "exp", "mean", "square", "softmax", "log_softmax", "flatten", "sum",
                 "max", "min", "logsumexp", "var", "abs", "sqrt", "reshape", "transpose", "permute", "flip", "pad"]:
        assert hasattr(Tensor, name), name
        assert hasattr(F, name), name
    np.testing.assert_allclose(F.relu(x).data, x.relu().data)
    np.testing.assert_allclose(F.mean(x, axis=1).data, x.mean(axis=1).data)


def test_mean_var_min_softmax_values():
    x = t64(3, 4)
    d = x.data
    np.testing.assert_allclose(x.mean().item(), d.mean())
    np.testing.assert_allclose(x.mean(axis=(0, 1), keepdims=True).data, d.mean(axis=(0, 1), keepdims=True))
    np.testing.assert_allclose(x.var(axis=0).data, d.var(axis=0))
    np.testing.assert_allclose(x.min(axis=1).data, d.min(axis=1))
    e = np.exp(d - d.max(axis=1, keepdims=True))
    np.testing.assert_allclose(x.softmax(axis=1).data, e / e.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(x.log_softmax(axis=0).data, np.log(np.exp(d) / np.exp(d).sum(axis=0)))
    assert F.argmax(x, axis=1).dtype.kind == "i"


@pytest.mark.parametrize("fn", [
    lambda x: x.mean(axis=1), lambda x: x.var(axis=0, ddof=1), lambda x: x.min(axis=0), lambda x: x.softmax(axis=1),
    lambda x: x.log_softmax(axis=0), lambda x: x.logsumexp(axis=1), lambda x: x.square().sqrt(),
    lambda x: x.flatten(), lambda x: F.linear(x, x[:2] * 1.5, x[0, :2]),
    lambda x: F.cross_entropy(x, np.array([0, 3, 1])), lambda x: F.mse_loss(x, np.ones((3, 4))),
    lambda x: F.cross_entropy(x, np.array([2, 2, 0]), reduction="none"),
])
def test_composites_gradcheck(fn):
    assert tg.gradcheck(fn, (t64(3, 4),))
    assert tg.gradgradcheck(fn, (t64(3, 4),))


def test_cross_entropy_matches_definition_and_reductions():
    logits, y = t64(4, 5), np.array([0, 4, 2, 2])
    p = np.exp(logits.data) / np.exp(logits.data).sum(1, keepdims=True)
    per = -np.log(p[np.arange(4), y])
    np.testing.assert_allclose(F.cross_entropy(logits, y).item(), per.mean())
    np.testing.assert_allclose(F.cross_entropy(logits, Tensor(y), reduction="sum").item(), per.sum())
    np.testing.assert_allclose(F.cross_entropy(logits, y, reduction="none").data, per)


def test_cross_entropy_is_finite_for_huge_logits():
    logits = Tensor(np.array([[1e4, -1e4, 0.0], [0.0, 1e4, 1e4]], np.float32), requires_grad=True)
    loss = F.cross_entropy(logits, np.array([1, 2]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isclose(loss.item(), (2e4 + np.log(2)) / 2, rtol=1e-6)
    assert np.all(np.isfinite(logits.grad.data))
    np.testing.assert_allclose(logits.grad.data, [[0.5, -0.5, 0], [0, 0.25, -0.25]], atol=1e-6)


def test_cross_entropy_bad_targets():
    logits = t64(3, 4)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 4\)"):
        F.cross_entropy(logits, np.array([0, 4, 1]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(logits, np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"do not match logits \(3, 4\)"):
        F.cross_entropy(logits, np.array([0, 1]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(logits, np.array([0, 1, 2]), reduction="avg")


def test_mse_loss_refuses_to_broadcast():
    with pytest.raises(ValueError, match=r"mse_loss: prediction \(3, 1\) and target \(3,\)"):
        F.mse_loss(t64(3, 1), np.zeros(3))


def test_linear_uses_torch_layout_and_checks_shapes():
    x, w, b = t64(5, 3), t64(4, 3, seed=1), t64(4, seed=2)
    np.testing.assert_allclose(F.linear(x, w, b).data, x.data @ w.data.T + b.data)
    with pytest.raises(ValueError, match="linear"):
        F.linear(x, t64(3, 4))


def test_flatten_like_torch():
    x = t64(2, 3, 4, 5)
    assert x.flatten().shape == (120,)
    assert x.flatten(1).shape == (2, 60)
    assert x.flatten(1, 2).shape == (2, 12, 5)


# ------------------------------------------------------------------ clear errors
def test_matmul_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 6\) are not aligned"):
        t64(3, 4) @ t64(5, 6)
    with pytest.raises(ValueError, match="batch axes"):
        t64(2, 3, 4) @ t64(3, 4, 5)


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(3, 4\) and \(2, 4\) cannot be broadcast.*axis -2"):
        t64(3, 4) + t64(2, 4)
    with pytest.raises(ValueError, match=r"mul: shapes \(3,\) and \(4,\)"):
        t64(3) * t64(4)
    with pytest.raises(ValueError, match=r">: shapes"):
        t64(3) > t64(4)


def test_reduction_and_movement_errors():
    x = t64(2, 3)
    with pytest.raises(ValueError, match=r"sum: axis 2 is out of range.*\(2, 3\)"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match="repeats"):
        x.max(axis=(0, 0))
    with pytest.raises(ValueError, match=r"cannot reshape \(2, 3\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match="broadcast_to: cannot broadcast shape"):
        x.broadcast_to((3, 3))
    with pytest.raises(ValueError, match="permute: axes"):
        x.permute(0, 0)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal((x ** x).data, np.power(x.data, x.data))  # a tensor exponent (nan: x < 0)
    with pytest.raises(TypeError, match="pow: the exponent must be a Python number"):
        x ** "2"
    with pytest.raises(ValueError, match="max: cannot take the max over an empty axis"):
        Tensor(np.zeros((0, 3))).max(axis=0)


def test_where_requires_boolean_condition():
    a, b = t64(3), t64(3, seed=1)
    out = F.where(a > 0, a, b)
    np.testing.assert_array_equal(out.data, np.where(a.data > 0, a.data, b.data))
    with pytest.raises(TypeError, match="boolean"):
        F.where(a, a, b)


def test_max_splits_gradient_among_ties():
    x = Tensor(np.array([1.0, 3.0, 3.0, 2.0]), requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.data, [0, 0.5, 0.5, 0])
