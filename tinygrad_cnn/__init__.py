"""tinygrad_cnn: a small reverse-mode autograd engine for convolutional networks, on numpy.

    import tinygrad_cnn as tg
    import tinygrad_cnn.functional as F

    w = tg.Tensor(np.random.randn(3, 2), requires_grad=True)
    loss = ((tg.Tensor(x) @ w).sigmoid() - y).square().mean()
    loss.backward()                                  # w.grad
    g = tg.grad(loss_fn)(params, x, y)               # same structure as params
    tg.gradcheck(fn, (a, b))                         # central differences in float64
"""

from __future__ import annotations

import numpy as np

from . import memory  # noqa: F401  (opt-in: memory.keep_freed_memory(); importing changes nothing)
from . import ops  # noqa: F401  (fills the registry and attaches the Tensor methods)
from . import functional
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .registry import REGISTRY, Op, Sample, register_op
from .tensor import (Tensor, detect_anomaly, enable_grad, gradients, is_anomaly_enabled, is_grad_enabled, no_grad,
                     scope)
from .transforms import grad, value_and_grad
from .viz import draw_graph
from . import data, init, models, nn, optim, plots  # noqa: E402,F401  (the training layer)

__version__ = "0.1.0"


def tensor(data: object, requires_grad: bool = False, dtype: object = None, name: str | None = None) -> Tensor:
    """Shorthand for ``Tensor(data, requires_grad, dtype, name)``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def zeros(*shape: int, dtype: object = np.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (float32 unless ``dtype`` says otherwise)."""
    return Tensor(np.zeros(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape: int, dtype: object = np.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return Tensor(np.ones(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def randn(*shape: int, seed: int | None = None, dtype: object = np.float32, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from ``np.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    return Tensor(rng.standard_normal(_shape(shape)).astype(dtype), requires_grad=requires_grad)


def _shape(shape: tuple) -> tuple[int, ...]:
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


__all__ = [
    "Tensor", "tensor", "zeros", "ones", "randn", "functional", "grad", "value_and_grad", "gradients",
    "gradcheck", "gradgradcheck", "GradcheckError", "no_grad", "enable_grad", "is_grad_enabled",
    "detect_anomaly", "is_anomaly_enabled", "scope", "REGISTRY", "Op", "Sample", "register_op", "draw_graph",
    "nn", "optim", "data", "init", "models", "plots", "memory",
]
