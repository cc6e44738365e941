"""Training-step time and peak memory: LeNet-5, the small CNN and ResNet-8, tinygrad_cnn vs PyTorch.

Run: python benchmarks/train.py [--rounds 7] [--batches 64 256] [--models lenet5 cnn resnet8] [--no-rss]
     [--default-malloc]

A training step is forward, cross-entropy, backward and an Adam update on one batch of random 28x28 images.
Both libraries run in this process on the same inputs and the same initial weights, with 2 threads; before
each timed measurement a side runs untimed for ~0.3 s so the other side's thread pools are idle (see
BENCHMARKING.md); the sides alternate over rounds, times are medians and the time ratio is the median of
the per-round ratios (see timing.py). The timed run turns on keeping freed memory for reuse,
``tinygrad_cnn.memory.keep_freed_memory()``, as ``tinygrad-cnn train`` does; the setting is process-wide, so
torch's steps in this process run without page faults too (``--default-malloc`` leaves glibc's malloc at
its defaults for both sides instead). The printed header says which. Peak memory (max RSS) is measured in a
fresh subprocess per model, batch and library, each running 20 steps with malloc's defaults, as library
users run it (no environment tuning; the torch subprocess never imports tinygrad_cnn); torch's figure
includes its own import (~220 MiB).
"""

from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import blas_kernels, median, ratio, rounds  # noqa: E402


def ours_step(model: str, batch: int) -> tuple[Callable[[], float], dict[str, np.ndarray]]:
    """A closure running one training step of our functional model; and its initial weights."""
    import tinygrad_cnn as tg
    from tinygrad_cnn import functional as F
    from tinygrad_cnn import models, optim

    spec = models.get_model(model)
    params = spec.init(0)
    start = {k: v.data.copy() for k, v in params.items()}
    trainable, buffers = models.split_buffers(params)
    opt = optim.Adam(trainable, lr=1e-4)
    x, y = batch_data(batch)
    kw = {"training": True} if spec.takes_training else {}  # batch norm: batch statistics, as torch's train()
    vg = tg.value_and_grad(lambda p: F.cross_entropy(spec.apply({**p, **buffers}, tg.Tensor(x), **kw), y))

    def step() -> float:
        loss, grads = vg(trainable)
        opt.step(grads)
        return loss.item()

    return step, start


def torch_model(model: str):  # noqa: ANN201
    import torch.nn as tnn

    if model == "lenet5":
        return tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5),
                              tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(),
                              tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10))
    if model == "resnet8":
        from resnet8_torch import torch_resnet8

        return torch_resnet8()
    if model == "cnn":
        return tnn.Sequential(tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                              tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                              tnn.Linear(3136, 128), tnn.ReLU(), tnn.Linear(128, 10))
    raise ValueError(model)


# our parameter names -> the torch Sequential's
NAMES = {
    "lenet5": {"conv1": "0", "conv2": "3", "fc1": "7", "fc2": "9", "fc3": "11"},
    "cnn": {"conv1": "0", "conv2": "3", "fc1": "7", "fc2": "9"},
}


def torch_step(model: str, batch: int, start: dict[str, np.ndarray] | None) -> Callable[[], float]:
    import torch

    torch.set_num_threads(2)
    net = torch_model(model)
    if start is not None and model == "resnet8":  # the same names in both
        net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in start.items()}, strict=False)
    elif start is not None:
        net.load_state_dict({f"{NAMES[model][k.split('.')[0]]}.{k.split('.')[1]}": torch.from_numpy(v.copy())
                             for k, v in start.items()})
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    xn, yn = batch_data(batch)
    x, y = torch.from_numpy(xn), torch.from_numpy(yn)

    def step() -> float:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def batch_data(batch: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((batch, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, batch)


def peak_rss_mib(side: str, model: str, batch: int) -> float:
    """Max RSS of a fresh process that builds the model and runs 20 training steps."""
    out = subprocess.run([sys.executable, __file__, "--rss-child", side, model, str(batch)], capture_output=True,
                         text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def rss_child(side: str, model: str, batch: int) -> None:
    step = ours_step(model, batch)[0] if side == "ours" else torch_step(model, batch, None)
    for _ in range(20):
        step()
    print(_peak_rss_kib() / 1024)


def _peak_rss_kib() -> float:
    """VmHWM, the peak RSS of this process image. (ru_maxrss would also count the parent's pages at fork
    time, which exec carries over into the child's figure on Linux.)"""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    p.add_argument("--models", nargs="+", default=["lenet5", "cnn"], choices=["lenet5", "cnn", "resnet8"])
    p.add_argument("--no-rss", action="store_true", help="skip the peak-memory subprocesses")
    p.add_argument("--default-malloc", action="store_true",
                   help="do not call keep_freed_memory() for the timed steps (glibc's defaults, both sides)")
    p.add_argument("--rss-child", nargs=3, metavar=("SIDE", "MODEL", "BATCH"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.rss_child:
        side, model, batch = args.rss_child
        rss_child(side, model, int(batch))
        return

    from tinygrad_cnn import memory

    kept = False if args.default_malloc else memory.keep_freed_memory(True)
    for model in args.models:  # plan our convolutions (one step of a throwaway model) before torch's threads run
        for batch in args.batches:
            ours_step(model, batch)[0]()
    import torch

    rows = []
    for model in args.models:
        for batch in args.batches:
            ours, start = ours_step(model, batch)
            theirs = torch_step(model, batch, start)
            l0, t0 = ours(), theirs()  # same weights, same batch: the first losses agree
            if abs(l0 - t0) > 1e-4 * max(1.0, abs(t0)):
                raise RuntimeError(f"{model} batch {batch}: first-step losses differ: ours {l0}, torch {t0}")
            ts = rounds({"ours": ours, "torch": theirs}, args.rounds, reps=3)
            mo, mt, r = median(ts["ours"]) * 1e3, median(ts["torch"]) * 1e3, ratio(ts["ours"], ts["torch"])
            rss = (None, None)
            if not args.no_rss:
                rss = (peak_rss_mib("ours", model, batch), peak_rss_mib("torch", model, batch))
            rows.append((model, batch, mo, mt, r, rss))
            print(f"  {model} batch {batch}: ours {mo:.1f} ms, torch {mt:.1f} ms", file=sys.stderr)

    print(f"# Training step (forward + backward + Adam), {args.rounds} interleaved rounds, 2 threads; times are "
          "medians, the time ratio the median of per-round ratios")
    print(f"# numpy {np.__version__}, torch {torch.__version__}, Python {platform.python_version()}, "
          f"{platform.machine()}, {time.strftime('%Y-%m-%d')}; {blas_kernels()}")
    print("# memory: " + ("keep_freed_memory() on for the timed steps (process-wide: both sides reuse freed memory)"
                          if kept else "glibc malloc defaults for the timed steps (keep_freed_memory() not in effect)")
          + "; peak-RSS subprocesses use malloc's defaults")
    print()
    print("| model | batch | tinygrad_cnn ms/step | torch ms/step | time ratio | tinygrad_cnn peak RSS MiB "
          "| torch peak RSS MiB | RSS ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for model, batch, mo, mt, r, (ro, rt) in rows:
        mem = "| n/a | n/a | n/a |" if ro is None else f"| {ro:.0f} | {rt:.0f} | {ro / rt:.2f} |"
        print(f"| {model} | {batch} | {mo:.1f} | {mt:.1f} | {r:.2f} {mem}")


if __name__ == "__main__":
    main()
