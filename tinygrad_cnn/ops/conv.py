"""Convolution primitives: conv2d, its input-gradient (the transposed convolution) and its weight-gradient.

All three are one trilinear form read three ways. With ``T(x, w, g) = <conv2d(x, w), g>``:

* ``conv2d(x, w)``             is dT/dg  -- the cross-correlation every framework calls convolution,
* ``conv_transpose2d(g, w)``   is dT/dx  -- the full convolution of g (dilated by the stride) with the
  flipped kernel, cropped by the padding,
* ``conv2d_weight_grad(x, g)`` is dT/dw  -- the cross-correlation of the input with g (stride and
  dilation swap roles).

So each op's VJPs are the other two ops, and the set is closed under differentiation to any order.

This module holds the math: the primitives, their VJPs and formulas, the argument checks and the public
functions. How each primitive is computed (im2col and one GEMM in the reference, faster layouts beside it)
is in :mod:`.conv_algorithms`; which algorithm runs for given shapes is measured by :mod:`.planner`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.registry import Sample, is_int, register_op
from ..core.tensor import Tensor
from . import planner
from .common import Pair, Pads, check_pair, float_tensors, int_tuple, out_size, positive_int

Padding = int | tuple[int, ...] | tuple[tuple[int, int], ...] | str
"""A conv's padding: an int, one int per axis, one (before, after) pair per axis, 'valid' or 'same'."""


# ---------------------------------------------------------------- the kernels: the planner picks an algorithm
def _conv2d_forward(x: np.ndarray, w: np.ndarray, **geo: Any) -> np.ndarray:
    """y[n, o, p, q] = sum_{c, i, j} x_pad[n, g(o)*C/G + c, p*s + i*d, q*s + j*d] * w[o, c, i, j]."""
    size = tuple(out_size(*a) for a in zip(x.shape[2:], w.shape[2:], geo["stride"], geo["padding"], geo["dilation"]))
    return planner.run("conv2d", x, w, np.empty(x.shape[:1] + w.shape[:1] + size, x.dtype), w.shape[2:], **geo)


def _conv_transpose2d_forward(gy: np.ndarray, w: np.ndarray, **geo: Any) -> np.ndarray:
    """dx_pad[n, g(o)*C/G + c, p*s + i*d, q*s + j*d] += g[n, o, p, q] * w[o, c, i, j]; dx = dx_pad cropped."""
    out = np.empty((gy.shape[0], w.shape[1] * geo["groups"]) + tuple(geo["input_size"]), gy.dtype)
    return planner.run("conv_transpose2d", gy, w, out, w.shape[2:], **geo)


