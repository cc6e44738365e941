"""The reverse-mode walk: accumulation, deep graphs, freeing, higher order, modes, transforms, custom ops."""

from __future__ import annotations

import gc
import tracemalloc
from collections import namedtuple

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor


def test_issue_example_matches_hand_derivation():
    rng = np.random.default_rng(0)
    x, y, w0 = rng.standard_normal((5, 3)), rng.random((5, 2)), rng.standard_normal((3, 2))
    w = Tensor(w0, requires_grad=True)
    loss = ((Tensor(x) @ w).sigmoid() - y).square().mean()
    loss.backward()
    s = 1 / (1 + np.exp(-(x @ w0)))
    want = x.T @ (2 * (s - y) / y.size * s * (1 - s))
    np.testing.assert_allclose(w.grad.data, want, rtol=1e-12)
    np.testing.assert_allclose(loss.item(), ((s - y) ** 2).mean(), rtol=1e-12)


def test_diamond_accumulates_both_paths():
    x = Tensor(np.array([2.0, -1.0]), requires_grad=True)
    a = x * 3
    y = (a * a + a.exp() + a).sum()  # a is used three times
    y.backward()
    a0 = 3 * x.data
    np.testing.assert_allclose(x.grad.data, 3 * (2 * a0 + np.exp(a0) + 1))


def test_same_leaf_twice_in_one_op():
    x = Tensor(np.array([3.0]), requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [6.0])


def test_grads_accumulate_across_backward_calls():
    x = Tensor(np.ones(2), requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [5.0, 5.0])


def test_hundred_thousand_deep_chain():
    x = Tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0])


def test_backward_of_non_scalar_needs_grad():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*grad="):
        y.backward()
    y.backward(np.ones((2, 3)))
    np.testing.assert_allclose(x.grad.data, 2.0)
    with pytest.raises(ValueError, match="grad has shape"):
        (x * 2).backward(np.ones(3))


def test_second_backward_through_freed_graph_raises():
    x = Tensor(np.ones(2), requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="already freed.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = Tensor(np.ones(2), requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 4 * np.e)


def test_backward_on_constant_output_is_an_error():
    with pytest.raises(ValueError, match="does not require grad"):
        (Tensor(np.ones(2)) * 2).sum().backward()


def test_graph_is_freed_but_drawable_after_backward():
    w = Tensor(np.ones((3, 2)), requires_grad=True, name="w")
    x = Tensor(np.ones((4, 3)))
    h = x @ w
    loss = h.relu().sum()
    loss.backward()
    node = loss._node
    assert node.freed and all(not isinstance(t, Tensor) or t is w for t in node.inputs)
    relu_in = node.inputs[0]._node.inputs[0]
    assert relu_in.shape == (4, 2) and relu_in.data is None  # a ghost: the array is released
    assert h._node.inputs[1] is w  # parameters stay, so names and grads can be drawn


def _memory_growth(keep_losses: bool) -> tuple[int, float, float]:
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((64, 256)).astype(np.float32) * 0.1, requires_grad=True)
    x = Tensor(rng.standard_normal((128, 64)).astype(np.float32))
    losses = []

    def step():
        loss = (x @ w).tanh().square().mean()
        loss.backward()
        w.data -= 0.01 * w.grad.data
        w.grad = None
        if keep_losses:
            losses.append(loss)
        return loss.item()

    first = [step() for _ in range(10)][0]
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(100):
        last = step()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return grown, first, last


def test_flat_memory_over_training_steps():
    activation = 128 * 256 * 4  # one (128, 256) float32 activation; each step makes several
    grown, first, last = _memory_growth(keep_losses=False)
    assert grown < activation, f"memory grew by {grown} bytes over 100 steps"
    assert last < first
    # Keeping every loss keeps only the graph's bookkeeping, never the released activations.
    grown, _, _ = _memory_growth(keep_losses=True)
    assert grown < 10 * activation, f"holding 100 losses held {grown} bytes"


