"""Weight initialisers (He/Kaiming and Glorot/Xavier), drawn from a seed, with PyTorch's fan rules.

Every function returns a new numpy array of the requested shape (float32 unless ``dtype`` says
otherwise). ``rng`` is a ``numpy.random.Generator``, an integer seed, or None for the module's default
generator (reseed it with :func:`manual_seed`)::

    w = init.kaiming_normal((32, 1, 3, 3), rng=0)         # std = sqrt(2 / fan_in), fan_in = 1*3*3
    w = init.xavier_uniform((120, 400), rng=rng)          # bound = sqrt(6 / (fan_in + fan_out))

Fans follow ``torch.nn.init``: for a weight of shape (out, in, *kernel), fan_in = in * prod(kernel) and
fan_out = out * prod(kernel); a Linear weight is (out_features, in_features).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

Shape = tuple[int, ...]
RngLike = np.random.Generator | int | None

_default_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reseed the generator used when an initialiser or module gets ``rng=None``."""
    global _default_rng
    _default_rng = np.random.default_rng(seed)


def as_rng(rng: RngLike) -> np.random.Generator:
    """A Generator from a Generator (returned as is), an int seed, or None (the default generator)."""
    if rng is None:
        return _default_rng
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"init: rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")


def calculate_fan_in_and_fan_out(shape: Shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel): (in * k, out * k), k = prod(kernel)."""
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError(f"init: fan in and fan out need a weight with at least 2 dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity, as ``torch.nn.init.calculate_gain``.

    linear/conv/sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu with slope a: sqrt(2 / (1 + a^2)); selu: 3/4.
    """
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid", "conv_transpose1d", "conv_transpose2d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"init: unsupported nonlinearity {nonlinearity!r}")


def _fan(shape: Shape, mode: str) -> int:
    fan_in, fan_out = calculate_fan_in_and_fan_out(shape)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")


def uniform(shape: Shape, low: float = 0.0, high: float = 1.0, rng: RngLike = None,
            dtype: np.typing.DTypeLike = np.float32) -> np.ndarray:
    """Samples of U(low, high)."""
    return as_rng(rng).uniform(low, high, tuple(shape)).astype(dtype)


def normal(shape: Shape, mean: float = 0.0, std: float = 1.0, rng: RngLike = None,
           dtype: np.typing.DTypeLike = np.float32) -> np.ndarray:
    """Samples of N(mean, std^2)."""
    return (mean + std * as_rng(rng).standard_normal(tuple(shape))).astype(dtype)


def zeros(shape: Shape, dtype: np.typing.DTypeLike = np.float32) -> np.ndarray:
    """All zeros (the usual bias initialisation)."""
    return np.zeros(tuple(shape), dtype=dtype)


def kaiming_uniform(shape: Shape, a: float = 0.0, mode: Literal["fan_in", "fan_out"] = "fan_in",
                    nonlinearity: str = "leaky_relu", rng: RngLike = None,
                    dtype: np.typing.DTypeLike = np.float32) -> np.ndarray:
    """He et al. 2015, uniform: U(-b, b) with b = gain * sqrt(3 / fan); gain = calculate_gain(nonlinearity, a).

    With the defaults (a=0, leaky_relu) the gain is sqrt(2), the ReLU case.
    """
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(shape, mode))
    return uniform(shape, -bound, bound, rng, dtype)


def kaiming_normal(shape: Shape, a: float = 0.0, mode: Literal["fan_in", "fan_out"] = "fan_in",
                   nonlinearity: str = "leaky_relu", rng: RngLike = None,
                   dtype: np.typing.DTypeLike = np.float32) -> np.ndarray:
    """He et al. 2015, normal: N(0, std^2) with std = gain / sqrt(fan)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(shape, mode))
    return normal(shape, 0.0, std, rng, dtype)


def xavier_uniform(shape: Shape, gain: float = 1.0, rng: RngLike = None,
                   dtype: np.typing.DTypeLike = np.float32) -> np.ndarray:
    """Glorot & Bengio 2010, uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, -bound, bound, rng, dtype)


def xavier_normal(shape: Shape, gain: float = 1.0, rng: RngLike = None,
                  dtype: np.typing.DTypeLike = np.float32) -> np.ndarray:
    """Glorot & Bengio 2010, normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(shape)
    return normal(shape, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng, dtype)


def default_weight_and_bias(weight_shape: Shape, bias: bool, rng: RngLike = None,
                            dtype: np.typing.DTypeLike = np.float32) -> tuple[np.ndarray, np.ndarray | None]:
    """PyTorch's default for Linear and Conv layers: weight and bias both U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    (torch writes the weight's rule as kaiming_uniform with a = sqrt(5), which is the same bound.)
    """
    gen = as_rng(rng)
    fan_in, _ = calculate_fan_in_and_fan_out(weight_shape)
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    w = uniform(weight_shape, -bound, bound, gen, dtype)
    b = uniform((weight_shape[0],), -bound, bound, gen, dtype) if bias else None
    return w, b


__all__ = [
    "manual_seed", "as_rng", "calculate_fan_in_and_fan_out", "calculate_gain", "uniform", "normal", "zeros",
    "kaiming_uniform", "kaiming_normal", "xavier_uniform", "xavier_normal", "default_weight_and_bias",
]
