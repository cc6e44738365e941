"""Finite-difference checks of gradients: ``gradcheck`` (first order) and ``gradgradcheck`` (second).

The analytical Jacobian is built row by row from backward passes with one-hot cotangents; the numerical
one by central differences, (f(x + eps) - f(x - eps)) / (2 eps), one input element at a time, in float64.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .tensor import Tensor, enable_grad, gradients


class GradcheckError(RuntimeError):
    """Analytical and numerical gradients disagree (the message says where and by how much)."""


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _prepare(inputs: Sequence[Any], what: str) -> tuple[list[Tensor], list[int]]:
    ts = [x if isinstance(x, Tensor) else Tensor(np.asarray(x)) if isinstance(x, np.ndarray) else x for x in inputs]
    tensors = [t for t in ts if isinstance(t, Tensor)]
    checked = [i for i, t in enumerate(ts) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:  # nothing marked: check every float input
        checked = [i for i, t in enumerate(ts) if isinstance(t, Tensor) and t.dtype.kind == "f"]
    if not tensors or not checked:
        raise ValueError(f"{what}: no floating-point tensor input to check")
    for i in checked:
        if ts[i].dtype != np.float64:
            raise TypeError(
                f"{what}: input {i} is {ts[i].dtype}; finite differences need float64 "
                f"(eps=1e-6 is below float32's resolution). Pass Tensor(x.numpy().astype(np.float64), requires_grad=True)"
            )
    # fresh leaves with copied data: the check perturbs them in place and must not touch the caller's tensors
    fresh = [Tensor(t.data.copy(), requires_grad=i in checked) if isinstance(t, Tensor) else t for i, t in enumerate(ts)]
    return fresh, checked


def _outputs(fn: Callable[..., Any], args: Sequence[Any]) -> list[Tensor]:
    out = _as_tuple(fn(*args))
    for o in out:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: the function must return Tensors, got {type(o).__name__}")
    return [o for o in out if o.dtype.kind == "f"]


def _analytical(fn: Callable[..., Any], args: list[Any], checked: list[int]) -> list[np.ndarray]:
    """J[i] of shape (input i size, total output size) from one backward pass per output element."""
    with enable_grad():
        outs = _outputs(fn, args)
    total = sum(o.size for o in outs)
    jac = [np.zeros((args[i].size, total)) for i in checked]
    col = 0
    for o in outs:
        for j in range(o.size):
            if o.requires_grad:
                onehot = np.zeros(o.size, dtype=o.dtype)
                onehot[j] = 1.0
                gs = gradients(o, [args[i] for i in checked], grad_outputs=onehot.reshape(o.shape),
                               retain_graph=True, allow_unused=True)
                for k, g in enumerate(gs):
                    if g is not None:
                        jac[k][:, col] = g.data.reshape(-1)
            col += 1
    return jac


def _numerical(fn: Callable[..., Any], args: list[Any], checked: list[int], eps: float) -> list[np.ndarray]:
    """J[i] of shape (input i size, total output size) by central differences."""
    jac = []
    for i in checked:
        x = args[i].data
        flat = x.reshape(-1)  # a view: x is a fresh contiguous copy
        rows = []
        for k in range(x.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = np.concatenate([o.data.reshape(-1) for o in _outputs(fn, args)] or [np.zeros(0)])
            flat[k] = orig - eps
            minus = np.concatenate([o.data.reshape(-1) for o in _outputs(fn, args)] or [np.zeros(0)])
            flat[k] = orig
            rows.append((plus - minus) / (2 * eps))
        jac.append(np.array(rows).reshape(x.size, -1))
    return jac


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare ``fn``'s gradients with central finite differences, in float64.

    ``inputs`` is a Tensor or a tuple of them (other values pass through). The inputs with
    ``requires_grad=True`` are checked (all float inputs if none is marked). Passes when every Jacobian
    entry satisfies ``|analytical - numerical| <= atol + rtol * |numerical|``. On failure raises
    :class:`GradcheckError` naming the input, the worst element and both values (or returns False
    with ``raise_exception=False``).
    """
    args, checked = _prepare(_as_tuple(inputs), "gradcheck")
    analytical = _analytical(fn, args, checked)
    numerical = _numerical(fn, args, checked, eps)
    for i, a, n in zip(checked, analytical, numerical):
        if a.shape != n.shape:
            raise GradcheckError(f"gradcheck: input {i}: Jacobian shapes differ ({a.shape} vs {n.shape})")
        err = np.abs(a - n)
        excess = err - (atol + rtol * np.abs(n))
        if a.size and excess.max() > 0:
            k, j = np.unravel_index(np.argmax(excess), a.shape)
            where = np.unravel_index(k, args[i].shape)
            rel = err / np.maximum(np.abs(n), 1e-300)
            msg = (
                f"gradcheck failed for input {i} (shape {args[i].shape}): worst at element {tuple(int(v) for v in where)}"
                f", output element {int(j)}: analytical {a[k, j]:.8g} vs numerical {n[k, j]:.8g}; "
                f"max abs error {err.max():.3g}, max rel error {rel[err > atol].max() if (err > atol).any() else 0:.3g} "
                f"(atol={atol}, rtol={rtol}, eps={eps})"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def jacobian_error(fn: Callable[..., Any], inputs: Any, atol: float = 1e-5, rtol: float = 1e-3,
                   eps: float = 1e-6) -> float:
    """max |analytical - numerical| / (|numerical| + atol/rtol) over every Jacobian entry of ``fn`` at
    ``inputs`` (float64): the number :func:`gradcheck` compares with ``rtol``."""
    args, checked = _prepare(_as_tuple(inputs), "gradcheck")
    worst = 0.0
    for a, n in zip(_analytical(fn, args, checked), _numerical(fn, args, checked, eps)):
        if a.size:
            worst = max(worst, float((np.abs(a - n) / (np.abs(n) + atol / rtol)).max()))
    return worst


def vjp_function(fn: Callable[..., Any], inputs: Any, grad_outputs: Any = None,
                 seed: int = 0) -> tuple[Callable[..., tuple[Tensor, ...]], list[Any]]:
    """``(x, v) -> vjp(fn, x, v)``, recorded with ``create_graph=True``, and the point ``(x, v)`` to check it
    at (random ``v`` from ``seed`` unless ``grad_outputs`` is given): what :func:`gradgradcheck` differentiates."""
    args, checked = _prepare(_as_tuple(inputs), "gradgradcheck")
    with enable_grad():
        outs = _outputs(fn, args)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        vs = [Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in outs]
    else:
        vs = [Tensor(np.asarray(getattr(v, "data", v), dtype=np.float64).copy(), requires_grad=True)
              for v in _as_tuple(grad_outputs)]
    n = len(args)

    def vjp(*xs_and_vs: Any) -> tuple[Tensor, ...]:
        xs, cots = list(xs_and_vs[:n]), xs_and_vs[n:]
        with enable_grad():
            outs = _outputs(fn, xs)
            pairs = [(o, v) for o, v in zip(outs, cots) if o.requires_grad]
            targets = [xs[i] for i in checked]
            if not pairs:
                return tuple(Tensor(np.zeros_like(t.data)) for t in targets)
            gs = gradients([o for o, _ in pairs], targets, grad_outputs=[v for _, v in pairs],
                           create_graph=True, allow_unused=True)
            return tuple(Tensor(np.zeros_like(t.data)) if g is None else g for g, t in zip(gs, targets))

    return vjp, list(args) + vs


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck of ``(x, v) -> vjp(fn, x, v)`` with random (or given) ``v``.

    The VJP is computed with ``create_graph=True``, so this checks the backward rules' own backward.
    """
    vjp, point = vjp_function(fn, inputs, grad_outputs, seed)
    return gradcheck(vjp, tuple(point), eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)


__all__ = ["GradcheckError", "gradcheck", "gradgradcheck", "jacobian_error", "vjp_function"]