def test_no_grad_context_and_decorator():
    w = Tensor(np.ones(2), requires_grad=True)
    with tg.no_grad():
        assert not (w * 2).requires_grad
        with tg.enable_grad():
            assert (w * 2).requires_grad
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()

    @tg.no_grad()
    def infer(t):
        return t * 2

    assert not infer(w).requires_grad and (w * 2).requires_grad


def test_hessian_vector_product_with_create_graph():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 3))
    x = Tensor(rng.standard_normal(3), requires_grad=True)
    v = rng.standard_normal(3)
    f = ((Tensor(a) @ x).tanh() * x).sum()
    (g,) = tg.gradients(f, x, create_graph=True)
    assert g.requires_grad
    (hv,) = tg.gradients((g * Tensor(v)).sum(), x)
    eps = 1e-6

    def grad_at(x0):
        t = Tensor(x0, requires_grad=True)
        ((Tensor(a) @ t).tanh() * t).sum().backward()
        return t.grad.data

    fd = (grad_at(x.data + eps * v) - grad_at(x.data - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv.data, fd, rtol=1e-6, atol=1e-8)


def test_gradient_penalty_trains_through_create_graph():
    x0 = np.array([0.5, 0.3])

    def penalty(w):
        x = Tensor(x0, requires_grad=True)
        (gx,) = tg.gradients((x * w).sum().tanh(), x, create_graph=True)
        return gx.square().sum()

    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    penalty(w).backward()
    assert w.grad is not None and np.abs(w.grad.data).max() > 0
    assert tg.gradcheck(penalty, (Tensor(w.data.copy(), requires_grad=True),))


def test_gradients_of_intermediate_and_unused_inputs():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    gh, gx = tg.gradients(y, [h, x], retain_graph=True)
    np.testing.assert_allclose(gh.data, 2 * h.data)
    np.testing.assert_allclose(gx.data, 18 * x.data)
    z = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="not used"):
        tg.gradients(y, [z], retain_graph=True)
    assert tg.gradients(y, [z], allow_unused=True) == (None,)
    assert x.grad is None  # gradients() does not touch .grad


def test_retain_grad_keeps_intermediate_gradient():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = (x * 2).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.data, 2 * h.data)


def test_detect_anomaly_names_the_forward_op():
    x = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    with tg.detect_anomaly():
        with pytest.raises(FloatingPointError, match="forward of 'log'"):
            with np.errstate(invalid="ignore"):
                x.log()
    with np.errstate(invalid="ignore"):
        x.log()  # outside the context NaN flows silently, as in numpy


def test_detect_anomaly_names_the_backward_op():
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    y = (x ** 0.5).sum()  # finite forward, infinite derivative at 0
    with tg.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(FloatingPointError, match="inside the backward of 'pow'"):
            y.backward()


# ------------------------------------------------------------------ functional transforms
def loss_fn(params, x, y):
    h = (x @ params["w1"] + params["b1"]).tanh()
    return F.mse_loss(h @ params["layers"][0], y)


def _params(rng):
    return {"w1": Tensor(rng.standard_normal((3, 4))), "b1": Tensor(rng.standard_normal(4)),
            "layers": [Tensor(rng.standard_normal((4, 2)))]}


def test_grad_returns_the_structure_of_params():
    rng = np.random.default_rng(0)
    params, x, y = _params(rng), Tensor(rng.standard_normal((5, 3))), Tensor(rng.standard_normal((5, 2)))
    g = tg.grad(loss_fn)(params, x, y)
    assert set(g) == {"w1", "b1", "layers"} and isinstance(g["layers"], list)
    assert g["w1"].shape == (3, 4) and g["layers"][0].shape == (4, 2)
    v, g2 = tg.value_and_grad(loss_fn)(params, x, y)
    assert isinstance(v, Tensor) and v.shape == ()
    # against backward() on copies
    leaves = {k: Tensor(p.data, requires_grad=True) for k, p in params.items() if k != "layers"}
    lay = Tensor(params["layers"][0].data, requires_grad=True)
    loss_fn({**leaves, "layers": [lay]}, x, y).backward()
    np.testing.assert_allclose(g["w1"].data, leaves["w1"].grad.data)
    np.testing.assert_allclose(g2["layers"][0].data, lay.grad.data)
    assert params["w1"].grad is None  # the caller's tensors are untouched


