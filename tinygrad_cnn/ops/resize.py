"""Padding and resizing as PyTorch's ``F.pad`` (constant, reflect, replicate, circular) and ``F.interpolate``
(nearest, bilinear) for (N, C, H, W) input.

Both are **composites**: every non-constant pad and every resize is a gather with integer index arrays
(``getitem``), times constant weights where the mode interpolates, so no backward rule is new. The VJP of a
gather is the scatter-add of the gradient to the source positions (``scatter``, repeats accumulate), and the
VJP of that is the gather again, so gradients of any order work. The index arrays are built once per call
with numpy from the sizes alone; nothing loops over pixels.

* ``pad(x, (left, right, top, bottom, ...), mode)``: along an axis of size n padded by (l, r), output
  position j reads input index k = j - l mapped back into [0, n):
  reflect: |k|, and 2(n - 1) - k past the end;  replicate: clip(k, 0, n - 1);  circular: k mod n (after
  cropping any negative pad).  Constant mode pads with the ``pad`` primitive and crops negative pads with
  slices.
* ``interpolate``, nearest: y[.., i, j] = x[.., src(i), src(j)] with src(d) = min(floor(d * s), n_in - 1);
  bilinear: each output is a weighted sum of the 4 neighbouring inputs, computed separably (width, then
  height), each axis with src(d) = s (d + 0.5) - 0.5 clamped at 0 (align_corners=False) or
  d (n_in - 1)/(n_out - 1) (align_corners=True), i0 = floor(src), i1 = min(i0 + 1, n_in - 1),
  weights (1 - t, t) with t = src - i0. The scale s is 1/scale_factor when a scale factor is given (and not
  recomputed), else n_in/n_out, computed in the precision PyTorch uses, so the indices agree exactly.
"""

from __future__ import annotations

import math
from typing import Any, Literal, NamedTuple

import numpy as np

from ..core.registry import is_int
from ..core.tensor import Tensor
from .elementwise import clone
from .movement import getitem, pad as pad_width_pad

PadMode = Literal["constant", "reflect", "replicate", "circular"]
PAD_MODES = ("constant", "reflect", "replicate", "circular")
INTERPOLATE_MODES = ("nearest", "bilinear")
_TORCH_ONLY_MODES = ("linear", "bicubic", "trilinear", "area", "nearest-exact", "lanczos")


# ---------------------------------------------------------------- pad
def _is_flat_ints(p: Any) -> bool:
    """A tuple or list with no nested sequences: PyTorch's flat pad tuple (its entries are checked later)."""
    return isinstance(p, (tuple, list)) and not any(isinstance(e, (tuple, list, np.ndarray)) for e in p)


