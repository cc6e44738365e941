"""Gradients never alias: each leaf's .grad is a writable array of its own."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor


def owned(t: Tensor) -> bool:
    return t.grad is not None and t.grad.data.flags.writeable and t.grad.data.flags.owndata


def test_two_leaves_of_one_add_get_separate_gradients() -> None:
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    (a + b).backward(np.full(3, 2.0))
    assert a.grad is not b.grad and not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data *= 0.5
    assert b.grad.data.tolist() == [2.0, 2.0, 2.0]


def test_the_callers_grad_array_never_becomes_a_grad() -> None:
    w = Tensor(np.ones(3), requires_grad=True)
    g = np.array([1.0, 2.0, 3.0])
    (w * 1.0).backward(g)
    assert not np.shares_memory(w.grad.data, g)
    w.grad.data[:] = 0
    assert g.tolist() == [1.0, 2.0, 3.0]
    v = Tensor(np.ones(3), requires_grad=True)
    gt = Tensor(np.array([1.0, 1.0, 1.0]))
    v.backward(gt)  # a leaf as the output: its gradient is the cotangent itself
    assert not np.shares_memory(v.grad.data, gt.data)


def test_a_broadcast_gradient_is_writable() -> None:
    w = Tensor(np.ones(3), requires_grad=True)
    w.broadcast_to((4, 3)).sum().backward()
    assert owned(w)
    w.grad.data *= 0.5
    assert w.grad.data.tolist() == [2.0, 2.0, 2.0]
    b = Tensor(np.ones((2, 3)), requires_grad=True)
    b.reshape(6).sum().backward()  # reshape's VJP is a view of the incoming gradient
    assert owned(b)


def test_functional_gradients_do_not_alias_either() -> None:
    params = {"a": np.ones(2), "b": np.ones(2)}
    g = tg.grad(lambda p: (p["a"] + p["b"]).sum())(params)
    assert not np.shares_memory(g["a"].data, g["b"].data)
    x, y = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    gx, gy = tg.gradients((x + y).sum(), [x, y])
    assert not np.shares_memory(gx.data, gy.data)


def test_create_graph_gradients_are_distinct_tensors_that_still_differentiate() -> None:
    a, b = Tensor(np.array([2.0]), requires_grad=True), Tensor(np.array([3.0]), requires_grad=True)
    (a * a + b).sum().backward(create_graph=True)
    ga = a.grad
    assert ga.requires_grad and ga.data.tolist() == [4.0] and b.grad.data.tolist() == [1.0]
    assert a.grad is not b.grad
    (h,) = tg.gradients(ga.sum(), a)
    assert h.data.tolist() == [2.0]


def test_accumulated_gradients_stay_owned() -> None:
    w = Tensor(np.ones(2), requires_grad=True)
    for _ in range(2):
        (w + 0.0).sum().backward()
    assert owned(w) and w.grad.data.tolist() == [2.0, 2.0]
