"""Choosing a convolution algorithm by measuring it, as FFTW's planner and ``torch.backends.cudnn.benchmark`` do.

On the first call for a key (the primitive, the operands' shapes, dtype and memory layout, and the stride,
padding, dilation and groups) every planned algorithm of :data:`.conv_algorithms.ALGORITHMS` that applies
(all but the ``*_threads`` ones, see their docstring) is timed on the call's own operands in five
interleaved rounds, each call right after a small GEMM (in the first round after an untimed call too,
which makes the candidate's scratch buffers). The GEMM puts
BLAS's thread pool in the state a call meets inside a network, where the op before used BLAS: OpenBLAS's
idle workers spin for a while after each call, and an algorithm that splits its work over the cores
shares a core with them (measured on (32,64,32,32 -> 128): 10.5 ms a call alone, 18-21 ms right after a
GEMM). A candidate more than twice as slow as the best after the first round is not timed again.
The candidate with the best time is kept for the key for the rest of the process; every algorithm gives
the same result up to floating-point rounding, and the planning call returns the winner's.

The mode, per thread (:func:`conv_algorithm`), else from the environment variable
``TINYGRAD_CNN_CONV_ALGORITHM``:

* ``"plan"`` (the default): measure, as above;
* ``"plan_threads"``: measure the ``*_threads`` algorithms too (worth it where BLAS's idle workers sleep at
  once, e.g. with ``OPENBLAS_THREAD_TIMEOUT=4`` set before numpy starts);
* ``"fixed"``: no measuring, the first algorithm of :data:`FIXED_ORDER` that applies (reproducible
  rounding from run to run);
* an algorithm's name, e.g. ``"reference"`` for teaching and debugging: that algorithm wherever it
  applies, else the fixed order.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from .conv_algorithms import ALGORITHMS

ENV = "TINYGRAD_CNN_CONV_ALGORITHM"
ROUNDS = 5
PRUNE = 2.0
"""A candidate this many times slower than the best after the first round is not timed again."""
FIXED_ORDER = {p: tuple(n for n in ("pointwise", "wide", "reference") if n in t) for p, t in ALGORITHMS.items()}
"""Planning off: per primitive, the first of these that applies."""
MAX_PLANS = 4096


@dataclass(frozen=True)
class Plan:
    """What planning a key found: the ``algorithm`` kept, each candidate's best ``times`` (seconds), and the
    ``seconds`` that planning took (all the candidates' calls)."""

    algorithm: str
    times: dict[str, float]
    seconds: float


_mode: ContextVar[str | None] = ContextVar("tinygrad_cnn_conv_algorithm", default=None)
_plans: dict[tuple, Plan] = {}
_lock = threading.Lock()
_PRIMER = np.ones((128, 128), np.float32)  # large enough that OpenBLAS runs it on its threads


def _check_mode(mode: Any, where: str = "conv_algorithm") -> str:
    names = sorted({n for t in ALGORITHMS.values() for n in t})
    if not isinstance(mode, str) or mode not in ("plan", "plan_threads", "fixed", *names):
        raise ValueError(f"{where}: the mode must be 'plan', 'plan_threads', 'fixed' or an algorithm's name "
                         f"({', '.join(names)}), got {mode!r}")
    return mode


def mode() -> str:
    """The calling thread's mode: set by :func:`conv_algorithm`, else ``$TINYGRAD_CNN_CONV_ALGORITHM``, else 'plan'."""
    m = _mode.get()
    return m if m is not None else _check_mode(os.environ.get(ENV) or "plan", f"${ENV}")


@contextmanager
def conv_algorithm(mode: str) -> Iterator[None]:
    """Within the block, this thread's convolutions run in ``mode``: 'plan', 'plan_threads', 'fixed' or an
    algorithm's name.

    >>> with conv_algorithm("reference"): ...  # im2col, one GEMM, col2im: the algorithm docs/ops/conv.md reads
    """
    token = _mode.set(_check_mode(mode))
    try:
        yield
    finally:
        _mode.reset(token)


def plans() -> dict[tuple, Plan]:
    """The plans made so far in this process, by key (primitive, shapes, dtype, layout, attributes)."""
    with _lock:
        return dict(_plans)


def clear_plans() -> None:
    """Forget every plan (the next call of each key plans again)."""
    with _lock:
        _plans.clear()


def candidates(primitive: str, kernel: tuple[int, int], batch: int, attrs: dict[str, Any],
               planned: bool = False) -> list[str]:
    """The algorithms of ``primitive`` that handle a call with this kernel size, batch and attributes (with
    ``planned``, only those the planner times)."""
    facts = {"kernel": kernel, "batch": batch, **{k: attrs[k] for k in ("stride", "padding", "dilation", "groups")}}
    return [n for n, alg in ALGORITHMS[primitive].items() if (alg.planned or not planned) and alg.applies(**facts)]


def run(primitive: str, a: np.ndarray, b: np.ndarray, out: np.ndarray, kernel: tuple[int, int],
        **attrs: Any) -> np.ndarray:
    """Compute ``primitive`` of operands a and b into ``out`` with the algorithm the mode picks; return out."""
    table, m = ALGORITHMS[primitive], mode()
    if m in ("plan", "plan_threads") and a.size and b.size:  # (an empty operand: nothing to measure)
        key = (primitive, a.shape, b.shape, a.dtype.char, a.flags.c_contiguous, b.flags.c_contiguous,
               *attrs.values(), *(("threads",) if m == "plan_threads" else ()))
        plan = _plans.get(key)
        if plan is None:
            names = candidates(primitive, kernel, a.shape[0], attrs, planned=m == "plan")
            _plan(key, table, names, a, b, out, attrs)
            return out
        table[plan.algorithm].run(a, b, out, **attrs)
        return out
    fits = candidates(primitive, kernel, a.shape[0], attrs)
    name = m if m in fits else next(n for n in FIXED_ORDER[primitive] if n in fits)
    table[name].run(a, b, out, **attrs)
    return out


def _plan(key: tuple, table: dict, names: list[str], a: np.ndarray, b: np.ndarray, out: np.ndarray,
          attrs: dict[str, Any]) -> None:
    with _lock:  # one plan at a time, so that candidates are not timed against each other's threads
        start = time.perf_counter()
        best = {n: float("inf") for n in names}
        for r in range(ROUNDS if len(names) > 1 else 0):
            if r:
                fastest = min(best.values())
                names = [n for n in names if best[n] <= PRUNE * fastest]
            for n in names:
                if not r:  # the first call of each makes its scratch buffers
                    table[n].run(a, b, out, **attrs)
                np.matmul(_PRIMER, _PRIMER)
                t = time.perf_counter()
                table[n].run(a, b, out, **attrs)
                best[n] = min(best[n], time.perf_counter() - t)
        winner = min(best, key=best.__getitem__)
        t = time.perf_counter()
        table[winner].run(a, b, out, **attrs)  # the call's result; with one candidate, its only timing
        best[winner] = min(best[winner], time.perf_counter() - t)
        if len(_plans) >= MAX_PLANS:
            _plans.pop(next(iter(_plans)))
        _plans[key] = Plan(winner, best, time.perf_counter() - start)


__all__ = ["ENV", "ROUNDS", "PRUNE", "FIXED_ORDER", "Plan", "mode", "conv_algorithm", "plans", "clear_plans",
           "candidates", "run"]
