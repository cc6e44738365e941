"""Pooling primitives: max pooling (with its scatter and gather), average pooling (with its spread).

A pooling window at output (p, q) covers the padded input rows p*s .. p*s + k - 1 and columns q*s .. q*s + k - 1.
For a fixed kernel offset (i, j), the entries x_pad[p*s + i, q*s + j] over all (p, q) form one strided view
of the input, so every kernel here loops over the kH*kW offsets only, each step a whole-array numpy
operation; no loop touches a batch, a channel or a pixel.

* max pooling keeps, per window, the offset k = i*kW + j of its maximum (the first one in row-major scan
  order among equal values, as PyTorch; a window holding NaN reports NaN and routes to its last NaN, as
  PyTorch). Its VJP scatters the gradient to those offsets (``max_pool2d_scatter``), a linear map whose
  own VJP is the gather at the same offsets (``max_pool2d_gather``) -- and vice versa.
* average pooling (zero padding counted in the divisor, PyTorch's default) has the VJP
  ``avg_pool2d_spread``: each gradient divided by kH*kW and added to every position of its window; the
  two are adjoint, so each is the other's VJP.

Masked steps multiply by a boolean mask (``where=`` arguments of numpy ufuncs are several times slower), and
temporaries (padded input, masks) live in the reused scratch buffers of :mod:`.common`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.registry import Sample, register_op
from ..core.tensor import Tensor
from .common import check_pair, int_tuple, pad_into, scratch
from .movement import getitem

Pair = tuple[int, int]


# ---------------------------------------------------------------- geometry and checks
def _pool_out(n: int, k: int, s: int, p: int) -> int:
    """floor((n + 2p - k) / s) + 1."""
    return (n + 2 * p - k) // s + 1


def _check_pool_geometry(x_shape: tuple[int, ...], kernel_size: Any, stride: Any, padding: Any) -> Pair:
    """Validate a 2-D pooling of input (N, C, H, W); return the output size (H_out, W_out)."""
    where = f"input {x_shape}"
    for what, v, lo in (("kernel_size", kernel_size, 1), ("stride", stride, 1), ("padding", padding, 0)):
        check_pair(what, v, lo, where)
    if len(x_shape) != 4:
        raise ValueError(f"input must be 4-D (N, C, H, W), got shape {x_shape}")
    out = []
    for n, k, s, p, axis in zip(x_shape[2:], kernel_size, stride, padding, "HW"):
        if 2 * p > k:
            raise ValueError(f"padding {p} must be at most half the kernel size {k} along {axis} (input {x_shape})")
        if k > n + 2 * p:
            raise ValueError(f"kernel {k} is larger than the padded input {n} + 2*{p} = {n + 2 * p} along {axis} "
                             f"(input {x_shape})")
        out.append(_pool_out(n, k, s, p))
    return out[0], out[1]


def _check_float(*arrays: np.ndarray) -> None:
    for a in arrays:
        if a.dtype.kind != "f":
            raise TypeError(f"needs a floating-point input, got {a.dtype} (shape {a.shape})")


def _check_pool(x: np.ndarray, *, kernel_size: Pair, stride: Pair, padding: Pair) -> None:
    _check_float(x)
    _check_pool_geometry(x.shape, kernel_size, stride, padding)


def _check_grad_shape(g: np.ndarray, input_size: Any, kernel_size: Pair, stride: Pair, padding: Pair) -> None:
    check_pair("input_size", input_size, 1, f"gradient {g.shape}")
    if g.ndim != 4:
        raise ValueError(f"gradient must be 4-D (N, C, H_out, W_out), got shape {g.shape}")
    out = _check_pool_geometry(g.shape[:2] + input_size, kernel_size, stride, padding)
    if g.shape[2:] != out:
        raise ValueError(f"gradient {g.shape} does not match the pooled size {out} of an input of size {input_size}")


def _check_offsets(idx: np.ndarray, shape: tuple[int, ...], kernel_size: Pair) -> None:
    if idx.dtype.kind not in "iu":
        raise TypeError(f"window offsets must be integers, got {idx.dtype}")
    if idx.shape != shape:
        raise ValueError(f"window offsets {idx.shape} must have the pooled shape {shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= kernel_size[0] * kernel_size[1]):
        raise ValueError(f"window offsets must lie in [0, {kernel_size[0] * kernel_size[1]}) for kernel {kernel_size}")


# ---------------------------------------------------------------- window views
def _padded(x: np.ndarray, padding: Pair, value: float) -> np.ndarray:
    """x surrounded by ``value`` (in a reused scratch buffer), or x itself without padding."""
    (ph, pw) = padding
    return pad_into(x, ((ph, ph), (pw, pw)), "pool_pad", value)


def _zeros_padded(shape: tuple[int, ...], padding: Pair, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """A zeroed (N, C, H + 2p, W + 2p) accumulator and the (N, C, H, W) result it is cropped to."""
    n, c, h, w = shape
    ph, pw = padding
    if ph == pw == 0:
        out = np.zeros(shape, dtype=dtype)
        return out, out
    acc = scratch("pool_pad", (n, c, h + 2 * ph, w + 2 * pw), dtype)
    acc.fill(0)
    return acc, np.empty(shape, dtype=dtype)


def _crop_into(acc: np.ndarray, out: np.ndarray, padding: Pair) -> np.ndarray:
    if acc is not out:
        ph, pw = padding
        np.copyto(out, acc[:, :, ph:ph + out.shape[2], pw:pw + out.shape[3]])
    return out


def _windows(xp: np.ndarray, kernel_size: Pair, stride: Pair, out: Pair) -> list[np.ndarray]:
    """For each kernel offset k = i*kW + j, the view xp[:, :, p*s + i, q*s + j] over all outputs (p, q)."""
    (kh, kw), (sh, sw), (ho, wo) = kernel_size, stride, out
    return [xp[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw] for i in range(kh) for j in range(kw)]


def _offset_dtype(kernel_size: Pair) -> np.dtype:
    return np.dtype(np.uint8 if kernel_size[0] * kernel_size[1] <= 255 else np.int32)


def _out_size(x_shape: tuple[int, ...], kernel_size: Pair, stride: Pair, padding: Pair) -> Pair:
    return (_pool_out(x_shape[2], kernel_size[0], stride[0], padding[0]),
            _pool_out(x_shape[3], kernel_size[1], stride[1], padding[1]))


# ---------------------------------------------------------------- max pooling: forward, scatter, gather
def _max_pool2d_forward(x: np.ndarray, *, kernel_size: Pair, stride: Pair, padding: Pair) -> tuple[np.ndarray,
                                                                                                     np.ndarray]:
    """y[n, c, p, q] = max_{i, j} x_pad[n, c, p*s + i, q*s + j] (x_pad padded with -inf); also the offsets."""
    out = _out_size(x.shape, kernel_size, stride, padding)
    views = _windows(_padded(x, padding, -np.inf), kernel_size, stride, out)
    kk = len(views)
    m = np.empty(x.shape[:2] + out, dtype=x.dtype)
    np.copyto(m, views[0])
    for v in views[1:]:
        np.maximum(m, v, out=m)
    # the first maximum in scan order = the number of leading offsets that are not the maximum
    idx = np.zeros(m.shape, dtype=_offset_dtype(kernel_size))
    if kk > 1:
        before = np.not_equal(views[0], m, out=scratch("mask", m.shape, np.dtype(np.bool_)))
        ne = scratch("mask2", m.shape, np.dtype(np.bool_))
        np.add(idx, before, out=idx, casting="unsafe")
        for v in views[1:-1]:
            np.logical_and(before, np.not_equal(v, m, out=ne), out=before)
            np.add(idx, before, out=idx, casting="unsafe")
    if np.isnan(m.sum(dtype=np.float64)):  # PyTorch routes a window holding NaN to its last NaN (rare: slow path)
        nan = np.isnan(m)
        for k in range(kk):
            np.copyto(idx, k, where=nan & np.isnan(views[k]))
    if padding != (0, 0):
        neg = m == -np.inf
        if neg.any():  # every real entry is -inf: PyTorch picks the first real position, never the padding
            h, w = x.shape[2:]
            rows = np.arange(out[0])[:, None] * stride[0] - padding[0]
            cols = np.arange(out[1])[None, :] * stride[1] - padding[1]
            for k in range(kk - 1, -1, -1):
                i, j = divmod(k, kernel_size[1])
                real = (rows + i >= 0) & (rows + i < h) & (cols + j >= 0) & (cols + j < w)
                np.copyto(idx, k, where=neg & real)
    return m, idx


def _max_pool2d_scatter_forward(g: np.ndarray, idx: np.ndarray, *, kernel_size: Pair, stride: Pair, padding: Pair,
                                input_size: Pair) -> np.ndarray:
    """dx_pad[n, c, p*s + i, q*s + j] += g[n, c, p, q] at each window's stored offset (i, j); dx = dx_pad cropped."""
    acc, dx = _zeros_padded(g.shape[:2] + input_size, padding, g.dtype)
    disjoint = stride[0] >= kernel_size[0] and stride[1] >= kernel_size[1]
    finite = bool(np.isfinite(g).all())
    part = None if disjoint else scratch("part", g.shape, g.dtype)
    for k, v in enumerate(_windows(acc, kernel_size, stride, g.shape[2:])):
        if disjoint:  # windows do not overlap: each position receives at most one gradient
            _select(g, idx, k, finite, out=v)
        else:
            np.add(v, _select(g, idx, k, finite, out=part), out=v)
    return _crop_into(acc, dx, padding)


