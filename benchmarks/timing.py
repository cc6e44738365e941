"""Timing helpers shared by the benchmarks (see ../shared/BENCHMARKING.md for why they work this way).

* Before each timed call the same side runs untimed for ``warm`` seconds (at least two calls), so the other
  library's worker threads, which spin for a while after each call, have gone idle.
* Sides are timed in interleaved rounds (A, B, A, B, ...), and a ratio is the median of the per-round
  ratios: these shared machines drift between fast and slow phases over seconds, and a ratio taken within
  one round cancels the drift that a ratio of two separately taken medians would keep.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timed(fn: Callable[[], object], warm: float = 0.3, reps: int = 1) -> float:
    """Seconds per call of ``fn``: run it untimed for ``warm`` seconds (at least twice), then time ``reps`` calls."""
    t0, calls = time.perf_counter(), 0
    while calls < 2 or time.perf_counter() - t0 < warm:
        fn()
        calls += 1
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def rounds(sides: dict[str, Callable[[], object]], n: int, warm: float = 0.3, reps: int = 1) -> dict[str, list[float]]:
    """Time every side once per round, ``n`` interleaved rounds: {side: [seconds per call, one per round]}."""
    out: dict[str, list[float]] = {k: [] for k in sides}
    for _ in range(n):
        for k, fn in sides.items():
            out[k].append(timed(fn, warm, reps))
    return out


def median(ts: list[float]) -> float:
    return statistics.median(ts)


def ratio(ours: list[float], theirs: list[float]) -> float:
    """Median over rounds of ours / theirs (both timed in the same rounds)."""
    return statistics.median(a / b for a, b in zip(ours, theirs))
