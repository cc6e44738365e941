"""How the three convolution primitives are computed: a reference to read, faster algorithms, one table.

Every algorithm of a primitive has the same signature and writes all of ``out``:

    conv2d              fn(x, w, out, *, stride, padding, dilation, groups)
    conv_transpose2d    fn(g, w, out, *, stride, padding, dilation, groups, input_size)
    conv2d_weight_grad  fn(x, g, out, *, stride, padding, dilation, groups, kernel_size)

``ALGORITHMS[primitive][name]`` lists them; :mod:`.planner` times the ones that apply to a call and keeps
the fastest for its shapes. ``docs/ops/conv.md`` walks through the reference.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from .common import Pair, Pads, cores, in_piece, on_cores, out_size, scratch


# ================================================================ the reference
# im2col: every window of the padded input becomes one column, so the convolution is ONE matrix product.
#   cols[(c, i, j), (n, p, q)] = x_pad[n, c, p*s + i*d, q*s + j*d]          (K = C/G*kH*kW rows, L = N*H_out*W_out)
#   conv2d:         y  = W (O, K) @ cols (K, L)
#   weight grad:    dw = g (O, L) @ cols^T (L, K)
#   input gradient: dcols = W^T (K, O) @ g (O, L), then col2im adds each column back onto the window it came
#                   from: one strided add per kernel offset (i, j), the adjoint of im2col's copies.
# With groups, each of the G groups is its own product: the leading G axis of batched matmul.
def windows(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pads, dilation: Pair) -> np.ndarray:
    """A view (N, C, H_out, W_out, kH, kW) of x_pad: win[n, c, p, q, i, j] = x_pad[n, c, p*s + i*d, q*s + j*d]."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    win = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
    return win[:, :, ::sh, ::sw, ::dh, ::dw]