def _max_pool2d_gather_forward(x: np.ndarray, idx: np.ndarray, *, kernel_size: Pair, stride: Pair,
                               padding: Pair) -> np.ndarray:
    """y[n, c, p, q] = x_pad[n, c, p*s + i, q*s + j] at each window's stored offset (i, j) (x_pad padded with 0)."""
    views = _windows(_padded(x, padding, 0.0), kernel_size, stride, idx.shape[2:])
    finite = bool(np.isfinite(x).all())
    out = _select(views[0], idx, 0, finite, out=np.empty(idx.shape, dtype=x.dtype))
    part = scratch("part", out.shape, out.dtype)
    for k, v in enumerate(views[1:], 1):
        np.add(out, _select(v, idx, k, finite, out=part), out=out)
    return out


def _select(v: np.ndarray, idx: np.ndarray, k: int, finite: bool, out: np.ndarray) -> np.ndarray:
    """out = v where idx == k, else 0 (a multiply by the mask, unless v holds inf/nan: 0 * inf is nan)."""
    mask = np.equal(idx, k, out=scratch("mask", idx.shape, np.dtype(np.bool_)))
    if finite:
        return np.multiply(v, mask, out=out)
    np.copyto(out, np.where(mask, v, np.zeros((), dtype=v.dtype)))
    return out


