"""``tinygrad_cnn.functional`` (import it as ``F``): every op as a function, and the composites.

Composites are built from registered primitives, so they need no backward rule of their own: their
gradients (of any order) come from the primitives' VJPs. Each is also a Tensor method.
"""

from __future__ import annotations

import builtins
from typing import Any, Literal

import numpy as np

from .ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d  # noqa: F401  (re-exported)
from .ops.pool import (  # noqa: F401
    adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool1d, avg_pool2d, global_avg_pool2d, max_pool1d, max_pool2d,
)
# pad: PyTorch's F.pad (flat (left, right, top, bottom, ...) tuple, four modes), which also takes the numpy-style
# pad_width of ops.movement.pad (still the Tensor method x.pad) when it is not a flat tuple of ints
from .ops.resize import interpolate, pad  # noqa: F401
from .ops.elementwise import (  # noqa: F401  (re-exported)
    add, astype, clamp, clip, clone, div, eq, erf, exp, ge, gt, le, log, lt, mul, ne, neg, operands, pow, relu, sigmoid,
    sub, tanh, where,
)
from .ops.matmul import matmul  # noqa: F401
from .ops.normalization import batch_norm, group_norm, layer_norm, standardize  # noqa: F401
from .ops.movement import (  # noqa: F401
    broadcast_to, expand_dims, flip, getitem, permute, reshape, scatter, squeeze, swapaxes, t, transpose,
    unsqueeze, view,
)
from .ops.reduction import (  # noqa: F401
    Axis, ValuesIndices, kept_shape, max, normalize_axes, normalize_axis, resolve_arg, resolve_axis, resolve_keepdims, sum, sum_to,
    with_indices,
)
from .core.registry import as_tensor, is_int
from .core.tensor import Tensor

Reduction = Literal["mean", "sum", "none"]


_AxisError = np.exceptions.AxisError if hasattr(np, "exceptions") else np.AxisError  # a ValueError and IndexError


def _floating(x: Any, op: str) -> Tensor:
    """``x`` as a Tensor, integer and boolean data promoted to float32 (as PyTorch's float-valued ops do)."""
    x = as_tensor(x)
    return x.astype(np.float32) if x.dtype.kind in "biu" else x


