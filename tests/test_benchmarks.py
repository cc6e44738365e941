"""The benchmarks' timing helpers: interleaved rounds and per-round ratios (no timings are asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import timing  # noqa: E402


def test_rounds_interleave_the_sides_and_warm_each_before_timing_it():
    calls: list[str] = []
    res = timing.rounds({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 3, warm=0.0)
    assert sorted(res) == ["a", "b"] and all(len(v) == 3 for v in res.values())
    assert all(t >= 0 for v in res.values() for t in v)
    # per round: a warmed twice then timed once, then b likewise
    assert calls == ["a", "a", "a", "b", "b", "b"] * 3


def test_ratio_pairs_rounds_so_that_drift_cancels():
    # the machine halves its speed after the first rounds: both sides slow down together
    ours, theirs = [2.0, 2.0, 4.0, 4.0, 4.0], [1.0, 1.0, 2.0, 2.0, 2.0]
    assert timing.ratio(ours, theirs) == 2.0
    # a drift that hits the sides unevenly still gives the per-round answer, not the ratio of medians
    ours, theirs = [2.0, 2.0, 2.0, 8.0, 8.0], [1.0, 1.0, 4.0, 4.0, 4.0]
    assert timing.ratio(ours, theirs) == 2.0
    assert timing.median(ours) / timing.median(theirs) == 0.5


def test_timed_reports_seconds_per_call():
    n = []
    t = timing.timed(lambda: n.append(1), warm=0.0, reps=4)
    assert len(n) == 2 + 4 and t >= 0


def test_blas_kernels_names_the_kernels_and_says_when_the_environment_pins_them(monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.delenv("OPENBLAS_L2_SIZE", raising=False)
    plain = timing.blas_kernels()
    assert plain.startswith("OpenBLAS kernels ") and "pinned" not in plain
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    assert "pinned by OPENBLAS_CORETYPE=Haswell" in timing.blas_kernels()
