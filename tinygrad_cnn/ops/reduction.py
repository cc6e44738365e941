"""Reductions over axes: sum and max (with numpy's ``axis`` and ``keepdims``), and ``sum_to``.

As in PyTorch, integer and boolean tensors sum in int64 and max keeps the dtype. Axes are ints (bools are
not) in [-ndim, ndim); the helpers here (:func:`normalize_axes`, :func:`normalize_axis`, :func:`check_int`)
word the errors of every op that takes axes or sizes."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..core.registry import Sample, is_int, register_op
from ..core.tensor import Tensor

Axis = int | tuple[int, ...] | list[int] | None



def check_int(name: str, what: str, v: Any, shape: tuple[int, ...]) -> int:
    """``v`` as a Python int; TypeError naming ``name``, ``what`` and the tensor's ``shape`` otherwise."""
    if not is_int(v):
        raise TypeError(f"{name}: {what} must be an int, got {v!r} ({type(v).__name__}) for a tensor of shape {shape}")
    return int(v)


def normalize_axis(name: str, axis: Any, shape: tuple[int, ...], extra: int = 0) -> int:
    """One ``axis`` of a tensor of ``shape`` as a non-negative int, counting ``extra`` new axes (expand_dims: 1)."""
    a = check_int(name, "axis", axis, shape)
    n = len(shape) + extra
    if not -n <= a < n:
        valid = f"[{-n}, {n - 1}]" if n else "none (0-d)"
        raise ValueError(f"{name}: axis {a} is out of range for a tensor of shape {shape} (valid axes: {valid})")
    return a % n


def normalize_axes(axis: Axis, ndim: int) -> tuple[int, ...] | None:
    """``axis`` as a sorted tuple of non-negative ints (None: all axes); ValueError when out of range, TypeError
    when an entry is not an int (bools are not)."""
    if axis is None:
        return None
    if isinstance(axis, np.ndarray) and axis.ndim == 1 and axis.dtype.kind in "iu":
        axis = axis.tolist()
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        if not is_int(a):
            raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            valid = f"[{-ndim}, {ndim - 1}]" if ndim else "none"
            raise ValueError(f"axis {a} is out of range for a tensor of {ndim} dimension(s) (valid axes: {valid})")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis!r} repeats an axis")
    return tuple(sorted(out))


def resolve_arg(op: str, numpy_name: str, numpy_value: Any, torch_name: str, torch_value: Any,
                default: Any = None) -> Any:
    """The value of an argument that has a numpy name and a PyTorch name (``axis``/``dim``,
    ``keepdims``/``keepdim``): whichever was given (not None), else ``default``; TypeError naming ``op`` when
    both were given."""
    if numpy_value is not None and torch_value is not None:
        raise TypeError(f"{op}: got both {numpy_name}={numpy_value!r} and {torch_name}={torch_value!r}; "
                        f"pass one of them ({torch_name} is PyTorch's name for {numpy_name})")
    if numpy_value is not None:
        return numpy_value
    return default if torch_value is None else torch_value


def resolve_axis(op: str, axis: Any, dim: Any, default: Any = None) -> Any:
    """``axis`` or its PyTorch name ``dim`` (see :func:`resolve_arg`)."""
    return resolve_arg(op, "axis", axis, "dim", dim, default)


def resolve_keepdims(op: str, keepdims: Any, keepdim: Any) -> bool:
    """``keepdims`` or its PyTorch name ``keepdim`` (default False; see :func:`resolve_arg`)."""
    return bool(resolve_arg(op, "keepdims", keepdims, "keepdim", keepdim, False))


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
    return g.reshape(kshape).broadcast_to(x.shape) * Tensor.wrap(share)


def _check_max(x: np.ndarray, *, axis: tuple[int, ...] | None, keepdims: bool) -> None:
    if x.size == 0 or (axis is not None and any(x.shape[a] == 0 for a in axis)):
        raise ValueError(f"cannot take the max over an empty axis of shape {x.shape}")


def _reduction_samples(rng: np.random.Generator) -> list[Sample]:
    cases = [((3, 4), None, False), ((3, 4), (0,), False), ((3, 4), (1,), True), ((2, 3, 4), (0, 2), False),
             ((2, 3, 4), (1,), True), ((5,), (0,), False), ((), None, False), ((2, 3, 4), None, True)]
    return [Sample((rng.standard_normal(s),), {"axis": a, "keepdims": k}) for s, a, k in cases]


def _sum_forward(x: np.ndarray, *, axis: tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
    """sum over ``axis``; integer and boolean tensors sum in int64, as PyTorch."""
    return np.sum(x, axis=axis, keepdims=keepdims, dtype=None if x.dtype.kind == "f" else np.int64)


_sum = register_op(
    "sum", _sum_forward,
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


def sum(x: Tensor, axis: Axis = None, keepdims: bool | None = None, *, dim: Axis = None,  # noqa: A001
        keepdim: bool | None = None) -> Tensor:
    """Sum over ``axis`` (None: all); ``dim``/``keepdim`` are PyTorch's names for ``axis``/``keepdims``."""
    return _reduce(_sum, x, resolve_axis("sum", axis, dim), resolve_keepdims("sum", keepdims, keepdim))


class ValuesIndices(NamedTuple):
    """What ``x.max(dim=d)`` and ``x.min(dim=d)`` return, as ``torch.max(x, d)`` does."""

    values: Tensor
    indices: Tensor


def max(x: Tensor, axis: Axis = None, keepdims: bool | None = None, *, dim: Axis = None,  # noqa: A001
        keepdim: bool | None = None) -> Tensor | ValuesIndices:
    """Maximum over ``axis`` (None: all). Its gradient is split equally among tied maxima.

    ``dim``/``keepdim`` are PyTorch's names for ``axis``/``keepdims``; with an int ``dim``, as in PyTorch,
    the result is ``(values, indices)`` (:class:`ValuesIndices`; the indices are int64, the first of ties)."""
    keep = resolve_keepdims("max", keepdims, keepdim)
    values = _reduce(_max, x, resolve_axis("max", axis, dim), keep)
    if dim is None or not is_int(dim):
        return values
    return ValuesIndices(values, with_indices(np.argmax, x, int(dim), bool(keep)))


def with_indices(fn: Any, x: Tensor, dim: int, keepdim: bool) -> Tensor:
    """``fn`` (np.argmax or np.argmin) of ``x`` along ``dim`` as an int64 tensor (no gradient)."""
    ax = normalize_axis("max", dim, x.shape)
    return Tensor.wrap(np.asarray(fn(x.data, axis=ax, keepdims=keepdim), dtype=np.int64))


def sum_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum ``x`` down to ``shape``, undoing a numpy broadcast from ``shape`` to ``x.shape``."""
    if type(shape) is not tuple:
        shape = tuple(shape)
    if x.shape == shape:  # the common case in VJPs: nothing was broadcast
        return x
    shape = tuple(check_int("sum_to", "shape entry", s, x.shape) for s in shape)
    lead = x.ndim - len(shape)
    if lead < 0 or any(s != 1 and s != n for s, n in zip(shape, x.shape[lead:])):
        raise ValueError(f"sum_to: shape {x.shape} is not a broadcast of {shape}")
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
    y = _sum(x, axis=axes, keepdims=True)
    return y.reshape(shape) if y.shape != shape else y


__all__ = [
    "Axis", "check_int", "normalize_axis", "normalize_axes", "resolve_arg", "resolve_axis", "resolve_keepdims",
    "kept_shape", "sum", "max", "sum_to", "ValuesIndices", "with_indices",
]