def _axes(x: Tensor, axis: Axis, op: str) -> tuple[int, ...] | None:
    """``axis`` as sorted non-negative ints (None: all); the errors name ``op``. A 0-d tensor takes axis 0 or -1
    (PyTorch's convention for scalars), meaning the whole tensor."""
    if axis is None:
        return None
    items = (axis,) if isinstance(axis, (int, np.integer)) else axis
    if not isinstance(items, (tuple, list)):
        raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
    ndim = x.ndim
    out = []
    for a in items:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
        if not -builtins.max(ndim, 1) <= a < builtins.max(ndim, 1):
            raise _AxisError(f"{op}: axis {a} is out of range for a tensor of {ndim} dimension(s) (shape {x.shape})")
        out.append(int(a) % builtins.max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: axis {axis!r} repeats an axis")
    return None if ndim == 0 else tuple(sorted(out))


def _axis(x: Tensor, axis: Any, op: str) -> int | None:
    """A single ``axis`` as a non-negative int (None for a 0-d tensor); the errors name ``op``."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    axes = _axes(x, axis, op)
    return None if axes is None else axes[0]


def _count(x: Tensor, axes: tuple[int, ...] | None) -> int:
    return x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))


# Every function here that takes numpy's ``axis`` / ``keepdims`` also takes PyTorch's ``dim`` / ``keepdim``
# (keyword-only); giving both names of one argument is a TypeError naming the function (resolve_axis).
def mean(x: Tensor, axis: Axis = None, keepdims: bool | None = None, *, dim: Axis = None,
         keepdim: bool | None = None) -> Tensor:
    """Arithmetic mean over ``axis`` (None: all): sum / count. Integer and boolean tensors give float32."""
    axis, keepdims = resolve_axis("mean", axis, dim), resolve_keepdims("mean", keepdims, keepdim)
    x = _floating(x, "mean")
    axes = _axes(x, axis, "mean")
    return x.sum(axes, keepdims) / float(_count(x, axes))


def var(x: Tensor, axis: Axis = None, keepdims: bool | None = None, ddof: int | None = None, *, dim: Axis = None,
        keepdim: bool | None = None, correction: int | None = None) -> Tensor:
    """Variance over ``axis``: mean of squared deviations, divided by (count - ddof); float32 for integer data.

    ``dim``, ``keepdim`` and ``correction`` are PyTorch's names for ``axis``, ``keepdims`` and ``ddof``; the
    default is numpy's ddof=0 (PyTorch's is correction=1)."""
    axis, keepdims = resolve_axis("var", axis, dim), resolve_keepdims("var", keepdims, keepdim)
    ddof = resolve_arg("var", "ddof", ddof, "correction", correction, 0)
    if isinstance(ddof, (bool, np.bool_)) or not isinstance(ddof, (int, np.integer)) or ddof < 0:
        raise ValueError(f"var: ddof must be an integer >= 0, got {ddof!r}")
    x = _floating(x, "var")
    axes = _axes(x, axis, "var")
    centered = x - x.mean(axes, keepdims=True)
    return (centered * centered).sum(axes, keepdims) / float(_count(x, axes) - ddof)


def min(x: Tensor, axis: Axis = None, keepdims: bool | None = None, *, dim: Axis = None,  # noqa: A001
        keepdim: bool | None = None) -> Tensor | ValuesIndices:
    """Minimum over ``axis``: -max(-x) for float tensors (so the gradient is max's); integer and boolean
    tensors (which carry no gradient) take numpy's minimum directly (negation would wrap unsigned values).
    As :func:`max`, an int ``dim`` (PyTorch's name) gives ``(values, indices)``."""
    if dim is not None and is_int(dim):
        resolve_axis("min", axis, dim)  # raises when both are given
        keep = resolve_keepdims("min", keepdims, keepdim)
        return ValuesIndices(min(x, dim, keep), with_indices(np.argmin, as_tensor(x), int(dim), bool(keep)))
    axis, keepdims = resolve_axis("min", axis, dim), resolve_keepdims("min", keepdims, keepdim)
    x = as_tensor(x)
    axes = _axes(x, axis, "min")
    if x.dtype.kind in "biu":
        if x.size == 0 or (axes is not None and any(x.shape[a] == 0 for a in axes)):
            raise ValueError(f"min: cannot take the min over an empty axis of shape {x.shape}")
        return Tensor.wrap(np.asarray(np.min(x.data, axis=axes, keepdims=bool(keepdims))))
    return -((-x).max(axes, keepdims))


def _arg_extreme(fn: Any, op: str, x: Tensor, axis: int | None, keepdims: bool) -> Tensor:
    x = as_tensor(x)
    ax = None if axis is None else _axis(x, axis, op)
    if x.size == 0 or (ax is not None and x.shape[ax] == 0):
        raise ValueError(f"{op}: cannot take the {op} over an empty axis of shape {x.shape}")
    out = np.asarray(fn(x.data, axis=ax, keepdims=keepdims), dtype=np.int64)
    return Tensor.wrap(out)


def argmax(x: Tensor, axis: int | None = None, keepdims: bool | None = None, *, dim: int | None = None,
           keepdim: bool | None = None) -> Tensor:
    """Index of the maximum along ``axis`` (None: of the flattened tensor), as an int64 tensor without a
    gradient; the first one among ties. ``dim``/``keepdim`` are PyTorch's names for ``axis``/``keepdims``."""
    return _arg_extreme(np.argmax, "argmax", x, resolve_axis("argmax", axis, dim),
                        resolve_keepdims("argmax", keepdims, keepdim))


def argmin(x: Tensor, axis: int | None = None, keepdims: bool | None = None, *, dim: int | None = None,
           keepdim: bool | None = None) -> Tensor:
    """Index of the minimum along ``axis`` (see :func:`argmax`)."""
    return _arg_extreme(np.argmin, "argmin", x, resolve_axis("argmin", axis, dim),
                        resolve_keepdims("argmin", keepdims, keepdim))


def square(x: Tensor) -> Tensor:
    """x * x."""
    return x * x


def sqrt(x: Tensor) -> Tensor:
    """x ** 0.5 (float32 for integer and boolean tensors)."""
    return _floating(x, "sqrt") ** 0.5


def abs(x: Tensor) -> Tensor:  # noqa: A001
    """|x| = x * sign(x); its derivative at 0 is taken as 0. Integer tensors keep their dtype."""
    x = as_tensor(x)
    if x.dtype.kind in "biu":
        return Tensor.wrap(np.abs(x.data))
    return x * Tensor.wrap(np.sign(x.data))


# ---------------------------------------------------------------- activations (composites of where, exp, log, tanh)
def _number(name: str, what: str, v: Any) -> float:
    """A real number argument (not a bool, finite), else TypeError / ValueError naming op ``name``."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: {what} must be a number, got {v!r}")
    if not np.isfinite(v):
        raise ValueError(f"{name}: {what} must be finite, got {v!r}")
    return float(v)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope * x otherwise; the gradient at 0 is negative_slope (as PyTorch)."""
    slope = _number("leaky_relu", "negative_slope", negative_slope)
    x = _floating(x, "leaky_relu")
    return where(x > 0, x, x * slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha (e^x - 1) otherwise; the gradient at 0 is alpha (as PyTorch). The exponential
    only sees min(x, 0), so a large x cannot put inf * 0 = nan into the gradient."""
    alpha = _number("elu", "alpha", alpha)
    x = _floating(x, "elu")
    return where(x > 0, x, (where(x > 0, 0.0, x).exp() - 1) * alpha)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (PyTorch's linear tail); the
    gradient is sigmoid(beta x) below the threshold, 1 above."""
    beta, threshold = _number("softplus", "beta", beta), _number("softplus", "threshold", threshold)
    if beta == 0:
        raise ValueError("softplus: beta must be non-zero")
    x = _floating(x, "softplus")
    bx = x * beta
    tail = bx > threshold
    return where(tail, x, (where(tail, 0.0, bx).exp() + 1).log() * (1 / beta))


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    x = _floating(x, "silu")
    return x * sigmoid(x)


def mish(x: Tensor) -> Tensor:
    """x * tanh(softplus(x))."""
    x = _floating(x, "mish")
    return x * tanh(softplus(x))


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val]; the gradient is 1 strictly inside and 0 at and beyond the bounds
    (PyTorch's hardtanh, unlike its clamp, passes no gradient at a bound)."""
    lo, hi = _number("hardtanh", "min_val", min_val), _number("hardtanh", "max_val", max_val)
    if lo > hi:
        raise ValueError(f"hardtanh: min_val {lo} must not exceed max_val {hi}")
    x = _floating(x, "hardtanh")
    return where(x <= lo, lo, where(x >= hi, hi, x))


def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6): hardtanh(x, 0, 6), with its gradient (0 at 0 and at 6)."""
    return hardtanh(x, 0.0, 6.0)


def hardswish(x: Tensor) -> Tensor:
    """x * relu6(x + 3) / 6: 0 for x <= -3, x (x + 3) / 6 for -3 < x < 3, x from 3 on; the gradient is
    0 at -3 and 1 at 3, the outer pieces' slopes (as PyTorch)."""
    x = _floating(x, "hardswish")
    return where(x <= -3, 0.0, where(x < 3, x * (x + 3) * (1 / 6), x))


_GELU_APPROXIMATIONS = ("none", "tanh")


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """The Gaussian error linear unit x * Phi(x), Phi the standard normal CDF (PyTorch's ``gelu``).

    ``approximate="none"``: 0.5 x (1 + erf(x / sqrt 2)), derivative Phi(x) + x * e^(-x^2/2) / sqrt(2 pi).
    ``approximate="tanh"``: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). Both are composites of the
    registered ``erf`` / ``tanh``, so gradients of any order follow."""
    if not isinstance(approximate, str) or approximate not in _GELU_APPROXIMATIONS:
        raise ValueError(f"gelu: approximate must be one of {', '.join(map(repr, _GELU_APPROXIMATIONS))}, "
                         f"got {approximate!r}")
    x = _floating(x, "gelu")
    if approximate == "none":
        return x * (erf(x * float(1 / np.sqrt(2.0))) + 1) * 0.5
    inner = (x + x * x * x * 0.044715) * float(np.sqrt(2 / np.pi))
    return x * (tanh(inner) + 1) * 0.5


def _same_shape_or_broadcast(a: Tensor, b: Tensor, name: str) -> None:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{name}: shapes {a.shape} and {b.shape} do not broadcast") from None


def maximum(a: Tensor | float, b: Tensor | float) -> Tensor:
    """Elementwise max(a, b) (broadcast); NaN if either is NaN. Where a == b the gradient is split half and
    half, and where one is NaN both get all of it, as in PyTorch."""
    a, b = operands(a, b, name="maximum")
    _same_shape_or_broadcast(a, b, "maximum")
    if a.dtype.kind in "biu":  # integers and booleans: exact, no gradient
        return Tensor.wrap(np.maximum(a.data, b.data))
    return where(a > b, a, where(a < b, b, where(a == b, (a + b) * 0.5, a + b)))


def minimum(a: Tensor | float, b: Tensor | float) -> Tensor:
    """Elementwise min(a, b) (broadcast); NaN if either is NaN; a tie splits the gradient half and half."""
    a, b = operands(a, b, name="minimum")
    _same_shape_or_broadcast(a, b, "minimum")
    if a.dtype.kind in "biu":  # integers and booleans: exact, no gradient
        return Tensor.wrap(np.minimum(a.data, b.data))
    return where(a < b, a, where(a > b, b, where(a == b, (a + b) * 0.5, a + b)))


# ---------------------------------------------------------------- joining and splitting
def _dim(dim: Any, axis: Any, name: str) -> Any:
    if axis is not None and dim is not None:
        raise TypeError(f"{name}: give dim or axis, not both")
    return axis if axis is not None else dim


def _joinable(tensors: Any, name: str) -> list[Tensor]:
    if isinstance(tensors, (Tensor, np.ndarray)) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{name}: expected a sequence of tensors, got {type(tensors).__name__}")
    ts = [as_tensor(t) for t in tensors]
    if not ts:
        raise ValueError(f"{name}: expected a non-empty sequence of tensors")
    return list(operands(*ts, name=name))


def cat(tensors: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing axis (``torch.cat``; default 0); the other axes must agree, dtypes are
    promoted. Each tensor is padded with zeros to its place along ``dim`` and the pieces are added, so the
    gradient of each input is its slice of the output's gradient (pad's VJP)."""
    ts = _joinable(tensors, "cat")
    d = normalize_axis("cat", 0 if _dim(dim, axis, "cat") is None else _dim(dim, axis, "cat"), ts[0].shape)
    for t in ts[1:]:
        if t.ndim != ts[0].ndim or t.shape[:d] + t.shape[d + 1:] != ts[0].shape[:d] + ts[0].shape[d + 1:]:
            raise ValueError(f"cat: shapes {[u.shape for u in ts]} must agree except along axis {d}")
    total, out, start = builtins.sum(t.shape[d] for t in ts), None, 0
    for t in ts:
        width = [(0, 0)] * t.ndim
        width[d] = (start, total - start - t.shape[d])
        start += t.shape[d]
        piece = pad(t, width)
        out = piece if out is None else out + piece
    return out if len(ts) > 1 else clone(out)


def stack(tensors: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Join tensors of one shape along a new axis (``torch.stack``; default 0, in [-ndim - 1, ndim])."""
    ts = _joinable(tensors, "stack")
    if any(t.shape != ts[0].shape for t in ts):
        raise ValueError(f"stack: every tensor must have the same shape, got {[t.shape for t in ts]}")
    d = normalize_axis("stack", 0 if _dim(dim, axis, "stack") is None else _dim(dim, axis, "stack"), ts[0].shape, 1)
    return cat([unsqueeze(t, d) for t in ts], d)


def split(x: Tensor, split_size_or_sections: int | list[int] | tuple[int, ...], dim: int = 0) -> tuple[Tensor, ...]:
    """Views along ``dim`` (``torch.split``): pieces of ``split_size_or_sections`` entries (the last one may be
    shorter), or of the listed sizes, which must add up to the axis' length."""
    x = as_tensor(x)
    d = normalize_axis("split", dim, x.shape)
    n, sizes = x.shape[d], split_size_or_sections
    if is_int(sizes):
        if sizes < 1:
            raise ValueError(f"split: the split size must be a positive int, got {sizes}")
        sizes = [builtins.min(sizes, n - i) for i in range(0, n, sizes)] or [0]
    elif isinstance(sizes, (list, tuple)) and all(is_int(v) and v >= 0 for v in sizes):
        if builtins.sum(sizes) != n:
            raise ValueError(f"split: sections {list(sizes)} must add up to {n}, the length of axis {d} of {x.shape}")
    else:
        raise TypeError(f"split: give an int or a list of non-negative ints, got {split_size_or_sections!r}")
    pieces, start = [], 0
    for size in sizes:
        pieces.append(x[(slice(None),) * d + (slice(start, start + size),)])
        start += size
    return tuple(pieces)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``chunks`` views along ``dim`` of ceil(n / chunks) entries each, fewer when they run out (``torch.chunk``)."""
    if not is_int(chunks) or chunks < 1:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    x = as_tensor(x)
    n = x.shape[normalize_axis("chunk", dim, x.shape)]
    return split(x, builtins.max(1, -(-n // chunks)), dim)


def _dropout(name: str, x: Any, p: Any, training: bool, inplace: bool, rng: Any, channels: bool) -> Tensor:
    ok = isinstance(p, (int, float, np.integer, np.floating)) and not isinstance(p, (bool, np.bool_))
    if not ok or not 0.0 <= float(p) <= 1.0:  # NaN fails the comparison too
        raise ValueError(f"{name}: p must be a number in [0, 1], got {p!r}")
    if inplace:
        raise ValueError(f"{name}: inplace=True is not supported (the mask multiplies out of place); use the result")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name}: rng must be None or a numpy Generator, got {type(rng).__name__}")
    x = as_tensor(x)
    if channels and x.ndim not in (3, 4):
        raise ValueError(f"{name}: needs a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {x.shape}")
    if x.dtype.kind in "biu":
        x = x.astype(np.float32)
    p = float(p)
    if not training or p == 0.0:
        return x
    shape = x.shape[:-2] + (1, 1) if channels else x.shape
    if p == 1.0:
        return x * Tensor.wrap(np.zeros(shape, dtype=x.dtype))
    gen = rng if rng is not None else np.random.default_rng()
    mask = (gen.random(shape, dtype=np.float32) >= p).astype(x.dtype)
    mask *= np.asarray(1.0 / (1.0 - p), dtype=x.dtype)
    return x * Tensor.wrap(mask)


def dropout(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, *,
            rng: np.random.Generator | None = None) -> Tensor:
    """PyTorch's ``F.dropout`` (inverted dropout): x * m / (1 - p), m ~ Bernoulli(1 - p) per element, a
    constant mask, while ``training``; x itself otherwise. The mask comes from ``rng`` (None: a fresh
    unseeded generator; pass one for runs that repeat). ``p`` must lie in [0, 1]; integer and boolean inputs
    become float32."""
    return _dropout("dropout", x, p, training, inplace, rng, channels=False)


def dropout2d(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, *,
              rng: np.random.Generator | None = None) -> Tensor:
    """PyTorch's ``F.dropout2d`` for (N, C, H, W) or (C, H, W) inputs: while ``training`` each whole channel is
    zeroed with probability p and the others are scaled by 1/(1 - p) (a constant mask of shape (N, C, 1, 1));
    x itself otherwise. ``rng`` as in :func:`dropout`."""
    return _dropout("dropout2d", x, p, training, inplace, rng, channels=True)


def normalize(x: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, *, axis: int | None = None) -> Tensor:
    """PyTorch's ``F.normalize``: x / max(||x||_p, eps) along ``dim`` (numpy's ``axis`` also accepted), with
    ||x||_p = (sum |x|^p)^(1/p). (Standardising to zero mean and unit variance is :func:`standardize`.)"""
    name = "normalize"
    x = _floating(x, name)
    p = _number(name, "p", p)
    eps = _number(name, "eps", eps)
    if p <= 0:
        raise ValueError(f"{name}: p must be > 0, got {p}")
    if eps < 0:
        raise ValueError(f"{name}: eps must be >= 0, got {eps}")
    ax = _axis(x, _dim(dim if axis is None else None, axis, name), name)
    total = (x * x if p == 2 else abs(x) ** p).sum(axis=ax, keepdims=True)
    nonzero = total > 0  # the root's derivative is infinite at 0: take it at 1 there and mask it out (as PyTorch's 0)
    norm = where(nonzero, where(nonzero, total, 1.0) ** (1.0 / p), 0.0)
    return x / maximum(norm, eps)


def logsumexp(x: Tensor, axis: Axis = -1, keepdims: bool | None = None, *, dim: Axis = None,
              keepdim: bool | None = None) -> Tensor:
    """log(sum(exp(x))) over ``axis``, computed as m + log(sum(exp(x - m))) with m the (constant) max.

    ``dim``/``keepdim`` are PyTorch's names for ``axis``/``keepdims`` (``axis`` defaults to -1; pass one)."""
    if dim is not None:
        axis = resolve_axis("logsumexp", None if axis == -1 else axis, dim)
    keepdims = resolve_keepdims("logsumexp", keepdims, keepdim)
    x = _floating(x, "logsumexp")
    axes = _axes(x, axis, "logsumexp")
    m = np.max(x.data, axis=axes, keepdims=True)
    m = Tensor.wrap(np.where(np.isfinite(m), m, np.zeros((), dtype=m.dtype)))  # an infinite max: inf - inf
    out = (x - m).exp().sum(axes, keepdims=True).log() + m
    return out if keepdims else out.reshape(tuple(n for i, n in enumerate(x.shape) if axes is not None and i not in axes))


def log_softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """x - logsumexp(x) along ``axis`` (or PyTorch's ``dim``; default -1): finite for any finite logits (the
    max is subtracted first); float32 for integer data."""
    axis = resolve_axis("log_softmax", axis, dim, default=-1)
    x = _floating(x, "log_softmax")
    ax = _axis(x, axis, "log_softmax")
    return x - x.logsumexp(ax, keepdims=True)


def softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """exp(x - max) / sum(exp(x - max)) along ``axis`` (or PyTorch's ``dim``; default -1); float32 for
    integer data."""
    axis = resolve_axis("softmax", axis, dim, default=-1)
    x = _floating(x, "softmax")
    ax = _axis(x, axis, "softmax")
    e = (x - Tensor.wrap(np.max(x.data, axis=ax, keepdims=True))).exp()
    return e / e.sum(ax, keepdims=True)


def _reduce(loss: Tensor, reduction: Reduction, name: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _class_targets(target: Any, n: int, c: int, ignore_index: int, name: str, what: str) -> np.ndarray:
    """Integer class indices of shape (n,), each in [0, c) or equal to ``ignore_index`` (errors name ``name``)."""
    if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"{name}: ignore_index must be an int, got {ignore_index!r}")
    if isinstance(target, Tensor):
        t = target.data
    elif isinstance(target, (list, tuple)) and len(target) == 0:
        t = np.zeros(0, dtype=np.int64)
    else:
        t = np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name}: targets must be integer class indices, got dtype {t.dtype}")
    if t.shape != (n,):
        raise ValueError(f"{name}: targets of shape {t.shape} do not match {what} (need ({n},))")
    bad = (t != ignore_index) & ((t < 0) | (t >= c))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}: targets must lie in [0, {c}) (or equal ignore_index={ignore_index}), got {t[i]} at index {i}"
            f" ({int(bad.sum())} out of range)"
        )
    return t


