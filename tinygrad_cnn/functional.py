"""``tinygrad_cnn.functional`` (import it as ``F``): every op as a function, and the composites.

Composites are built from registered primitives, so they need no backward rule of their own: their
gradients (of any order) come from the primitives' VJPs. Each is also a Tensor method.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .ops.conv import conv1d, conv2d, conv_transpose2d  # noqa: F401  (re-exported)
from .ops.pool import (  # noqa: F401
    adaptive_avg_pool2d, avg_pool1d, avg_pool2d, global_avg_pool2d, max_pool1d, max_pool2d,
)
from .ops.elementwise import (  # noqa: F401  (re-exported)
    add, astype, div, eq, exp, ge, gt, le, log, lt, mul, ne, neg, operands, pow, relu, sigmoid, sub, tanh, where,
)
from .ops.matmul import matmul  # noqa: F401
from .ops.movement import (  # noqa: F401
    broadcast_to, expand_dims, flip, getitem, pad, permute, reshape, scatter, squeeze, swapaxes, transpose,
)
from .ops.reduction import Axis, kept_shape, max, normalize_axes, sum, sum_to  # noqa: F401
from .registry import as_tensor, tensor_method
from .tensor import Tensor

Reduction = Literal["mean", "sum", "none"]


@tensor_method
def mean(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis`` (None: all): sum / count."""
    axes = normalize_axes(axis, x.ndim)
    count = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
    return x.sum(axes, keepdims) / float(count)


@tensor_method
def var(x: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over ``axis``: mean of squared deviations, divided by (count - ddof)."""
    axes = normalize_axes(axis, x.ndim)
    count = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
    centered = x - x.mean(axes, keepdims=True)
    return (centered * centered).sum(axes, keepdims) / float(count - ddof)


@tensor_method
def min(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum over ``axis``: -max(-x)."""
    return -((-x).max(axis, keepdims))


@tensor_method
def argmax(x: Tensor, axis: int | None = None) -> Tensor:
    """Index of the maximum along ``axis`` (an integer tensor, no gradient)."""
    return Tensor._make(np.asarray(np.argmax(x.data, axis=axis)))


@tensor_method
def square(x: Tensor) -> Tensor:
    """x * x."""
    return x * x


@tensor_method
def sqrt(x: Tensor) -> Tensor:
    """x ** 0.5."""
    return x ** 0.5


@tensor_method
def abs(x: Tensor) -> Tensor:  # noqa: A001
    """|x| = x * sign(x); its derivative at 0 is taken as 0."""
    return x * Tensor._make(np.sign(x.data))


@tensor_method
def logsumexp(x: Tensor, axis: Axis = -1, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``axis``, computed as m + log(sum(exp(x - m))) with m the (constant) max."""
    axes = normalize_axes(axis, x.ndim)
    m = Tensor._make(np.max(x.data, axis=axes, keepdims=True))
    out = (x - m).exp().sum(axes, keepdims=True).log() + m
    return out if keepdims else out.reshape(tuple(n for i, n in enumerate(x.shape) if axes is not None and i not in axes))


@tensor_method
def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x): finite for any finite logits (the max is subtracted first)."""
    return x - x.logsumexp(axis, keepdims=True)


@tensor_method
def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x - max) / sum(exp(x - max)) along ``axis``."""
    e = (x - Tensor._make(np.max(x.data, axis=axis, keepdims=True))).exp()
    return e / e.sum(axis, keepdims=True)


def _reduce(loss: Tensor, reduction: Reduction, name: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def cross_entropy(logits: Tensor, target: Tensor | np.ndarray | list[int], reduction: Reduction = "mean") -> Tensor:
    """Softmax cross-entropy: -log_softmax(logits)[i, target[i]], for logits (N, C), integer targets (N,)."""
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {logits.shape}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: targets must be integer class indices, got dtype {t.dtype}")
    if t.shape != logits.shape[:1]:
        raise ValueError(f"cross_entropy: targets of shape {t.shape} do not match logits {logits.shape} (need ({logits.shape[0]},))")
    if t.size and (t.min() < 0 or t.max() >= logits.shape[1]):
        raise ValueError(f"cross_entropy: targets must lie in [0, {logits.shape[1]}), got range [{t.min()}, {t.max()}]")
    nll = -logits.log_softmax(axis=1)[np.arange(len(t)), t]
    return _reduce(nll, reduction, "cross_entropy")


Tensor.cross_entropy = cross_entropy  # type: ignore[attr-defined]


def nll_loss(log_probs: Tensor, target: Tensor | np.ndarray, reduction: Reduction = "mean") -> Tensor:
    """-log_probs[i, target[i]] for log-probabilities (N, C)."""
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if log_probs.ndim != 2 or t.shape != log_probs.shape[:1] or t.dtype.kind not in "iu":
        raise ValueError(f"nll_loss: need log-probs (N, C) and integer targets (N,), got {log_probs.shape} and {t.shape} {t.dtype}")
    return _reduce(-log_probs[np.arange(len(t)), t], reduction, "nll_loss")


def mse_loss(pred: Tensor, target: Tensor | np.ndarray, reduction: Reduction = "mean") -> Tensor:
    """Mean squared error (pred - target)^2; the shapes must match exactly (no silent broadcasting)."""
    tgt = as_tensor(target, pred.dtype)
    if tgt.shape != pred.shape:
        raise ValueError(f"mse_loss: prediction {pred.shape} and target {tgt.shape} must have the same shape")
    return _reduce((pred - tgt).square(), reduction, "mse_loss")


Tensor.mse_loss = mse_loss  # type: ignore[attr-defined]


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


@tensor_method
def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes start_dim..end_dim into one (PyTorch's flatten; nn.Flatten uses start_dim=1)."""
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}")
    return x.reshape(x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:])


__all__ = [n for n in dir() if not n.startswith("_") and n not in {"annotations", "Any", "Literal", "np"}]
