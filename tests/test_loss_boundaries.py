"""Loss boundaries (class targets in range, integer targets, PyTorch's ``ignore_index``) and the functional
composites' boundaries (integer and boolean inputs promoted to float32, axes in range with the op's name)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor

LOSSES = ["cross_entropy", "nll_loss"]


def _inputs(n=5, c=4, dtype=np.float64, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, c)).astype(dtype)
    return x


def _ours(name, x, target, **kw):
    t = Tensor(x, requires_grad=True)
    inp = t if name == "cross_entropy" else t.log_softmax(axis=1)
    return t, getattr(F, name)(inp, target, **kw)


# -------------------------------------------------------------------- targets
@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("bad", [-1, 4, 100, -99, -101])
def test_targets_outside_the_classes_raise(name, bad):
    target = np.array([0, bad, 1, 2, 3])
    with pytest.raises(ValueError, match=rf"{name}: targets must lie in \[0, 4\).*got {bad} at index 1"):
        _ours(name, _inputs(), target)


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("target", [
    np.array([0.0, 1.0, 2.0, 3.0, 0.0]), np.array([True, False, True, False, True]),
    Tensor(np.array([0.0, 1.0, 2.0, 3.0, 0.0])), [0.5, 1, 2, 3, 0],
])
def test_non_integer_targets_raise_type_error(name, target):
    with pytest.raises(TypeError, match=rf"{name}: targets must be integer class indices"):
        _ours(name, _inputs(), target)


@pytest.mark.parametrize("name", LOSSES)
def test_target_shape_and_ignore_index_type_are_checked(name):
    with pytest.raises(ValueError, match=rf"{name}: targets of shape \(4,\) do not match"):
        _ours(name, _inputs(), np.array([0, 1, 2, 3]))
    with pytest.raises(TypeError, match="ignore_index must be an int"):
        _ours(name, _inputs(), np.array([0, 1, 2, 3, 0]), ignore_index=1.0)
    with pytest.raises(ValueError, match="reduction"):
        _ours(name, _inputs(), np.array([0, 1, 2, 3, -100]), reduction="avg")


def test_integer_logits_are_promoted():
    loss = F.cross_entropy(Tensor(np.array([[1, 2, 3], [0, 0, 5]])), np.array([2, 0]))
    assert loss.dtype == np.float32
    ref = F.cross_entropy(Tensor(np.array([[1, 2, 3], [0, 0, 5]], np.float32)), np.array([2, 0]))
    np.testing.assert_allclose(loss.item(), ref.item())


# -------------------------------------------------------------------- ignore_index, against PyTorch
TARGETS = {
    "some_ignored": ([1, -100, 3, 0, -100], {}),
    "none_ignored": ([1, 2, 3, 0, 3], {}),
    "all_ignored": ([-100] * 5, {}),
    "class_ignored": ([1, 2, 2, 0, 2], {"ignore_index": 2}),
    "negative_index": ([1, -5, 3, -5, 0], {"ignore_index": -5}),
    "other_index_left": ([1, 2, 3, 0, 3], {"ignore_index": 7}),
}


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", list(TARGETS))
@pytest.mark.parametrize("name", LOSSES)
def test_ignore_index_matches_torch(torch, name, case, reduction, dtype):
    target, kw = TARGETS[case]
    x = _inputs(dtype=dtype)
    t, loss = _ours(name, x, np.array(target), reduction=reduction, **kw)

    tx = torch.tensor(x, requires_grad=True)
    tinp = tx if name == "cross_entropy" else torch.log_softmax(tx, dim=1)
    tloss = getattr(torch.nn.functional, name)(tinp, torch.tensor(target), reduction=reduction, **kw)

    assert loss.dtype == dtype and loss.shape == tuple(tloss.shape)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(loss.data, tloss.detach().numpy(), rtol=rtol, atol=rtol)
    cot = np.random.default_rng(1).standard_normal(loss.shape).astype(dtype)
    loss.backward(cot if loss.ndim else None)
    tloss.backward(torch.tensor(cot) if tloss.ndim else None)
    np.testing.assert_allclose(t.grad.data, tx.grad.numpy(), rtol=rtol, atol=rtol)
    assert t.grad.dtype == dtype
    ignored = np.array(target) == kw.get("ignore_index", -100)
    assert np.all(t.grad.data[ignored] == 0)  # exactly zero for the ignored rows
    if case == "all_ignored" and reduction == "mean":
        assert np.isnan(loss.item())  # 0 / 0, as PyTorch (documented in nll_loss); the gradient is 0


@pytest.mark.oracle
@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_empty_batch_matches_torch(torch, name, reduction):
    t, loss = _ours(name, np.zeros((0, 3)), np.zeros(0, dtype=np.int64), reduction=reduction)
    tloss = getattr(torch.nn.functional, name)(torch.zeros(0, 3, dtype=torch.float64),
                                               torch.zeros(0, dtype=torch.long), reduction=reduction)
    assert loss.shape == tuple(tloss.shape)
    np.testing.assert_array_equal(loss.data, tloss.numpy())


def test_ignored_rows_are_never_read():
    """-inf log-probabilities in ignored rows do not leak NaN into the loss or the gradient."""
    lp = Tensor(np.array([[-0.5, -1.0], [-np.inf, -np.inf], [-2.0, -0.1]]), requires_grad=True)
    for reduction in ("mean", "sum", "none"):
        loss = F.nll_loss(lp, np.array([0, -100, 1]), reduction=reduction)
        assert np.all(np.isfinite(loss.data))
        loss.sum().backward() if reduction == "none" else loss.backward()
        assert np.all(np.isfinite(lp.grad.data))
        lp.grad = None
    np.testing.assert_allclose(F.nll_loss(lp, np.array([0, -100, 1])).item(), (0.5 + 0.1) / 2)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ignore_index_gradcheck(reduction):
    fn = lambda x: F.cross_entropy(x, np.array([1, -100, 3, 0]), reduction=reduction)  # noqa: E731
    x = Tensor(_inputs(4, 5, seed=3), requires_grad=True)
    assert tg.gradcheck(fn, (x,))
    assert tg.gradgradcheck(fn, (x,))


# -------------------------------------------------------------------- composites: promotion to float32
FLOAT_VALUED = {
    "mean": lambda x: F.mean(x), "mean_axis": lambda x: F.mean(x, axis=1), "var": lambda x: F.var(x, axis=0),
    "softmax": lambda x: F.softmax(x, axis=-1), "log_softmax": lambda x: F.log_softmax(x, axis=0),
    "logsumexp": lambda x: F.logsumexp(x, axis=1), "sqrt": lambda x: F.sqrt(x),
    "mse_loss": lambda x: F.mse_loss(x, np.zeros(x.shape, np.int64)),
}
TORCH_FLOAT_VALUED = {
    "mean": lambda x: x.mean(), "mean_axis": lambda x: x.mean(1), "var": lambda x: x.var(0, unbiased=False),
    "softmax": lambda x: x.softmax(-1), "log_softmax": lambda x: x.log_softmax(0),
    "logsumexp": lambda x: x.logsumexp(1), "sqrt": lambda x: x.sqrt(),
    "mse_loss": lambda x: (x * x).mean(),
}


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("op", list(FLOAT_VALUED))
def test_float_valued_composites_promote_integers_to_float32(torch, op, dtype):
    data = (np.arange(12).reshape(3, 4) % 5).astype(dtype)
    out = FLOAT_VALUED[op](Tensor(data))
    assert out.dtype == np.float32, (op, out.dtype)
    # PyTorch promotes integer inputs of its float ops (sqrt, ...) to float32; compare there
    ref = TORCH_FLOAT_VALUED[op](torch.tensor(data.astype(np.float32)))
    np.testing.assert_allclose(out.data, ref.numpy(), rtol=1e-6, atol=1e-6)
    assert FLOAT_VALUED[op](Tensor(data.astype(np.float64))).dtype == np.float64  # floats keep their dtype


def test_sqrt_of_integers_is_not_truncated():
    np.testing.assert_allclose(F.sqrt(Tensor(np.array([2, 9]))).data, [np.sqrt(2), 3.0], rtol=1e-7)


def test_integer_min_and_abs_keep_dtype_and_are_exact():
    x = Tensor(np.array([[0, 2], [5, 3]], dtype=np.uint8))
    assert F.min(x).item() == 0 and F.min(x).dtype == np.uint8  # -max(-x) would wrap
    np.testing.assert_array_equal(F.min(x, axis=1).data, [0, 3])
    np.testing.assert_array_equal(F.abs(Tensor(np.array([-3, 4]))).data, [3, 4])
    assert F.abs(Tensor(np.array([-3, 4], np.int32))).dtype == np.int32


# -------------------------------------------------------------------- composites: axes
AXIS_OPS = {
    "softmax": lambda x, a: F.softmax(x, axis=a), "log_softmax": lambda x, a: F.log_softmax(x, axis=a),
    "logsumexp": lambda x, a: F.logsumexp(x, axis=a), "mean": lambda x, a: F.mean(x, axis=a),
    "var": lambda x, a: F.var(x, axis=a), "min": lambda x, a: F.min(x, axis=a),
    "argmax": lambda x, a: F.argmax(x, axis=a),
}


@pytest.mark.parametrize("axis", [2, 5, -3])
@pytest.mark.parametrize("op", list(AXIS_OPS))
def test_out_of_range_axes_name_the_op(op, axis):
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=rf"^{op}: axis {axis} is out of range .*\(shape \(2, 3\)\)") as exc:
        AXIS_OPS[op](x, axis)
    assert isinstance(exc.value, IndexError)  # numpy's AxisError is both: code catching either still works


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "argmax"])
def test_single_axis_ops_refuse_non_int_axes(op):
    with pytest.raises(TypeError, match=rf"{op}: axis must be an int"):
        AXIS_OPS[op](Tensor(np.ones((2, 3))), 1.0)


@pytest.mark.parametrize("op", ["mean", "var", "logsumexp", "min"])
def test_tuple_axes_are_checked(op):
    x = Tensor(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=rf"{op}: axis 3 is out of range"):
        AXIS_OPS[op](x, (0, 3))
    with pytest.raises(ValueError, match=rf"{op}: axis \(1, -2\) repeats an axis"):
        AXIS_OPS[op](x, (1, -2))
    with pytest.raises(TypeError, match=rf"{op}: axis must be an int"):
        AXIS_OPS[op](x, (0, True))


@pytest.mark.oracle
def test_scalar_softmax_and_logsumexp_follow_torch(torch):
    s = Tensor(np.float64(3.0))
    for axis in (0, -1):
        assert F.softmax(s, axis).item() == torch.softmax(torch.tensor(3.0), axis).item() == 1.0
        assert F.log_softmax(s, axis).item() == 0.0
        assert F.logsumexp(s, axis).item() == pytest.approx(torch.logsumexp(torch.tensor(3.0), axis).item())
    with pytest.raises(ValueError, match="softmax: axis 1 is out of range"):
        F.softmax(s, 1)


@pytest.mark.oracle
@pytest.mark.parametrize("shape,start,end", [((2, 3), 5, -1), ((2, 3), 0, 2), ((2, 3), -3, -1), ((2, 3, 4), 1, 3),
                                             ((), 1, -1), ((), 0, -2)])
def test_flatten_refuses_out_of_range_dims_like_torch(torch, shape, start, end):
    with pytest.raises(IndexError):
        torch.zeros(shape).flatten(start, end)
    with pytest.raises(ValueError, match=r"flatten: (start|end)_dim=-?\d+ is out of range"):
        F.flatten(Tensor(np.zeros(shape)), start, end)


@pytest.mark.oracle
@pytest.mark.parametrize("shape,start,end", [((2, 3), -2, -1), ((2, 3), 1, 1), ((2, 3, 4), -2, 2), ((), 0, -1),
                                             ((5,), 0, 0)])
def test_flatten_in_range_matches_torch(torch, shape, start, end):
    assert F.flatten(Tensor(np.zeros(shape)), start, end).shape == tuple(torch.zeros(shape).flatten(start, end).shape)
