"""Normalisation: one primitive, ``standardize`` (zero mean and unit variance over some axes), and the three
norms of modern CNNs built on it.

    standardize over axes A (n elements per group):
        mu = mean_A x,   var = mean_A (x - mu)^2,   r = (var + eps)^(-1/2),   y = (x - mu) r
        dx = r (g - mean_A g - y mean_A(g y))          (derived in docs/ops/normalization.md)

* ``batch_norm``: A = every axis but the channels (1); in training mode the batch statistics normalise and
  update the running ones (unbiased variance, as PyTorch); in evaluation mode the running ones normalise.
* ``layer_norm``: A = the trailing ``normalized_shape`` axes of each example.
* ``group_norm``: the channels split into ``num_groups`` groups, A = a group's channels and all positions.

Each then applies the per-channel (or per-element, for layer norm) affine map ``y * weight + bias``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.registry import Sample, register_op
from ..core.tensor import Tensor, is_grad_enabled, no_grad
from .reduction import normalize_axes, sum as _sum


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _standardize_forward(x: np.ndarray, *, axes: tuple[int, ...], eps: float) -> tuple[np.ndarray, np.ndarray]:
    """(x - mean) / sqrt(biased var + eps) over ``axes``; saves r = 1 / sqrt(var + eps) (kept dims)."""
    xc = x - x.mean(axis=axes, keepdims=True)
    var = np.square(xc).mean(axis=axes, keepdims=True)
    r = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
    xc *= r
    return xc, r


def _rstd(x: Tensor, axes: tuple[int, ...], eps: float) -> Tensor:
    """r = (mean_A (x - mean_A x)^2 + eps)^(-1/2) in registered ops (differentiable in x)."""
    inv_n = 1.0 / _count(x.shape, axes)
    xc = x - _sum(x, axes, keepdims=True) * inv_n
    return (_sum(xc * xc, axes, keepdims=True) * inv_n + eps) ** -0.5


def _standardize_vjp(g: Tensor, out: Tensor, x: Tensor, *, axes: tuple[int, ...], eps: float,
                   saved: np.ndarray) -> Tensor:
    """dx = r (g - mean_A g - y mean_A(g y)). Under create_graph r is recomputed from x in registered ops,
    so that second derivatives see its dependence on x; otherwise the forward's r is reused."""
    r = _rstd(x, axes, eps) if is_grad_enabled() else Tensor.wrap(saved)
    inv_n = 1.0 / _count(x.shape, axes)
    g_mean = _sum(g, axes, keepdims=True) * inv_n
    gy_mean = _sum(g * out, axes, keepdims=True) * inv_n
    return r * (g - g_mean - out * gy_mean)


def _check_standardize(x: np.ndarray, *, axes: tuple[int, ...], eps: float) -> None:
    if x.dtype.kind != "f":
        raise TypeError(f"needs a floating-point input, got {x.dtype}")
    if not axes or any(not 0 <= a < x.ndim for a in axes) or len(set(axes)) != len(axes):
        raise ValueError(f"axes {axes} are not distinct axes of an input of shape {x.shape}")
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")


def _standardize_samples(rng: np.random.Generator) -> list[Sample]:
    cases = [((6, 3), (0,)), ((4, 3, 2, 2), (0, 2, 3)), ((2, 3, 5), (2,)), ((2, 3, 2, 2), (1, 2, 3)),
             ((2, 2, 6), (0, 2)), ((3, 2, 4), (1,))]
    return [Sample((rng.standard_normal(s) * 2.0 + 0.5,), {"axes": a, "eps": e})
            for s, a in cases for e in (1e-5, 0.5)]


_standardize = register_op(
    "standardize", _standardize_forward, vjps=(_standardize_vjp,),
    formula="y = (x - mean_A x) r,  r = (var_A x + eps)^-1/2;  dx = r (g - mean_A g - y mean_A(g y))",
    kind="normalization", check=_check_standardize, samples=_standardize_samples, saves=True,
)