def _nll(log_probs: Tensor, t: np.ndarray, reduction: Reduction, ignore_index: int, name: str) -> Tensor:
    """-log_probs[i, t[i]] over the rows whose target is not ``ignore_index``, reduced as PyTorch's nll_loss:
    'none' gives 0 for ignored rows, 'sum' adds the rest, 'mean' divides by the number not ignored (so a batch
    with every target ignored, or an empty batch, has a NaN mean, with a zero gradient, as in PyTorch)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    keep = t != ignore_index
    n = len(t)
    if keep.all() and n:
        return _reduce(-log_probs[np.arange(n), t], reduction, name)
    rows = np.flatnonzero(keep)
    picked = -log_probs[rows, t[rows]]  # ignored rows are never read: their gradient is exactly zero
    if reduction == "none":
        return scatter(picked, rows, (n,))
    total = picked.sum()
    if reduction == "sum":
        return total
    if len(rows):
        return total / float(len(rows))
    return total + Tensor.wrap(np.asarray(np.nan, dtype=total.dtype))  # 0 / 0, as PyTorch (gradient 0)


def cross_entropy(logits: Tensor, target: Tensor | np.ndarray | list[int], reduction: Reduction = "mean",
                  ignore_index: int = -100) -> Tensor:
    """Softmax cross-entropy: -log_softmax(logits)[i, target[i]], for logits (N, C), integer targets (N,).

    Targets must lie in [0, C) or equal ``ignore_index`` (default -100, as PyTorch's): those rows add nothing
    and get a zero gradient, and the mean is over the other rows (see :func:`nll_loss`). Integer logits are
    promoted to float32.
    """
    logits = _floating(logits, "cross_entropy")
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {logits.shape}")
    t = _class_targets(target, logits.shape[0], logits.shape[1], ignore_index, "cross_entropy",
                       f"logits {logits.shape}")
    return _nll(logits.log_softmax(axis=1), t, reduction, ignore_index, "cross_entropy")




def nll_loss(log_probs: Tensor, target: Tensor | np.ndarray, reduction: Reduction = "mean",
             ignore_index: int = -100) -> Tensor:
    """-log_probs[i, target[i]] for log-probabilities (N, C) and integer targets (N,) in [0, C).

    As PyTorch's: a target equal to ``ignore_index`` (default -100) is skipped (loss 0 and gradient 0 for its
    row with ``reduction='none'``); ``'mean'`` divides by the number of targets not ignored, so when every
    target is ignored (or the batch is empty) the mean is 0/0 = NaN, with a zero gradient, exactly as in
    PyTorch; use ``reduction='sum'`` where such batches can occur.
    """
    log_probs = _floating(log_probs, "nll_loss")
    if log_probs.ndim != 2:
        raise ValueError(f"nll_loss: log-probs must have shape (N, C), got {log_probs.shape}")
    t = _class_targets(target, log_probs.shape[0], log_probs.shape[1], ignore_index, "nll_loss",
                       f"log-probs {log_probs.shape}")
    return _nll(log_probs, t, reduction, ignore_index, "nll_loss")


def mse_loss(pred: Tensor, target: Tensor | np.ndarray, reduction: Reduction = "mean") -> Tensor:
    """Mean squared error (pred - target)^2; the shapes must match exactly (no silent broadcasting)."""
    pred = _floating(pred, "mse_loss")
    tgt = as_tensor(target, pred.dtype)
    if tgt.dtype.kind in "biu":
        tgt = tgt.astype(pred.dtype)
    if tgt.shape != pred.shape:
        raise ValueError(f"mse_loss: prediction {pred.shape} and target {tgt.shape} must have the same shape")
    return _reduce((pred - tgt).square(), reduction, "mse_loss")




def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, with PyTorch's layout: weight (out_features, in_features)."""
    if weight.ndim != 2 or x.shape[-1:] != weight.shape[1:]:
        raise ValueError(f"linear: input {x.shape} needs weight (out_features, {x.shape[-1:]}), got {weight.shape}")
    y = x @ weight.T
    if bias is not None:
        if bias.shape != weight.shape[:1]:
            raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
        y = y + bias
    return y


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes start_dim..end_dim into one (PyTorch's flatten; nn.Flatten uses start_dim=1).

    Both dims must lie in [-ndim, ndim) (a 0-d tensor takes 0 or -1 and becomes shape (1,)).
    """
    x = as_tensor(x)
    for arg, d in (("start_dim", start_dim), ("end_dim", end_dim)):
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)):
            raise TypeError(f"flatten: {arg} must be an int, got {d!r}")
        n = builtins.max(x.ndim, 1)
        if not -n <= d < n:
            raise _AxisError(
                f"flatten: {arg}={d} is out of range for a tensor of {x.ndim} dimension(s) (shape {x.shape})"
            )
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}")
    return x.reshape(x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:])


__all__ = [n for n in dir() if not n.startswith("_") and n not in {"annotations", "Any", "Literal", "np", "builtins"}]
