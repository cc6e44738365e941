"""cat, stack, split and chunk against PyTorch (values, gradients, dtypes), gradcheck, and their errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_and_stack_match_torch_with_gradients(torch, dtype, dim):
    rng = np.random.default_rng(0)
    shapes = {0: [(1, 3, 2), (4, 3, 2)], 1: [(2, 1, 2), (2, 5, 2), (2, 2, 2)], -1: [(2, 3, 1), (2, 3, 3)]}[dim]
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ours = [tg.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = tg.cat(ours, dim), torch.cat(theirs, dim)
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(g)
    ty.backward(torch.tensor(g))
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.data, b.grad.numpy())
    same = [tg.Tensor(arrays[0], requires_grad=True) for _ in range(3)]
    tsame = [torch.tensor(arrays[0], requires_grad=True) for _ in range(3)]
    for d in (0, arrays[0].ndim, -1):
        np.testing.assert_array_equal(tg.stack(same, d).data, torch.stack(tsame, d).detach().numpy())


def test_cat_promotes_dtypes_and_accepts_dim_or_axis():
    y = tg.cat([tg.Tensor(np.zeros(2, np.float32)), tg.Tensor(np.ones(1))], axis=0)
    assert y.dtype == np.float64 and y.tolist() == [0.0, 0.0, 1.0]
    x = tg.Tensor(np.ones(2, np.float32), requires_grad=True)
    z = tg.cat([x])  # a copy in the graph
    z.sum().backward()
    assert z.data is not x.data and x.grad.tolist() == [1.0, 1.0]


@pytest.mark.oracle
@pytest.mark.parametrize("arg", [3, 4, 10, 11, [2, 0, 8], (5, 5)])
def test_split_matches_torch(torch, arg):
    a = np.arange(20.0).reshape(2, 10)
    x, tx = tg.Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours, theirs = x.split(arg, dim=1), tx.split(list(arg) if isinstance(arg, tuple) else arg, dim=1)
    assert [p.shape for p in ours] == [tuple(p.shape) for p in theirs]
    sum((p * (i + 1)).sum() for i, p in enumerate(ours)).backward()
    sum((p * (i + 1)).sum() for i, p in enumerate(theirs)).backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


@pytest.mark.oracle
@pytest.mark.parametrize("n, chunks", [(10, 3), (10, 4), (6, 6), (5, 8), (1, 1)])
def test_chunk_matches_torch(torch, n, chunks):
    a = np.arange(float(n))
    ours, theirs = tg.Tensor(a).chunk(chunks), torch.tensor(a).chunk(chunks)
    assert [p.tolist() for p in ours] == [p.tolist() for p in theirs]


def test_gradcheck_and_gradgradcheck_through_cat_stack_and_split():
    rng = np.random.default_rng(1)
    a, b = (tg.Tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 3), (2, 2)))
    f = lambda u, v: (tg.cat([u, v], 1) ** 2).sum(1)  # noqa: E731
    assert tg.gradcheck(f, (a, b)) and tg.gradgradcheck(f, (a, b))
    g = lambda u: (tg.stack(u.split([1, 2], 1)[1].split(1, 1), 0) ** 3).sum()  # noqa: E731
    assert tg.gradcheck(g, (a,)) and tg.gradgradcheck(g, (a,))


@pytest.mark.parametrize("call, err, match", [
    (lambda: tg.cat([]), ValueError, "cat: expected a non-empty sequence"),
    (lambda: tg.cat(tg.zeros(2)), TypeError, "cat: expected a sequence of tensors"),
    (lambda: tg.cat([tg.zeros(2, 3), tg.zeros(3, 3)], 1), ValueError, r"cat: shapes .* must agree except along axis 1"),
    (lambda: tg.cat([tg.zeros(2)], 1), Exception, "cat"),
    (lambda: tg.cat([tg.zeros(2)], dim=0, axis=0), TypeError, "cat: give dim or axis, not both"),
    (lambda: tg.stack([tg.zeros(2), tg.zeros(3)]), ValueError, "stack: every tensor must have the same shape"),
    (lambda: tg.zeros(4).split([1, 2]), ValueError, r"split: sections \[1, 2\] must add up to 4"),
    (lambda: tg.zeros(4).split(0), ValueError, "split: the split size must be a positive int"),
    (lambda: tg.zeros(4).split(1.5), TypeError, "split: give an int or a list"),
    (lambda: tg.zeros(4).chunk(0), ValueError, "chunk: chunks must be a positive int"),
])
def test_errors_name_the_op_and_the_rule(call, err, match):
    with pytest.raises(err, match=match):
        call()
