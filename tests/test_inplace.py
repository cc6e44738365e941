"""In-place updates: PyTorch's methods and operators, the rules around graphs, and version counters."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import REGISTRY, Tensor


def test_the_first_training_loop_updates_the_parameter_in_place() -> None:
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True, name="w")
    ident = id(w)
    for _ in range(3):
        loss = (w * w).sum()
        w.grad = None
        loss.backward()
        with tg.no_grad():
            w -= 0.25 * w.grad
    assert id(w) == ident and w.is_leaf and w.requires_grad and w.name == "w"
    np.testing.assert_allclose(w.data, np.array([1.0, -2.0]) * 0.5**3)
    assert w._version == 3


@pytest.mark.parametrize(
    "method, args, want",
    [
        ("add_", (np.array([1.0, 2.0, 3.0]),), lambda x: x + [1, 2, 3]),
        ("add_", (2.0,), lambda x: x + 2),
        ("sub_", (np.array([1.0, 2.0, 3.0]),), lambda x: x - [1, 2, 3]),
        ("mul_", (3.0,), lambda x: x * 3),
        ("div_", (4.0,), lambda x: x / 4),
        ("zero_", (), lambda x: 0 * x),
        ("fill_", (7.5,), lambda x: 0 * x + 7.5),
        ("copy_", (np.array([9.0, 8.0, 7.0]),), lambda x: np.array([9.0, 8.0, 7.0])),
        ("clamp_", (-0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5)),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_place_methods_write_the_same_array_and_bump_the_version(method, args, want, dtype) -> None:
    x0 = np.array([-1.0, 0.25, 2.0], dtype=dtype)
    t = Tensor(x0.copy())
    arr = t.data
    out = getattr(t, method)(*args)
    assert out is t and t.data is arr and t.dtype == dtype
    np.testing.assert_allclose(t.data, want(x0.astype(np.float64)), rtol=1e-6)
    assert t._version == 1


def test_in_place_methods_match_torch() -> None:
    torch = pytest.importorskip("torch")
    x0 = np.array([[-1.5, 0.5], [2.0, -0.25]], dtype=np.float32)
    ours, theirs = Tensor(x0.copy()), torch.tensor(x0)
    for name, args in [("add_", (1.5,)), ("mul_", (-2.0,)), ("sub_", (0.5,)), ("div_", (3.0,)), ("clamp_", (-1.0, 1.0))]:
        getattr(ours, name)(*args)
        getattr(theirs, name)(*args)
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)
    ours.add_(np.array([1.0, 2.0], dtype=np.float32), alpha=0.5)
    theirs.add_(torch.tensor([1.0, 2.0]), alpha=0.5)
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)
    ours += 1.0
    theirs += 1.0
    ours *= 2.0
    theirs *= 2.0
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)


def test_in_place_on_a_leaf_that_requires_grad_raises_outside_no_grad_as_in_torch() -> None:
    w = Tensor(np.ones(2), requires_grad=True, name="w")
    for update in (lambda: w.add_(1.0), lambda: w.mul_(2.0), lambda: w.zero_(), lambda: w.copy_(np.zeros(2))):
        with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad \('w'"):
            update()
    with pytest.raises(RuntimeError, match="no_grad"):
        w -= 1.0
    assert w._version == 0 and w.data.tolist() == [1.0, 1.0]
    torch = pytest.importorskip("torch")
    tw = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        tw.add_(1.0)


def test_backward_after_an_optimizer_step_raises_like_torch() -> None:
    """A loss built at w = [1, 2], then a step, then backward: the gradient would be at the new w."""
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="w")
    loss = (w * w).sum()
    w.grad = Tensor(np.ones(2))
    tg.optim.SGD([w], lr=0.1).step()
    assert w._version == 1
    with pytest.raises(RuntimeError, match=r"input \d of 'mul' \('w', shape \(2,\)\) was modified by an in-place"):
        loss.backward()
    torch = pytest.importorskip("torch")
    tw = torch.tensor([1.0, 2.0], requires_grad=True)
    tloss = (tw * tw).sum()
    tw.grad = torch.ones(2)
    torch.optim.SGD([tw], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tloss.backward()


def test_a_write_through_a_view_is_seen_by_the_graph_of_its_base_and_back() -> None:
    x = Tensor(np.arange(6.0), requires_grad=True)
    v = x.reshape(2, 3)
    z = (v * v).sum()
    with tg.no_grad():
        x.add_(1.0)
    assert v._version == x._version == 1
    np.testing.assert_array_equal(v.data.ravel(), np.arange(6.0) + 1)  # same memory, as in torch
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.backward()
    y = Tensor(np.arange(4.0), requires_grad=True)
    loss = (y * y).sum()
    with tg.no_grad():
        y.detach().mul_(2.0)  # detach shares the memory and the counter
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_in_place_on_computed_tensors_is_recorded_and_gives_torch_gradients() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a0, b0 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
    out = a.tanh() * 2.0
    out += b  # the residual connection of a ResNet block
    out.mul_(a)
    out.clamp_(-1.0, 1.0)
    out.relu().sum().backward()
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    tout = ta.tanh() * 2.0
    tout += tb
    tout.mul_(ta)
    tout.clamp_(-1.0, 1.0)
    tout.relu().sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), rtol=1e-12)
    assert out.op == "where" and out._version == 3


def test_a_computed_tensor_changed_after_another_op_read_it_raises() -> None:
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = a * 2.0
    y = h * h  # reads h
    h.mul_(3.0)
    with pytest.raises(RuntimeError, match=r"input 0 of 'mul'.*modified by an in-place operation"):
        y.sum().backward()


def test_an_output_its_backward_needs_changed_under_no_grad_raises() -> None:
    x = Tensor(np.array([0.5, 1.0]), requires_grad=True)
    y = x.exp()  # exp's VJP reads its output
    with tg.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match="the output of 'exp'.*modified by an in-place operation"):
        y.sum().backward()


def test_detect_anomaly_catches_writes_into_data_and_names_the_op() -> None:
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    with tg.detect_anomaly():
        y = (x.sigmoid() * x).sum()
        x.data[0] = 10.0  # bypasses the version counter
        with pytest.raises(RuntimeError, match="input 1 of 'mul' was changed after the op ran"):
            y.backward()
    x2 = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    with tg.detect_anomaly():
        z = x2.exp()
        z.numpy()[1] = 0.0
        with pytest.raises(RuntimeError, match="the output of 'exp' was changed"):
            z.sum().backward()


def test_in_place_dtype_and_shape_rules() -> None:
    i = Tensor(np.array([1, 2, 3]))
    with pytest.raises(TypeError, match="div_"):
        i.div_(2)  # true division of integers is float: it cannot be stored in int64 (as in torch)
    with pytest.raises(TypeError, match="add_"):
        i.add_(0.5)
    i.add_(2)
    assert i.data.tolist() == [3, 4, 5] and i.dtype == np.int64
    with pytest.raises(TypeError, match="fill_"):
        i.fill_(2.5)
    with pytest.raises(TypeError, match="copy_"):
        i.copy_(np.array([0.5, 1.5, 2.5]))
    f = Tensor(np.zeros(3, dtype=np.float32))
    f.add_(np.array([1.0, 2.0, 3.0], dtype=np.float64))
    assert f.dtype == np.float32 and f.data.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"add_: the result has shape \(2, 3\).*\(3,\)"):
        f.add_(np.ones((2, 3)))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        f.add_(np.ones(4))
    ro = Tensor(np.broadcast_to(np.ones(3), (2, 3)))
    with pytest.raises(ValueError, match="read-only"):
        ro.mul_(2.0)
    with pytest.raises(TypeError, match="add_"):
        f.add_("1")
    with pytest.raises(ValueError, match="min .* greater than max"):
        f.clamp_(1.0, 0.0)


def test_set_replaces_data_keeps_the_object_and_bumps_the_version() -> None:
    w = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    loss = (w * w).sum()
    w.set_(np.zeros(3, dtype=np.float64))
    assert w.dtype == np.float64 and w.requires_grad and w._version == 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()
    with pytest.raises(TypeError, match="set_"):
        w.set_(np.zeros(3, dtype=np.int64))


def test_every_op_output_that_shares_memory_with_an_input_shares_its_version() -> None:
    """Views (reshape, getitem, transpose, ...) see writes to their base: checked over every op's samples."""
    rng = np.random.default_rng(0)
    checked = 0
    for op in REGISTRY.values():
        for sample in op.samples(rng):
            inputs = [Tensor(np.array(a, copy=True)) for a in sample.inputs]
            out = op(*inputs, **sample.attrs)
            for t in inputs:
                if np.shares_memory(out.data, t.data):
                    before = out._version
                    t.copy_(t.data.copy())  # an in-place write through the library
                    assert out._version == before + 1, f"{op.name}: a view of an input does not share its version"
                    checked += 1
    assert checked > 0


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/="])
def test_an_update_by_the_tensor_itself_differentiates_as_in_torch(op) -> None:
    torch = pytest.importorskip("torch")
    x = Tensor(np.array([1.0, 3.0]), requires_grad=True)
    y = x * 2.0
    tx = torch.tensor([1.0, 3.0], dtype=torch.float64, requires_grad=True)
    ty = tx * 2.0
    scope = {"y": y, "ty": ty}
    # torch itself refuses `ty *= ty` (its Mul saved ty); the out-of-place value is the same function
    exec(f"y {op} y\nty = ty {op[0]} ty", scope)
    scope["y"].sum().backward()
    scope["ty"].sum().backward()
    np.testing.assert_allclose(scope["y"].data, scope["ty"].detach().numpy())
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


