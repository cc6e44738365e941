"""Every convolution algorithm of the table on the benchmark shapes, and what planning costs a LeNet-5 epoch.

    python benchmarks/conv_algorithms.py [--rounds 5] [--epoch-images 60000] [--no-epoch]

Part 1 times each applicable algorithm of each primitive (conv2d, its input gradient conv_transpose2d, its
weight gradient) on the six shapes of benchmarks/conv.py and a 1x1 layer (64,64,14,14 -> 128), as the
planner does: every call right after a
small GEMM (BLAS's thread pool as a network leaves it), interleaved over ``--rounds`` rounds after one
untimed call each; the table shows medians in ms, the fastest marked with *.

Part 2 trains LeNet-5 for one epoch (``--epoch-images`` random 28x28 images, batch 64, Adam; the last
batch is smaller, as in a real epoch) in each planner mode and reports the epoch's wall time, the plans
made and the seconds planning took.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conv import CONV_SHAPES  # noqa: E402
from timing import blas_kernels, median  # noqa: E402

import tinygrad_cnn as tg  # noqa: E402
from tinygrad_cnn.ops import planner  # noqa: E402
from tinygrad_cnn.ops.conv_algorithms import ALGORITHMS  # noqa: E402

PRIMER = np.ones((128, 128), np.float32)
SHAPES = CONV_SHAPES + [(64, 64, 14, 14, 128, 1, 1, 0)]


def operands(shape: tuple[int, ...]) -> dict[str, tuple]:
    """Per primitive: (a, b, out, kernel, attrs) for the conv of this benchmark shape."""
    n, c, h, w, o, k, s, p = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    wt = rng.standard_normal((o, c, k, k), dtype=np.float32)
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    g = rng.standard_normal((n, o, ho, wo), dtype=np.float32)
    geo = dict(stride=(s, s), padding=((p, p), (p, p)), dilation=(1, 1), groups=1)
    empty = lambda *sh: np.empty(sh, np.float32)  # noqa: E731
    return {"conv2d": (x, wt, empty(n, o, ho, wo), (k, k), geo),
            "conv_transpose2d": (g, wt, empty(n, c, h, w), (k, k), {**geo, "input_size": (h, w)}),
            "conv2d_weight_grad": (x, g, empty(o, c, k, k), (k, k), {**geo, "kernel_size": (k, k)})}


def time_algorithms(shape: tuple[int, ...], n_rounds: int) -> dict[str, dict[str, float]]:
    times = {}
    for prim, (a, b, out, kernel, attrs) in operands(shape).items():
        names = planner.candidates(prim, kernel, a.shape[0], attrs)
        ts: dict[str, list[float]] = {nm: [] for nm in names}
        for nm in names:
            ALGORITHMS[prim][nm].run(a, b, out, **attrs)
        for _ in range(n_rounds):
            for nm in names:
                np.matmul(PRIMER, PRIMER)
                t = time.perf_counter()
                ALGORITHMS[prim][nm].run(a, b, out, **attrs)
                ts[nm].append(time.perf_counter() - t)
        times[prim] = {nm: median(v) for nm, v in ts.items()}
    return times


def lenet_epoch(mode: str, images: int, batch: int = 64) -> tuple[float, int, float]:
    """(epoch seconds, plans made, planning seconds) of one LeNet-5 training epoch in ``mode``."""
    from tinygrad_cnn import functional as F
    from tinygrad_cnn import models, optim

    planner.clear_plans()
    spec = models.get_model("lenet5")
    params = spec.init(0)
    opt = optim.Adam(params, lr=1e-3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((images, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, images)
    vg = tg.value_and_grad(lambda p, xb, yb: F.cross_entropy(spec.apply(p, tg.Tensor(xb)), yb))
    start = time.perf_counter()
    with planner.conv_algorithm(mode):
        for i in range(0, images, batch):
            _, grads = vg(params, x[i:i + batch], y[i:i + batch])
            opt.step(grads)
    seconds = time.perf_counter() - start
    plans = planner.plans()
    return seconds, len(plans), sum(p.seconds for p in plans.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--epoch-images", type=int, default=60000)
    ap.add_argument("--no-epoch", action="store_true", help="skip the LeNet-5 epoch")
    args = ap.parse_args()
    kept = tg.memory.keep_freed_memory(True)
    print(f"numpy {np.__version__}; {blas_kernels()}; keep_freed_memory() {'on' if kept else 'unavailable'}; "
          f"{args.rounds} rounds, each call right after a small GEMM; medians in ms, * the fastest\n")
    names = [n for p in ALGORITHMS.values() for n in p]
    names = sorted(set(names), key=names.index)
    print("| shape | primitive | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for shape in SHAPES:
        for prim, t in time_algorithms(shape, args.rounds).items():
            best = min(t, key=t.get)
            cells = [(f"{t[n] * 1e3:.2f}" + ("*" if n == best else "")) if n in t else "" for n in names]
            print(f"| {shape} | {prim} | " + " | ".join(cells) + " |", flush=True)
    if args.no_epoch:
        return
    print(f"\n| LeNet-5 epoch ({args.epoch_images} images, batch 64) | epoch s | plans | planning s | planning % |")
    print("|---|---|---|---|---|")
    for mode in ("plan", "fixed"):
        sec, n_plans, plan_s = lenet_epoch(mode, args.epoch_images)
        print(f"| mode {mode} | {sec:.1f} | {n_plans} | {plan_s:.2f} | {100 * plan_s / sec:.1f}% |", flush=True)


if __name__ == "__main__":
    main()
