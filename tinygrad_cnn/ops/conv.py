"""Convolution primitives: conv2d, its input-gradient (the transposed convolution) and its weight-gradient.

All three are one trilinear form read three ways. With ``T(x, w, g) = <conv2d(x, w), g>``:

* ``conv2d(x, w)``             is dT/dg  -- the cross-correlation every framework calls convolution,
* ``conv_transpose2d(g, w)``   is dT/dx  -- the full convolution of g (dilated by the stride) with the
  flipped kernel, cropped by the padding,
* ``conv2d_weight_grad(x, g)`` is dT/dw  -- the cross-correlation of the input with g (stride and
  dilation swap roles).

So each op's VJPs are the other two ops, and the set is closed under differentiation to any order.

The kernels share one layout trick. The padded input is split into ``stride x stride`` phase images
(``ph[a, b][y, x] = x_pad[y*s + a, x*s + b]``), which turns every kernel offset into a plain shift of one
phase image. Each output row is then computed ``Wph >= W_out`` columns wide, so that for a fixed
(channel, kernel offset, image) the im2col row is one contiguous slice of a phase image: im2col and col2im
are long contiguous copies, and a conv is ONE GEMM ``W (G, O/G, C/G*kH*kW) @ cols (G, C/G*kH*kW, N*H_out*Wph)``
per cache-sized chunk of the batch (see ``_chunks``).
The ``Wph - W_out`` extra columns per row are computed and dropped (and multiplied by zero gradients in
the backward passes); when they would more than double the work, rows are computed ``W_out`` wide instead
(shorter copies, no extra columns).

col2im (the input gradient) goes one step further and stacks the batch: the phase images of all images
are one tall plane per channel (image n from row n*S, S just enough to keep neighbours' data apart), so
each kernel offset's columns are added in ONE contiguous run per channel. numpy's ufuncs are several times
slower per element over runs as short as one image (copies are not), so this pays for the few extra GEMM
columns on all but small outputs.

Two kinds of layer take other layouts, chosen per shape from measurements: first layers with few input
channels, whose output outweighs their columns, compute rows exactly W_out wide and their input gradient
per image on g as it lies (``_wide_rows``, ``_grad_per_image``); layers with many channels on small images
run the forward and the weight gradient channel-last (``_channel_last``).

Scratch buffers (padded input, phase images, columns, one auxiliary GEMM operand) are kept per thread and
reused, so large temporaries are not returned to the OS and re-faulted on every call; ``clear_scratch()``
releases them. The pooling kernels use the same buffers.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..core.registry import Sample, is_int, register_op
from ..core.tensor import Tensor

Pair = tuple[int, int]
Pads = tuple[tuple[int, int], tuple[int, int]]
Padding = int | tuple[int, int] | str

_CHUNK_BYTES = 6 * 2**20  # im2col columns per chunk of the batch (see _chunks)
_WIDE_WASTE = 1.0  # compute rows wide (contiguous im2col) unless that adds more than this fraction of columns
_PER_IMAGE_W, _PER_IMAGE_COLS = 4096, 4096  # forward: one GEMM per image for tiny weights or large images
_SPLIT_OUT, _SPLIT_COLS = 2048, 4096  # weight gradients up to this size: sum products over pieces of ~this many columns


# ---------------------------------------------------------------- scratch buffers
_local = threading.local()


def scratch(tag: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A reusable uninitialised buffer of ``shape`` (one per tag and dtype, grown as needed, per thread)."""
    bufs = getattr(_local, "bufs", None)
    if bufs is None:
        bufs = _local.bufs = {}
    n = 1
    for s in shape:
        n *= s
    key = (tag, dtype)
    buf = bufs.get(key)
    if buf is None or buf.size < n:
        buf = bufs[key] = np.empty(max(n, 1), dtype=dtype)
    return buf[:n].reshape(shape)


def clear_scratch() -> None:
    """Release the cached scratch buffers (of the calling thread)."""
    _local.bufs = {}


# ---------------------------------------------------------------- geometry
def out_size(n: int, k: int, s: int, pad: tuple[int, int], d: int) -> int:
    """Output length of a convolution: floor((n + p0 + p1 - d(k-1) - 1) / s) + 1."""
    return (n + pad[0] + pad[1] - d * (k - 1) - 1) // s + 1


class _Axis(NamedTuple):
    """How one spatial axis maps onto phase images (see the module docstring)."""

    n: int  # input length
    pad0: int  # padding before the input
    out: int  # output length
    nph: int  # phase image length (out + largest shift)
    wr: int  # width of a computed output row: nph ("wide", contiguous im2col rows) or out (no extra columns)
    phases: tuple[int, ...]  # the phases a = (i*d) % s that some kernel offset uses
    phase_of: tuple[int, ...]  # per kernel offset i: index into ``phases``
    shift: tuple[int, ...]  # per kernel offset i: (i*d) // s
    copy: tuple[tuple[int, int, int], ...]  # per phase: (first phase index, count, first input index)
    covers: bool  # every input position lies in some phase image window


