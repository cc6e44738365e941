"""Movement primitives: reshape, permute, broadcast_to, indexing (getitem and its adjoint scatter),
constant padding and flipping. None of them changes a value, so each VJP moves the gradient back."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ..core.registry import Sample, register_op
from ..core.tensor import Tensor
from .elementwise import broadcast_shape
from .reduction import Axis, check_int, is_int, normalize_axes, normalize_axis, resolve_arg, resolve_axis


# ---------------------------------------------------------------- reshape
def _check_reshape(x: np.ndarray, *, shape: tuple[int, ...]) -> None:
    if int(np.prod(shape)) != x.size:
        raise ValueError(f"cannot reshape {x.shape} ({x.size} elements) into {shape}")


_reshape = register_op(
    "reshape", lambda x, *, shape: x.reshape(shape),
    vjps=(lambda g, out, x, *, shape: g.reshape(x.shape),),
    formula="y = x viewed as shape;  dx = g viewed as x's shape",
    kind="movement", check=_check_reshape,
    samples=lambda rng: [Sample((rng.standard_normal(s),), {"shape": t}) for s, t in
                         [((3, 4), (12,)), ((3, 4), (2, 6)), ((2, 3, 4), (4, 1, 6)), ((), (1, 1)), ((6,), (6,))]],
)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """``x.reshape(2, -1)`` or ``x.reshape((2, -1))``: the same elements in a new shape (one -1 inferred)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not is_int(s):
            raise TypeError(f"reshape: shape entries must be ints, got {s!r} ({type(s).__name__}) in {shape} "
                            f"for a tensor of shape {x.shape}")
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1 or any(s < -1 for s in shape):
        raise ValueError(f"reshape: invalid target shape {shape} for a tensor of shape {x.shape}: sizes must be "
                         ">= 0, with at most one -1 (inferred)")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1]))
        if known == 0 or x.size % known:
            raise ValueError(f"reshape: cannot reshape {x.shape} ({x.size} elements) into {shape}")
        shape = tuple(x.size // known if s == -1 else s for s in shape)
    if shape == x.shape:
        return x
    return _reshape(x, shape=shape)


def view(x: Tensor, *shape: Any) -> Tensor:
    """PyTorch's name for :func:`reshape`: ``x.view(2, -1)`` or ``x.view((2, -1))`` (one -1 inferred).

    The result shares memory with ``x`` where numpy can reshape without a copy; unlike PyTorch's view it
    never refuses a non-contiguous tensor (numpy copies instead)."""
    return reshape(x, *shape)


# ---------------------------------------------------------------- permute
def _check_permute(x: np.ndarray, *, axes: tuple[int, ...]) -> None:
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")


_permute = register_op(
    "permute", lambda x, *, axes: np.transpose(x, axes),
    vjps=(lambda g, out, x, *, axes: g.permute(tuple(np.argsort(axes))),),
    formula="y = x with axes reordered;  dx = g with the inverse order",
    kind="movement", check=_check_permute,
    samples=lambda rng: [Sample((rng.standard_normal(s),), {"axes": a}) for s, a in
                         [((3, 4), (1, 0)), ((2, 3, 4), (2, 0, 1)), ((2, 3, 4, 5), (0, 3, 1, 2))]],
)


def _permutation(name: str, x: Tensor, axes: tuple[Any, ...]) -> tuple[int, ...]:
    """``axes`` as a permutation of range(x.ndim) (negative axes allowed); errors name ``name``."""
    for a in axes:
        if not is_int(a):
            raise TypeError(f"{name}: axes must be ints, got {a!r} ({type(a).__name__}) in {axes} for a tensor of "
                            f"shape {x.shape}")
    n = x.ndim
    if len(axes) != n:
        raise ValueError(f"{name}: axes {axes} must name each of the {n} axes of shape {x.shape} once "
                         f"(got {len(axes)} axes)")
    for a in axes:
        if not -n <= a < n:
            raise ValueError(f"{name}: axes {axes}: axis {a} is out of range for a tensor of shape {x.shape} "
                             f"(valid axes: [{-n}, {n - 1}])")
    out = tuple(int(a) % n for a in axes)
    if len(set(out)) != n:
        raise ValueError(f"{name}: axes {axes} repeat an axis (shape {x.shape})")
    return out


def permute(x: Tensor, *axes: Any) -> Tensor:
    """Reorder axes: ``x.permute(0, 2, 3, 1)`` or ``x.permute((0, 2, 3, 1))``; negative axes allowed."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    axes = _permutation("permute", x, axes)
    if axes == tuple(range(x.ndim)):
        return x
    return _permute(x, axes=axes)


def transpose(x: Tensor, axes: tuple[int, ...] | None = None) -> Tensor:
    """numpy's transpose: reverse the axes, or permute them by ``axes``."""
    if axes is None:
        return permute(x, tuple(reversed(range(x.ndim))))
    if not isinstance(axes, (tuple, list)):
        raise TypeError(f"transpose: axes must be a tuple of ints or None, got {axes!r} (shape {x.shape})")
    return permute(x, _permutation("transpose", x, tuple(axes)))


def swapaxes(x: Tensor, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes (negative axes allowed)."""
    a, b = normalize_axis("swapaxes", axis1, x.shape), normalize_axis("swapaxes", axis2, x.shape)
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return permute(x, order)




def t(x: Tensor) -> Tensor:
    """PyTorch's ``t()``: the transpose of a 2-D tensor; 0-D and 1-D tensors come back as they are, and a
    tensor of more dimensions is a ValueError (use ``permute`` or ``swapaxes``)."""
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor of at most 2 dimensions, got shape {x.shape}; use permute or swapaxes")
    return x if x.ndim < 2 else permute(x, (1, 0))




# ---------------------------------------------------------------- broadcast_to
def _check_broadcast_to(x: np.ndarray, *, shape: tuple[int, ...]) -> None:
    try:
        ok = len(shape) >= x.ndim and broadcast_shape(x.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"cannot broadcast shape {x.shape} to {shape}")


_broadcast_to = register_op(
    "broadcast_to", lambda x, *, shape: np.broadcast_to(x, shape),
    vjps=(lambda g, out, x, *, shape: g.sum_to(x.shape),),
    formula="y = x repeated along broadcast axes;  dx = g summed over them",
    kind="movement", check=_check_broadcast_to,
    samples=lambda rng: [Sample((rng.standard_normal(s),), {"shape": t}) for s, t in
                         [((3, 1), (3, 4)), ((4,), (2, 3, 4)), ((), (2, 2)), ((2, 1, 3), (5, 2, 4, 3))]],
)


def broadcast_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Repeat ``x`` along new leading axes and axes of size 1, as numpy broadcasting does."""
    shape = _sizes("broadcast_to", shape, x.shape)
    return x if shape == x.shape else _broadcast_to(x, shape=shape)


def _sizes(name: str, shape: Any, of: tuple[int, ...]) -> tuple[int, ...]:
    """A target shape (an int or a sequence of ints >= 0) as a tuple of Python ints; errors name ``name``."""
    if is_int(shape):
        shape = (shape,)
    elif not isinstance(shape, (tuple, list)):
        raise TypeError(f"{name}: the shape must be an int or a tuple of ints, got {shape!r} (tensor shape {of})")
    for s in shape:
        if not is_int(s):
            raise TypeError(f"{name}: shape entries must be ints, got {s!r} ({type(s).__name__}) in {tuple(shape)} "
                            f"(tensor shape {of})")
    out = tuple(int(s) for s in shape)
    if any(s < 0 for s in out):
        raise ValueError(f"{name}: sizes must be >= 0, got {out} (tensor shape {of})")
    return out


# ---------------------------------------------------------------- indexing
Index = tuple[Any, ...]


def normalize_index(index: Any) -> Index:
    """A tuple index with Tensors and lists turned into arrays (integer or boolean)."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for i in index:
        if isinstance(i, Tensor):
            i = i.data
        elif isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.dtype.kind not in "iub":
            raise TypeError(f"getitem: index arrays must hold integers or booleans, got {i.dtype}")
        if isinstance(i, (float, np.floating)):
            raise TypeError(f"getitem: cannot index with a float ({i!r})")
        out.append(i)
    return tuple(out)


def is_basic(index: Index) -> bool:
    """True when the index has no arrays, so it picks every element at most once (a view)."""
    return not builtins.any(isinstance(i, np.ndarray) for i in index)


def format_index(index: Index) -> str:
    """``[:, 1:3]``-style text for graph labels."""
    def one(i: Any) -> str:
        if isinstance(i, slice):
            text = ("" if i.start is None else str(i.start)) + ":" + ("" if i.stop is None else str(i.stop))
            return text + ("" if i.step is None else f":{i.step}")
        if i is None:
            return "None"
        if i is Ellipsis:
            return "..."
        if isinstance(i, np.ndarray):
            return f"<{i.dtype.name} {i.shape}>" if i.size > 4 else str(i.tolist())
        return str(i)

    return "[" + ", ".join(one(i) for i in index) + "]"


def _scatter_forward(g: np.ndarray, *, index: Index, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, dtype=g.dtype)
    if is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)  # repeated indices accumulate
    return out


def _index_samples(rng: np.random.Generator) -> list[tuple[Index, tuple[int, ...]]]:
    return [((1,), (3, 4)), ((slice(1, 3),), (4, 3)), ((slice(None), slice(0, 4, 2)), (3, 5)),
            ((np.array([0, 2, 2]),), (3, 4)), ((np.arange(3), np.array([1, 0, 3])), (3, 4)),
            ((Ellipsis, None, 1), (2, 3, 4)), ((rng.random((3, 4)) < 0.5,), (3, 4))]


_getitem = register_op(
    "getitem", lambda x, *, index: x[index],
    vjps=(lambda g, out, x, *, index: _scatter(g, index=index, shape=x.shape),),
    formula="y = x[index];  dx = zeros with g added at index (repeats accumulate)",
    kind="movement",
    samples=lambda rng: [Sample((rng.standard_normal(s),), {"index": i}) for i, s in _index_samples(rng)],
)


def _check_scatter(g: np.ndarray, *, index: Index, shape: tuple[int, ...]) -> None:
    expected = np.empty(shape, dtype=np.bool_)[index].shape
    if g.shape != expected:
        raise ValueError(f"values of shape {g.shape} do not fit index {format_index(index)} of shape {shape}")


def _scatter_samples(rng: np.random.Generator) -> list[Sample]:
    out = []
    for i, s in _index_samples(rng):
        picked = np.empty(s)[i].shape
        out.append(Sample((rng.standard_normal(picked),), {"index": i, "shape": s}))
    return out


_scatter = register_op(
    "scatter", _scatter_forward,
    vjps=(lambda g, out, v, *, index, shape: _getitem(g, index=index),),
    formula="y = zeros(shape) with v added at index;  dv = g[index]",
    kind="movement", check=_check_scatter, samples=_scatter_samples,
)


def getitem(x: Tensor, index: Any) -> Tensor:
    """numpy indexing: slices, ints, None, ..., integer and boolean arrays (``logits[np.arange(n), y]``)."""
    return _getitem(x, index=normalize_index(index))


def scatter(values: Tensor, index: Any, shape: tuple[int, ...]) -> Tensor:
    """A zero tensor of ``shape`` with ``values`` added at ``index`` (the adjoint of getitem)."""
    return _scatter(values, index=normalize_index(index), shape=_sizes("scatter", shape, values.shape))




# ---------------------------------------------------------------- pad and flip
def _check_pad(x: np.ndarray, *, pad_width: tuple[tuple[int, int], ...], value: float) -> None:
    if len(pad_width) != x.ndim or builtins.any(len(p) != 2 or p[0] < 0 or p[1] < 0 for p in pad_width):
        raise ValueError(f"pad_width {pad_width} must give (before, after) >= 0 for each of the {x.ndim} axes")


def _pad_vjp(g: Tensor, out: Tensor, x: Tensor, *, pad_width: Any, value: float) -> Tensor:
    return _getitem(g, index=tuple(slice(b, b + n) for (b, _), n in zip(pad_width, x.shape)))


_pad = register_op(
    "pad", lambda x, *, pad_width, value: np.pad(x, pad_width, constant_values=value),
    vjps=(_pad_vjp,), formula="y = x surrounded by a constant;  dx = g cropped to x",
    kind="movement", check=_check_pad,
    samples=lambda rng: [Sample((rng.standard_normal(s),), {"pad_width": p, "value": v}) for s, p, v in
                         [((3, 4), ((1, 0), (2, 2)), 0.0), ((2, 3, 4), ((0, 0), (1, 1), (0, 3)), -1.5)]],
)


def _pad_pairs(x: Tensor, pad_width: Any) -> tuple[tuple[int, int], ...]:
    """numpy's ``pad_width`` (an int, a (before, after) pair, or one pair per axis) as one pair per axis."""
    def entry(v: Any) -> int:
        if not is_int(v):
            raise TypeError(f"pad: pad_width entries must be ints, got {v!r} ({type(v).__name__}) in {pad_width!r} "
                            f"for a tensor of shape {x.shape}")
        if v < 0:
            raise ValueError(f"pad: pad_width entries must be >= 0, got {int(v)} in {pad_width!r} for a tensor of "
                             f"shape {x.shape}")
        return int(v)

    pw = pad_width.tolist() if isinstance(pad_width, np.ndarray) else pad_width
    if not isinstance(pw, (tuple, list)):
        p = entry(pw)
        return ((p, p),) * x.ndim
    if len(pw) in (1, 2) and not builtins.any(isinstance(p, (tuple, list)) for p in pw):
        vals = [entry(p) for p in pw]
        return ((vals[0], vals[-1]),) * x.ndim
    if pw and builtins.all(isinstance(p, (tuple, list)) for p in pw):
        if builtins.any(len(p) != 2 for p in pw):
            raise ValueError(f"pad: each per-axis entry of pad_width {pad_width!r} must be a (before, after) pair "
                             f"(tensor shape {x.shape})")
        pairs = tuple((entry(b), entry(a)) for b, a in pw)
        if len(pairs) == 1:
            return pairs * x.ndim
        if len(pairs) != x.ndim:
            raise ValueError(f"pad: pad_width gives {len(pairs)} (before, after) pairs but the tensor has {x.ndim} "
                             f"axes (shape {x.shape})")
        return pairs
    raise ValueError(f"pad: pad_width {pad_width!r} must be an int, a (before, after) pair or one pair per axis "
                     f"(the tensor has {x.ndim} axes, shape {x.shape})")


def pad(x: Tensor, pad_width: Any, value: float = 0.0) -> Tensor:
    """Pad with a constant; ``pad_width`` as numpy's: ((before, after), ...) per axis, one (before, after) pair
    or one int for all axes (ints >= 0)."""
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"pad: value must be a real number, got {value!r} (tensor shape {x.shape})")
    return _pad(x, pad_width=_pad_pairs(x, pad_width), value=float(value))


_flip = register_op(
    "flip", lambda x, *, axis: np.flip(x, axis),
    vjps=(lambda g, out, x, *, axis: _flip(g, axis=axis),),
    formula="y = x reversed along axis;  dx = g reversed along axis",
    kind="movement",
    samples=lambda rng: [Sample((rng.standard_normal(s),), {"axis": a}) for s, a in
                         [((5,), (0,)), ((3, 4), (1,)), ((2, 3, 4, 5), (2, 3)), ((3, 4), None)]],
)


def flip(x: Tensor, axis: Axis = None, *, dims: Axis = None) -> Tensor:
    """Reverse the order of elements along ``axis`` (None: all axes), as ``np.flip``; ``dims`` is PyTorch's
    name for it."""
    axis = resolve_arg("flip", "axis", axis, "dims", dims)
    try:
        axes = normalize_axes(axis, x.ndim)
    except (ValueError, TypeError) as e:
        raise type(e)(f"flip: {e} (shape {x.shape})") from None
    return _flip(x, axis=axes)


def expand_dims(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Insert an axis of size 1 at ``axis`` (``dim``: PyTorch's name), in [-ndim - 1, ndim]."""
    return _insert_axis("expand_dims", x, resolve_axis("expand_dims", axis, dim))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """PyTorch's name for :func:`expand_dims`: a new axis of size 1 at ``dim``, in [-ndim - 1, ndim]."""
    return _insert_axis("unsqueeze", x, dim)


def _insert_axis(name: str, x: Tensor, axis: Any) -> Tensor:
    if axis is None:
        raise TypeError(f"{name}: give the position of the new axis (shape {x.shape})")
    axis = normalize_axis(name, axis, x.shape, extra=1)
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def squeeze(x: Tensor, axis: Axis = None, *, dim: Axis = None) -> Tensor:
    """Drop axes of size 1: all of them, or those in ``axis``, which must have size 1 (numpy's rule).

    With PyTorch's ``dim`` instead, PyTorch's rule: the axes in ``dim`` whose size is not 1 are left as they
    are."""
    torch_rule = dim is not None
    axis = resolve_axis("squeeze", axis, dim)
    try:
        axes = normalize_axes(axis, x.ndim)
    except (ValueError, TypeError) as e:
        raise type(e)(f"squeeze: {e} (shape {x.shape})") from None
    if axes is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    elif torch_rule:
        axes = tuple(a for a in axes if x.shape[a] == 1)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, not 1")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


__all__ = [
    "reshape", "view", "permute", "transpose", "swapaxes", "t", "broadcast_to", "Index", "normalize_index",
    "is_basic", "format_index", "getitem", "scatter", "pad", "flip", "expand_dims", "unsqueeze", "squeeze",
]