def standardize(x: Tensor, axes: tuple[int, ...] | int, eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) over ``axes`` (biased variance): the primitive under every norm here.
    (PyTorch's ``F.normalize``, a division by the p-norm, is :func:`tinygrad_cnn.functional.normalize`.)"""
    if not isinstance(x, Tensor):
        raise TypeError(f"standardize: expected a Tensor, got {type(x).__name__}")
    try:
        norm = normalize_axes(axes, x.ndim)
    except (ValueError, TypeError) as e:
        raise type(e)(f"standardize: {e} (shape {x.shape})") from None
    return _standardize(x, axes=tuple(range(x.ndim)) if norm is None else norm, eps=_check_eps("standardize", eps))


# ---------------------------------------------------------------- argument checks shared by the norms
def _check_input(name: str, x: Any, min_ndim: int) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor input, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: needs a floating-point input, got {x.dtype}")
    if x.ndim < min_ndim:
        raise ValueError(f"{name}: expected an input with at least {min_ndim} dimensions, got shape {x.shape}")
    return x


def _check_eps(name: str, eps: Any) -> float:
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, (int, float, np.integer, np.floating)) \
            or not math.isfinite(eps) or eps < 0:
        raise ValueError(f"{name}: eps must be a finite number >= 0, got {eps!r}")
    return float(eps)


def _check_vector(name: str, what: str, v: Any, shape: tuple[int, ...], x: Tensor) -> Tensor | np.ndarray | None:
    """None, or a float Tensor / array of exactly ``shape`` (a weight, bias or running statistic)."""
    if v is None:
        return None
    if not isinstance(v, (Tensor, np.ndarray)):
        raise TypeError(f"{name}: {what} must be a Tensor (or None), got {type(v).__name__}")
    if tuple(v.shape) != tuple(shape):
        raise ValueError(f"{name}: {what} must have shape {tuple(shape)} for an input of shape {x.shape}, "
                         f"got {tuple(v.shape)}")
    if v.dtype.kind != "f":
        raise TypeError(f"{name}: {what} must be floating point, got {v.dtype}")
    return v


def _affine(y: Tensor, weight: Any, bias: Any, shape: tuple[int, ...]) -> Tensor:
    if weight is not None:
        y = y * (weight.reshape(shape) if isinstance(weight, Tensor) else Tensor.wrap(weight.reshape(shape)))
    if bias is not None:
        y = y + (bias.reshape(shape) if isinstance(bias, Tensor) else Tensor.wrap(bias.reshape(shape)))
    return y


def _update(stat: Tensor | np.ndarray, value: np.ndarray, momentum: float) -> None:
    """stat <- (1 - momentum) stat + momentum value, in place (a Tensor's version is bumped)."""
    data = stat.data if isinstance(stat, Tensor) else stat
    new = ((1.0 - momentum) * data + momentum * value).astype(data.dtype, copy=False)
    if isinstance(stat, Tensor):
        with no_grad():
            stat.copy_(new)
    else:
        np.copyto(stat, new)


