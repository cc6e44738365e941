"""Generated shapes and attributes for the core primitives: gradcheck over broadcastable shapes, axes,
permutations and batched matmul."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.core.registry import REGISTRY

ELEMENTWISE = sorted(n for n, op in REGISTRY.items() if op.kind == "elementwise" and op.domain)


def _leaves(op, arrays):
    return [Tensor(a.astype(np.float64), requires_grad=op.vjps[i] is not None) if a.dtype.kind == "f" else Tensor(a)
            for i, a in enumerate(arrays)]


@given(name=st.sampled_from(ELEMENTWISE), data=st.data(), seed=st.integers(0, 2**16))
def test_elementwise_broadcasting(name, data, seed):
    op = REGISTRY[name]
    shapes = data.draw(mutually_broadcastable_shapes(num_shapes=op.arity, max_dims=3, max_side=3))
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(d(rng, s)) for d, s in zip(op.domain, shapes.input_shapes)]
    attrs = op.samples(rng)[0].attrs
    out = op(*_leaves(op, arrays), **attrs)
    assert out.shape == shapes.result_shape
    fn = lambda *ts: op(*ts, **attrs)  # noqa: E731
    assert tg.gradcheck(fn, _leaves(op, arrays))
    assert tg.gradgradcheck(fn, _leaves(op, arrays))


@st.composite
def shape_and_axes(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=4, max_side=3))
    axes = draw(st.none() | st.lists(st.integers(-len(shape), len(shape) - 1), unique_by=lambda a: a % len(shape),
                                     max_size=len(shape)).map(tuple))
    return shape, axes, draw(st.booleans())


@given(case=shape_and_axes(), which=st.sampled_from(["sum", "max", "mean", "logsumexp"]), seed=st.integers(0, 99))
def test_reductions_over_generated_axes(case, which, seed):
    shape, axes, keepdims = case
    x = np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape) * 0.1  # distinct: no ties
    fn = lambda t: getattr(t, which)(axes, keepdims=keepdims)  # noqa: E731
    ref = {"sum": np.sum, "max": np.max, "mean": np.mean}.get(which)
    if ref is not None:
        np.testing.assert_allclose(fn(Tensor(x)).data, ref(x, axis=axes, keepdims=keepdims))
    assert tg.gradcheck(fn, (Tensor(x, requires_grad=True),))
    assert tg.gradgradcheck(fn, (Tensor(x, requires_grad=True),))


@given(shape=array_shapes(min_dims=1, max_dims=4, max_side=3), data=st.data())
def test_permutations(shape, data):
    axes = tuple(data.draw(st.permutations(range(len(shape)))))
    x = np.random.default_rng(0).standard_normal(shape)
    np.testing.assert_array_equal(Tensor(x).permute(axes).data, np.transpose(x, axes))
    assert tg.gradcheck(lambda t: t.permute(axes) * 2.0, (Tensor(x, requires_grad=True),))


@given(batch=mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=2),
       m=st.integers(1, 3), k=st.integers(1, 3), n=st.integers(1, 3), vec=st.sampled_from(["", "a", "b"]))
def test_batched_matmul(batch, m, k, n, vec):
    rng = np.random.default_rng(0)
    sa = (k,) if vec == "a" else batch.input_shapes[0] + (m, k)
    sb = (k,) if vec == "b" else batch.input_shapes[1] + (k, n)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    np.testing.assert_allclose((Tensor(a) @ Tensor(b)).data, np.matmul(a, b), rtol=1e-12)
    assert tg.gradcheck(F.matmul, (Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)))
