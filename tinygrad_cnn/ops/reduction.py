"""Reductions over axes: sum and max (with numpy's ``axis`` and ``keepdims``), and ``sum_to``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import Sample, register_op, tensor_method
from ..tensor import Tensor

Axis = int | tuple[int, ...] | list[int] | None


def normalize_axes(axis: Axis, ndim: int) -> tuple[int, ...] | None:
    """``axis`` as a sorted tuple of non-negative ints (None: all axes); ValueError when out of range."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a tensor of {ndim} dimension(s)")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis!r} repeats an axis")
    return tuple(sorted(out))


def kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape of a reduction over ``axes`` with keepdims=True."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _sum_vjp(g: Tensor, out: Tensor, x: Tensor, *, axis: tuple[int, ...] | None, keepdims: bool) -> Tensor:
    return g.reshape(kept_shape(x.shape, axis)).broadcast_to(x.shape)


def _max_vjp(g: Tensor, out: Tensor, x: Tensor, *, axis: tuple[int, ...] | None, keepdims: bool) -> Tensor:
    kshape = kept_shape(x.shape, axis)
    hit = x.data == out.data.reshape(kshape)
    share = (hit / hit.sum(axis=axis, keepdims=True)).astype(x.dtype)  # ties split the gradient equally
    return g.reshape(kshape).broadcast_to(x.shape) * Tensor._make(share)


def _check_max(x: np.ndarray, *, axis: tuple[int, ...] | None, keepdims: bool) -> None:
    if x.size == 0 or (axis is not None and any(x.shape[a] == 0 for a in axis)):
        raise ValueError(f"cannot take the max over an empty axis of shape {x.shape}")


def _reduction_samples(rng: np.random.Generator) -> list[Sample]:
    cases = [((3, 4), None, False), ((3, 4), (0,), False), ((3, 4), (1,), True), ((2, 3, 4), (0, 2), False),
             ((2, 3, 4), (1,), True), ((5,), (0,), False), ((), None, False), ((2, 3, 4), None, True)]
    return [Sample((rng.standard_normal(s),), {"axis": a, "keepdims": k}) for s, a, k in cases]


_sum = register_op(
    "sum", lambda x, *, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
    vjps=(_sum_vjp,), formula="y = sum_axis x;  dx = broadcast(g)",
    kind="reduction", samples=_reduction_samples,
)
_max = register_op(
    "max", lambda x, *, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
    vjps=(_max_vjp,), formula="y = max_axis x;  dx = g at the argmax (split equally among ties), 0 elsewhere",
    kind="reduction", check=_check_max, samples=_reduction_samples,
)


def _reduce(op: Any, x: Tensor, axis: Axis, keepdims: bool) -> Tensor:
    try:
        axes = normalize_axes(axis, x.ndim)
    except (ValueError, TypeError) as e:
        raise type(e)(f"{op.name}: {e} (shape {x.shape})") from None
    return op(x, axis=axes, keepdims=bool(keepdims))


@tensor_method
def sum(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (None: all)."""
    return _reduce(_sum, x, axis, keepdims)


@tensor_method
def max(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over ``axis`` (None: all). Its gradient is split equally among tied maxima."""
    return _reduce(_max, x, axis, keepdims)


@tensor_method
def sum_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum ``x`` down to ``shape``, undoing a numpy broadcast from ``shape`` to ``x.shape``."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    if lead < 0 or any(s != 1 and s != n for s, n in zip(shape, x.shape[lead:])):
        raise ValueError(f"sum_to: shape {x.shape} is not a broadcast of {shape}")
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
    y = _sum(x, axis=axes, keepdims=True)
    return y.reshape(shape) if y.shape != shape else y