def test_an_op_that_hands_back_its_input_array_shares_its_version() -> None:
    identity = tg.register_op("identity_for_version_test", lambda x: x, vjps=[lambda g, out, x: -g],
                              formula="y = x;  dx = -g (a gradient-reversal layer)", replace=True)
    try:
        x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
        h = x * 1.0
        loss = (h * h).sum()
        y = identity(h)
        with tg.no_grad():
            y.mul_(10.0)  # writes h's memory too
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            loss.backward()
    finally:
        del REGISTRY["identity_for_version_test"]


def test_fill_zero_and_copy_on_a_computed_tensor_keep_a_zero_gradient_path_as_in_torch() -> None:
    torch = pytest.importorskip("torch")
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    tx = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y, ty = x * 2.0, tx * 2.0
    y.zero_()
    ty.zero_()
    assert y.requires_grad and ty.requires_grad
    (y.sum() + (x * x).sum()).backward()
    (ty.sum() + (tx * tx).sum()).backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())
    src = Tensor(np.array([5.0]), requires_grad=True)
    z = x * 3.0
    z.copy_(src)  # broadcast: src's gradient is the sum over the copies
    z.sum().backward()
    assert z.data.tolist() == [5.0, 5.0] and src.grad.data.tolist() == [2.0]


def test_a_view_that_is_gone_does_not_block_an_update_but_a_live_one_does() -> None:
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 2.0
    assert y[:1].shape == (1,)  # a view, dropped at once
    y += 1.0
    y.sum().backward()
    assert x.grad.data.tolist() == [2.0, 2.0]
    y2 = x * 2.0
    v = y2[:1]
    with pytest.raises(RuntimeError, match="shares memory with another live tensor"):
        y2 += 1.0
    assert v.shape == (1,)


def test_small_in_place_cases_that_torch_accepts() -> None:
    i = Tensor(np.array([1, 2], dtype=np.int32))
    i.fill_(3.0)
    assert i.data.tolist() == [3, 3] and i.dtype == np.int32
    y = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    (y * 2.0).backward(Tensor(np.ones(2)))  # a float64 cotangent for a float32 output is cast, as in torch
    assert y.grad.dtype == np.float32 and y.grad.data.tolist() == [2.0, 2.0]


def test_tensors_modules_and_optimizers_pickle_after_in_place_updates() -> None:
    import copy
    import pickle

    model = tg.nn.Linear(3, 2)
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    model(Tensor(np.ones((1, 3), np.float32))).sum().backward()
    opt.step()
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.weight.data, model.weight.data)
    assert again.weight._version == model.weight._version == 1
    t = Tensor(np.ones(3), requires_grad=True)
    view = t.reshape(3).detach()
    copied = copy.deepcopy(view)
    with tg.no_grad():
        copied.add_(1.0)  # a copy shares memory (and versions) with nothing
    assert t.data.tolist() == [1.0, 1.0, 1.0] and t._version == 0
    pickle.dumps(opt)