def _check_max_scatter(g: np.ndarray, idx: np.ndarray, *, kernel_size: Pair, stride: Pair, padding: Pair,
                       input_size: Pair) -> None:
    _check_float(g)
    _check_grad_shape(g, input_size, kernel_size, stride, padding)
    _check_offsets(idx, g.shape, kernel_size)


def _check_max_gather(x: np.ndarray, idx: np.ndarray, *, kernel_size: Pair, stride: Pair, padding: Pair) -> None:
    _check_pool(x, kernel_size=kernel_size, stride=stride, padding=padding)
    _check_offsets(idx, x.shape[:2] + _check_pool_geometry(x.shape, kernel_size, stride, padding), kernel_size)


# ---------------------------------------------------------------- average pooling: forward and spread
def _avg_pool2d_forward(x: np.ndarray, *, kernel_size: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    """y[n, c, p, q] = sum_{i, j} x_pad[n, c, p*s + i, q*s + j] / (kH kW)  (x_pad padded with 0)."""
    out = _out_size(x.shape, kernel_size, stride, padding)
    views = _windows(_padded(x, padding, 0.0), kernel_size, stride, out)
    acc = np.empty(x.shape[:2] + out, dtype=x.dtype)
    np.copyto(acc, views[0])
    for v in views[1:]:
        np.add(acc, v, out=acc)
    np.divide(acc, len(views), out=acc)
    return acc


def _avg_pool2d_spread_forward(g: np.ndarray, *, kernel_size: Pair, stride: Pair, padding: Pair,
                               input_size: Pair) -> np.ndarray:
    """dx[n, c, p*s + i, q*s + j] += g[n, c, p, q] / (kH kW) for every offset (i, j), cropped by the padding."""
    share = np.divide(g, kernel_size[0] * kernel_size[1], out=scratch("part", g.shape, g.dtype))
    acc, dx = _zeros_padded(g.shape[:2] + input_size, padding, g.dtype)
    disjoint = stride[0] >= kernel_size[0] and stride[1] >= kernel_size[1]
    for v in _windows(acc, kernel_size, stride, g.shape[2:]):
        if disjoint:
            np.copyto(v, share)
        else:
            np.add(v, share, out=v)
    return _crop_into(acc, dx, padding)


def _check_avg_spread(g: np.ndarray, *, kernel_size: Pair, stride: Pair, padding: Pair, input_size: Pair) -> None:
    _check_float(g)
    _check_grad_shape(g, input_size, kernel_size, stride, padding)


# ---------------------------------------------------------------- samples (small, no ties for max)
_SAMPLE_CONFIGS = [  # x shape, kernel, stride, padding
    ((2, 2, 4, 4), (2, 2), (2, 2), (0, 0)),
    ((1, 2, 5, 6), (3, 2), (2, 1), (1, 0)),
    ((1, 1, 5, 5), (3, 3), (1, 1), (1, 1)),
    ((2, 1, 7, 5), (2, 3), (3, 2), (1, 1)),
    ((1, 3, 3, 3), (3, 3), (1, 1), (0, 0)),
    ((1, 2, 1, 1), (1, 1), (1, 1), (0, 0)),
]


def _attrs(cfg: tuple) -> dict[str, Any]:
    return {"kernel_size": cfg[1], "stride": cfg[2], "padding": cfg[3]}


def _distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values at least 0.25 apart, so no window has a near-tie that finite differences would cross."""
    return (rng.permutation(int(np.prod(shape))).reshape(shape) - np.prod(shape) / 2) / 4.0


def _pooled(cfg: tuple) -> tuple[int, ...]:
    return cfg[0][:2] + _check_pool_geometry(cfg[0], cfg[1], cfg[2], cfg[3])


def _offsets(rng: np.random.Generator, cfg: tuple) -> np.ndarray:
    return rng.integers(0, cfg[1][0] * cfg[1][1], _pooled(cfg)).astype(_offset_dtype(cfg[1]))


# ---------------------------------------------------------------- the registered ops
_max_pool2d = register_op(
    "max_pool2d", _max_pool2d_forward,
    vjps=(lambda g, out, x, *, saved, **a: _max_pool2d_scatter(g, Tensor.wrap(saved), input_size=x.shape[2:], **a),),
    formula="y[n,c,p,q] = max_{i,j} x_pad[n,c,p*s+i,q*s+j];  dx = g scattered to each window's argmax",
    kind="pool", check=_check_pool, saves=True,
    samples=lambda rng: [Sample((_distinct(rng, c[0]),), _attrs(c)) for c in _SAMPLE_CONFIGS],
)
_max_pool2d_scatter = register_op(
    "max_pool2d_scatter", _max_pool2d_scatter_forward,
    vjps=(lambda gg, out, g, idx, *, input_size, **a: _max_pool2d_gather(gg, idx, **a), None),
    formula="z[n,c,p*s+i_k,q*s+j_k] += g[n,c,p,q] at stored window offsets k;  dg = G gathered at the same offsets",
    kind="pool", check=_check_max_scatter,
    samples=lambda rng: [Sample((rng.standard_normal(_pooled(c)), _offsets(rng, c)),
                                {**_attrs(c), "input_size": c[0][2:]}) for c in _SAMPLE_CONFIGS],
)
_max_pool2d_gather = register_op(
    "max_pool2d_gather", _max_pool2d_gather_forward,
    vjps=(lambda gg, out, x, idx, **a: _max_pool2d_scatter(gg, idx, input_size=x.shape[2:], **a), None),
    formula="y[n,c,p,q] = x_pad[n,c,p*s+i_k,q*s+j_k] at stored window offsets k;  dx = G scattered to them",
    kind="pool", check=_check_max_gather,
    samples=lambda rng: [Sample((rng.standard_normal(c[0]), _offsets(rng, c)), _attrs(c)) for c in _SAMPLE_CONFIGS],
)
_avg_pool2d = register_op(
    "avg_pool2d", _avg_pool2d_forward,
    vjps=(lambda g, out, x, **a: _avg_pool2d_spread(g, input_size=x.shape[2:], **a),),
    formula="y[n,c,p,q] = mean_{i,j} x_pad[n,c,p*s+i,q*s+j] (zeros counted);  dx = g/(kH kW) spread over each window",
    kind="pool", check=_check_pool,
    samples=lambda rng: [Sample((rng.standard_normal(c[0]),), _attrs(c)) for c in _SAMPLE_CONFIGS],
)
_avg_pool2d_spread = register_op(
    "avg_pool2d_spread", _avg_pool2d_spread_forward,
    vjps=(lambda gg, out, g, *, input_size, **a: _avg_pool2d(gg, **a),),
    formula="z[n,c,p*s+i,q*s+j] += g[n,c,p,q]/(kH kW) for all (i,j);  dg = avg_pool2d(G)",
    kind="pool", check=_check_avg_spread,
    samples=lambda rng: [Sample((rng.standard_normal(_pooled(c)),), {**_attrs(c), "input_size": c[0][2:]})
                         for c in _SAMPLE_CONFIGS],
)


# ---------------------------------------------------------------- public functions
def _pool_args(name: str, x: Any, kernel_size: Any, stride: Any, padding: Any, nd: int) -> tuple[Pair, Pair, Pair]:
    """Validate and normalise pooling arguments for ``nd`` spatial axes; returned as 2-D attributes."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: needs a floating-point input, got {x.dtype} (shape {x.shape})")
    layout = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
    if x.ndim != nd + 2:
        raise ValueError(f"{name}: input must be {nd + 2}-D {layout}, got shape {x.shape}")
    where = f"input {x.shape}"
    k = int_tuple(name, "kernel_size", kernel_size, nd, 1, where)
    s = k if stride is None else int_tuple(name, "stride", stride, nd, 1, where)
    p = int_tuple(name, "padding", padding, nd, 0, where)
    for n, ki, pi in zip(x.shape[2:], k, p):
        if 2 * pi > ki:
            raise ValueError(f"{name}: padding {p} must be at most half the kernel size {k} (input {x.shape})")
        if ki > n + 2 * pi:
            raise ValueError(f"{name}: kernel {k} is larger than the padded input (input {x.shape}, padding {p})")
    if nd == 1:
        return (1,) + k, (1,) + s, (0,) + p
    return k, s, p