def im2col(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pads, dilation: Pair, groups: int) -> np.ndarray:
    """cols (G, C/G*kH*kW, N*H_out*W_out): column (n, p, q) of group g holds the window under output (p, q)."""
    win = windows(x, kernel, stride, padding, dilation)
    return win.transpose(1, 4, 5, 0, 2, 3).reshape(groups, x.shape[1] // groups * kernel[0] * kernel[1], -1)  # copies


def col2im(dcols: np.ndarray, x_shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pads,
           dilation: Pair) -> np.ndarray:
    """The adjoint of im2col: dcols (C*kH*kW, N*H_out*W_out) -> dx (N, C, H, W), each column added back
    onto its window (overlapping windows add up), the padding cropped."""
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (dh, dw), ((pt, pb), (pl, pr)) = kernel, stride, dilation, padding
    ho, wo = out_size(h, kh, sh, padding[0], dh), out_size(w, kw, sw, padding[1], dw)
    dcols = dcols.reshape(c, kh, kw, n, ho, wo)
    dxp = np.zeros((n, c, h + pt + pb, w + pl + pr), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw] += \
                dcols[:, i, j].transpose(1, 0, 2, 3)
    return dxp[:, :, pt:pt + h, pl:pl + w]


def reference_conv2d(x: np.ndarray, w: np.ndarray, out: np.ndarray, *, stride: Pair, padding: Pads,
                     dilation: Pair, groups: int) -> None:
    """y = W @ im2col(x), one GEMM per group."""
    o = w.shape[0]
    y = np.matmul(w.reshape(groups, o // groups, -1), im2col(x, w.shape[2:], stride, padding, dilation, groups))
    out[...] = y.reshape(o, out.shape[0], *out.shape[2:]).transpose(1, 0, 2, 3)


def reference_conv_transpose2d(g: np.ndarray, w: np.ndarray, out: np.ndarray, *, stride: Pair, padding: Pads,
                               dilation: Pair, groups: int, input_size: Pair) -> None:
    """dx = col2im(W^T @ g), one GEMM per group."""
    o = w.shape[0]
    wt = w.reshape(groups, o // groups, -1).transpose(0, 2, 1)
    dcols = np.matmul(wt, g.transpose(1, 0, 2, 3).reshape(groups, o // groups, -1))  # g: (G, O/G, N*H_out*W_out)
    dcols = dcols.reshape(out.shape[1] * w.shape[2] * w.shape[3], -1)
    out[...] = col2im(dcols, out.shape, w.shape[2:], stride, padding, dilation)


def reference_weight_grad(x: np.ndarray, g: np.ndarray, out: np.ndarray, *, stride: Pair, padding: Pads,
                          dilation: Pair, groups: int, kernel_size: Pair) -> None:
    """dw = g @ im2col(x)^T, one GEMM per group."""
    cols = im2col(x, kernel_size, stride, padding, dilation, groups)
    gm = g.transpose(1, 0, 2, 3).reshape(groups, g.shape[1] // groups, -1)  # (G, O/G, N*H_out*W_out)
    out[...] = np.matmul(gm, cols.transpose(0, 2, 1)).reshape(out.shape)


# ================================================================ a 1x1 convolution is a matmul over channels
def _is_pointwise(kernel: Pair, stride: Pair, padding: Pads, **_: Any) -> bool:
    return tuple(kernel) == (1, 1) and stride == (1, 1) and padding == ((0, 0), (0, 0))


def pointwise_conv2d(x: np.ndarray, w: np.ndarray, out: np.ndarray, *, groups: int, **_: Any) -> None:
    """y[n] = W (O, C) @ x[n] (C, H*W) per image and group: no im2col and no transposes. Measured on
    (64,64,14,14 -> 128, 1x1): 2.78 ms against the reference's 3.50 (the gradients alike)."""
    n, c, h, wd = x.shape
    o = w.shape[0]
    np.matmul(w.reshape(groups, o // groups, c // groups), x.reshape(n, groups, c // groups, h * wd),
              out=out.reshape(n, groups, o // groups, h * wd))


def pointwise_conv_transpose2d(g: np.ndarray, w: np.ndarray, out: np.ndarray, *, groups: int, **_: Any) -> None:
    """dx[n] = W^T (C, O) @ g[n] (O, H*W) per image and group."""
    n, o, h, wd = g.shape
    wt = np.ascontiguousarray(w.reshape(groups, o // groups, -1).transpose(0, 2, 1))
    np.matmul(wt, g.reshape(n, groups, o // groups, h * wd), out=out.reshape(n, groups, -1, h * wd))


def pointwise_weight_grad(x: np.ndarray, g: np.ndarray, out: np.ndarray, *, groups: int, **_: Any) -> None:
    """dw = sum_n g[n] (O, H*W) @ x[n]^T (H*W, C) per group."""
    n, c = x.shape[:2]
    o = g.shape[1]
    prods = np.matmul(g.reshape(n, groups, o // groups, -1), x.reshape(n, groups, c // groups, -1).transpose(0, 1, 3, 2))
    prods.sum(axis=0, out=out.reshape(groups, o // groups, c // groups))


# ================================================================ phase images: im2col as long contiguous copies
# The padded input is split into stride x stride phase images, ph[a, b][y, x] = x_pad[y*s + a, x*s + b], so
# that every kernel offset is a plain shift of one phase image. Output rows are computed Wph >= W_out columns
# wide: for a fixed (channel, offset, image) the im2col row is then ONE contiguous run of a phase image, and
# im2col and col2im are long copies. The Wph - W_out extra columns per row are computed and dropped.
class _Axis(NamedTuple):  # how one spatial axis maps onto phase images
    n: int  # input length
    out: int  # output length
    nph: int  # phase image length (out + largest shift): the width of a computed output row
    phases: tuple[int, ...]  # the phases a = (i*d) % s that some kernel offset uses
    phase_of: tuple[int, ...]  # per kernel offset i: index into ``phases``
    shift: tuple[int, ...]  # per kernel offset i: (i*d) // s
    copy: tuple[tuple[int, int, int], ...]  # per phase: (first phase index, count, first input index)
    covers: bool  # every input position lies in some phase image


@functools.lru_cache(maxsize=512)
def _axis(n: int, k: int, s: int, pad: tuple[int, int], d: int) -> _Axis:
    out = out_size(n, k, s, pad, d)
    offs = [i * d for i in range(k)]
    phases = tuple(sorted({r % s for r in offs}))
    shift = tuple(r // s for r in offs)
    nph = out + max(shift)
    copy, covered = [], 0
    for a in phases:
        lo = max(0, -(-(pad[0] - a) // s))  # first y with y*s + a - p0 >= 0
        hi = min(nph, (n - 1 + pad[0] - a) // s + 1)  # past the last y with y*s + a - p0 <= n - 1
        copy.append((lo, max(0, hi - lo), lo * s + a - pad[0]))
        covered += max(0, hi - lo)
    return _Axis(n, out, nph, phases, tuple(phases.index(r % s) for r in offs), shift, tuple(copy),
                 covered == n)


def _axes(shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pads, dilation: Pair) -> tuple[_Axis, _Axis]:
    return tuple(_axis(n, k, s, p, d) for n, k, s, p, d in zip(shape[2:], kernel, stride, padding, dilation))


def _to_phases(x: np.ndarray, ah: _Axis, aw: _Axis, sh: int, sw: int) -> np.ndarray:
    """x (N, C, H, W) -> flat scratch holding ph[N, C, Pa, Pb, Hph, Wph] (zero where x_pad is padding)."""
    nb, c = x.shape[:2]
    shape = (nb, c, len(ah.phases), len(aw.phases), ah.nph, aw.nph)
    size = int(np.prod(shape))
    flat = scratch("phase", (size + aw.nph + 1,), x.dtype)
    flat[size:] = 0
    ph = flat[:size].reshape(shape)
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


def _phase_im2col(x: np.ndarray, ah: _Axis, aw: _Axis, kh: int, kw: int, sh: int, sw: int,
                  exact: bool = False) -> np.ndarray:
    """cols (C, kH, kW, nb, H_out*Wph): cols[c, i, j, n, p*Wph + q] = x_pad[n, c, p*s + i*d, q*s + j*d];
    with ``exact``, rows of exactly W_out columns: (C, kH, kW, nb, H_out, W_out)."""
    nb, c = x.shape[:2]
    flat = _to_phases(x, ah, aw, sh, sw)
    rows = (ah.out, aw.out) if exact else (ah.out * aw.nph,)
    cols = scratch("cols", (c, kh, kw, nb) + rows, x.dtype)
    it, img, pa, pb = flat.itemsize, ah.nph * aw.nph, len(ah.phases), len(aw.phases)
    strides = (pa * pb * img * it, c * pa * pb * img * it) + ((aw.nph * it, it) if exact else (it,))
    if pa == pb == 1:  # one phase: every offset is a shift of the same image, so ONE copy fills all columns
        di, dj = (a.shift[1] - a.shift[0] if len(a.shift) > 1 else 0 for a in (ah, aw))
        view = as_strided(flat, (c, kh, kw) + cols.shape[3:], strides[:1] + (di * aw.nph * it, dj * it) + strides[1:])
        np.copyto(cols, view)
        return cols
    for i in range(kh):
        for j in range(kw):
            off = (ah.phase_of[i] * pb + aw.phase_of[j]) * img + ah.shift[i] * aw.nph + aw.shift[j]
            np.copyto(cols[:, i, j], as_strided(flat[off:], shape=cols.shape[:1] + cols.shape[3:], strides=strides))
    return cols


def _stack_rows(ah: _Axis) -> int:
    """Rows S per image in a stacked plane (image n from row n*S): the least that keeps neighbours apart."""
    rows = ah.out
    for lo, cnt, _ in ah.copy:
        if cnt:
            rows = max(rows, ah.nph - lo, lo + cnt)
    return rows


def _phase_col2im(dcols: np.ndarray, dx: np.ndarray, ah: _Axis, aw: _Axis, kh: int, kw: int, sh: int,
                  sw: int) -> None:
    """The adjoint of ``_phase_im2col``: dx (nb, C, H, W) from dcols (C, kH, kW, nb, rows, cols).

    The phase planes of the batch are stacked: plane[c, a, b, n*S*Wph + y*Wph + x] is phase image (a, b) of
    image n. Each kernel offset's columns are added into its plane at the offset's shift (with (rows, cols)
    = (S, Wph), one contiguous run per channel), then the data rows are copied out."""
    nb, c = dx.shape[:2]
    rows, cols = dcols.shape[4:]
    wph = aw.nph
    step = _stack_rows(ah) * wph  # one image's block in a plane
    tail = max(max(ah.shift) * wph + max(aw.shift), max(y[0] for y in ah.copy) * wph + max(x[0] for x in aw.copy))
    planes = scratch("phase", (c, len(ah.phases), len(aw.phases), nb * step + tail), dx.dtype)
    planes.fill(0)

    def block(a: int, b: int, start: int, shape: tuple[int, int], merge: bool = False) -> np.ndarray:
        """Plane (a, b) from ``start`` as (C, nb, *shape), blocks ``step`` apart (``merge``: runs as one axis)."""
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


@functools.lru_cache(maxsize=1)
def _cache_bytes() -> int:
    """The L2 cache of one core (Linux sysfs; 1 MiB where it cannot be read)."""
    try:
        text = Path("/sys/devices/system/cpu/cpu0/cache/index2/size").read_text().strip()
        return int(text[:-1]) * {"K": 2**10, "M": 2**20}[text[-1]]
    except (OSError, ValueError, KeyError):
        return 2**20


CHUNK_PER_L2 = 1.5
"""Columns per chunk, in L2 caches of the cores the GEMM runs on. Measured against 1.0 on 2 cores with 2 MiB
each, forward + backward in one process: 0.89 of the time on (64,32,14,14 -> 64), 0.76 on (64,6,14,14 -> 16)."""


def _chunks(n: int, per_image: int, caches: int) -> list[tuple[int, int]]:
    """The batch cut into runs whose im2col columns (``per_image`` bytes an image) fill about the L2 caches of
    the ``caches`` cores the GEMM runs on, so the GEMM reads the columns while they are still in cache."""
    step = max(1, min(n, int(CHUNK_PER_L2 * caches * _cache_bytes()) // max(per_image, 1)))
    return [(i, min(n, i + step)) for i in range(0, n, step)]


def _gemm_cores() -> int:
    return 1 if in_piece() else cores()


def phase_conv2d(x: np.ndarray, w: np.ndarray, out: np.ndarray, *, stride: Pair, padding: Pads, dilation: Pair,
                 groups: int, per_image: bool = False, exact: bool = False) -> None:
    """One GEMM (G, O/G, K) @ (G, K, nb*H_out*Wph) per cache-sized chunk of the batch, the output then copied
    into place without the extra columns (a transposing copy); or (``per_image``) one GEMM per image, each
    image's rows in its own place, so the copy keeps its order; with ``exact`` too, columns exactly W_out
    wide and the GEMMs write the output in place (no copy of the output, shorter im2col copies). Measured:
    wide wins most input gradients and (32,64,32,32 -> 128, s2); per_image the one-channel first layers
    (forward of (64,1,28,28 -> 32): 0.91 ms against 1.85 for the reference)."""
    n, c = x.shape[:2]
    o, cg, kh, kw = w.shape
    ah, aw = _axes(x.shape, (kh, kw), stride, padding, dilation)
    wm, k = w.reshape(groups, o // groups, cg * kh * kw), cg * kh * kw
    wr = aw.out if exact else aw.nph
    for n0, n1 in _chunks(n, c * kh * kw * ah.out * wr * x.itemsize, _gemm_cores()):
        nb = n1 - n0
        cols = _phase_im2col(x[n0:n1], ah, aw, kh, kw, *stride, exact=exact).reshape(groups, k, nb, ah.out * wr)
        if per_image:  # (G, nb, O/G, L) = (G, 1, O/G, K) @ (G, nb, K, L)
            ys = out[n0:n1] if exact else scratch("aux", (nb, o, ah.out, wr), x.dtype)
            np.matmul(wm[:, None], cols.transpose(0, 2, 1, 3),
                      out=ys.reshape(nb, groups, o // groups, -1).transpose(1, 0, 2, 3))
            if not exact:
                np.copyto(out[n0:n1], ys[..., :aw.out])
        else:
            r = np.matmul(wm, cols.reshape(groups, k, -1), out=scratch("aux", (groups, o // groups, nb * ah.out * wr), x.dtype))
            np.copyto(out[n0:n1], r.reshape(o, nb, ah.out, wr)[..., :aw.out].transpose(1, 0, 2, 3))


def phase_conv_transpose2d(g: np.ndarray, w: np.ndarray, out: np.ndarray, *, stride: Pair, padding: Pads,
                           dilation: Pair, groups: int, input_size: Pair, per_image: bool = False) -> None:
    """dcols = W^T @ g, then col2im onto stacked phase planes. g is first copied into per-image blocks of
    S x Wph (zero beyond H_out x W_out), so that each kernel offset adds one contiguous run per channel; or
    (``per_image``) g is read in place by a GEMM per image and col2im adds shorter runs."""
    n, o = g.shape[:2]
    _, cg, kh, kw = w.shape
    ah, aw = _axes(out.shape, (kh, kw), stride, padding, dilation)
    og, k = o // groups, cg * kh * kw
    wt = w.reshape(groups, og, k).transpose(0, 2, 1)
    # an inf/nan in w would turn the extra columns' zero gradients into nan (0 * inf), added into real pixels
    rows, cols = (_stack_rows(ah), aw.nph) if not per_image and np.isfinite(w).all() else (ah.out, aw.out)
    for n0, n1 in _chunks(n, cg * groups * kh * kw * rows * cols * g.itemsize, _gemm_cores()):
        nb = n1 - n0
        dcols = scratch("cols", (groups, k, nb * rows * cols), g.dtype)
        if (rows, cols) == (ah.out, aw.out):  # (G, nb, K, L) = (G, 1, K, O/G) @ (G, nb, O/G, L)
            np.matmul(wt[:, None], g[n0:n1].reshape(nb, groups, og, rows * cols).transpose(1, 0, 2, 3),
                      out=dcols.reshape(groups, k, nb, rows * cols).transpose(0, 2, 1, 3))
        else:
            gs = scratch("aux", (o, nb, rows, cols), g.dtype)
            gs[:, :, ah.out:] = 0
            gs[:, :, :ah.out, aw.out:] = 0
            np.copyto(gs[:, :, :ah.out, :aw.out], g[n0:n1].transpose(1, 0, 2, 3))
            np.matmul(wt, gs.reshape(groups, og, nb * rows * cols), out=dcols)
        _phase_col2im(dcols.reshape(cg * groups, kh, kw, nb, rows, cols), out[n0:n1], ah, aw, kh, kw, *stride)


def phase_weight_grad(x: np.ndarray, g: np.ndarray, out: np.ndarray, *, stride: Pair, padding: Pads,
                      dilation: Pair, groups: int, kernel_size: Pair, per_image: bool = False) -> None:
    """dw^T = cols (G, K, L) @ g^T (G, L, O/G), summed over the chunks, g copied channel-last into Wph-wide
    rows (zero in the extra columns; an inf or nan in x may meet those zeros, 0 * inf = nan, and then the
    extra columns of the im2col rows are zeroed too and the product redone); or (``per_image``) columns
    exactly W_out wide and g read in place, one product g[n] (O/G, L) @ cols[n]^T (L, K) per image, summed."""
    n, c = x.shape[:2]
    o = g.shape[1]
    kh, kw = kernel_size
    ah, aw = _axes(x.shape, kernel_size, stride, padding, dilation)
    cg, og, k = c // groups, o // groups, c // groups * kh * kw
    wr = aw.out if per_image else aw.nph
    lp = ah.out * wr
    for zero_extra in (False, True):
        acc = np.zeros((groups, og, k) if per_image else (groups, k, og), dtype=x.dtype)
        for n0, n1 in _chunks(n, c * kh * kw * lp * x.itemsize, _gemm_cores()):
            nb = n1 - n0
            cols = _phase_im2col(x[n0:n1], ah, aw, kh, kw, *stride, exact=per_image)
            if per_image:
                acc += np.matmul(g[n0:n1].reshape(nb, groups, og, lp),
                                 cols.reshape(groups, k, nb, lp).transpose(2, 0, 3, 1)).sum(axis=0)
                continue
            if zero_extra:
                cols.reshape(c, kh, kw, nb, ah.out, wr)[..., aw.out:] = 0
            gt = scratch("aux", (groups, nb, ah.out, wr, og), g.dtype)
            gt[:, :, :, aw.out:] = 0
            np.copyto(gt[:, :, :, :aw.out], g[n0:n1].reshape(nb, groups, og, ah.out, aw.out).transpose(1, 0, 3, 4, 2))
            with np.errstate(invalid="ignore"):
                acc += np.matmul(cols.reshape(groups, k, nb * lp), gt.reshape(groups, nb * lp, og))
        if zero_extra or wr == aw.out or np.isfinite(acc).all():
            break
    np.copyto(out, (acc if per_image else acc.transpose(0, 2, 1)).reshape(out.shape))


# ================================================================ channel-last columns
# The padded input copied to (N, H_pad, W_pad, C): im2col rows (n, p, q) are kH runs of kW*C contiguous
# entries, and the GEMMs are cols (L, K) @ W (K, O) and cols^T @ g (L, O). Ungrouped, undilated convs.
def _im2col_last(x: np.ndarray, kh: int, kw: int, stride: Pair, pads: Pads, ho: int, wo: int) -> np.ndarray:
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
    view = as_strided(xp, (nb, ho, wo, kh, kw * c), (s[0], stride[0] * s[1], stride[1] * s[2], s[1], s[3]))
    cols = scratch("cols", (nb, ho, wo, kh, kw * c), x.dtype)
    np.copyto(cols, view)
    return cols.reshape(nb * ho * wo, kh * kw * c)


def channel_last_conv2d(x: np.ndarray, w: np.ndarray, out: np.ndarray, *, stride: Pair, padding: Pads,
                        **_: Any) -> None:
    """y (L, O) = cols (L, K) @ W^T (K, O) per chunk, copied into place as (N, O, H_out, W_out). Wins on many
    channels on small images: forward of (64,32,14,14 -> 64) 5.03 ms against 6.48 for the reference."""
    n, c = x.shape[:2]
    o, _, kh, kw = w.shape
    ho, wo = out.shape[2:]
    wl = w.transpose(2, 3, 1, 0).reshape(kh * kw * c, o)  # rows (i, j, c), as the columns
    for n0, n1 in _chunks(n, c * kh * kw * ho * wo * x.itemsize, _gemm_cores()):
        cols = _im2col_last(x[n0:n1], kh, kw, stride, padding, ho, wo)
        y = np.matmul(cols, wl, out=scratch("aux", (cols.shape[0], o), x.dtype))
        np.copyto(out[n0:n1], y.reshape(n1 - n0, ho, wo, o).transpose(0, 3, 1, 2))


def channel_last_weight_grad(x: np.ndarray, g: np.ndarray, out: np.ndarray, *, stride: Pair, padding: Pads,
                             kernel_size: Pair, **_: Any) -> None:
    """dw (K, O) = sum over chunks of cols^T (K, L) @ g (L, O), g copied channel-last."""
    n, c = x.shape[:2]
    o, (kh, kw), (ho, wo) = g.shape[1], kernel_size, g.shape[2:]
    acc = np.zeros((kh * kw * c, o), dtype=x.dtype)  # rows (i, j, c)
    for n0, n1 in _chunks(n, c * kh * kw * ho * wo * x.itemsize, _gemm_cores()):
        cols = _im2col_last(x[n0:n1], kh, kw, stride, padding, ho, wo)
        gt = scratch("aux", (n1 - n0, ho, wo, o), g.dtype)
        np.copyto(gt, g[n0:n1].transpose(0, 2, 3, 1))
        acc += cols.T @ gt.reshape(-1, o)
    np.copyto(out, acc.reshape(kh, kw, c, o).transpose(3, 2, 0, 1))


# ================================================================ both cores
def on_all_cores(fn: Callable[..., None], sums: bool) -> Callable[..., None]:
    """``fn`` on the batch split over the cores (``common.on_cores``), BLAS at one thread in each, so that the
    copies run in parallel too; a weight gradient (``sums``) adds up the pieces' results. Not planned: alone,
    the forward of (32,64,32,32 -> 128, s2) took 10.5 ms split against 12.7, but 18-21 ms right after a GEMM
    (OpenBLAS's idle workers spin and share a core with our second thread), and the planner could not tell
    the two apart (the channel-last forward of (64,6,14,14 -> 16) timed fastest split, then ran at 3.1 ms a
    call against 0.7 unsplit). Pinned by name they run."""
    def run(a: np.ndarray, b: np.ndarray, out: np.ndarray, **attrs: Any) -> None:
        def piece(n0: int, n1: int) -> np.ndarray | None:
            if not sums:
                return fn(a[n0:n1], b, out[n0:n1], **attrs)
            part = out if n0 == 0 else np.empty_like(out)
            fn(a[n0:n1], b[n0:n1], part, **attrs)
            return part

        parts = on_cores(piece, a.shape[0])
        for p in parts[1:] if sums else ():
            out += p

    return run


# ================================================================ the table
@dataclass(frozen=True)
class Algorithm:
    """One way to compute a primitive: ``run`` (the primitive's signature, see the module docstring),
    ``applies(kernel=, stride=, padding=, dilation=, groups=, batch=)``, which says whether it handles a call,
    and whether the planner times it (``planned``; the others run when pinned by name)."""

    name: str
    run: Callable[..., None]
    applies: Callable[..., bool] = lambda **_: True
    planned: bool = True


def _threaded(base: Algorithm, sums: bool) -> Algorithm:
    def applies(batch: int, **kw: Any) -> bool:
        return cores() > 1 and batch > 1 and base.applies(batch=batch, **kw)

    run = on_all_cores(base.run, sums)
    run.__doc__ = f"{base.name}, the batch split over the cores: {base.run.__doc__}"
    return Algorithm(base.name + "_threads", run, applies, planned=False)


def _table(sums: bool, *algs: Algorithm, threaded: tuple[str, ...]) -> dict[str, Algorithm]:
    table = {a.name: a for a in algs}
    table.update({t.name: t for t in (_threaded(table[n], sums) for n in threaded)})
    return table


def _ungrouped_undilated(groups: int, dilation: Pair, **_: Any) -> bool:
    return groups == 1 and dilation == (1, 1)


def _variant(fn: Callable[..., None], **flags: bool) -> Callable[..., None]:
    run = functools.partial(fn, **flags)
    functools.update_wrapper(run, fn)
    return run


ALGORITHMS: dict[str, dict[str, Algorithm]] = {
    "conv2d": _table(
        False,
        Algorithm("reference", reference_conv2d),
        Algorithm("pointwise", pointwise_conv2d, _is_pointwise),
        Algorithm("wide", phase_conv2d),
        Algorithm("wide_per_image", _variant(phase_conv2d, per_image=True)),
        Algorithm("per_image", _variant(phase_conv2d, per_image=True, exact=True)),
        Algorithm("channel_last", channel_last_conv2d, _ungrouped_undilated),
        threaded=("wide", "per_image", "channel_last")),
    "conv_transpose2d": _table(
        False,
        Algorithm("reference", reference_conv_transpose2d),
        Algorithm("pointwise", pointwise_conv_transpose2d, _is_pointwise),
        Algorithm("wide", phase_conv_transpose2d),
        Algorithm("per_image", _variant(phase_conv_transpose2d, per_image=True)),
        threaded=("wide", "per_image")),
    "conv2d_weight_grad": _table(
        True,
        Algorithm("reference", reference_weight_grad),
        Algorithm("pointwise", pointwise_weight_grad, _is_pointwise),
        Algorithm("wide", phase_weight_grad),
        Algorithm("per_image", _variant(phase_weight_grad, per_image=True)),
        Algorithm("channel_last", channel_last_weight_grad, _ungrouped_undilated),
        threaded=("wide", "per_image", "channel_last")),
}
"""Per primitive, its algorithms by name; the planner's fixed order (planning off) is the table's order
with the reference last."""


__all__ = [
    "Algorithm", "ALGORITHMS", "windows", "im2col", "col2im", "reference_conv2d", "reference_conv_transpose2d",
    "reference_weight_grad", "pointwise_conv2d", "pointwise_conv_transpose2d", "pointwise_weight_grad",
    "phase_conv2d", "phase_conv_transpose2d", "phase_weight_grad", "channel_last_conv2d",
    "channel_last_weight_grad", "on_all_cores",
]
