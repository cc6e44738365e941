"""conv2d and max_pool2d, ours against PyTorch, in one process with the same thread count.

    python benchmarks/conv.py [--rounds 7] [--warm 0.3] [--algorithm plan|fixed|NAME]

How it measures (see BENCHMARKING.md and timing.py): both libraries run on 2 threads; before every timed
call the same side runs untimed for ``--warm`` seconds (at least two calls), so the other library's spinning
worker threads have gone idle; the sides are timed in ``--rounds`` interleaved rounds, times are medians and
ratios are medians of the per-round ratios. The float32 GEMM rate of numpy is
measured in the same run (best of a reading before and after the convolutions) and each conv's throughput
is reported as a fraction of it, next to the fraction that the three bare GEMMs of im2col reach alone on
the same shape (exact sizes: the ceiling of any im2col method with this BLAS). FLOPs: 2 N C_out H_out
W_out (C_in/groups) kH kW forward, 3x that for forward+backward (input and weight gradients).

Our convolutions run in the planner's mode (``--algorithm``, default ``plan``: each primitive's algorithm
measured on its first call, see docs/ops/conv.md); the table names the algorithm each primitive got, and
the time planning took (all shapes are planned first, before torch runs, as in a program without torch).

Memory: no environment tuning; the script turns on keeping freed memory for reuse,
``tinygrad_cnn.memory.keep_freed_memory()`` (as ``tinygrad-cnn train`` does), and says so in its header. The
setting is process-wide, so torch's allocations in this process are reused without page faults too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import blas_kernels, median, ratio, rounds, timed  # noqa: E402

import tinygrad_cnn as tg  # noqa: E402
import tinygrad_cnn.functional as F  # noqa: E402
from tinygrad_cnn.ops import planner  # noqa: E402

CONV_SHAPES = [  # N, C_in, H, W, C_out, k, stride, pad
    (64, 1, 28, 28, 32, 3, 1, 1),
    (64, 32, 14, 14, 64, 3, 1, 1),
    (64, 1, 28, 28, 6, 5, 1, 2),
    (64, 6, 14, 14, 16, 5, 1, 0),
    (32, 64, 32, 32, 128, 3, 2, 1),
    (8, 3, 224, 224, 64, 7, 2, 3),
]
POOL_SHAPES = [(64, 32, 28, 28), (64, 64, 14, 14)]  # max_pool2d 2x2, stride 2


def gemm_rate(warm: float) -> float:
    """numpy float32 GEMM throughput (GFLOP/s): median of 10 calls of a 1024^3 matmul after warming up."""
    a = np.random.default_rng(0).standard_normal((1024, 1024), dtype=np.float32)
    out = np.empty_like(a)
    t = median([timed(lambda: np.matmul(a, a, out=out), warm / 5) for _ in range(10)])
    return 2 * 1024**3 / t / 1e9


def gemm_bound(shape: tuple[int, ...], n_rounds: int, warm: float) -> float:
    """Seconds that the three GEMMs of im2col take on this shape at their exact sizes: forward (O, K) @ (K, L),
    input gradient (K, O) @ (O, L), weight gradient (O, L) @ (L, K), with K = C_in kH kW, L = N H_out W_out."""
    n, c, h, w, o, k, s, p = shape
    kk, ll = c * k * k, n * ((h + 2 * p - k) // s + 1) * ((w + 2 * p - k) // s + 1)
    rng = np.random.default_rng(1)
    a, cols, g = (rng.standard_normal(sh, dtype=np.float32) for sh in ((o, kk), (kk, ll), (o, ll)))
    at, ct = np.ascontiguousarray(a.T), np.ascontiguousarray(cols.T)
    return sum(median([timed(fn, warm) for _ in range(n_rounds)]) for fn in (lambda: a @ cols, lambda: at @ g,
                                                                             lambda: g @ ct))


def chosen(x_shape: tuple[int, ...], w_shape: tuple[int, ...]) -> str:
    """The algorithms the planner kept for the conv of x with w: forward / input gradient / weight gradient."""
    n, o = x_shape[0], w_shape[0]
    match = {"conv2d": lambda k: k[1] == x_shape and k[2] == w_shape,
             "conv_transpose2d": lambda k: k[1][:2] == (n, o) and k[2] == w_shape and x_shape[2:] in k[6:],
             "conv2d_weight_grad": lambda k: k[1] == x_shape and k[2][:2] == (n, o) and w_shape[2:] in k[6:]}
    got = {k[0]: p.algorithm for k, p in planner.plans().items() if match[k[0]](k)}
    return " / ".join(got.get(p, "-") for p in match)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7, help="timed calls per figure (median)")
    ap.add_argument("--warm", type=float, default=0.3, help="seconds of untimed calls before each timed call")
    ap.add_argument("--algorithm", default="plan", help="planner mode: plan, fixed, or an algorithm's name")
    args = ap.parse_args()
    mode = planner.conv_algorithm(args.algorithm)
    mode.__enter__()
    kept = tg.memory.keep_freed_memory(True)
    import torch

    torch.set_num_threads(2)
    tf = torch.nn.functional
    rng = np.random.default_rng(0)
    rate = gemm_rate(args.warm)

    planning = {}
    for shape in CONV_SHAPES:  # plan our convolutions before torch's threads run (as in a program without torch)
        n, c, h, w, o, k, s, p = shape
        before = sum(q.seconds for q in planner.plans().values())
        X = tg.Tensor(rng.standard_normal((n, c, h, w), dtype=np.float32), requires_grad=True)
        y = F.conv2d(X, tg.Tensor(np.ones((o, c, k, k), np.float32), requires_grad=True), stride=s, padding=p)
        y.backward(np.ones(y.shape, np.float32))  # a contiguous gradient, as in the timed calls (the same plans)
        planning[shape] = sum(q.seconds for q in planner.plans().values()) - before

    rows = []
    for shape in CONV_SHAPES:
        n, c, h, w, o, k, s, p = shape
        x = rng.standard_normal((n, c, h, w), dtype=np.float32)
        wt = rng.standard_normal((o, c, k, k), dtype=np.float32) * np.float32(1 / np.sqrt(c * k * k))
        ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        gy = rng.standard_normal((n, o, ho, wo), dtype=np.float32)
        flops = 2 * n * o * ho * wo * c * k * k

        X, W = tg.Tensor(x, requires_grad=True), tg.Tensor(wt, requires_grad=True)
        TX, TW = torch.tensor(x, requires_grad=True), torch.tensor(wt, requires_grad=True)
        TG = torch.tensor(gy)

        def ours_fwd() -> None:
            with tg.no_grad():
                F.conv2d(X, W, stride=s, padding=p)

        def ours_both() -> None:
            X.grad = W.grad = None
            F.conv2d(X, W, stride=s, padding=p).backward(gy)

        def torch_fwd() -> None:
            with torch.no_grad():
                tf.conv2d(TX, TW, stride=s, padding=p)

        def torch_both() -> None:
            TX.grad = TW.grad = None
            tf.conv2d(TX, TW, stride=s, padding=p).backward(TG)

        t = rounds({"of": ours_fwd, "tf": torch_fwd, "ob": ours_both, "tb": torch_both}, args.rounds, args.warm)
        rows.append((shape, t, flops, gemm_bound(shape, args.rounds, args.warm), chosen(x.shape, wt.shape), planning[shape]))

    pool_rows = []
    for shape in POOL_SHAPES:
        x = rng.standard_normal(shape, dtype=np.float32)
        gy = rng.standard_normal(shape[:2] + (shape[2] // 2, shape[3] // 2), dtype=np.float32)
        X, TX, TG = tg.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True), torch.tensor(gy)

        def pool_fwd() -> None:
            with tg.no_grad():
                F.max_pool2d(X, 2)

        def pool_both() -> None:
            X.grad = None
            F.max_pool2d(X, 2).backward(gy)

        def tpool_fwd() -> None:
            with torch.no_grad():
                tf.max_pool2d(TX, 2)

        def tpool_both() -> None:
            TX.grad = None
            tf.max_pool2d(TX, 2).backward(TG)

        t = rounds({"of": pool_fwd, "tf": tpool_fwd, "ob": pool_both, "tb": tpool_both}, args.rounds, args.warm)
        pool_rows.append((shape, t))

    readings = (rate, gemm_rate(args.warm))
    rate = max(readings)
    print(f"numpy {np.__version__}, torch {torch.__version__}, 2 threads; float32 GEMM rate {rate:.0f} GFLOP/s "
          f"(readings before/after: {readings[0]:.0f}/{readings[1]:.0f}); {args.rounds} interleaved rounds, "
          f"{args.warm:g} s warm-up before each call; times are medians, ratios medians of per-round ratios; "
          f"{blas_kernels()}; conv algorithms: {args.algorithm}")
    print("memory: " + ("keep_freed_memory() on (process-wide: ours and torch's allocations both reuse freed memory)"
                        if kept else "keep_freed_memory() unavailable (not glibc): malloc defaults for both sides"))
    if min(readings) < 0.7 * rate:
        print("note: the GEMM readings differ by more than 30%: other work shared the cores, timings are unreliable")
    print()
    print("| conv2d (N, C_in, H, W, C_out, k, s, p) | ours fwd ms | ours fwd+bwd ms | torch fwd ms | torch fwd+bwd ms "
          "| ratio fwd | ratio fwd+bwd | ours GFLOP/s (fwd+bwd) | ours % GEMM | torch % GEMM | 3 GEMMs alone % GEMM "
          "| algorithms (fwd / dx / dw) | planning ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    ratios_f, ratios_b = [], []
    for shape, t, flops, t_gemm, algs, planning in rows:
        rf, rb = ratio(t["of"], t["tf"]), ratio(t["ob"], t["tb"])
        ratios_f.append(rf)
        ratios_b.append(rb)
        m = {k: median(v) for k, v in t.items()}
        gf = 3 * flops / m["ob"] / 1e9
        tgf = 3 * flops / m["tb"] / 1e9
        print(f"| {shape} | {m['of'] * 1e3:.2f} | {m['ob'] * 1e3:.2f} | {m['tf'] * 1e3:.2f} | {m['tb'] * 1e3:.2f} "
              f"| {rf:.2f} | {rb:.2f} | {gf:.0f} | {100 * gf / rate:.0f}% | {100 * tgf / rate:.0f}% "
              f"| {100 * 3 * flops / t_gemm / 1e9 / rate:.0f}% | {algs} | {planning * 1e3:.0f} |")
    gm = lambda v: float(np.exp(np.mean(np.log(v))))  # noqa: E731
    print(f"| geometric mean | | | | | {gm(ratios_f):.2f} | {gm(ratios_b):.2f} | | | | | | |")
    print("\n| max_pool2d 2x2/2 (N, C, H, W) | ours fwd ms | ours fwd+bwd ms | torch fwd ms | torch fwd+bwd ms "
          "| ratio fwd | ratio fwd+bwd |")
    print("|---|---|---|---|---|---|---|")
    for shape, t in pool_rows:
        m = {k: median(v) for k, v in t.items()}
        print(f"| {shape} | {m['of'] * 1e3:.2f} | {m['ob'] * 1e3:.2f} | {m['tf'] * 1e3:.2f} | {m['tb'] * 1e3:.2f} "
              f"| {ratio(t['of'], t['tf']):.2f} | {ratio(t['ob'], t['tb']):.2f} |")


if __name__ == "__main__":
    main()