def max_pool2d(x: Tensor, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0) -> Tensor:
    """Max pooling, PyTorch's ``F.max_pool2d``: y[n, c, p, q] = max_{i, j} x_pad[n, c, p*s + i, q*s + j].

    ``stride`` defaults to the kernel size; the padding (at most half the kernel) is -inf, so it never wins.
    The gradient goes to the window's maximum; among equal values to the first in row-major scan order,
    as PyTorch routes it (a window holding NaN outputs NaN and routes to its last NaN, as PyTorch).
    Output size per axis: floor((n + 2p - k) / s) + 1.
    """
    k, s, p = _pool_args("max_pool2d", x, kernel_size, stride, padding, 2)
    return _max_pool2d(x, kernel_size=k, stride=s, padding=p)


def avg_pool2d(x: Tensor, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0) -> Tensor:
    """Average pooling, PyTorch's ``F.avg_pool2d``: y[n, c, p, q] = sum_{i, j} x_pad[n, c, p*s + i, q*s + j] / (kH kW).

    Zero padding is counted in the divisor (PyTorch's count_include_pad=True); ``stride`` defaults to the
    kernel size. Its gradient spreads g / (kH kW) uniformly over each window.
    """
    k, s, p = _pool_args("avg_pool2d", x, kernel_size, stride, padding, 2)
    return _avg_pool2d(x, kernel_size=k, stride=s, padding=p)