def _conv2d_weight_grad_forward(x: np.ndarray, gy: np.ndarray, **geo: Any) -> np.ndarray:
    """dw[o, c, i, j] = sum_{n, p, q} g[n, o, p, q] * x_pad[n, g(o)*C/G + c, p*s + i*d, q*s + j*d]."""
    out = np.empty((gy.shape[1], x.shape[1] // geo["groups"]) + tuple(geo["kernel_size"]), x.dtype)
    return planner.run("conv2d_weight_grad", x, gy, out, geo["kernel_size"], **geo)


# ---------------------------------------------------------------- checks
def _check_float(*arrays: np.ndarray) -> None:
    dts = [a.dtype for a in arrays]
    if any(d.kind != "f" for d in dts) or len(set(dts)) > 1:
        raise TypeError(f"needs floating-point operands of one dtype, got {', '.join(str(d) for d in dts)}")


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
    check_pair("input_size", input_size, 1, where)
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
    check_pair("kernel_size", kernel_size, 1, where)
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
def _is_side_pairs(v: Any) -> bool:
    """Whether ``v`` is written per side: a tuple (or list) holding (before, after) pairs."""
    return isinstance(v, (tuple, list)) and any(isinstance(p, (tuple, list)) for p in v)


def conv_pads(name: str, padding: Any, kernel: tuple[int, ...], stride: tuple[int, ...],
              dilation: tuple[int, ...], where: str = "") -> tuple[tuple[int, int], ...]:
    """A convolution's ``padding`` argument as (before, after) per spatial axis (``nd = len(kernel)``).

    Accepted: an int (every side); a tuple of ``nd`` ints (both sides of each axis, PyTorch's meaning);
    ``nd`` (before, after) pairs per side (for 2-D ``((top, bottom), (left, right))``, for 1-D
    ``((left, right),)``); 'valid' (none); 'same' (stride 1 only: d(k-1) in total per axis, the odd one at the
    end, as PyTorch). A malformed value is a TypeError, a negative side a ValueError; both name ``name`` and
    the shapes in ``where``.
    """
    nd, at = len(kernel), f" ({where})" if where else ""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(e != 1 for e in stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions "
                                 f"(stride {stride}){at}")
            return tuple(((di * (k - 1)) // 2, di * (k - 1) - (di * (k - 1)) // 2) for k, di in zip(kernel, dilation))
        raise ValueError(f"{name}: padding must be an int, a tuple, (before, after) pairs, 'valid' or 'same', "
                         f"got {padding!r}{at}")
    if _is_side_pairs(padding):
        sides = "((top, bottom), (left, right))" if nd == 2 else "((left, right),)"
        if len(padding) != nd or not all(isinstance(p, (tuple, list)) and len(p) == 2 and all(is_int(e) for e in p)
                                         for p in padding):
            raise TypeError(f"{name}: padding per side must be {sides} of ints (not bools), got {padding!r}{at}")
        pads = tuple((int(p[0]), int(p[1])) for p in padding)
        if any(e < 0 for p in pads for e in p):
            raise ValueError(f"{name}: padding must be >= 0 on every side {sides}, got {pads}{at}")
        return pads
    if nd == 1 and isinstance(padding, (tuple, list)) and len(padding) == 2:
        raise TypeError(f"{name}: padding must be an int, a 1-tuple (PyTorch's meaning) or ((left, right),) for "
                        f"different sides, got {padding!r}{at}")
    return tuple((p, p) for p in int_tuple(name, "padding", padding, nd, 0, where))


def _conv_args(name: str, x: Tensor, w: Tensor, b: Tensor | None, stride: Any, padding: Any, dilation: Any,
               groups: Any, nd: int) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...], tuple[int, ...], int]:
    """Validate and normalise conv arguments for ``nd`` spatial axes (1 or 2); messages name ``name``."""
    float_tensors(name, x, w, *([] if b is None else [b]))
    if x.ndim != nd + 2 or w.ndim != nd + 2:  # the geometry check words the message
        try:
            _check_geometry(x.shape, w.shape, (1,) * nd, ((0, 0),) * nd, (1,) * nd, 1)
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None
    where = f"input {x.shape}, weight {w.shape}"
    groups = positive_int(name, "groups", groups, where)
    s = int_tuple(name, "stride", stride, nd, 1, where)
    d = int_tuple(name, "dilation", dilation, nd, 1, where)
    pads = conv_pads(name, padding, w.shape[2:], s, d, where)
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
    ``padding`` is an int, a pair (both sides of H, of W), ((top, bottom), (left, right)) for different sides
    (the primitive pads each side on its own, so this costs nothing extra), 'valid' (0) or 'same' (stride 1
    only; an odd total pads one more at the bottom/right, as PyTorch does). Padding is with zeros; for
    reflect/replicate/circular pad first (``nn.Conv2d(padding_mode=...)`` does).
    """
    s, p, d, g = _conv_args("conv2d", x, w, b, stride, padding, dilation, groups, 2)
    return _add_bias(_conv2d(x, w, stride=s, padding=p, dilation=d, groups=g), b)


def conv1d(x: Tensor, w: Tensor, b: Tensor | None = None, stride: int | tuple[int] = 1, padding: Padding = 0,
           dilation: int | tuple[int] = 1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation), PyTorch's ``F.conv1d``: x (N, C_in, L), w (C_out, C_in/groups, k).

    y[n, o, t] = b[o] + sum_{c, i} x_pad[n, g*C_in/G + c, t*s + i*d] * w[o, c, i]; computed as conv2d on a
    height-1 image. ``padding`` is an int or a 1-tuple (both ends, PyTorch's meaning), ((left, right),) for
    different ends, 'valid' or 'same'.
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
    return _conv_transpose("conv_transpose2d", 2, x, w, b, stride, padding, output_padding, dilation, groups)


def conv_transpose1d(x: Tensor, w: Tensor, b: Tensor | None = None, stride: int | tuple[int] = 1,
                     padding: int | tuple[int] = 0, output_padding: int | tuple[int] = 0, groups: int = 1,
                     dilation: int | tuple[int] = 1) -> Tensor:
    """1-D transposed convolution, PyTorch's ``F.conv_transpose1d`` (its argument order: groups before dilation,
    unlike this package's ``conv_transpose2d``): the input-gradient of conv1d.

    x (N, C_in, L), w (C_in, C_out/groups, k), b (C_out,) or None::

        y[n, c, t*s + i*d - pad] += x[n, o, t] * w[o, c, i]

    Output length: (L - 1)s - 2 pad + d(k - 1) + output_padding + 1. Computed as conv_transpose2d on a
    height-1 image (reshapes around the same primitive), so every gradient order comes with it.
    """
    return _conv_transpose("conv_transpose1d", 1, x, w, b, stride, padding, output_padding, dilation, groups)


def _conv_transpose(name: str, nd: int, x: Tensor, w: Tensor, b: Tensor | None, stride: Any, padding: Any,
                    output_padding: Any, dilation: Any, groups: Any) -> Tensor:
    """conv_transpose1d / conv_transpose2d (``nd`` spatial axes): check the arguments (errors name ``name`` and
    the caller's shapes), then run the conv_transpose2d primitive, on a height-1 image when ``nd`` is 1."""
    float_tensors(name, x, w, *([] if b is None else [b]))
    if x.ndim != nd + 2 or w.ndim != nd + 2:
        layout = ("(N, C_in, L)", "(C_in, C_out/groups, k)") if nd == 1 else \
            ("(N, C_in, H, W)", "(C_in, C_out/groups, kH, kW)")
        raise ValueError(f"{name}: needs input {layout[0]} and weight {layout[1]}, "
                         f"got shapes {x.shape} and {w.shape}")
    where = f"input {x.shape}, weight {w.shape}"
    g = positive_int(name, "groups", groups, where)
    s = int_tuple(name, "stride", stride, nd, 1, where)
    d = int_tuple(name, "dilation", dilation, nd, 1, where)
    p = int_tuple(name, "padding", padding, nd, 0, where)
    op = int_tuple(name, "output_padding", output_padding, nd, 0, where)
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
    if nd == 1:  # a height-1 image: kernel height 1, no stride, padding or dilation along it
        x, w = x.reshape(x.shape[:2] + (1, x.shape[2])), w.reshape(w.shape[:2] + (1, w.shape[2]))
        s, d, p, size = (1,) + s, (1,) + d, (0,) + p, (1,) + size
    pads = ((p[0], p[0]), (p[1], p[1]))
    full = tuple(out_size(n, k, si, pp, di) for n, k, si, pp, di in zip(size, w.shape[2:], s, pads, d))
    if full != x.shape[2:]:  # output_padding >= stride: the conv of `size` has outputs x does not reach
        x = x.pad(((0, 0), (0, 0), (0, full[0] - x.shape[2]), (0, full[1] - x.shape[3])))
    y = _conv_transpose2d(x, w, stride=s, padding=pads, dilation=d, groups=g, input_size=size)
    return _add_bias(y.reshape(y.shape[:2] + y.shape[3:]) if nd == 1 else y, b)


__all__ = ["Padding", "conv_pads", "conv2d", "conv1d", "conv_transpose2d", "conv_transpose1d"]
