"""Timing helpers shared by the benchmarks (see ../shared/BENCHMARKING.md for why they work this way).

* Before each timed call the same side runs untimed for ``warm`` seconds (at least two calls), so the other
  library's worker threads, which spin for a while after each call, have gone idle.
* Sides are timed in interleaved rounds (A, B, A, B, ...), and a ratio is the median of the per-round
  ratios: these shared machines drift between fast and slow phases over seconds, and a ratio taken within
  one round cancels the drift that a ratio of two separately taken medians would keep.
"""

from __future__ import annotations

import ctypes
import os
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


def blas_kernels() -> str:
    """Which kernels numpy's OpenBLAS runs ("SkylakeX", "Haswell", ...), with a warning where the environment
    pins them: ``OPENBLAS_CORETYPE`` overrides OpenBLAS's own choice for the CPU (some machines set it, with
    ``OPENBLAS_L2_SIZE``, for older OpenBLAS builds; Haswell kernels on an AVX-512 CPU halve numpy's GEMM
    rate). Unset both in the benchmark's command to measure numpy as users run it."""
    name = "unknown"
    try:
        with open("/proc/self/maps") as f:
            paths = {p[5].strip() for p in (line.split(None, 5) for line in f) if len(p) == 6}
        for path in sorted(p for p in paths if "openblas" in os.path.basename(p).lower()):
            lib = ctypes.CDLL(path)
            fn = next((getattr(lib, n) for n in ("openblas_get_corename", "scipy_openblas_get_corename64_",
                                                   "scipy_openblas_get_corename") if hasattr(lib, n)), None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                name = fn().decode()
                break
    except OSError:
        pass
    pinned = [f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ]
    return f"OpenBLAS kernels {name}" + (f" (pinned by {', '.join(pinned)}: not OpenBLAS's own choice; unset both "
                                         "to measure as users run numpy)" if pinned else "")