def pad(x: Tensor, pad: Any = None, mode: PadMode = "constant", value: float | None = None, *,
        pad_width: Any = None) -> Tensor:
    """PyTorch's ``F.pad``: pad the last ``len(pad) // 2`` dimensions of ``x``.

    ``pad`` is PyTorch's flat tuple of ints, pairs for the **last** dimension first:
    ``(left, right)`` pads the last axis, ``(left, right, top, bottom)`` the last two, and so on.

    * ``mode="constant"`` (with ``value``, default 0) pads any number of dimensions; a negative entry crops
      (``F.pad(x, (-1, 0))`` drops the first column), as in PyTorch.
    * ``"reflect"``: y[j] = x[r(j - l)] with r(k) = |k| for k < 0, k inside, 2(n - 1) - k past the end
      (the edge itself is not repeated); each pad must be smaller than the size of its dimension.
    * ``"replicate"``: y[j] = x[clip(j - l, 0, n - 1)] (the edge value repeated).
    * ``"circular"``: y[j] = x[(j - l) mod n] (the tensor wraps around); each pad at most the size.

    The non-constant modes follow PyTorch's rule for which dimensions they pad: a pad tuple of 2, 4 or 6
    entries pads the last 1, 2 or 3 dimensions of an input with 1 or 2 dimensions more (channels, and an
    optional batch in front), e.g. (left, right, top, bottom) for (C, H, W) or (N, C, H, W). They are gathers
    with an index array per padded axis (``getitem``), so their gradient is the scatter-add of g back to the
    source positions: reflect, replicate and circular edges add their gradient onto the pixels they copy.

    Also accepted, for code written against this package's numpy-style ``pad`` (``x.pad(pad_width)``, which
    stays numpy's: PyTorch has no ``Tensor.pad``): an int, or one ``(before, after)`` pair per axis
    (``((0, 0), (1, 2))``), or any numpy ``pad_width`` given by keyword (``pad_width=(1, 2)``), constant mode
    only. A *flat* tuple or list of ints is always PyTorch's.
    """
    name = "pad"
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    if not isinstance(mode, str):
        raise TypeError(f"{name}: mode must be one of {', '.join(map(repr, PAD_MODES))}, got {mode!r} "
                        f"(input shape {x.shape}; the fill value is the keyword value=)")
    if mode not in PAD_MODES:
        raise ValueError(f"{name}: mode must be one of {', '.join(map(repr, PAD_MODES))}, got {mode!r} "
                         f"(input shape {x.shape})")
    if pad_width is not None or not _is_flat_ints(pad.tolist() if isinstance(pad, np.ndarray) else pad):
        given = pad if pad_width is None else pad_width
        if pad_width is not None and pad is not None:
            raise TypeError(f"{name}: give pad (PyTorch's flat tuple) or pad_width (numpy's), not both "
                            f"(input shape {x.shape})")
        if given is None:
            raise TypeError(f"{name}: missing the pad sizes, e.g. pad=(left, right) (input shape {x.shape})")
        if mode != "constant":
            raise ValueError(f"{name}: mode {mode!r} takes PyTorch's flat pad tuple (left, right, top, bottom, ...), "
                             f"got {given!r} (input shape {x.shape})")
        return pad_width_pad(x, given, 0.0 if value is None else value)
    flat = pad.tolist() if isinstance(pad, np.ndarray) else pad
    for p in flat:
        if not is_int(p):
            raise TypeError(f"{name}: pad entries must be ints, got {p!r} ({type(p).__name__}) in {tuple(flat)} "
                            f"(input shape {x.shape})")
    flat = tuple(int(p) for p in flat)
    if len(flat) % 2:
        raise ValueError(f"{name}: the pad tuple {flat} must have an even length: (left, right) pairs from the "
                         f"last dimension backwards (input shape {x.shape})")
    k = len(flat) // 2
    if k > x.ndim:
        raise ValueError(f"{name}: the pad tuple {flat} pads {k} dimensions but the input has {x.ndim} "
                         f"(shape {x.shape}); it may have at most 2 * ndim = {2 * x.ndim} entries")
    pairs = {x.ndim - 1 - i: (flat[2 * i], flat[2 * i + 1]) for i in range(k)}  # axis -> (before, after)
    if mode == "constant":
        return _pad_constant(x, flat, pairs, value)
    if value is not None and value != 0:
        raise ValueError(f"{name}: mode {mode!r} takes no fill value, got value={value!r} (input shape {x.shape})")
    if k not in (1, 2, 3) or x.ndim not in (k + 1, k + 2):
        raise ValueError(f"{name}: mode {mode!r} pads the last 1, 2 or 3 dimensions of an input with 1 or 2 "
                         f"dimensions more (a pad tuple of 2 entries for 2-D or 3-D input, 4 for 3-D or 4-D, 6 for "
                         f"4-D or 5-D), got a pad tuple of {len(flat)} entries for input shape {x.shape}")
    return _pad_gather(x, flat, pairs, mode, k)


def _pad_constant(x: Tensor, flat: tuple[int, ...], pairs: dict[int, tuple[int, int]], value: Any) -> Tensor:
    """Crop the negative pads with slices, then pad the positive ones with the constant ``pad`` primitive."""
    fill = 0.0 if value is None else value
    if isinstance(fill, (bool, np.bool_)) or not isinstance(fill, (int, float, np.integer, np.floating)):
        raise TypeError(f"pad: value must be a real number, got {value!r} (input shape {x.shape})")
    crop: list[slice] = [slice(None)] * x.ndim
    for axis, (lo, hi) in pairs.items():
        n = x.shape[axis]
        kept = n - max(0, -lo) - max(0, -hi)
        if kept < 0:
            raise ValueError(f"pad: the negative pads ({lo}, {hi}) crop {n - kept} entries from dimension {axis} "
                             f"of size {n} (pad {flat}, input shape {x.shape})")
        crop[axis] = slice(max(0, -lo), max(0, -lo) + kept)
    y = x
    if any(lo < 0 or hi < 0 for lo, hi in pairs.values()):
        y = getitem(x, tuple(crop))
    widths = tuple(tuple(max(0, p) for p in pairs.get(axis, (0, 0))) for axis in range(x.ndim))
    if any(w != (0, 0) for w in widths):
        return pad_width_pad(y, widths, fill)
    return clone(y) if y is x else y