def max_pool1d(x: Tensor, kernel_size: int, stride: int | None = None, padding: int = 0) -> Tensor:
    """Max pooling over the last axis of (N, C, L): y[n, c, t] = max_i x_pad[n, c, t*s + i] (as max_pool2d)."""
    k, s, p = _pool_args("max_pool1d", x, kernel_size, stride, padding, 1)
    y = _max_pool2d(x.reshape(x.shape[:2] + (1, x.shape[2])), kernel_size=k, stride=s, padding=p)
    return y.reshape(y.shape[:2] + y.shape[3:])


def avg_pool1d(x: Tensor, kernel_size: int, stride: int | None = None, padding: int = 0) -> Tensor:
    """Average pooling over the last axis of (N, C, L): y[n, c, t] = sum_i x_pad[n, c, t*s + i] / k."""
    k, s, p = _pool_args("avg_pool1d", x, kernel_size, stride, padding, 1)
    y = _avg_pool2d(x.reshape(x.shape[:2] + (1, x.shape[2])), kernel_size=k, stride=s, padding=p)
    return y.reshape(y.shape[:2] + y.shape[3:])


def global_avg_pool2d(x: Tensor, keepdims: bool = False) -> Tensor:
    """Mean over the spatial axes of (N, C, H, W): (N, C), or (N, C, 1, 1) with ``keepdims``
    (= PyTorch's ``adaptive_avg_pool2d(x, 1)``). A composite: sum / (H W)."""
    if not isinstance(x, Tensor) or x.ndim != 4:
        raise ValueError(f"global_avg_pool2d: input must be a 4-D Tensor (N, C, H, W), "
                         f"got shape {getattr(x, 'shape', x)}")
    return x.sum((2, 3), keepdims) / float(x.shape[2] * x.shape[3])


