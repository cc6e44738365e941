"""Matrix multiplication: 2-D and batched, with numpy's broadcasting of the batch axes."""

from __future__ import annotations

import numpy as np

from ..core.registry import Sample, register_op
from ..core.tensor import Tensor
from .elementwise import broadcast_shape, pair


def _check_matmul(a: np.ndarray, b: np.ndarray) -> None:
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"needs 2-D or batched operands, got shapes {a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"shapes {a.shape} and {b.shape} are not aligned: "
            f"{a.shape[-1]} (last axis of a) != {b.shape[-2]} (second-to-last axis of b)"
        )
    if a.shape[:-2] != b.shape[:-2]:
        try:
            broadcast_shape(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(f"batch axes of shapes {a.shape} and {b.shape} cannot be broadcast together") from None


def _matmul_samples(rng: np.random.Generator) -> list[Sample]:
    pairs = [((3, 4), (4, 5)), ((1, 3), (3, 1)), ((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 2)),
             ((5, 1, 2, 3), (4, 3, 2))]
    return [Sample((rng.standard_normal(a), rng.standard_normal(b))) for a, b in pairs]


_matmul = register_op(
    "matmul", np.matmul,
    vjps=(lambda g, out, a, b: (g @ b.swapaxes(-1, -2)).sum_to(a.shape),
          lambda g, out, a, b: (a.swapaxes(-1, -2) @ g).sum_to(b.shape)),
    formula="Z = A B;  dA = G B^T,  dB = A^T G  (summed over broadcast batch axes)",
    kind="matmul", check=_check_matmul, samples=_matmul_samples,
)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` as numpy's matmul: 1-D operands are promoted to a row / column and squeezed back."""
    a, b = pair(a, b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: scalar operands are not allowed (shapes {a.shape} and {b.shape}); use *")
    va, vb = a.ndim == 1, b.ndim == 1
    if va:
        a = a.reshape(1, a.shape[0])
    if vb:
        b = b.reshape(b.shape[0], 1)
    out = _matmul(a, b)
    if va or vb:
        out = out.reshape(out.shape[:-2] + (() if va else out.shape[-2:-1]) + (() if vb else out.shape[-1:]))
    return out




__all__ = [
    "matmul",
]
