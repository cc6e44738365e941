"""Every registered primitive, checked through its own sample inputs: gradcheck and gradgradcheck in
float64, and the VJP's output shape and dtype. A new op cannot land without samples that pass."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor
from tinygrad_cnn.core.registry import REGISTRY

CASES = [(name, i) for name, op in sorted(REGISTRY.items()) for i in range(len(op.samples(np.random.default_rng(0))))]


def _inputs(op, sample):
    return [
        Tensor(x.astype(np.float64), requires_grad=op.vjps[i] is not None) if x.dtype.kind == "f" else Tensor(x)
        for i, x in enumerate(sample.inputs)
    ]


def test_every_op_has_samples_and_formula():
    for name, op in REGISTRY.items():
        assert op.samples(np.random.default_rng(0)), f"op {name!r} declares no test samples"
        assert op.formula, f"op {name!r} has no formula"
        assert op.kind != "custom", f"built-in op {name!r} has no kind"


@pytest.mark.parametrize("name,i", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_gradcheck(name, i):
    op = REGISTRY[name]
    sample = op.samples(np.random.default_rng(0))[i]
    inputs = _inputs(op, sample)
    fn = lambda *ts: op(*ts, **sample.attrs)  # noqa: E731
    assert tg.gradcheck(fn, inputs)
    assert tg.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("name", sorted(REGISTRY))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vjp_shapes_and_dtypes(name, dtype):
    op = REGISTRY[name]
    for sample in op.samples(np.random.default_rng(1)):
        inputs = [Tensor(x.astype(dtype), requires_grad=op.vjps[i] is not None) if x.dtype.kind == "f" else Tensor(x)
                  for i, x in enumerate(sample.inputs)]
        attrs = dict(sample.attrs)
        if name == "cast":
            attrs["dtype"] = np.dtype(dtype)
        out = op(*inputs, **attrs)
        assert out.dtype == dtype, f"{name} turned {dtype.__name__} into {out.dtype}"
        cot = np.ones(out.shape, dtype=out.dtype)
        grads = tg.gradients(out, [t for t in inputs if t.requires_grad], grad_outputs=cot, allow_unused=True)
        for t, g in zip([t for t in inputs if t.requires_grad], grads):
            assert g is None or (g.shape == t.shape and g.dtype == t.dtype)


def test_op_records_carry_their_input_names() -> None:
    import tinygrad_cnn as tg

    assert tg.REGISTRY["add"].input_names == ("a", "b")
    assert all(len(op.input_names) == op.arity for op in tg.REGISTRY.values())
    op = tg.register_op("named_inputs_for_test", lambda u, v: u * v, vjps=[lambda g, out, *xs: g * xs[1],
                        lambda g, out, *xs: g * xs[0]], inputs=("u", "v"), replace=True)
    try:
        assert op.input_names == ("u", "v")
        with pytest.raises(ValueError, match="2 inputs but 1 input names"):
            tg.register_op("bad_names_for_test", lambda u, v: u, vjps=[None, None], inputs=("u",))
    finally:
        del tg.REGISTRY["named_inputs_for_test"]
