"""PyTorch as the oracle for the core primitives: forward values and input gradients, float32 and float64,
over every sample of every elementwise, reduction, movement and matmul op; and an MLP's Hessian-vector
product against torch's double backward."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.ops.movement import is_basic
from tinygrad_cnn.core.registry import REGISTRY

CORE_KINDS = {"elementwise", "reduction", "movement", "matmul"}


def _torch_index(torch, index):
    return tuple(torch.from_numpy(i) if isinstance(i, np.ndarray) else i for i in index)


def torch_op(torch, name, attrs):
    """The torch function computing op `name` with `attrs`."""
    def dims(x, axis):
        return tuple(range(x.ndim)) if axis is None else axis

    def tsum(x):
        return torch.sum(x, dim=dims(x, attrs["axis"]), keepdim=attrs["keepdims"]) if x.ndim else x

    def tmax(x):
        return torch.amax(x, dim=dims(x, attrs["axis"]), keepdim=attrs["keepdims"]) if x.ndim else x

    def scatter(v):
        z = torch.zeros(attrs["shape"], dtype=v.dtype)
        idx = _torch_index(torch, attrs["index"])
        if is_basic(attrs["index"]):
            z[idx] = v
            return z
        return z.index_put(idx, v, accumulate=True)

    def pad(x):
        flat = [p for pair in reversed(attrs["pad_width"]) for p in pair]
        return torch.nn.functional.pad(x, flat, value=attrs["value"])

    table = {
        "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "neg": torch.neg,
        "pow": lambda x: torch.pow(x, attrs.get("exponent")), "exp": torch.exp, "log": torch.log,
        "rpow": lambda y: torch.pow(attrs.get("base"), y), "pow_tensor": torch.pow,
        "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "erf": torch.erf,
        "cast": lambda x: x.to(getattr(torch, np.dtype(attrs.get("dtype", "f8")).name)),
        "where": torch.where, "sum": tsum, "max": tmax, "matmul": torch.matmul,
        "reshape": lambda x: x.reshape(attrs.get("shape")), "permute": lambda x: x.permute(attrs.get("axes")),
        "broadcast_to": lambda x: x.broadcast_to(attrs.get("shape")),
        "getitem": lambda x: x[_torch_index(torch, attrs["index"])], "scatter": scatter, "pad": pad,
        "flip": lambda x: torch.flip(x, dims=dims(x, attrs["axis"])),
    }
    return table[name]


CASES = [(n, i) for n, op in sorted(REGISTRY.items()) if op.kind in CORE_KINDS
         for i in range(len(op.samples(np.random.default_rng(0))))]


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,i", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_forward_and_gradients_match_torch(torch, name, i, dtype):
    op = REGISTRY[name]
    sample = op.samples(np.random.default_rng(0))[i]
    attrs = dict(sample.attrs)
    if name == "cast":
        attrs["dtype"] = np.dtype(dtype)
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in sample.inputs]
    ours_in = [Tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    theirs_in = [torch.from_numpy(a.copy()).requires_grad_(a.dtype.kind == "f") for a in arrays]
    ours = op(*ours_in, **attrs)
    theirs = torch_op(torch, name, attrs)(*theirs_in)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **tol)
    cot = np.random.default_rng(1).standard_normal(ours.shape).astype(dtype)
    ours.backward(cot)
    theirs.backward(torch.from_numpy(cot))
    for a, b in zip(ours_in, theirs_in):
        if a.requires_grad:
            np.testing.assert_allclose(a.grad.data, b.grad.numpy(), **tol)


def test_every_core_op_has_an_oracle():
    import types
    fake = types.SimpleNamespace(**{k: None for k in ["add", "sub", "mul", "div", "neg", "exp", "log", "relu",
                                                        "sigmoid", "tanh", "erf", "where", "matmul", "pow"]})
    for name, op in REGISTRY.items():
        if op.kind in CORE_KINDS:
            torch_op(fake, name, {})  # a KeyError here means a new core op without a torch counterpart


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_composites_match_torch(torch, dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5)).astype(dtype)
    y = np.array([1, 0, 4, 2])
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    tF = torch.nn.functional
    pairs = [
        (lambda t: F.cross_entropy(t, y), lambda t: tF.cross_entropy(t, torch.from_numpy(y))),
        (lambda t: t.log_softmax(axis=1), lambda t: tF.log_softmax(t, dim=1)),
        (lambda t: t.softmax(axis=0), lambda t: tF.softmax(t, dim=0)),
        (lambda t: F.mse_loss(t, np.ones((4, 5), dtype)), lambda t: tF.mse_loss(t, torch.ones(4, 5, dtype=t.dtype))),
        (lambda t: t.var(axis=1, ddof=1), lambda t: t.var(dim=1)),
        (lambda t: t.logsumexp(axis=1), lambda t: t.logsumexp(dim=1)),
    ]
    for ours_fn, theirs_fn in pairs:
        a, b = Tensor(x.copy(), requires_grad=True), torch.from_numpy(x.copy()).requires_grad_()
        oa, ob = ours_fn(a), theirs_fn(b)
        np.testing.assert_allclose(oa.data, ob.detach().numpy(), **tol)
        oa.sum().backward()
        ob.sum().backward()
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), **tol)


@pytest.mark.oracle
def test_mlp_hessian_vector_product_matches_torch_double_backward(torch):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((6, 4)), np.array([0, 2, 1, 1, 0, 2])
    w1, b1, w2 = rng.standard_normal((5, 4)), rng.standard_normal(5), rng.standard_normal((3, 5))
    v = [rng.standard_normal(w.shape) for w in (w1, b1, w2)]

    def loss(ws, lib):
        if lib == "ours":
            h = F.linear(Tensor(x), ws[0], ws[1]).tanh()
            return F.cross_entropy(F.linear(h, ws[2]), y)
        h = torch.tanh(torch.nn.functional.linear(torch.from_numpy(x), ws[0], ws[1]))
        return torch.nn.functional.cross_entropy(torch.nn.functional.linear(h, ws[2]), torch.from_numpy(y))

    ours = [Tensor(w.copy(), requires_grad=True) for w in (w1, b1, w2)]
    gs = tg.gradients(loss(ours, "ours"), ours, create_graph=True)
    hv = tg.gradients(sum(((g * Tensor(vi)).sum() for g, vi in zip(gs, v)), Tensor(0.0, dtype=np.float64)), ours)
    theirs = [torch.from_numpy(w.copy()).requires_grad_() for w in (w1, b1, w2)]
    tg_ = torch.autograd.grad(loss(theirs, "torch"), theirs, create_graph=True)
    dot = sum((g * torch.from_numpy(vi)).sum() for g, vi in zip(tg_, v))
    thv = torch.autograd.grad(dot, theirs)
    for a, b in zip(hv, thv):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-10, atol=1e-12)
