"""The Tensor method table: every method and operator of :class:`Tensor` that an op provides, with the
function it calls. Importing the package attaches them (``tinygrad_cnn/__init__.py``); the class body of
``core/tensor.py`` declares the same names for editors and type checkers, and ``tests/test_methods.py``
checks that the two lists agree and that nothing else attaches methods to Tensor.

``x.relu()`` is ``F.relu(x)``: a method is the function with the tensor as its first argument, so each op
still lives in one place (its module under ``ops/``, or ``functional.py`` for composites).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import functional as F
from .core.tensor import Tensor
from .ops import conv, elementwise as ew, matmul as mm, movement as mv, pool, reduction as rd


def _reflected(fn: Callable[[Any, Any], Tensor]) -> Callable[[Tensor, Any], Tensor]:
    """``other <op> self``, for the reflected operators (``2 * x`` calls ``x.__rmul__(2)``)."""

    def reflected(self: Tensor, other: Any) -> Tensor:
        return fn(other, self)

    reflected.__name__ = reflected.__qualname__ = f"reflected_{fn.__name__}"
    reflected.__doc__ = f"``other {fn.__name__} self``."
    return reflected


def _rpow(self: Tensor, base: Any) -> Tensor:
    """``base ** self`` (the ``rpow`` primitive)."""
    return ew.rpow(base, self)


def _where(self: Tensor, a: Any, b: Any) -> Tensor:
    """``cond.where(a, b)``: ``a`` where this boolean tensor is true, else ``b``."""
    return ew.where(self, a, b)


def _float(self: Tensor) -> Tensor:
    """The tensor as float32 (differentiable)."""
    return ew.astype(self, np.float32)


def _double(self: Tensor) -> Tensor:
    """The tensor as float64 (differentiable)."""
    return ew.astype(self, np.float64)


def _draw(self: Tensor, *others: Tensor, **kwargs: Any) -> Any:
    """``t.draw(**options)``: the same as ``tg.draw_graph(t, **options)`` (graphviz; loaded on first use)."""
    from .viz import draw_graph

    return draw_graph(self, *others, **kwargs)


METHODS: dict[str, Any] = {
    # arithmetic and comparison operators
    "__add__": ew.add, "__radd__": _reflected(ew.add), "__sub__": ew.sub, "__rsub__": _reflected(ew.sub),
    "__mul__": ew.mul, "__rmul__": _reflected(ew.mul), "__truediv__": ew.div, "__rtruediv__": _reflected(ew.div),
    "__matmul__": mm.matmul, "__rmatmul__": _reflected(mm.matmul), "__pow__": ew.pow, "__rpow__": _rpow,
    "__neg__": ew.neg, "__getitem__": mv.getitem,
    "__eq__": ew.eq, "__ne__": ew.ne, "__lt__": ew.lt, "__le__": ew.le, "__gt__": ew.gt, "__ge__": ew.ge,
    # elementwise
    "add": ew.add, "sub": ew.sub, "mul": ew.mul, "div": ew.div, "neg": ew.neg, "pow": ew.pow,
    "exp": ew.exp, "log": ew.log, "relu": ew.relu, "sigmoid": ew.sigmoid, "tanh": ew.tanh, "erf": ew.erf,
    "sqrt": F.sqrt, "square": F.square, "abs": F.abs, "clamp": ew.clamp, "clip": ew.clamp, "clone": ew.clone,
    "maximum": F.maximum, "minimum": F.minimum, "where": _where, "astype": ew.astype, "float": _float, "double": _double,
    # reductions
    "sum": rd.sum, "max": rd.max, "min": F.min, "mean": F.mean, "var": F.var, "logsumexp": F.logsumexp,
    "argmax": F.argmax, "argmin": F.argmin, "sum_to": rd.sum_to,
    # movement
    "reshape": mv.reshape, "view": mv.view, "permute": mv.permute, "transpose": mv.transpose,
    "T": property(mv.transpose, doc="The tensor with its axes reversed (numpy's ``.T``)."), "t": mv.t,
    "swapaxes": mv.swapaxes, "broadcast_to": mv.broadcast_to, "expand_dims": mv.expand_dims,
    "unsqueeze": mv.unsqueeze, "squeeze": mv.squeeze, "flatten": F.flatten, "flip": mv.flip, "pad": mv.pad,
    "split": F.split, "chunk": F.chunk,
    # matmul, convolution, pooling
    "matmul": mm.matmul, "conv1d": conv.conv1d, "conv2d": conv.conv2d, "conv_transpose2d": conv.conv_transpose2d,
    "conv_transpose1d": conv.conv_transpose1d,
    "max_pool1d": pool.max_pool1d, "max_pool2d": pool.max_pool2d, "avg_pool1d": pool.avg_pool1d,
    "avg_pool2d": pool.avg_pool2d, "global_avg_pool2d": pool.global_avg_pool2d,
    "adaptive_avg_pool2d": pool.adaptive_avg_pool2d,
    # composites, pictures
    "softmax": F.softmax, "log_softmax": F.log_softmax, "cross_entropy": F.cross_entropy, "mse_loss": F.mse_loss,
    "draw": _draw,
}


def attach() -> None:
    """Set every entry of :data:`METHODS` on :class:`Tensor`."""
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)


attach()

__all__ = ["METHODS", "attach"]