def test_grad_argnums_tuple_and_namedtuple():
    P = namedtuple("P", "a b")
    f = lambda p, x: (p.a * x).sum() + (p.b * x * x).sum()  # noqa: E731
    p, x = P(Tensor(np.array([1.0])), Tensor(np.array([2.0]))), Tensor(np.array([3.0]))
    gp, gx = tg.grad(f, argnums=(0, 1))(p, x)
    assert isinstance(gp, P)
    np.testing.assert_allclose(gp.a.data, [3.0])
    np.testing.assert_allclose(gp.b.data, [9.0])
    np.testing.assert_allclose(gx.data, [1.0 + 2 * 2.0 * 3.0])
    t = tg.grad(lambda ab: (ab[0] * ab[1]).sum())((np.array([2.0]), np.array([5.0])))
    assert isinstance(t, tuple) and t[0].item() == 5.0 and t[1].item() == 2.0


def test_grad_has_aux_and_errors():
    f = lambda w: ((w * w).sum(), {"n": 1})  # noqa: E731
    g, aux = tg.grad(f, has_aux=True)(Tensor(np.array([3.0])))
    assert g.item() == 6.0 and aux == {"n": 1}
    with pytest.raises(ValueError, match="scalar"):
        tg.grad(lambda w: w * 2)(Tensor(np.ones(3)))
    with pytest.raises(TypeError, match="float"):
        tg.grad(lambda w: w.sum())(np.array([1, 2]))


def test_nested_grad_gives_second_derivatives():
    f = lambda x: (x ** 3).sum()  # noqa: E731
    d2 = tg.grad(lambda x: tg.grad(f)(x).sum())(Tensor(np.array([2.0, -1.0])))
    np.testing.assert_allclose(d2.data, 6 * np.array([2.0, -1.0]))


# ------------------------------------------------------------------ user-registered ops
def test_custom_op_behaves_like_a_builtin():
    softplus = tg.register_op(
        "test_softplus", lambda x: np.logaddexp(0.0, x), vjps=[lambda g, out, x: g * x.sigmoid()],
        formula="y = log(1 + e^x);  dx = g * sigmoid(x)", replace=True,
    )
    assert tg.REGISTRY["test_softplus"] is softplus
    x = Tensor(np.array([-1.0, 0.5, 2.0]), requires_grad=True)
    y = softplus(x)
    assert y.op == "test_softplus"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 1 / (1 + np.exp(-x.data)))
    assert tg.gradcheck(softplus, (Tensor(x.data.copy(), requires_grad=True),))
    assert tg.gradgradcheck(softplus, (Tensor(x.data.copy(), requires_grad=True),))
    with pytest.raises(ValueError, match="already registered"):
        tg.register_op("test_softplus", np.exp, vjps=[None])
    del tg.REGISTRY["test_softplus"]


def test_custom_op_with_wrong_vjp_shape_is_reported():
    bad = tg.register_op("test_bad_shape", lambda x: x * 2, vjps=[lambda g, out, x: g.sum()], replace=True)
    try:
        with pytest.raises(RuntimeError, match="test_bad_shape: the VJP for input 0 returned shape"):
            bad(Tensor(np.ones(3), requires_grad=True)).sum().backward()
    finally:
        del tg.REGISTRY["test_bad_shape"]


def test_custom_op_check_errors_are_prefixed():
    def check(x):
        if x.ndim != 1:
            raise ValueError(f"needs a vector, got shape {x.shape}")

    op = tg.register_op("test_checked", lambda x: x, vjps=[lambda g, out, x: g], check=check, replace=True)
    try:
        with pytest.raises(ValueError, match=r"test_checked: needs a vector, got shape \(2, 2\)"):
            op(Tensor(np.ones((2, 2))))
        with pytest.raises(TypeError, match="inputs must be Tensors"):
            op(np.ones(2))
    finally:
        del tg.REGISTRY["test_checked"]