def _bins(n: int, m: int, dtype: np.dtype) -> np.ndarray:
    """(m, n) averaging matrix of PyTorch's adaptive pooling: row i averages [floor(i n/m), ceil((i+1) n/m))."""
    a = np.zeros((m, n), dtype=dtype)
    for i in range(m):
        lo, hi = (i * n) // m, -(-((i + 1) * n) // m)
        a[i, lo:hi] = 1.0 / (hi - lo)
    return a


def adaptive_avg_pool2d(x: Tensor, output_size: int | Pair) -> Tensor:
    """PyTorch's ``F.adaptive_avg_pool2d``: output cell (i, j) averages input rows [floor(iH/h), ceil((i+1)H/h))
    and columns likewise. Evenly divisible sizes run as avg_pool2d; others as A_h @ x @ A_w^T with constant
    averaging matrices (a composite, so it is differentiable to any order)."""
    name = "adaptive_avg_pool2d"
    if not isinstance(x, Tensor) or x.ndim != 4:
        raise ValueError(f"{name}: input must be a 4-D Tensor (N, C, H, W), got shape {getattr(x, 'shape', x)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: needs a floating-point input, got {x.dtype}")
    oh, ow = adaptive_output_size(name, output_size, x.shape)
    h, w = x.shape[2:]
    if h % oh == 0 and w % ow == 0:
        return _avg_pool2d(x, kernel_size=(h // oh, w // ow), stride=(h // oh, w // ow), padding=(0, 0))
    ah, aw = _bins(h, oh, x.dtype), _bins(w, ow, x.dtype)
    return (Tensor.wrap(ah) @ x) @ Tensor.wrap(np.ascontiguousarray(aw.T))


def adaptive_output_size(name: str, output_size: Any, input_shape: tuple[int, ...] | None = None) -> Any:
    """An adaptive pooling's ``output_size`` (an int, or a pair whose entries are ints >= 1 or None, None
    keeping the input's size along that axis, as PyTorch) as (h_out, w_out) for input (N, C, H, W); without
    ``input_shape`` (a module checking its argument) the None entries stay None. Errors name ``name``."""
    where = "" if input_shape is None else f"input {input_shape}"
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2 and any(s is None for s in output_size):
        fill = input_shape[2:] if input_shape is not None and len(input_shape) == 4 else (1, 1)
        sizes = int_tuple(name, "output_size", tuple(f if s is None else s for s, f in zip(output_size, fill)), 2, 1,
                          where)
        return sizes if input_shape is not None else tuple(None if s is None else c for s, c in zip(output_size, sizes))
    return int_tuple(name, "output_size", output_size, 2, 1, where)


def _bin_rows(n: int, m: int) -> np.ndarray:
    """(m, k) input indices of PyTorch's adaptive bins [floor(i n/m), ceil((i+1) n/m)), k the widest bin;
    a shorter bin repeats its last index (which changes neither its maximum nor the first one of them)."""
    i = np.arange(m)
    lo, hi = (i * n) // m, -(-((i + 1) * n) // m)
    k = int((hi - lo).max())
    return np.minimum(lo[:, None] + np.arange(k)[None, :], hi[:, None] - 1)


def adaptive_max_pool2d(x: Tensor, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """PyTorch's ``F.adaptive_max_pool2d``: y[n, c, i, j] = max of x[n, c, a, b] over the bin
    a in [floor(i H/h), ceil((i+1) H/h)), b in [floor(j W/w), ceil((j+1) W/w)) (bins overlap when h does not
    divide H). ``output_size`` is an int or a pair; a None entry keeps the input's size.

    The gradient goes to each bin's maximum, the first one in row-major order among equal values (a bin
    holding NaN outputs NaN and routes to its last NaN), as PyTorch; overlapping bins add up. Evenly divisible
    sizes run as max_pool2d; others gather every bin at once (one numpy fancy index, padded to the widest bin),
    take its argmax, and pick the maxima with ``getitem``, so the VJP is the scatter-add to the argmax and
    gradients of any order work."""
    name = "adaptive_max_pool2d"
    if not isinstance(x, Tensor) or x.ndim != 4:
        raise ValueError(f"{name}: input must be a 4-D Tensor (N, C, H, W), got shape {getattr(x, 'shape', x)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: needs a floating-point input, got {x.dtype} (shape {x.shape})")
    n, c, h, w = x.shape
    if h < 1 or w < 1 or c < 1:
        raise ValueError(f"{name}: the channel and spatial sizes must be >= 1, got input {x.shape}")
    oh, ow = adaptive_output_size(name, output_size, x.shape)
    if h % oh == 0 and w % ow == 0:
        return _max_pool2d(x, kernel_size=(h // oh, w // ow), stride=(h // oh, w // ow), padding=(0, 0))
    rows, cols = _bin_rows(h, oh), _bin_rows(w, ow)
    kh, kw = rows.shape[1], cols.shape[1]
    bins = x.data[:, :, rows[:, None, :, None], cols[None, :, None, :]].reshape(n, c, oh, ow, kh * kw)
    k = np.argmax(bins, axis=-1)  # the first maximum in row-major order (numpy's argmax takes the first)
    nan = np.isnan(bins)
    if nan.any():  # PyTorch routes a bin holding NaN to its last NaN
        last = kh * kw - 1 - np.argmax(nan[..., ::-1], axis=-1)
        k = np.where(nan.any(axis=-1), last, k)
    a, b = np.divmod(k, kw)
    r = rows[np.arange(oh)[:, None], a]
    s = cols[np.arange(ow)[None, :], b]
    return getitem(x, (np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], r, s))


__all__ = [
    "Pair", "max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d", "global_avg_pool2d", "adaptive_avg_pool2d",
    "adaptive_max_pool2d", "adaptive_output_size",
]
