"""What the convolution and pooling kernels share: argument normalisation, output sizes, padding, reused
scratch buffers, and running one piece of work per core.

Scratch buffers are kept per thread and reused, so large temporaries (padded inputs, im2col columns) are
not returned to the OS and re-faulted on every call; ``clear_scratch()`` releases the calling thread's.

``on_cores`` splits work over the batch: the caller runs the first piece and one worker thread per other
core runs the rest. numpy releases the GIL in copies and GEMMs, so the pieces run at once; BLAS is held at
one thread meanwhile (with threadpoolctl), so the pieces' GEMMs do not fight over the cores.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np

from ..core.registry import is_int
from ..core.tensor import Tensor

Pair = tuple[int, int]
Pads = tuple[tuple[int, int], tuple[int, int]]


# ---------------------------------------------------------------- arguments and geometry
def check_pair(what: str, v: Any, lo: int, where: str) -> None:
    """A registered op's normalised attribute: a tuple of two ints >= ``lo`` (TypeError / ValueError)."""
    if not (isinstance(v, tuple) and len(v) == 2 and all(is_int(e) for e in v)):
        raise TypeError(f"{what} must be a pair of ints (not bools), got {v!r} ({where})")
    if any(e < lo for e in v):
        raise ValueError(f"{what} must be a pair of ints >= {lo}, got {v!r} ({where})")


def int_tuple(name: str, what: str, v: Any, nd: int, lo: int, where: str = "") -> tuple[int, ...]:
    """An int or a tuple of ``nd`` ints (bools are not ints), each >= ``lo``; ``where`` names the shapes."""
    at = f" ({where})" if where else ""
    if is_int(v):
        v = (int(v),) * nd
    elif isinstance(v, (tuple, list)) and len(v) == nd and all(is_int(e) for e in v):
        v = tuple(int(e) for e in v)
    else:
        raise TypeError(f"{name}: {what} must be an int or a tuple of {nd} ints, got {v!r}{at}")
    if any(e < lo for e in v):
        raise ValueError(f"{name}: {what} must be >= {lo}, got {v}{at}")
    return v


def positive_int(name: str, what: str, v: Any, where: str = "") -> int:
    """An int >= 1 (not a bool), else TypeError / ValueError naming op ``name``, ``what`` and the shapes."""
    if not is_int(v):
        raise TypeError(f"{name}: {what} must be an int, got {v!r} ({where})")
    if v < 1:
        raise ValueError(f"{name}: {what} must be a positive int, got {v!r} ({where})")
    return int(v)


def float_tensors(name: str, *ts: Any) -> None:
    """Every operand of op ``name`` is a Tensor, all of one floating-point dtype (TypeError naming them)."""
    for t in ts:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: expected Tensors, got {type(t).__name__}")
    dts = [t.dtype for t in ts]
    if any(d.kind != "f" for d in dts) or len(set(dts)) > 1:
        shapes = " and ".join(str(t.shape) for t in ts)
        raise TypeError(f"{name}: operands {shapes} must share one floating-point dtype, got "
                        f"{', '.join(str(d) for d in dts)} (convert explicitly with .astype)")


def out_size(n: int, k: int, s: int, pad: tuple[int, int], d: int) -> int:
    """Output length of a convolution or pooling window: floor((n + p0 + p1 - d(k-1) - 1) / s) + 1."""
    return (n + pad[0] + pad[1] - d * (k - 1) - 1) // s + 1


# ---------------------------------------------------------------- scratch buffers and padding
_local = threading.local()


def scratch(tag: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A reusable uninitialised buffer of ``shape`` (one per tag and dtype, grown as needed, per thread)."""
    bufs = getattr(_local, "bufs", None)
    if bufs is None:
        bufs = _local.bufs = {}
    n = 1
    for s in shape:
        n *= s
    buf = bufs.get((tag, dtype))
    if buf is None or buf.size < n:
        buf = bufs[(tag, dtype)] = np.empty(max(n, 1), dtype=dtype)
    return buf[:n].reshape(shape)


def clear_scratch() -> None:
    """Release the cached scratch buffers (of the calling thread)."""
    _local.bufs = {}


def pad_into(x: np.ndarray, pads: Pads, tag: str, value: float = 0.0) -> np.ndarray:
    """x (N, C, H, W) surrounded by ``value`` (``pads`` = ((top, bottom), (left, right))) in a scratch
    buffer, or x itself when there is no padding."""
    (pt, pb), (pl, pr) = pads
    if pt == pb == pl == pr == 0:
        return x
    n, c, h, w = x.shape
    xp = scratch(tag, (n, c, h + pt + pb, w + pl + pr), x.dtype)
    xp[:, :, :pt] = value
    xp[:, :, pt + h:] = value
    xp[:, :, pt:pt + h, :pl] = value
    xp[:, :, pt:pt + h, pl + w:] = value
    xp[:, :, pt:pt + h, pl:pl + w] = x
    return xp


# ---------------------------------------------------------------- all cores
def cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _BlasOneThread:
    """BLAS held at one thread while any ``on_cores`` call runs (counted, so overlapping calls from several
    threads restore the setting once, when the last ends). Without threadpoolctl nothing is changed."""

    def __init__(self) -> None:
        self.lock, self.depth, self.limiter, self.controller = threading.Lock(), 0, None, None

    def __enter__(self) -> None:
        with self.lock:
            if self.depth == 0:
                if self.controller is None:
                    try:
                        from threadpoolctl import ThreadpoolController
                        self.controller = ThreadpoolController()
                    except ImportError:
                        self.controller = False
                if self.controller:
                    self.limiter = self.controller.limit(limits=1, user_api="blas")
            self.depth += 1

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth == 0 and self.limiter is not None:
                self.limiter.restore_original_limits()
                self.limiter = None


_blas_one_thread = _BlasOneThread()
_pool: ThreadPoolExecutor | None = None
_pool_workers = 0
_pool_lock = threading.Lock()


def split(n: int, parts: int) -> list[tuple[int, int]]:
    """[0, n) cut into ``min(parts, n)`` runs of near-equal length."""
    parts = max(1, min(parts, n))
    return [(i * n // parts, (i + 1) * n // parts) for i in range(parts)]


def in_piece() -> bool:
    """Whether the calling thread is running a piece of an ``on_cores`` call (BLAS at one thread)."""
    return getattr(_local, "piece", False)


def _as_piece(fn: Callable[[int, int], Any], n0: int, n1: int) -> Any:
    _local.piece = True
    try:
        return fn(n0, n1)
    finally:
        _local.piece = False


def on_cores(fn: Callable[[int, int], Any], n: int) -> list[Any]:
    """Run ``fn(n0, n1)`` over ``split(n, cores())`` at once, one piece per core; the results in order."""
    global _pool, _pool_workers
    pieces = split(n, cores())
    if len(pieces) == 1 or in_piece():
        return [fn(0, n)]
    with _pool_lock:
        if _pool is None or _pool_workers < len(pieces) - 1:
            _pool_workers = len(pieces) - 1
            _pool = ThreadPoolExecutor(_pool_workers, thread_name_prefix="tinygrad_cnn")
        pool = _pool
    with _blas_one_thread:
        futures = [pool.submit(_as_piece, fn, *p) for p in pieces[1:]]
        first = _as_piece(fn, *pieces[0])
        return [first] + [f.result() for f in futures]


__all__ = [
    "Pair", "Pads", "check_pair", "int_tuple", "positive_int", "float_tensors", "out_size", "scratch", "clear_scratch", "pad_into", "cores",
    "split", "in_piece", "on_cores",
]