def _source_index(n: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """For each output position j along an axis of size n padded by (lo, hi): the input index it reads."""
    k = np.arange(n + lo + hi, dtype=np.int64) - lo
    if mode == "reflect":
        k = np.abs(k)
        return np.where(k >= n, 2 * (n - 1) - k, k)
    if mode == "replicate":
        return np.clip(k, 0, n - 1)
    start, kept = max(0, -lo), n - max(0, -lo) - max(0, -hi)  # circular: crop, then wrap the kept part
    j = np.arange(kept + max(0, lo) + max(0, hi), dtype=np.int64)
    return start + (j - max(0, lo)) % kept if kept else j


def _pad_gather(x: Tensor, flat: tuple[int, ...], pairs: dict[int, tuple[int, int]], mode: str, k: int) -> Tensor:
    """reflect / replicate / circular as one gather x[..., i_1[:, None], i_2[None, :]] over the padded axes."""
    where = f"pad {flat}, input shape {x.shape}"
    if mode in ("reflect", "replicate"):
        first = x.ndim - k - 1 if x.ndim == k + 2 else 0  # the batch axis, when there is one, may be empty
        if any(n == 0 for n in x.shape[first:]):
            raise ValueError(f"pad: mode {mode!r} needs non-empty dimensions (other than a batch dimension), "
                             f"got input shape {x.shape} (pad {flat})")
    for axis, (lo, hi) in sorted(pairs.items()):
        n, out = x.shape[axis], x.shape[axis] + lo + hi
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ValueError(f"pad: reflect padding must be smaller than the padded dimension: pads ({lo}, {hi}) "
                             f"for dimension {axis} of size {n} ({where})")
        if mode == "circular" and (lo > n or hi > n):
            raise ValueError(f"pad: circular padding may wrap around at most once: pads ({lo}, {hi}) for dimension "
                             f"{axis} of size {n} ({where})")
        if mode in ("reflect", "replicate") and out < 1:
            raise ValueError(f"pad: pads ({lo}, {hi}) leave dimension {axis} of size {n} with {out} entries; "
                             f"mode {mode!r} needs at least 1 ({where})")
        if mode == "circular":
            kept = n - max(0, -lo) - max(0, -hi)
            if kept < 0 or max(0, lo) > kept or max(0, hi) > kept:
                raise ValueError(f"pad: circular pads ({lo}, {hi}) for dimension {axis} of size {n} crop it to "
                                 f"{max(kept, 0)} entries and then wrap more than that around ({where})")
    axes = list(range(x.ndim - k, x.ndim))
    if all(pairs[a] == (0, 0) for a in axes):
        return clone(x)
    index = np.ix_(*[_source_index(x.shape[a], *pairs[a], mode) for a in axes])
    return getitem(x, (slice(None),) * (x.ndim - k) + tuple(index))


# ---------------------------------------------------------------- interpolate: arguments
class InterpolateArgs(NamedTuple):
    """``interpolate``'s arguments checked and normalised (see :func:`interpolate_args`)."""

    size: tuple[int, int] | None
    scale_factor: tuple[float, float] | None
    mode: str
    align_corners: bool
    recompute_scale_factor: bool


def interpolate_args(size: Any = None, scale_factor: Any = None, mode: Any = "nearest", align_corners: Any = None,
                     recompute_scale_factor: Any = None, antialias: Any = False, name: str = "interpolate",
                     where: str = "") -> InterpolateArgs:
    """Check ``interpolate``'s arguments without an input (``nn.Upsample`` checks them when it is made):
    exactly one of ``size`` (an int or 2 ints >= 1) and ``scale_factor`` (a number or 2 numbers, finite and
    > 0); ``mode`` 'nearest' or 'bilinear'; ``align_corners`` only with 'bilinear'. Errors name ``name``."""
    at = f" ({where})" if where else ""
    if not isinstance(mode, str):
        raise TypeError(f"{name}: mode must be a string, 'nearest' or 'bilinear', got {mode!r}{at}")
    if mode in _TORCH_ONLY_MODES:
        raise NotImplementedError(f"{name}: mode {mode!r} is not implemented here; the modes are "
                                  f"{', '.join(map(repr, INTERPOLATE_MODES))}{at}")
    if mode not in INTERPOLATE_MODES:
        raise ValueError(f"{name}: mode must be 'nearest' or 'bilinear', got {mode!r}{at}")
    if align_corners is not None:
        if not isinstance(align_corners, (bool, np.bool_)):
            raise TypeError(f"{name}: align_corners must be a bool or None, got {align_corners!r}{at}")
        if mode == "nearest":
            raise ValueError(f"{name}: align_corners can only be set with an interpolating mode ('bilinear'), "
                             f"not with mode 'nearest'{at}")
    if recompute_scale_factor is not None and not isinstance(recompute_scale_factor, (bool, np.bool_)):
        raise TypeError(f"{name}: recompute_scale_factor must be a bool or None, got {recompute_scale_factor!r}{at}")
    if not isinstance(antialias, (bool, np.bool_)):
        raise TypeError(f"{name}: antialias must be a bool, got {antialias!r}{at}")
    if antialias:
        raise NotImplementedError(f"{name}: antialias=True is not implemented here{at}")
    if size is None and scale_factor is None:
        raise ValueError(f"{name}: either size or scale_factor should be defined{at}")
    if size is not None and scale_factor is not None:
        raise ValueError(f"{name}: only one of size or scale_factor should be defined, got size={size!r} and "
                         f"scale_factor={scale_factor!r}{at}")
    sizes = scales = None
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(f"{name}: recompute_scale_factor is not meaningful with an explicit size{at}")
        items = (size, size) if is_int(size) else size
        if not isinstance(items, (tuple, list)) or not all(is_int(s) for s in items):
            raise TypeError(f"{name}: size must be an int or a tuple of 2 ints (H_out, W_out), got {size!r}{at}")
        if len(items) != 2:
            raise ValueError(f"{name}: size {tuple(items)} must give 2 sizes (H_out, W_out), one per spatial "
                             f"dimension of (N, C, H, W) input{at}")
        sizes = (int(items[0]), int(items[1]))
        if min(sizes) < 1:
            raise ValueError(f"{name}: output sizes must be >= 1, got size={sizes}{at}")
    else:
        def number(v: Any) -> bool:
            return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))

        items = (scale_factor, scale_factor) if number(scale_factor) else scale_factor
        if not isinstance(items, (tuple, list)) or not all(number(s) for s in items):
            raise TypeError(f"{name}: scale_factor must be a number or a tuple of 2 numbers, got "
                            f"{scale_factor!r}{at}")
        if len(items) != 2:
            raise ValueError(f"{name}: scale_factor {tuple(items)} must give 2 factors, one per spatial dimension "
                             f"of (N, C, H, W) input{at}")
        scales = (float(items[0]), float(items[1]))
        if not all(math.isfinite(s) and s > 0 for s in scales):
            raise ValueError(f"{name}: scale factors must be finite and > 0, got scale_factor={scale_factor!r}{at}")
    return InterpolateArgs(sizes, scales, mode, bool(align_corners), bool(recompute_scale_factor))


