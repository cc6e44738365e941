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

from . import ops  # noqa: F401  (fills the registry and attaches the Tensor methods)
from . import functional
from . import methods  # noqa: F401  (attaches the Tensor methods: the table in methods.py)
from .ops.planner import conv_algorithm
from .functional import cat, stack
from .core import (REGISTRY, GradcheckError, Op, Sample, Tensor, detect_anomaly, enable_grad, grad, gradcheck,
                   gradgradcheck, gradients, is_anomaly_enabled, is_grad_enabled, no_grad, register_op, scope,
                   value_and_grad)

# The layers above the engine load on first use (``tg.nn``, ``tg.optim``, ...), so that importing the
# package stays quick: {attribute: (module, attribute in it or None for the module itself)}.
_LAZY = {
    "memory": (".memory", None), "nn": (".nn", None), "init": (".nn.init", None), "optim": (".optim", None),
    "data": (".data", None), "models": (".models", None), "viz": (".viz", None), "plots": (".viz.plots", None),
    "draw_graph": (".viz", "draw_graph"), "train": (".train", None), "cli": (".cli", None),
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = importlib.import_module(module, __name__)
        value = value if attr is None else getattr(value, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tinygrad_cnn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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


def zeros_like(t: Tensor | np.ndarray, dtype: object = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``t``'s shape and dtype (or ``dtype``), as ``torch.zeros_like``."""
    a = t.data if isinstance(t, Tensor) else np.asarray(t)
    return Tensor(np.zeros(a.shape, dtype=a.dtype if dtype is None else dtype), requires_grad=requires_grad)


def ones_like(t: Tensor | np.ndarray, dtype: object = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``t``'s shape and dtype (or ``dtype``), as ``torch.ones_like``."""
    a = t.data if isinstance(t, Tensor) else np.asarray(t)
    return Tensor(np.ones(a.shape, dtype=a.dtype if dtype is None else dtype), requires_grad=requires_grad)


def _number_dtype(who: str, *values: object) -> type:
    """PyTorch's default dtype for Python numbers: bool if all are bools, else int64 if all are integers, else
    float32."""
    for v in values:
        if isinstance(v, Tensor) or (isinstance(v, np.ndarray) and v.ndim) or not isinstance(
                v, (bool, int, float, np.bool_, np.integer, np.floating, np.ndarray)):
            raise TypeError(f"{who}: expected a number, got {v!r} ({type(v).__name__})")
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return np.bool_
    if all(isinstance(v, (int, np.integer, bool, np.bool_)) for v in values):
        return np.int64
    return np.float32


def full(shape: int | tuple[int, ...], value: float | int | bool, dtype: object = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with ``value``; the dtype as ``torch.full``'s: float32 for a float, int64
    for an int, bool for a bool, unless ``dtype`` is given."""
    dt = _number_dtype("full", value) if dtype is None else dtype
    return Tensor(np.full(_shape((shape,)), value, dtype=dt), requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: object = None,
           requires_grad: bool = False) -> Tensor:
    """``arange(end)`` or ``arange(start, end, step)``: values from ``start`` (inclusive) to ``end``
    (exclusive), as ``torch.arange``: int64 when all are integers, float32 otherwise, unless ``dtype`` is given."""
    if end is None:
        start, end = 0, start
    dt = _number_dtype("arange", start, end, step) if dtype is None else dtype
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    return Tensor(np.arange(start, end, step).astype(dt, copy=False), requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: object = np.float32, requires_grad: bool = False) -> Tensor:
    """The ``n`` x ``m`` (default ``n`` x ``n``) identity matrix, float32 unless ``dtype`` says otherwise."""
    return Tensor(np.eye(n, m, dtype=dtype), requires_grad=requires_grad)


def _shape(shape: tuple) -> tuple[int, ...]:
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


__all__ = [
    "Tensor", "tensor", "zeros", "ones", "randn", "zeros_like", "ones_like", "full", "arange", "eye", "functional", "grad", "value_and_grad", "gradients",
    "gradcheck", "gradgradcheck", "GradcheckError", "no_grad", "enable_grad", "is_grad_enabled",
    "detect_anomaly", "is_anomaly_enabled", "scope", "REGISTRY", "Op", "Sample", "register_op", "draw_graph",
    "nn", "optim", "data", "init", "models", "plots", "memory", "conv_algorithm", "cat", "stack",
]
