"""Function transforms: ``grad`` and ``value_and_grad`` over parameter structures (dict/list/tuple).

``tg.grad(loss)(params, x, y)`` returns d loss / d params with the structure of ``params``. The
tensors' ``.grad`` fields are not touched. Transforms nest: the inner one records its backward pass
(``create_graph``) when called inside an outer one, so ``grad(grad(f))`` gives second derivatives.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .tensor import Tensor, enable_grad, gradients, transform_level
from .tree import tree_flatten


def _as_leaf(x: Any, path: str) -> Tensor:
    if isinstance(x, Tensor):
        if x.dtype.kind != "f":
            raise TypeError(f"grad: parameter {path or '0'} has dtype {x.dtype}; only float tensors have gradients")
        return x if x.requires_grad else Tensor(x.data, requires_grad=True, name=x.name or path or None)
    arr = np.asarray(x)
    if arr.dtype.kind != "f":
        raise TypeError(f"grad: parameter {path or '0'} must be a float tensor or array, got {arr.dtype}")
    return Tensor(arr, requires_grad=True, name=path or None)


def value_and_grad(
    fn: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable[..., tuple[Any, Any]]:
    """Wrap ``fn`` to return ``(fn(*args), d fn / d args[argnums])``; ``fn`` must return a scalar Tensor
    (or ``(scalar, aux)`` with ``has_aux=True``). Gradients mirror the structure of each argument."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        args = list(args)
        rebuilds, leaves = [], []
        for n in nums:
            if n >= len(args):
                raise ValueError(f"grad: argnums {n} but only {len(args)} positional arguments were given")
            flat, rebuild = tree_flatten(args[n])
            ts = [_as_leaf(v, p) for p, v in flat]
            args[n] = rebuild(ts)
            rebuilds.append((rebuild, len(ts)))
            leaves.extend(ts)
        with transform_level() as outer, enable_grad():
            result = fn(*args, **kwargs)
        value, aux = result if has_aux else (result, None)
        if not isinstance(value, Tensor) or value.size != 1:
            shape = value.shape if isinstance(value, Tensor) else type(value).__name__
            raise ValueError(f"grad: the function must return a scalar Tensor, got {shape}")
        if value.requires_grad:
            gs = gradients(value.reshape(()), leaves, create_graph=outer > 0, allow_unused=True)
        else:
            gs = (None,) * len(leaves)
        gs = [Tensor(np.zeros_like(t.data)) if g is None else g for g, t in zip(gs, leaves)]
        out, i = [], 0
        for rebuild, n in rebuilds:
            out.append(rebuild(gs[i:i + n]))
            i += n
        grads = out[0] if isinstance(argnums, int) else tuple(out)
        return ((value, aux), grads) if has_aux else (value, grads)

    return wrapped


def grad(fn: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable[..., Any]:
    """Wrap ``fn`` to return only the gradient (see :func:`value_and_grad`)."""
    vg = value_and_grad(fn, argnums, has_aux)

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapped


__all__ = [
    "value_and_grad", "grad",
]
