"""The Tensor: construction and dtype rules, attributes, operators, indexing, comparisons, errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor


def test_lists_and_scalars_become_float32():
    assert Tensor([1, 2, 3]).dtype == np.float32
    assert Tensor(2.5).dtype == np.float32 and Tensor(2.5).shape == ()
    assert Tensor([[1.0, 2.0]]).shape == (1, 2)


def test_arrays_keep_their_dtype():
    assert Tensor(np.zeros(3)).dtype == np.float64
    assert Tensor(np.zeros(3, np.float32)).dtype == np.float32
    labels = Tensor(np.array([1, 2, 3]))
    assert labels.dtype.kind == "i" and not labels.requires_grad
    assert Tensor(np.zeros(2), dtype=np.float32).dtype == np.float32


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(np.array([1, 2]), requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(np.array([True]), requires_grad=True)


def test_attributes_and_conversions():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = Tensor(a, requires_grad=True, name="w")
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and t.dtype == np.float32
    assert t.numpy() is a and np.asarray(t) is a
    assert Tensor(3.0).item() == 3.0
    with pytest.raises(ValueError, match="one-element"):
        t.item()
    d = t.detach()
    assert d.data is a and not d.requires_grad and d.is_leaf
    assert len(t) == 2 and t.is_leaf and t.op is None
    assert (t * 2).op == "mul" and not (t * 2).is_leaf


def test_repr_shows_shape_dtype_and_op():
    t = Tensor(np.ones((2, 2), np.float32), requires_grad=True, name="w")
    r = repr(t)
    assert "shape=(2, 2)" in r and "float32" in r and "requires_grad=True" in r and "'w'" in r
    assert "op=add" in repr(t + 1)
    assert "<10000 values>" in repr(Tensor(np.zeros(10000)))


def test_grad_is_settable_and_clearable():
    t = Tensor(np.ones(3), requires_grad=True)
    (t * t).sum().backward()
    assert isinstance(t.grad, Tensor)
    np.testing.assert_allclose(t.grad.data, 2.0)
    t.grad = None
    assert t.grad is None
    t.grad = np.zeros(3)
    assert isinstance(t.grad, Tensor)
    with pytest.raises(ValueError, match="shape"):
        t.grad = np.zeros(4)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_operators_with_scalars_on_either_side(op):
    x = np.array([0.5, 1.5, 2.0], np.float32)
    t = Tensor(x)
    for left, right, expected in [(t, 2.0, eval(f"x {op} 2.0")), (2.0, t, eval(f"2.0 {op} x"))]:
        got = eval(f"left {op} right")
        assert isinstance(got, Tensor) and got.dtype == np.float32, (op, got)
        np.testing.assert_allclose(got.data, expected, rtol=1e-6)


def test_unary_minus_and_matmul_operator():
    a = Tensor(np.eye(2)) @ Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal((-a).data, -np.array([[1.0, 2.0], [3.0, 4.0]]))


def test_ndarray_on_the_left_keeps_the_graph():
    w = Tensor(np.ones(3), requires_grad=True)
    y = np.array([1.0, 2.0, 3.0]) * w
    assert isinstance(y, Tensor) and y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 2.0, 3.0])


def test_dtype_promotion_is_explicit_and_differentiable():
    a32 = Tensor(np.ones(2, np.float32), requires_grad=True)
    b64 = Tensor(np.ones(2, np.float64), requires_grad=True)
    c = a32 * b64
    assert c.dtype == np.float64
    c.sum().backward()
    assert a32.grad.dtype == np.float32 and b64.grad.dtype == np.float64
    assert (Tensor(np.array([1, 2])) * 1.5).dtype == np.float32  # int tensor meets a float: float32
    assert (a32 * np.array([1, 2])).dtype == np.float32  # int array does not upcast a float tensor
    assert (a32 * 2).dtype == np.float32


def test_comparisons_return_boolean_constants():
    t = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for got, want in [(t > 2, [False, False, True]), (t >= 2, [False, True, True]), (t < 2, [True, False, False]),
                      (t <= 2, [True, True, False]), (t == 2, [False, True, False]), (t != 2, [True, False, True])]:
        assert got.dtype == np.bool_ and not got.requires_grad
        np.testing.assert_array_equal(got.data, want)
    assert {t: 1}[t] == 1  # still hashable by identity


def test_basic_and_integer_array_indexing():
    x = np.arange(12.0).reshape(3, 4)
    t = Tensor(x, requires_grad=True)
    np.testing.assert_array_equal(t[:, 1:3].data, x[:, 1:3])
    rows, cols = np.arange(3), np.array([1, 0, 3])
    picked = t[rows, cols]
    np.testing.assert_array_equal(picked.data, x[rows, cols])
    (picked.sum() + t[0, 0] + t[Tensor(np.array([2, 2]))].sum()).backward()
    want = np.zeros((3, 4))
    want[rows, cols] += 1
    want[0, 0] += 1
    want[2] += 2  # a repeated index accumulates
    np.testing.assert_array_equal(t.grad.data, want)


def test_index_errors_are_clear():
    t = Tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match="getitem"):
        t[5]
    with pytest.raises(TypeError, match="integers or booleans"):
        t[np.array([0.5])]


def test_truth_value_of_a_vector_is_ambiguous():
    assert bool(Tensor(1.0))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(Tensor(np.ones(2)))


def test_factories():
    assert tg.zeros(2, 3).shape == (2, 3) and tg.zeros((2, 3)).dtype == np.float32
    assert tg.ones(4, requires_grad=True).requires_grad
    np.testing.assert_array_equal(tg.randn(3, seed=1).data, tg.randn(3, seed=1).data)
