"""Keeping freed memory in the process, so that large arrays are not faulted in anew on every step (opt-in).

Every op returns a fresh numpy array, and a training step frees and allocates the same sizes again and
again. With its default settings glibc's malloc serves arrays above a (self-adjusting) threshold with
fresh ``mmap`` pages and gives the top of its heap back to the operating system whenever enough of it is
free; the next step then touches those pages again and the kernel zero-fills every 4 KiB page on first
touch. Measured in a loop of LeNet-5 training steps on one batch of 64: ~2,100 page faults and ~6 ms of
system time per step; with the small CNN ~7,300 faults and ~18 ms. (Loops that keep other memory in use at
the heap's top, like ``tinygrad-cnn train`` with its data loader, fault far less to begin with.)

:func:`keep_freed_memory` tells glibc to serve allocations up to 32 MiB from its heap and to keep up to
``keep_mib`` of free heap instead of returning it, so freed activations are reused without faults. The
setting is process-wide: it applies to every allocation in the process (other libraries' and the caller's
own arrays included), so memory the program frees stays part of its resident size. Importing the package
therefore leaves malloc alone; nothing is changed until :func:`keep_freed_memory` is called (no
environment variable is read). The ``tinygrad-cnn train`` command turns it on for its own process, and the
scripts in ``benchmarks/`` turn it on explicitly and say so. It takes effect on Linux with glibc only
(elsewhere it returns False and does nothing). Call :func:`release_memory` to hand the kept memory back
(for example after training, before other work).
"""

from __future__ import annotations

import ctypes
import sys

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_MAX = 32 * 2**20  # glibc's largest accepted mmap threshold on 64-bit systems


def _libc() -> ctypes.CDLL | None:
    """glibc, loaded into this process, or None where the C library is not glibc or the OS is not Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)  # the symbols already loaded into the process, the C library's among them
    except OSError:
        return None
    if not (hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") and hasattr(libc, "gnu_get_libc_version")):
        return None  # not glibc (musl has no mallopt)
    return libc


_LIBC = _libc()
_enabled = False


def keep_freed_memory(enable: bool = True, keep_mib: int = 1024) -> bool:
    """Keep up to ``keep_mib`` MiB of freed memory for reuse, process-wide (``enable`` True), or set glibc's
    default thresholds again (False; glibc's self-adjustment of them stays off once they have been set, so
    a process that never calls this function keeps malloc entirely untouched). Returns whether the setting
    took effect (False where the C library is not glibc)."""
    global _enabled
    if _LIBC is None:
        return False
    if isinstance(keep_mib, bool) or not isinstance(keep_mib, int) or not 0 < keep_mib < 2048:
        raise ValueError(f"keep_freed_memory: keep_mib must be an int in 1..2047, got {keep_mib!r}")
    mmap, trim = (_MMAP_MAX, keep_mib * 2**20) if enable else (128 * 2**10, 128 * 2**10)
    ok = bool(_LIBC.mallopt(_M_MMAP_THRESHOLD, mmap)) and bool(_LIBC.mallopt(_M_TRIM_THRESHOLD, trim))
    _enabled = bool(enable) and ok
    return ok


def keeps_freed_memory() -> bool:
    """Whether :func:`keep_freed_memory` is in effect."""
    return _enabled


def release_memory() -> None:
    """Free the conv and pooling scratch buffers of this thread and return free heap memory to the OS."""
    from .ops.common import clear_scratch

    clear_scratch()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


__all__ = [
    "keep_freed_memory", "keeps_freed_memory", "release_memory",
]