# ---------------------------------------------------------------- the norms
def batch_norm(x: Tensor, running_mean: Tensor | np.ndarray | None, running_var: Tensor | np.ndarray | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """PyTorch's ``F.batch_norm`` for x (N, C) or (N, C, *spatial).

    Training: y = standardize(x) over (N, *spatial) per channel, times weight plus bias; the running
    statistics (when given) become ``(1 - momentum) * running + momentum * batch``, the batch variance
    taken unbiased (divided by n - 1, n = N * prod(spatial)), in place. Evaluation: y = (x - running_mean)
    / sqrt(running_var + eps) * weight + bias, a per-channel affine map of x.
    """
    name = "batch_norm"
    x = _check_input(name, x, 2)
    c = x.shape[1]
    running_mean = _check_vector(name, "running_mean", running_mean, (c,), x)
    running_var = _check_vector(name, "running_var", running_var, (c,), x)
    weight = _check_vector(name, "weight", weight, (c,), x)
    bias = _check_vector(name, "bias", bias, (c,), x)
    eps = _check_eps(name, eps)
    if isinstance(momentum, (bool, np.bool_)) or not isinstance(momentum, (int, float, np.integer, np.floating)) \
            or not math.isfinite(momentum):
        raise ValueError(f"{name}: momentum must be a finite number, got {momentum!r}")
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{name}: give both running_mean and running_var, or neither")
    shape = (1, c) + (1,) * (x.ndim - 2)
    if training:
        axes = (0,) + tuple(range(2, x.ndim))
        n = _count(x.shape, axes)
        if n <= 1:
            raise ValueError(f"{name}: expected more than 1 value per channel when training, got input of "
                             f"shape {x.shape}")
        if running_mean is not None:
            xd = x.data
            mean = xd.mean(axis=axes)
            var = np.square(xd - mean.reshape(shape)).sum(axis=axes) / (n - 1)
            _update(running_mean, mean, float(momentum))
            _update(running_var, var, float(momentum))
        return _affine(_standardize(x, axes=axes, eps=eps), weight, bias, shape)
    if running_mean is None:
        raise ValueError(f"{name}: evaluation mode (training=False) needs running_mean and running_var")

    def as_t(v: Any) -> Tensor:
        return v if isinstance(v, Tensor) else Tensor.wrap(np.asarray(v))

    rm, rv = as_t(running_mean).astype(x.dtype), as_t(running_var).astype(x.dtype)
    scale = (rv + eps) ** -0.5
    if weight is not None:
        scale = scale * as_t(weight)
    shift = -rm * scale
    if bias is not None:
        shift = shift + as_t(bias)
    return x * scale.reshape(shape) + shift.reshape(shape)


def layer_norm(x: Tensor, normalized_shape: int | tuple[int, ...] | list[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """PyTorch's ``F.layer_norm``: normalize over the trailing ``normalized_shape`` axes of x (which must
    end in that shape), then times ``weight`` plus ``bias`` (both of ``normalized_shape``)."""
    name = "layer_norm"
    x = _check_input(name, x, 1)
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{name}: normalized_shape must be an int or a sequence of ints, got "
                        f"{normalized_shape!r}") from None
    k = len(shape)
    if k == 0 or k > x.ndim or x.shape[x.ndim - k:] != shape:
        raise ValueError(f"{name}: normalized_shape {shape} must be the trailing dimensions of the input, got "
                         f"input of shape {x.shape}")
    weight = _check_vector(name, "weight", weight, shape, x)
    bias = _check_vector(name, "bias", bias, shape, x)
    y = _standardize(x, axes=tuple(range(x.ndim - k, x.ndim)), eps=_check_eps(name, eps))
    return _affine(y, weight, bias, shape)


def group_norm(x: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """PyTorch's ``F.group_norm`` for x (N, C, *): the C channels in ``num_groups`` consecutive groups, each
    normalized over its channels and all positions, then per-channel ``weight`` and ``bias``."""
    name = "group_norm"
    x = _check_input(name, x, 2)
    n, c = x.shape[:2]
    if isinstance(num_groups, (bool, np.bool_)) or not isinstance(num_groups, (int, np.integer)) \
            or num_groups < 1 or c % num_groups:
        raise ValueError(f"{name}: num_groups must be a positive int dividing the {c} channels of an input of "
                         f"shape {x.shape}, got {num_groups!r}")
    weight = _check_vector(name, "weight", weight, (c,), x)
    bias = _check_vector(name, "bias", bias, (c,), x)
    y = _standardize(x.reshape(n, int(num_groups), -1), axes=(2,), eps=_check_eps(name, eps)).reshape(x.shape)
    return _affine(y, weight, bias, (1, c) + (1,) * (x.ndim - 2))


__all__ = ["standardize", "batch_norm", "layer_norm", "group_norm"]