@functools.lru_cache(maxsize=512)
def _axis(n: int, k: int, s: int, pad: tuple[int, int], d: int, wide: bool = True) -> _Axis:
    out = out_size(n, k, s, pad, d)
    offs = [i * d for i in range(k)]
    phases = tuple(sorted({r % s for r in offs}))
    shift = tuple(r // s for r in offs)
    nph = out + max(shift)
    copy = []
    covered = 0
    for a in phases:
        lo = max(0, -(-(pad[0] - a) // s))  # first y with y*s + a - p0 >= 0
        hi = min(nph, (n - 1 + pad[0] - a) // s + 1)  # past the last y with y*s + a - p0 <= n - 1
        cnt = max(0, hi - lo)
        copy.append((lo, cnt, lo * s + a - pad[0]))
        covered += cnt
    wr = out if not wide or nph - out > _WIDE_WASTE * out else nph
    return _Axis(n, pad[0], out, nph, wr, phases, tuple(phases.index(r % s) for r in offs), shift, tuple(copy),
                 covered == n)


def _phase_view(buf: np.ndarray, shape5: tuple[int, ...]) -> np.ndarray:
    return buf[: int(np.prod(shape5))].reshape(shape5)


def _to_phases(x: np.ndarray, ah: _Axis, aw: _Axis, sh: int, sw: int) -> np.ndarray:
    """x (N, C, H, W) -> flat scratch holding ph[N, C, Pa, Pb, Hph, Wph] (zero where x_pad is padding)."""
    nb, c = x.shape[:2]
    shape = (nb, c, len(ah.phases), len(aw.phases), ah.nph, aw.nph)
    flat = scratch("phase", (int(np.prod(shape)) + aw.nph + 1,), x.dtype)
    ph = _phase_view(flat, shape)
    flat[ph.size:] = 0
    if _regular(ah, aw, sh, sw):  # pad once, then one transposing copy splits all the phases
        xp = scratch("pad", (nb, c, sh * ah.nph, sw * aw.nph), x.dtype)
        _pad_ext(x, xp, ah, aw, sh, sw)
        np.copyto(ph, xp.reshape(nb, c, ah.nph, sh, aw.nph, sw).transpose(0, 1, 3, 5, 2, 4))
        return flat
    for ia, (ylo, ycnt, y0) in enumerate(ah.copy):
        for ib, (xlo, xcnt, x0) in enumerate(aw.copy):
            img = ph[:, :, ia, ib]
            if not (ycnt and xcnt):  # no input lands in this phase image
                img[...] = 0
                continue
            img[:, :, ylo:ylo + ycnt, xlo:xlo + xcnt] = \
                x[:, :, y0:y0 + sh * (ycnt - 1) + 1:sh, x0:x0 + sw * (xcnt - 1) + 1:sw]
            img[:, :, :ylo] = 0  # the padding around the copied block
            img[:, :, ylo + ycnt:] = 0
            img[:, :, ylo:ylo + ycnt, :xlo] = 0
            img[:, :, ylo:ylo + ycnt, xlo + xcnt:] = 0
    return flat


def _regular(ah: _Axis, aw: _Axis, sh: int, sw: int) -> bool:
    """Every phase is used and there is more than one: the phase images are a plain reshuffle of x_pad."""
    return sh * sw > 1 and len(ah.phases) == sh and len(aw.phases) == sw


def _ext_window(ah: _Axis, aw: _Axis, sh: int, sw: int) -> tuple[int, int, int, int]:
    """Where x sits in the padded input cut (or zero-extended) to (s*Hph, s*Wph): first row, rows, first col, cols."""
    pt, pl = ah.pad0, aw.pad0
    return pt, max(0, min(ah.n, sh * ah.nph - pt)), pl, max(0, min(aw.n, sw * aw.nph - pl))


def _pad_ext(x: np.ndarray, xp: np.ndarray, ah: _Axis, aw: _Axis, sh: int, sw: int) -> None:
    """xp = x_pad restricted / zero-extended to exactly (s*Hph, s*Wph) rows and columns."""
    y0, hh, x0, ww = _ext_window(ah, aw, sh, sw)
    xp[:, :, y0:y0 + hh, x0:x0 + ww] = x[:, :, :hh, :ww]
    xp[:, :, :y0] = 0
    xp[:, :, y0 + hh:] = 0
    xp[:, :, y0:y0 + hh, :x0] = 0
    xp[:, :, y0:y0 + hh, x0 + ww:] = 0


def _rows(ah: _Axis, aw: _Axis) -> tuple[int, ...]:
    """The trailing shape of one image's output rows: one contiguous run when rows are wide (numpy copies a
    single long run faster than the same run split into two axes), else (H_out, W_out)."""
    return (ah.out * aw.wr,) if aw.wr == aw.nph else (ah.out, aw.wr)


def _offset_views(flat: np.ndarray, nb: int, c: int, ah: _Axis, aw: _Axis, kh: int, kw: int) -> Any:
    """Yield (i, j, view (C, nb, *rows)) of the phase buffer for each kernel offset, or one
    (C, kH, kW, nb, *rows) view when every offset is a shift of the same phase image."""
    it = flat.itemsize
    img = ah.nph * aw.nph
    pa, pb = len(ah.phases), len(aw.phases)
    s_c, s_n, s_r = pa * pb * img * it, c * pa * pb * img * it, aw.nph * it
    rows = _rows(ah, aw)
    s_rows = (it,) if len(rows) == 1 else (s_r, it)
    if pa == pb == 1 and kh * kw > 1:
        di = (ah.shift[1] - ah.shift[0]) if kh > 1 else 0
        dj = (aw.shift[1] - aw.shift[0]) if kw > 1 else 0
        return as_strided(flat, shape=(c, kh, kw, nb) + rows, strides=(s_c, di * s_r, dj * it, s_n) + s_rows)
    views = []
    for i in range(kh):
        for j in range(kw):
            off = (ah.phase_of[i] * pb + aw.phase_of[j]) * img + ah.shift[i] * aw.nph + aw.shift[j]
            views.append((i, j, as_strided(flat[off:], shape=(c, nb) + rows, strides=(s_c, s_n) + s_rows)))
    return views


def _im2col(x: np.ndarray, ah: _Axis, aw: _Axis, kh: int, kw: int, sh: int, sw: int) -> np.ndarray:
    """cols (C, kH, kW, nb, *rows) with cols[c, i, j, n, p, q] = x_pad[n, c, p*s + i*d, q*s + j*d] (p and q
    merged into one axis of H_out*Wph when rows are wide)."""
    nb, c = x.shape[:2]
    flat = _to_phases(x, ah, aw, sh, sw)
    cols = scratch("cols", (c, kh, kw, nb) + _rows(ah, aw), x.dtype)
    views = _offset_views(flat, nb, c, ah, aw, kh, kw)
    if isinstance(views, np.ndarray):
        np.copyto(cols, views)
    else:
        for i, j, v in views:
            np.copyto(cols[:, i, j], v)
    return cols


def _channel_last(c: int, h: int, w: int) -> bool:
    """Whether the forward and the weight gradient of an ungrouped, undilated conv work channel-last: the
    padded input copied to (N, H_pad, W_pad, C), im2col rows (n, p, q) of kH runs of kW*C contiguous entries,
    and the GEMMs ``cols (L, K) @ W (K, O)`` and ``cols^T @ g (L, O)``.

    For many channels on small images this beats the phase layout: OpenBLAS runs ``(L, K) @ (K, O)`` faster
    than ``(O, K) @ (K, L)`` (1.43 against 1.75 ms for the forward of (64,32,14,14 -> 64)), and im2col
    copies kW*C-long runs. The transposing copy into channel-last order grows with the image: forward and
    weight gradient each took 0.87-0.88 of the time on (64,32,14,14 -> 64), 0.66-0.71 on (64,64,8,8 -> 128),
    0.54-0.60 on (64,32,16,16 -> 64, s2), 0.84-1.0 on (32,64,16,16 -> 64) and (64,16,14,14 -> 32), but
    1.1-1.4x more on 28 x 28 and 32 x 32 inputs, and on few channels."""
    return c >= 16 and h * w <= 256


def _takes_channel_last(c: int, h: int, w: int, groups: int, dilation: Pair) -> bool:
    """The channel-last layout handles ungrouped, undilated convs (kW*C contiguous runs); ``_channel_last``
    says where it pays."""
    return groups == 1 and dilation == (1, 1) and _channel_last(c, h, w)


def _im2col_last(x: np.ndarray, kh: int, kw: int, sh: int, sw: int, pads: Pads, ho: int, wo: int) -> np.ndarray:
    """cols (nb*H_out*W_out, kH*kW*C) with cols[(n, p, q), (i, j, c)] = x_pad[n, c, p*s + i, q*s + j]."""
    nb, c, h, w = x.shape
    (pt, pb), (pl, pr) = pads
    xp = scratch("pad", (nb, h + pt + pb, w + pl + pr, c), x.dtype)
    xp[:, :pt] = 0
    xp[:, pt + h:] = 0
    xp[:, pt:pt + h, :pl] = 0
    xp[:, pt:pt + h, pl + w:] = 0
    np.copyto(xp[:, pt:pt + h, pl:pl + w], x.transpose(0, 2, 3, 1))
    s = xp.strides
    view = as_strided(xp, (nb, ho, wo, kh, kw * c), (s[0], sh * s[1], sw * s[2], s[1], s[3]))
    cols = scratch("cols", (nb, ho, wo, kh, kw * c), x.dtype)
    np.copyto(cols, view)
    return cols.reshape(nb * ho * wo, kh * kw * c)


def _stack_rows(ah: _Axis) -> int:
    """Rows per image when the phase planes of a batch are stacked into one tall plane (image n from row n*S).

    S is the least height that keeps every image's contributions (rows [0, Hph) of its own block) off the
    data rows of its neighbours; padding rows may be shared between images, and S >= H_out."""
    rows = ah.out
    for lo, cnt, _ in ah.copy:
        if cnt:
            rows = max(rows, ah.nph - lo, lo + cnt)
    return rows


def _grad_block(ah: _Axis, aw: _Axis, og: int) -> tuple[int, int]:
    """(rows, columns) of the block each image's gradient fills in the transposed convolution's GEMM.

    Stacked, (S, Wph): every kernel offset's columns land in the stacked phase planes at one flat shift, so
    col2im adds one long contiguous run per channel, at memory speed. Otherwise the forward's rows (H_out, W_row):
    fewer GEMM columns, but col2im adds one run per image, and numpy's ufuncs over runs that short are ~5x
    slower per element. Stacked wins unless its extra columns cost more GEMM work (2 O/G flops per column
    entry) than the faster adds save (~30 against ~150 flop-equivalents per entry, measured): small outputs."""
    rows = _stack_rows(ah)
    if rows * aw.nph * (2 * og + 30) <= ah.out * aw.wr * (2 * og + 150):
        return rows, aw.nph
    return ah.out, aw.wr


def _block_grad(gy: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """gy (nb, O, H_out, W_out) -> scratch (O, nb, rows, cols): each image's gradient in the top-left corner
    of its block, zero in the extra rows and columns."""
    nb, o, ho, wo = gy.shape
    gs = scratch("aux", (o, nb, rows, cols), gy.dtype)
    gs[:, :, ho:] = 0
    gs[:, :, :ho, wo:] = 0
    np.copyto(gs[:, :, :ho, :wo], gy.transpose(1, 0, 2, 3))
    return gs


def _col2im(dcols: np.ndarray, dx: np.ndarray, ah: _Axis, aw: _Axis, kh: int, kw: int, sh: int, sw: int) -> None:
    """The adjoint of im2col: dx (nb, C, H, W) from dcols (C, kH, kW, nb, rows, cols) (see ``_grad_block``).

    The phase planes of the batch are stacked (``_stack_rows``): plane[c, a, b, n*S*Wph + y*Wph + x] is phase
    image (a, b) of image n. Each kernel offset's columns are added into its plane at the offset's shift (in
    the stacked layout one contiguous run per channel), then the data rows are copied out."""
    nb, c = dx.shape[:2]
    rows, cols = dcols.shape[4:]
    wph = aw.nph
    step = _stack_rows(ah) * wph  # one image's block in a plane
    # room after the last image for a block that starts at any kernel offset's shift or any phase's first data pixel
    tail = max(max(ah.shift) * wph + max(aw.shift), max(y[0] for y in ah.copy) * wph + max(x[0] for x in aw.copy))
    planes = scratch("phase", (c, len(ah.phases), len(aw.phases), nb * step + tail), dx.dtype)
    planes.fill(0)

    def block(a: int, b: int, start: int, shape: tuple[int, int], merge: bool = False) -> np.ndarray:
        """Plane (a, b) from ``start`` as (C, nb, *shape), image blocks ``step`` apart; with ``merge``, runs
        that are contiguous are one axis (numpy adds a (C, L) view about twice as fast as the same memory
        seen as (C, nb, rows, cols))."""
        r, w = shape
        v = planes[:, a, b, start:start + nb * step]
        if merge and w == wph and r * w == step:
            return v
        v = v.reshape(c, nb, step // wph, wph)[:, :, :r, :w]
        return v.reshape(c, nb, r * w) if merge and w == wph else v

    for i in range(kh):
        for j in range(kw):
            t = block(ah.phase_of[i], aw.phase_of[j], ah.shift[i] * wph + aw.shift[j], (rows, cols), merge=True)
            np.add(t, dcols[:, i, j].reshape(t.shape), out=t)
    if not (ah.covers and aw.covers):
        dx.fill(0)
    for ia, (ylo, ycnt, y0) in enumerate(ah.copy):
        for ib, (xlo, xcnt, x0) in enumerate(aw.copy):
            if ycnt and xcnt:
                np.copyto(dx[:, :, y0:y0 + sh * (ycnt - 1) + 1:sh, x0:x0 + sw * (xcnt - 1) + 1:sw]
                          .transpose(1, 0, 2, 3), block(ia, ib, ylo * wph + xlo, (ycnt, xcnt)))


def _chunks(n: int, per_image: int) -> list[tuple[int, int]]:
    """Split a batch of ``n`` images into runs whose im2col columns (``per_image`` bytes each) fit in
    ``_CHUNK_BYTES``: each chunk's columns are written and then read by its GEMM while they are still in cache.
    Measured on 2 cores with 2 MiB L2 each: 4-6 MiB chunks take 0.75 of the time of whole-batch columns on the
    (64,32,14,14 -> 64) and (8,3,224,224 -> 64, k7 s2) layers, forward and backward; smaller chunks lose it again to
    per-call overheads and small GEMMs."""
    step = max(1, min(n, _CHUNK_BYTES // max(per_image, 1)))
    return [(i, min(n, i + step)) for i in range(0, n, step)]


# ---------------------------------------------------------------- the three kernels (numpy)
def _pointwise(kh: int, kw: int, stride: Pair, padding: Pads) -> bool:
    return kh == kw == 1 and stride == (1, 1) and padding == ((0, 0), (0, 0))


def _conv2d_forward(x: np.ndarray, w: np.ndarray, *, stride: Pair, padding: Pads, dilation: Pair,
                    groups: int) -> np.ndarray:
    """y[n, o, p, q] = sum_{c, i, j} x_pad[n, g(o)*C/G + c, p*s + i*d, q*s + j*d] * w[o, c, i, j]."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (dh, dw), g = stride, dilation, groups
    if _pointwise(kh, kw, stride, padding):  # a 1x1 conv is a matmul over channels: no im2col, no transposes
        return np.matmul(w.reshape(g, o // g, cg), x.reshape(n, g, cg, h * wd)).reshape(n, o, h, wd)
    wide = _wide_rows(o // g, cg * kh * kw)
    ah, aw = _axis(h, kh, sh, padding[0], dh, wide), _axis(wd, kw, sw, padding[1], dw, wide)
    out = np.empty((n, o, ah.out, aw.out), dtype=x.dtype)
    if _takes_channel_last(c, h, wd, g, dilation):
        wl = w.transpose(2, 3, 1, 0).reshape(kh * kw * c, o)  # rows (i, j, c), as the columns
        for n0, n1 in _chunks(n, c * kh * kw * ah.out * aw.out * x.itemsize):
            nb = n1 - n0
            cols = _im2col_last(x[n0:n1], kh, kw, sh, sw, padding, ah.out, aw.out)
            y = np.matmul(cols, wl, out=scratch("aux", (nb * ah.out * aw.out, o), x.dtype))
            np.copyto(out[n0:n1], y.reshape(nb, ah.out, aw.out, o).transpose(0, 3, 1, 2))
        return out
    wm = w.reshape(g, o // g, cg * kh * kw)
    per_image = _per_image(o // g * cg * kh * kw, ah.out * aw.wr)
    for n0, n1 in _chunks(n, c * kh * kw * ah.out * aw.wr * x.itemsize):
        nb = n1 - n0
        cols = _im2col(x[n0:n1], ah, aw, kh, kw, sh, sw).reshape(g, cg * kh * kw, nb * ah.out * aw.wr)
        if not per_image:
            r = scratch("aux", (g, o // g, nb * ah.out * aw.wr), x.dtype)
            np.matmul(wm, cols, out=r)
            np.copyto(out[n0:n1], r.reshape(o, nb, ah.out, aw.wr)[..., :aw.out].transpose(1, 0, 2, 3))
            continue
        # (G, nb, O/G, rows) = (G, 1, O/G, K) @ (G, nb, K, rows): each image's product lands in its own place
        ys = out[n0:n1] if aw.wr == aw.out else scratch("aux", (nb, o, ah.out, aw.wr), x.dtype)
        np.matmul(wm[:, None], cols.reshape(g, -1, nb, ah.out * aw.wr).transpose(0, 2, 1, 3),
                  out=ys.reshape(nb, g, o // g, ah.out * aw.wr).transpose(1, 0, 2, 3))
        if aw.wr != aw.out:
            np.copyto(out[n0:n1], ys[..., :aw.out])
    return out


def _wide_rows(og: int, k: int) -> bool:
    """Whether the forward and the weight gradient compute output rows Wph wide (contiguous im2col rows, extra
    columns to drop) rather than exactly W_out wide.

    Wide rows make im2col fast but cost a copy of the (larger) output, or of g, without the extra columns.
    Where the output outweighs the columns, O/G >= 1.5 K for K = C/G*kH*kW (first layers with one to three
    input channels and many outputs), exact rows pay: forward + both gradients took 0.80 of the time on
    (64,1,28,28 -> 32, k3), 0.68 on (64,1,28,28 -> 64) and 0.82 on (64,3,32,32 -> 64); at ratios near 1 the
    two were even, and below 0.5 (every other benchmark layer) wide rows were 1.1-1.3x faster."""
    return 2 * og < 3 * k


def _per_image(weight_size: int, cols_per_image: int) -> bool:
    """Whether the forward runs one GEMM per image (writing each image's output in place: no transposing copy
    of the output) rather than one GEMM over the batch's columns.

    Per image pays where each image's product is large enough to run at BLAS's rate on its own (at least
    ``_PER_IMAGE_COLS`` columns), or where the weight matrix is tiny (at most ``_PER_IMAGE_W`` entries): the
    one product over the batch then runs below rate and the output's transposing copy costs as much as it.
    Measured against one GEMM: 0.50-0.91 of the time on the one-channel layers, LeNet-5's 6 -> 16 layer and
    the 224 x 224 layer; 1.09-1.21 on layers with 32 and 64 input channels on 14 x 14 and 16 x 16 outputs."""
    return weight_size <= _PER_IMAGE_W or cols_per_image >= _PER_IMAGE_COLS


def _conv_transpose2d_forward(gy: np.ndarray, w: np.ndarray, *, stride: Pair, padding: Pads, dilation: Pair,
                              groups: int, input_size: Pair) -> np.ndarray:
    """dx_pad[n, g(o)*C/G + c, p*s + i*d, q*s + j*d] += g[n, o, p, q] * w[o, c, i, j]; dx = dx_pad cropped."""
    n, o = gy.shape[:2]
    _, cg, kh, kw = w.shape
    (sh, sw), (dh, dw), g = stride, dilation, groups
    h, wd = input_size
    if _pointwise(kh, kw, stride, padding):
        wt = np.ascontiguousarray(w.reshape(g, o // g, cg).transpose(0, 2, 1))
        return np.matmul(wt, gy.reshape(n, g, o // g, h * wd)).reshape(n, cg * g, h, wd)
    ah, aw = _axis(h, kh, sh, padding[0], dh), _axis(wd, kw, sw, padding[1], dw)
    dx = np.empty((n, cg * g, h, wd), dtype=gy.dtype)
    og, k = o // g, cg * kh * kw
    wt = w.reshape(g, og, k).transpose(0, 2, 1)
    per_image = _grad_per_image(og, k)
    # an inf/nan in w would turn the extra columns' zero gradients into nan (0 * inf) that col2im adds into
    # real pixels: then compute exactly the H_out x W_out columns
    rows, cols = _grad_block(ah, aw, og) if not per_image and np.isfinite(w).all() else (ah.out, aw.out)
    for n0, n1 in _chunks(n, cg * g * kh * kw * rows * cols * gy.itemsize):
        nb = n1 - n0
        dcols = scratch("cols", (g, k, nb * rows * cols), gy.dtype)
        if per_image:  # (G, nb, K, H_out*W_out) = (G, 1, K, O/G) @ (G, nb, O/G, H_out*W_out): g read in place
            np.matmul(wt[:, None], gy[n0:n1].reshape(nb, g, og, rows * cols).transpose(1, 0, 2, 3),
                      out=dcols.reshape(g, k, nb, rows * cols).transpose(0, 2, 1, 3))
        else:
            np.matmul(wt, _block_grad(gy[n0:n1], rows, cols).reshape(g, og, nb * rows * cols), out=dcols)
        _col2im(dcols.reshape(cg * g, kh, kw, nb, rows, cols), dx[n0:n1], ah, aw, kh, kw, sh, sw)
    return dx


def _grad_per_image(og: int, k: int) -> bool:
    """Whether the input gradient runs one GEMM per image on g as it is (O/G, H_out*W_out per image), rather
    than one GEMM over g copied into blocks (``_block_grad``, ``_grad_block``).

    Per image, g is read in place, but the columns come out exactly H_out x W_out per image, which col2im adds
    over short runs. That pays where g is large against the columns: O/G >= K/2 for K = C/G*kH*kW, as in
    first layers with few input channels. Measured against the blocks: 0.41 of the time on (64,1,28,28 -> 32,
    k3), 0.14 on (64,1,28,28 -> 64), 0.61-0.80 with 2-6 input channels and ratios O/G / K of 0.59-0.89; 1.5
    and more on the benchmark's layers with ratios of 0.11-0.44 (one near-tie at 0.44)."""
    return 2 * og >= k


def _weight_grad_gemms(x: np.ndarray, gy: np.ndarray, ah: _Axis, aw: _Axis, kh: int, kw: int, sh: int, sw: int,
                       g: int, zero_extra: bool) -> np.ndarray:
    """dw as (G, O/G, C/G*kH*kW), a sum over the batch's columns of g times cols, in one of two forms.

    Usually ``cols @ g^T`` with both GEMM operands row-major (g copied channel-last; the (M, L) @ (L, N)^T
    form with a long contraction L is far slower in BLAS), giving dw transposed. When dw is tiny (up to
    ``_SPLIT_OUT`` entries, e.g. 32 x 9 for a one-channel 3x3 layer), OpenBLAS runs that one product with
    its long contraction several times below its rate (0.50 ms for 9 x 53,760 @ 53,760 x 32, measured) and
    the channel-last copy of g costs more than the product: then g keeps its rows (O, N, H_out, W_row),
    the contraction is cut into pieces of about ``_SPLIT_COLS`` columns, and the pieces' products (one
    batched matmul, 0.18 ms for the same sizes) are summed."""
    n, c = x.shape[:2]
    o = gy.shape[1]
    cg, og, k = c // g, o // g, c // g * kh * kw
    small = k * og <= _SPLIT_OUT
    acc = np.zeros((g, og, k) if small else (g, k, og), dtype=x.dtype)
    part = None  # the later chunks' products, added to acc
    for n0, n1 in _chunks(n, c * kh * kw * ah.out * aw.wr * x.itemsize):
        nb = n1 - n0
        cols = _im2col(x[n0:n1], ah, aw, kh, kw, sh, sw)
        if zero_extra:
            cols.reshape(c, kh, kw, nb, ah.out, aw.wr)[..., aw.out:] = 0
        cols = cols.reshape(g, k, nb * ah.out * aw.wr)
        target = acc if n0 == 0 else part
        if small:
            gb = _block_grad(gy[n0:n1], ah.out, aw.wr)  # (O, nb, H_out, W_row), the forward's rows
            per = _split_images(nb, ah.out * aw.wr)
            pieces, lp = nb // per, per * ah.out * aw.wr
            prods = np.matmul(gb.reshape(g, og, pieces, lp).transpose(0, 2, 1, 3),
                              cols.reshape(g, k, pieces, lp).transpose(0, 2, 3, 1))
            res = prods.sum(axis=1, out=target)
        else:
            gt = scratch("aux", (g, nb, ah.out, aw.wr, og), gy.dtype)
            if aw.wr > aw.out:
                gt[:, :, :, aw.out:] = 0
            np.copyto(gt[:, :, :, :aw.out], gy[n0:n1].reshape(nb, g, og, ah.out, aw.out).transpose(1, 0, 3, 4, 2))
            res = np.matmul(cols, gt.reshape(g, nb * ah.out * aw.wr, og), out=target)
        if n0 > 0:
            part = res
            acc += res
    return acc if small else acc.transpose(0, 2, 1)


def _split_images(nb: int, cols_per_image: int) -> int:
    """Images per piece of a split contraction: about ``_SPLIT_COLS`` columns, dividing the batch."""
    per = min(nb, max(1, _SPLIT_COLS // cols_per_image))
    while nb % per:
        per -= 1
    return per


def _conv2d_weight_grad_forward(x: np.ndarray, gy: np.ndarray, *, stride: Pair, padding: Pads, dilation: Pair,
                                groups: int, kernel_size: Pair) -> np.ndarray:
    """dw[o, c, i, j] = sum_{n, p, q} g[n, o, p, q] * x_pad[n, g(o)*C/G + c, p*s + i*d, q*s + j*d]."""
    n, c, h, wd = x.shape
    o = gy.shape[1]
    kh, kw = kernel_size
    (sh, sw), (dh, dw), g = stride, dilation, groups
    cg = c // g
    wide = _wide_rows(o // g, cg * kh * kw)
    ah, aw = _axis(h, kh, sh, padding[0], dh, wide), _axis(wd, kw, sw, padding[1], dw, wide)
    if _takes_channel_last(c, h, wd, g, dilation):
        acc = np.zeros((kh * kw * c, o), dtype=x.dtype)  # rows (i, j, c)
        for n0, n1 in _chunks(n, c * kh * kw * ah.out * aw.out * x.itemsize):
            nb = n1 - n0
            cols = _im2col_last(x[n0:n1], kh, kw, sh, sw, padding, ah.out, aw.out)
            gt = scratch("aux", (nb, ah.out, aw.out, o), gy.dtype)
            np.copyto(gt, gy[n0:n1].transpose(0, 2, 3, 1))
            acc += cols.T @ gt.reshape(-1, o)
        return np.ascontiguousarray(acc.reshape(kh, kw, c, o).transpose(3, 2, 0, 1))
    with np.errstate(invalid="ignore"):  # a nan from the extra columns is handled below
        dwg = _weight_grad_gemms(x, gy, ah, aw, kh, kw, sh, sw, g, zero_extra=False)
    if not np.isfinite(dwg).all() and aw.wr > aw.out:
        # inf/nan in x may have met the zero gradients of the extra columns (0 * inf = nan): redo without them
        dwg = _weight_grad_gemms(x, gy, ah, aw, kh, kw, sh, sw, g, zero_extra=True)
    return np.ascontiguousarray(dwg).reshape(o, cg, kh, kw)


# ---------------------------------------------------------------- checks
def _check_float(*arrays: np.ndarray) -> None:
    dts = [a.dtype for a in arrays]
    if any(d.kind != "f" for d in dts) or len(set(dts)) > 1:
        raise TypeError(f"needs floating-point operands of one dtype, got {', '.join(str(d) for d in dts)}")


def check_pair(what: str, v: Any, lo: int, where: str) -> None:
    """A registered op's normalised attribute: a tuple of two ints >= ``lo`` (TypeError / ValueError)."""
    if not (isinstance(v, tuple) and len(v) == 2 and all(is_int(e) for e in v)):
        raise TypeError(f"{what} must be a pair of ints (not bools), got {v!r} ({where})")
    if any(e < lo for e in v):
        raise ValueError(f"{what} must be a pair of ints >= {lo}, got {v!r} ({where})")


def _check_attrs(stride: Any, padding: Any, dilation: Any, groups: Any, where: str = "") -> None:
    check_pair("stride", stride, 1, where)
    check_pair("dilation", dilation, 1, where)
    if not (isinstance(padding, tuple) and len(padding) == 2 and all(
            isinstance(p, tuple) and len(p) == 2 and all(is_int(e) for e in p) for p in padding)):
        raise TypeError(f"padding must be ((top, bottom), (left, right)) of ints (not bools), got {padding!r} "
                        f"({where})")
    if any(e < 0 for p in padding for e in p):
        raise ValueError(f"padding must be ((top, bottom), (left, right)) of ints >= 0, got {padding!r} ({where})")
    if not is_int(groups):
        raise TypeError(f"groups must be an int (not a bool), got {groups!r} ({where})")
    if groups < 1:
        raise ValueError(f"groups must be an int >= 1, got {groups!r} ({where})")


def _check_geometry(x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: tuple[int, ...],
                    padding: tuple[tuple[int, int], ...], dilation: tuple[int, ...], groups: int) -> tuple[int, ...]:
    """Validate input (N, C, *spatial) against weight (O, C/G, *kernel); return the output's spatial size."""
    nd = len(stride)
    layout = {1: ("(N, C_in, L)", "(C_out, C_in/groups, k)", "L"), 2: ("(N, C_in, H, W)",
                                                                      "(C_out, C_in/groups, kH, kW)", "HW")}[nd]
    if len(x_shape) != nd + 2:
        raise ValueError(f"input must be {nd + 2}-D {layout[0]}, got shape {x_shape}")
    if len(w_shape) != nd + 2:
        raise ValueError(f"weight must be {nd + 2}-D {layout[1]}, got shape {w_shape} (input {x_shape})")
    c, o, cg = x_shape[1], w_shape[0], w_shape[1]
    if c % groups or o % groups:
        raise ValueError(f"groups={groups} must divide both C_in={c} and C_out={o} (input {x_shape}, weight {w_shape})")
    if cg * groups != c:
        raise ValueError(
            f"channel mismatch: input {x_shape} has C_in={c}, but weight {w_shape} with groups={groups} "
            f"expects C_in = {cg} * {groups} = {cg * groups}"
        )
    if min(w_shape[2:]) < 1 or cg < 1:
        raise ValueError(f"weight {w_shape} has an empty axis")
    sizes = []
    for n, k, s, p, d, axis in zip(x_shape[2:], w_shape[2:], stride, padding, dilation, layout[2]):
        span = d * (k - 1) + 1
        if span > n + p[0] + p[1]:
            raise ValueError(
                f"kernel larger than the padded input along {axis}: kernel {k} with dilation {d} spans {span}, but "
                f"the input is {n} + padding {p[0]}+{p[1]} = {n + p[0] + p[1]} (input {x_shape}, weight {w_shape})"
            )
        sizes.append(out_size(n, k, s, p, d))
    return tuple(sizes)


def _check_size(what: str, v: Any, where: str = "") -> None:
    check_pair(what, v, 1, where)


def _check_conv2d(x: np.ndarray, w: np.ndarray, *, stride: Pair, padding: Pads, dilation: Pair, groups: int) -> None:
    _check_attrs(stride, padding, dilation, groups, f"input {x.shape}, weight {w.shape}")
    _check_float(x, w)
    _check_geometry(x.shape, w.shape, stride, padding, dilation, groups)


def _check_conv_transpose2d(gy: np.ndarray, w: np.ndarray, *, stride: Pair, padding: Pads, dilation: Pair,
                            groups: int, input_size: Pair) -> None:
    where = f"input {gy.shape}, weight {w.shape}"
    _check_attrs(stride, padding, dilation, groups, where)
    _check_float(gy, w)
    if gy.ndim != 4 or w.ndim != 4:
        raise ValueError(f"needs a 4-D input (N, C, H, W) and a 4-D weight, got shapes {gy.shape} and {w.shape}")
    _check_size("input_size", input_size, where)
    if gy.shape[1] != w.shape[0]:
        raise ValueError(f"channel mismatch: input {gy.shape} has {gy.shape[1]} channels but weight {w.shape} "
                         f"expects {w.shape[0]}")
    out = _check_geometry((gy.shape[0], w.shape[1] * groups) + input_size, w.shape, stride, padding, dilation, groups)
    if out != gy.shape[2:]:
        raise ValueError(f"input {gy.shape} does not match a convolution of size {input_size} with weight {w.shape}, "
                         f"stride {stride}, padding {padding}, dilation {dilation} (which gives {out})")


def _check_weight_grad(x: np.ndarray, gy: np.ndarray, *, stride: Pair, padding: Pads, dilation: Pair, groups: int,
                       kernel_size: Pair) -> None:
    where = f"input {x.shape}, gradient {gy.shape}"
    _check_attrs(stride, padding, dilation, groups, where)
    _check_float(x, gy)
    if gy.ndim != 4 or x.ndim != 4:
        raise ValueError(f"needs a 4-D input and a 4-D gradient, got shapes {x.shape} and {gy.shape}")
    _check_size("kernel_size", kernel_size, where)
    if x.shape[0] != gy.shape[0] or gy.shape[1] % groups:
        raise ValueError(f"input {x.shape} and gradient {gy.shape} need the same batch and C_out divisible by "
                         f"groups={groups}")
    cg = x.shape[1] // groups if x.shape[1] % groups == 0 else 0
    out = _check_geometry(x.shape, (gy.shape[1], cg) + kernel_size, stride, padding, dilation, groups)
    if out != gy.shape[2:]:
        raise ValueError(f"gradient {gy.shape} does not match the output {out} of a convolution of input {x.shape} "
                         f"with kernel {kernel_size}")


# ---------------------------------------------------------------- samples (small: gradcheck builds Jacobians)
_SAMPLE_CONFIGS = [
    # x shape, w shape, stride, padding, dilation, groups
    ((2, 2, 4, 5), (3, 2, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((1, 2, 6, 5), (2, 2, 3, 2), (2, 1), ((1, 0), (0, 1)), (1, 1), 1),
    ((1, 2, 7, 6), (2, 1, 2, 3), (1, 2), ((0, 0), (2, 1)), (2, 1), 2),
    ((2, 4, 5, 5), (4, 2, 2, 2), (3, 2), ((2, 2), (0, 1)), (1, 2), 2),
    ((1, 3, 4, 4), (3, 1, 3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), 3),
    ((1, 2, 3, 3), (2, 2, 5, 5), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((2, 3, 3, 4), (2, 3, 1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
    ((1, 1, 1, 1), (2, 1, 1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
]


def _attrs(cfg: tuple) -> dict[str, Any]:
    return {"stride": cfg[2], "padding": cfg[3], "dilation": cfg[4], "groups": cfg[5]}


def _out_shape(cfg: tuple) -> tuple[int, ...]:
    xs, ws, s, p, d, g = cfg
    return (xs[0], ws[0]) + _check_geometry(xs, ws, s, p, d, g)


def _conv2d_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((rng.standard_normal(c[0]), rng.standard_normal(c[1])), _attrs(c)) for c in _SAMPLE_CONFIGS]


def _conv_transpose2d_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((rng.standard_normal(_out_shape(c)), rng.standard_normal(c[1])),
                   {**_attrs(c), "input_size": c[0][2:]}) for c in _SAMPLE_CONFIGS]


def _weight_grad_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((rng.standard_normal(c[0]), rng.standard_normal(_out_shape(c))),
                   {**_attrs(c), "kernel_size": c[1][2:]}) for c in _SAMPLE_CONFIGS]


# ---------------------------------------------------------------- the registered ops
def _geo(a: dict[str, Any]) -> dict[str, Any]:
    return {k: a[k] for k in ("stride", "padding", "dilation", "groups")}


_conv2d = register_op(
    "conv2d", _conv2d_forward,
    vjps=(lambda g, out, x, w, **a: _conv_transpose2d(g, w, input_size=x.shape[2:], **a),
          lambda g, out, x, w, **a: _conv2d_weight_grad(x, g, kernel_size=w.shape[2:], **a)),
    formula="y[n,o,p,q] = sum_{c,i,j} x_pad[n,c,p*s+i*d,q*s+j*d] w[o,c,i,j];  "
            "dx = conv_transpose2d(g, w),  dw = conv2d_weight_grad(x, g)",
    kind="conv", check=_check_conv2d, samples=_conv2d_samples,
)
_conv_transpose2d = register_op(
    "conv_transpose2d", _conv_transpose2d_forward,
    vjps=(lambda gg, out, g, w, *, input_size, **a: _conv2d(gg, w, **a),
          lambda gg, out, g, w, *, input_size, **a: _conv2d_weight_grad(gg, g, kernel_size=w.shape[2:], **a)),
    formula="z = full convolution of g (dilated by s) with the flipped w, cropped by p = adjoint of conv2d(., w);  "
            "dg = conv2d(G, w),  dw = conv2d_weight_grad(G, g)",
    kind="conv", check=_check_conv_transpose2d, samples=_conv_transpose2d_samples,
)
_conv2d_weight_grad = register_op(
    "conv2d_weight_grad", _conv2d_weight_grad_forward,
    vjps=(lambda gg, out, x, g, *, kernel_size, **a: _conv_transpose2d(g, gg, input_size=x.shape[2:], **a),
          lambda gg, out, x, g, *, kernel_size, **a: _conv2d(x, gg, **a)),
    formula="dw[o,c,i,j] = sum_{n,p,q} g[n,o,p,q] x_pad[n,c,p*s+i*d,q*s+j*d] (x correlated with g; s and d swap);  "
            "dx = conv_transpose2d(g, G),  dg = conv2d(x, G)",
    kind="conv", check=_check_weight_grad, samples=_weight_grad_samples,
)


# ---------------------------------------------------------------- public functions
def int_tuple(name: str, what: str, v: Any, nd: int, lo: int, where: str = "") -> tuple[int, ...]:
    """An int or a tuple of ``nd`` ints (bools are not ints), each >= ``lo``; ``where`` names the shapes."""
    at = f" ({where})" if where else ""
    if is_int(v):
        v = (int(v),) * nd
    elif isinstance(v, (tuple, list)) and len(v) == nd and all(is_int(e) for e in v):
        v = tuple(int(e) for e in v)
    else:
        raise TypeError(f"{name}: {what} must be an int or a tuple of {nd} ints, got {v!r}{at}")
    if any(e < lo for e in v):
        raise ValueError(f"{name}: {what} must be >= {lo}, got {v}{at}")
    return v


def _groups(name: str, groups: Any, where: str) -> int:
    if not is_int(groups):
        raise TypeError(f"{name}: groups must be an int, got {groups!r} ({where})")
    if groups < 1:
        raise ValueError(f"{name}: groups must be a positive int, got {groups!r} ({where})")
    return int(groups)


def _tensors(name: str, *ts: Any) -> None:
    for t in ts:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: expected Tensors, got {type(t).__name__}")
    dts = [t.dtype for t in ts]
    if any(d.kind != "f" for d in dts) or len(set(dts)) > 1:
        shapes = " and ".join(str(t.shape) for t in ts)
        raise TypeError(f"{name}: operands {shapes} must share one floating-point dtype, got "
                        f"{', '.join(str(d) for d in dts)} (convert explicitly with .astype)")


def _conv_args(name: str, x: Tensor, w: Tensor, b: Tensor | None, stride: Any, padding: Any, dilation: Any,
               groups: Any, nd: int) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...], tuple[int, ...], int]:
    """Validate and normalise conv arguments for ``nd`` spatial axes (1 or 2); messages name ``name``."""
    _tensors(name, x, w, *([] if b is None else [b]))
    if x.ndim != nd + 2 or w.ndim != nd + 2:  # the geometry check words the message
        try:
            _check_geometry(x.shape, w.shape, (1,) * nd, ((0, 0),) * nd, (1,) * nd, 1)
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None
    where = f"input {x.shape}, weight {w.shape}"
    groups = _groups(name, groups, where)
    s = int_tuple(name, "stride", stride, nd, 1, where)
    d = int_tuple(name, "dilation", dilation, nd, 1, where)
    ks = w.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(e != 1 for e in s):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions (stride {s})")
            pads = tuple(((di * (k - 1)) // 2, di * (k - 1) - (di * (k - 1)) // 2) for k, di in zip(ks, d))
        else:
            raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    else:
        pads = tuple((p, p) for p in int_tuple(name, "padding", padding, nd, 0, where))
    try:
        _check_geometry(x.shape, w.shape, s, pads, d, groups)
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"{name}: bias must have shape ({w.shape[0]},) for weight {w.shape}, got {b.shape}")
    return s, pads, d, groups


def _add_bias(y: Tensor, b: Tensor | None) -> Tensor:
    return y if b is None else y + b.reshape((1, b.shape[0]) + (1,) * (y.ndim - 2))


def conv2d(x: Tensor, w: Tensor, b: Tensor | None = None, stride: int | Pair = 1, padding: Padding = 0,
           dilation: int | Pair = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation), PyTorch's ``F.conv2d``.

    x (N, C_in, H, W), w (C_out, C_in/groups, kH, kW), b (C_out,) or None::

        y[n, o, p, q] = b[o] + sum_{c, i, j} x_pad[n, g*C_in/G + c, p*s + i*d, q*s + j*d] * w[o, c, i, j]

    with g = o // (C_out/G) the group of channel o. Output size per axis: floor((n + 2p - d(k-1) - 1)/s) + 1.
    ``padding`` is an int, a pair, 'valid' (0) or 'same' (stride 1 only; an odd total pads one more at the
    bottom/right, as PyTorch does).
    """
    s, p, d, g = _conv_args("conv2d", x, w, b, stride, padding, dilation, groups, 2)
    return _add_bias(_conv2d(x, w, stride=s, padding=p, dilation=d, groups=g), b)


def conv1d(x: Tensor, w: Tensor, b: Tensor | None = None, stride: int | tuple[int] = 1, padding: Padding = 0,
           dilation: int | tuple[int] = 1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation), PyTorch's ``F.conv1d``: x (N, C_in, L), w (C_out, C_in/groups, k).

    y[n, o, t] = b[o] + sum_{c, i} x_pad[n, g*C_in/G + c, t*s + i*d] * w[o, c, i]; computed as conv2d on a
    height-1 image.
    """
    s, p, d, g = _conv_args("conv1d", x, w, b, stride, padding, dilation, groups, 1)
    y = _conv2d(x.reshape(x.shape[:2] + (1, x.shape[2])), w.reshape(w.shape[:2] + (1, w.shape[2])),
                stride=(1,) + s, padding=((0, 0),) + p, dilation=(1,) + d, groups=g)
    return _add_bias(y.reshape(y.shape[:2] + y.shape[3:]), b)


def conv_transpose2d(x: Tensor, w: Tensor, b: Tensor | None = None, stride: int | Pair = 1, padding: int | Pair = 0,
                     output_padding: int | Pair = 0, dilation: int | Pair = 1, groups: int = 1) -> Tensor:
    """Transposed convolution, PyTorch's ``F.conv_transpose2d``: the input-gradient of conv2d.

    x (N, C_in, H, W), w (C_in, C_out/groups, kH, kW). Each input pixel scatters a copy of the kernel,
    scaled by its value, into the output at stride s; the result is cropped by ``padding`` on each side::

        y[n, c, p*s + i*d - pad, q*s + j*d - pad] += x[n, o, p, q] * w[o, c, i, j]

    Output size per axis: (n - 1)s - 2 pad + d(k - 1) + output_padding + 1.
    """
    name = "conv_transpose2d"
    _tensors(name, x, w, *([] if b is None else [b]))
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"{name}: needs input (N, C_in, H, W) and weight (C_in, C_out/groups, kH, kW), "
                         f"got shapes {x.shape} and {w.shape}")
    where = f"input {x.shape}, weight {w.shape}"
    g = _groups(name, groups, where)
    s = int_tuple(name, "stride", stride, 2, 1, where)
    d = int_tuple(name, "dilation", dilation, 2, 1, where)
    p = int_tuple(name, "padding", padding, 2, 0, where)
    op = int_tuple(name, "output_padding", output_padding, 2, 0, where)
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"{name}: channel mismatch: input {x.shape} has C_in={x.shape[1]} but weight {w.shape} "
                         f"expects {w.shape[0]}")
    if x.shape[1] % g:
        raise ValueError(f"{name}: groups={g} must divide C_in={x.shape[1]} (input {x.shape}, weight {w.shape})")
    if any(o >= max(si, di) for o, si, di in zip(op, s, d)):
        raise ValueError(f"{name}: output_padding {op} must be smaller than either stride {s} or dilation {d}")
    size = tuple((n - 1) * si - 2 * pi + di * (k - 1) + oi + 1
                 for n, si, pi, di, k, oi in zip(x.shape[2:], s, p, d, w.shape[2:], op))
    if min(size) < 1:
        raise ValueError(f"{name}: input {x.shape} with weight {w.shape}, stride {s}, padding {p} gives a "
                         f"non-positive output size {size}")
    if b is not None and b.shape != (w.shape[1] * g,):
        raise ValueError(f"{name}: bias must have shape ({w.shape[1] * g},) for weight {w.shape} and groups={g}, "
                         f"got {b.shape}")
    pads = ((p[0], p[0]), (p[1], p[1]))
    full = tuple(out_size(n, k, si, pp, di) for n, k, si, pp, di in zip(size, w.shape[2:], s, pads, d))
    if full != x.shape[2:]:  # output_padding >= stride: the conv of `size` has outputs x does not reach
        x = x.pad(((0, 0), (0, 0), (0, full[0] - x.shape[2]), (0, full[1] - x.shape[3])))
    return _add_bias(_conv_transpose2d(x, w, stride=s, padding=pads, dilation=d, groups=g, input_size=size), b)


__all__ = [
    "Pair", "Pads", "Padding", "scratch", "clear_scratch", "out_size", "check_pair", "int_tuple", "conv2d",
    "conv1d", "conv_transpose2d",
]