# ---------------------------------------------------------------- interpolate: indices and weights
def _nearest_index(n_in: int, n_out: int, scale: float | None) -> np.ndarray:
    """PyTorch's nearest source index min(floor(d * s), n_in - 1), s = 1/scale_factor or n_in/n_out, in
    float32 arithmetic as PyTorch's kernel (for every dtype); the same size copies, double size halves."""
    dst = np.arange(n_out, dtype=np.int64)
    if n_out == n_in:
        return dst
    if n_out == 2 * n_in:
        return dst // 2
    s = np.float32(1.0 / scale) if scale is not None else np.float32(n_in) / np.float32(n_out)
    return np.minimum(np.floor(dst.astype(np.float32) * s).astype(np.int64), n_in - 1)


def _linear_weights(n_in: int, n_out: int, scale: float | None, align_corners: bool,
                    dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """PyTorch's linear source indices and weights along one axis: (i0, i1, w0, w1), output d reading
    w0 * x[i0] + w1 * x[i1].

    src = d (n_in - 1)/(n_out - 1) with align_corners, else max(s (d + 0.5) - 0.5, 0) with s = 1/scale_factor
    (when given) or n_in/n_out; i0 = min(floor(src), n_in - 1), i1 = i0 + 1 but at most n_in - 1,
    w1 = clip(src - i0, 0, 1), w0 = 1 - w1. Computed in the input's precision, as PyTorch's kernel (whose
    s (d + 0.5) - 0.5 is one fused multiply-add: rounded once). An axis whose size does not change is a copy."""
    dst = np.arange(n_out, dtype=np.int64)
    f = dtype.type
    if n_out == n_in:
        return dst, dst, np.ones(n_out, dtype), np.zeros(n_out, dtype)
    if align_corners:
        ratio = f(n_in - 1) / f(n_out - 1) if n_out > 1 else f(0)
        src = ratio * dst.astype(dtype)
    else:
        ratio = f(1.0 / scale) if scale is not None else f(n_in) / f(n_out)
        fused = np.float64(ratio) * (dst.astype(np.float64) + 0.5) - 0.5
        src = np.maximum(fused.astype(dtype), f(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    w1 = np.clip(src - i0.astype(dtype), f(0), f(1)).astype(dtype)
    i1 = i0 + (i0 < n_in - 1)
    return i0, i1, (f(1) - w1).astype(dtype), w1


def interpolate(x: Tensor, size: int | tuple[int, int] | None = None,
                scale_factor: float | tuple[float, float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """PyTorch's ``F.interpolate`` for (N, C, H, W) input, modes ``'nearest'`` and ``'bilinear'``.

    Give ``size`` (H_out, W_out) or ``scale_factor``; with a scale factor the output size is
    floor(n_in * scale_factor) and, as in PyTorch, the source positions use s = 1 / scale_factor (not
    n_in / n_out) unless ``recompute_scale_factor=True``.

    * nearest: y[n, c, i, j] = x[n, c, h(i), w(j)], h(i) = min(floor(i * s_h), H - 1) (PyTorch's 'nearest',
      which picks the top-left neighbour, not 'nearest-exact'). Any dtype. Gradient: the scatter-add of g
      to the source pixel (each input pixel receives the sum of the gradients of the outputs copying it).
    * bilinear: y[.., i, j] = sum over a, b in {0, 1} of u_a(i) v_b(j) x[.., h_a(i), w_b(j)], with per-axis
      source positions src(d) = d (n_in - 1)/(n_out - 1) (``align_corners=True``) or
      max(s (d + 0.5) - 0.5, 0) (``False``, the default), h_0 = floor(src), h_1 = min(h_0 + 1, n_in - 1),
      u_1 = src - h_0, u_0 = 1 - u_1. Floating-point input only. Gradient: g spread to the same 4 pixels
      with the same 4 weights u_a v_b.

    A composite of ``getitem`` (index arrays) and constant weights, computed separably (width, then height);
    differentiable to any order. Bad arguments raise as in PyTorch: both or neither of size and scale_factor,
    or align_corners with 'nearest', are ValueErrors; PyTorch's other modes (and 3-D or 5-D input) are
    NotImplementedError here.
    """
    name = "interpolate"
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    args = interpolate_args(size, scale_factor, mode, align_corners, recompute_scale_factor, antialias, name,
                            f"input shape {x.shape}")
    if x.ndim in (3, 5):
        raise NotImplementedError(f"{name}: only 4-D (N, C, H, W) input is implemented here, got shape {x.shape}")
    if x.ndim != 4:
        raise ValueError(f"{name}: input must be 4-D (N, C, H, W), got shape {x.shape}")
    h, w = x.shape[2:]
    if h < 1 or w < 1:
        raise ValueError(f"{name}: the input's spatial sizes must be >= 1, got shape {x.shape}")
    if args.size is not None:
        (oh, ow), scales = args.size, (None, None)
    else:
        sh, sw = args.scale_factor
        oh, ow = math.floor(h * sh), math.floor(w * sw)
        scales = (None, None) if args.recompute_scale_factor else (sh, sw)
        if oh < 1 or ow < 1:
            raise ValueError(f"{name}: scale_factor {args.scale_factor} gives output size ({oh}, {ow}) for input "
                             f"shape {x.shape}; output sizes must be >= 1")
    if args.mode == "nearest":
        ih, iw = _nearest_index(h, oh, scales[0]), _nearest_index(w, ow, scales[1])
        if oh == h and ow == w:
            return clone(x)
        return getitem(x, (slice(None), slice(None), ih[:, None], iw[None, :]))
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: mode 'bilinear' needs a floating-point input, got {x.dtype} (shape {x.shape})")
    y = x
    if ow != w:  # along the width first, then the height (PyTorch's order of the sums)
        j0, j1, v0, v1 = _linear_weights(w, ow, scales[1], args.align_corners, x.dtype)
        y = getitem(y, (Ellipsis, j0)) * Tensor.wrap(v0) + getitem(y, (Ellipsis, j1)) * Tensor.wrap(v1)
    if oh != h:
        i0, i1, u0, u1 = _linear_weights(h, oh, scales[0], args.align_corners, x.dtype)
        y = (getitem(y, (slice(None), slice(None), i0)) * Tensor.wrap(u0[:, None])
             + getitem(y, (slice(None), slice(None), i1)) * Tensor.wrap(u1[:, None]))
    return clone(y) if y is x else y


__all__ = ["PadMode", "PAD_MODES", "INTERPOLATE_MODES", "InterpolateArgs", "pad", "interpolate", "interpolate_args"]
