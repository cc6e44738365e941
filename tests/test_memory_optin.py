"""Importing tinygrad_cnn leaves malloc alone: the user's freed arrays go back to the OS. Keeping freed
memory is opt-in (memory.keep_freed_memory()), turned on by ``tinygrad-cnn train`` and the benchmarks."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

linux_glibc = pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                                 reason="reads /proc/self/status and glibc's malloc behaviour")

# Allocates 100 arrays of 8 MiB (800 MiB, every page touched), frees them, and prints the VmRSS (MiB)
# before the allocation, at the peak and after the free.
RSS_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import tinygrad_cnn

    def rss_mib() -> float:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    if sys.argv[1] == "keep":
        assert tinygrad_cnn.memory.keep_freed_memory()
    assert tinygrad_cnn.memory.keeps_freed_memory() == (sys.argv[1] == "keep")
    base = rss_mib()
    arrays = [np.ones(2**20) for _ in range(100)]
    peak = rss_mib()
    del arrays
    print(base, peak, rss_mib())
""")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _rss(mode: str) -> tuple[float, float, float]:
    r = subprocess.run([sys.executable, "-c", RSS_SCRIPT, mode], capture_output=True, text=True, env=_env(),
                       timeout=120)
    assert r.returncode == 0, r.stderr
    base, peak, after = map(float, r.stdout.split())
    assert peak - base > 700  # the 800 MiB were really resident
    return base, peak, after


@linux_glibc
def test_importing_the_package_gives_the_users_freed_memory_back():
    base, _, after = _rss("import")
    assert after - base < 200, f"{after - base:.0f} MiB still resident after freeing 800 MiB"


@linux_glibc
def test_keep_freed_memory_keeps_it_resident():
    """The same measurement with the opt-in turned on: the freed 800 MiB stay in the process (so the test
    above would catch an import that turned it on)."""
    base, _, after = _rss("keep")
    assert after - base > 600, f"only {after - base:.0f} MiB kept"


def test_importing_the_package_does_not_turn_keeping_on_nor_read_an_environment_variable():
    code = "import tinygrad_cnn as tg; print(tg.memory.keeps_freed_memory())"
    for value in (None, "1", "0"):
        env = _env()
        env.pop("TINYGRAD_CNN_KEEP_MEMORY", None)
        if value is not None:
            env["TINYGRAD_CNN_KEEP_MEMORY"] = value
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "False"


@linux_glibc
def test_the_train_command_turns_keeping_on_for_its_process(tmp_path, monkeypatch):
    from tinygrad_cnn import cli, memory

    seen: list[bool] = []

    def fake_train(*args: object, **kwargs: object) -> None:
        seen.append(memory.keeps_freed_memory())
        raise KeyboardInterrupt

    was = memory.keeps_freed_memory()
    memory.keep_freed_memory(False)
    monkeypatch.setattr(cli, "train", fake_train)
    try:
        assert cli.main(["train", "--out", str(tmp_path / "o")]) == 130
    finally:
        memory.keep_freed_memory(was)
    assert seen == [True]


@pytest.mark.parametrize("script", ["train.py", "conv.py", "overhead.py"])
def test_the_benchmarks_turn_keeping_on_explicitly(script):
    text = (ROOT / "benchmarks" / script).read_text()
    assert "keep_freed_memory(True)" in text and "memory: " in text


@linux_glibc
def test_a_benchmark_says_in_its_header_that_it_keeps_freed_memory():
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "overhead.py"), "--ops", "8", "--rounds", "1"],
                       capture_output=True, text=True, env=_env(), timeout=300)
    assert r.returncode == 0, r.stderr
    header = [line for line in r.stdout.splitlines() if line.startswith("#")]
    assert any("memory: keep_freed_memory() on (process-wide: both sides)" in line for line in header), r.stdout
