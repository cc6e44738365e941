"""With keep_freed_memory() (opt-in), freed memory is kept for reuse: a repeated step does not fault its
arrays in again. (That importing changes nothing is tested in test_memory_optin.py.)"""

from __future__ import annotations

import resource

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import memory

glibc = pytest.mark.skipif(memory._LIBC is None, reason="needs glibc's mallopt")


def _faults(fn, n: int = 10) -> float:
    fn()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(n):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / n


def _step() -> None:
    x = np.ones((2, 2**20), dtype=np.float32)  # 8 MiB, above glibc's default mmap threshold
    y = x * 2
    del x
    z = y + 1
    assert z[0, 0] == 3


@pytest.fixture
def kept():
    """keep_freed_memory() on for the test, the previous setting afterwards."""
    was = memory.keeps_freed_memory()
    assert memory.keep_freed_memory(True)
    yield
    memory.keep_freed_memory(was)


@glibc
def test_keep_freed_memory_is_reported(kept):
    assert memory.keeps_freed_memory()
    assert memory.keep_freed_memory(False) and not memory.keeps_freed_memory()


@glibc
def test_a_repeated_step_does_not_fault_its_arrays_in_again(kept):
    # 24 MiB allocated and freed per step: 6,000 faults a step if the pages went back to the OS. numpy asks
    # for transparent huge pages on large arrays, which fault 2 MiB at a time when the kernel has them free
    # (so the count without the setting varied from run to run): count 4 KiB pages only.
    set_hugepages = (np._core if hasattr(np, "_core") else np.core).multiarray._set_madvise_hugepage
    hugepages = set_hugepages(False)
    try:
        assert memory.keep_freed_memory(True)
        assert _faults(_step) < 100
        assert memory.keep_freed_memory(False)
        assert _faults(_step) > 1000  # glibc's default: the big arrays are fresh mmaps each time
    finally:
        set_hugepages(hugepages)


@glibc
def test_a_training_step_does_not_page_fault(kept):
    params = tg.models.lenet5_init(0)
    opt = tg.optim.SGD(params, lr=0.01)
    x = tg.Tensor(np.random.default_rng(0).standard_normal((32, 1, 28, 28)).astype(np.float32))
    y = np.arange(32) % 10

    def step() -> None:
        opt.zero_grad()
        tg.functional.cross_entropy(tg.models.lenet5(params, x), y).backward()
        opt.step()

    assert _faults(step, 5) < 50


def test_bad_settings_are_refused():
    if memory._LIBC is None:
        assert memory.keep_freed_memory(True) is False
        return
    with pytest.raises(ValueError, match="keep_mib"):
        memory.keep_freed_memory(True, keep_mib=0)


def test_release_memory_frees_the_scratch_buffers():
    from tinygrad_cnn.ops.common import scratch

    tg.functional.conv2d(tg.randn(2, 3, 8, 8), tg.randn(4, 3, 3, 3))
    first = scratch("cols", (16,), np.dtype(np.float32))
    assert np.shares_memory(first, scratch("cols", (16,), np.dtype(np.float32)))  # kept and reused
    memory.release_memory()
    assert not np.shares_memory(first, scratch("cols", (16,), np.dtype(np.float32)))  # released: a new buffer
