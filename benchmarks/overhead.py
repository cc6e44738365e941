"""Per-op overhead: a chain of tiny ops on shape (4,), forward and forward + backward, ours vs torch.

Run: python benchmarks/overhead.py [--ops 1000] [--rounds 15]
Both libraries run in this process on the same inputs; each side is warmed for ~0.3 s before each
timed call and the sides alternate over rounds (see timing.py); times are medians (µs per op), ratios
medians of the per-round ratios. The script turns on keeping freed memory for reuse,
``tinygrad_cnn.memory.keep_freed_memory()``, process-wide (both sides), and says so in its header.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tinygrad_cnn as tg  # noqa: E402
from timing import median, ratio, rounds  # noqa: E402

# The chain cycles through these unary steps (each is one primitive op in both libraries).
STEPS = ("mul", "add", "tanh", "mul", "sigmoid", "add", "exp", "neg")


def chain(x, consts: tuple, n_ops: int):
    c_mul, c_add = consts
    for i in range(n_ops):
        step = STEPS[i % len(STEPS)]
        if step == "mul":
            x = x * c_mul
        elif step == "add":
            x = x + c_add
        elif step == "tanh":
            x = x.tanh()
        elif step == "sigmoid":
            x = x.sigmoid()
        elif step == "exp":
            x = x.exp()
        else:
            x = -x
    return x


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ops", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=15)
    args = p.parse_args()
    kept = tg.memory.keep_freed_memory(True)
    n = args.ops
    x0 = np.linspace(-0.5, 0.5, 4).astype(np.float32)

    def ours_fwd():
        x = tg.Tensor(x0, requires_grad=True)
        return chain(x, (tg.Tensor(np.float32(0.9)), tg.Tensor(np.float32(0.1))), n)

    def ours_fwd_bwd():
        x = tg.Tensor(x0, requires_grad=True)
        chain(x, (tg.Tensor(np.float32(0.9)), tg.Tensor(np.float32(0.1))), n).sum().backward()
        return x.grad

    sides = {"tinygrad_cnn": (ours_fwd, ours_fwd_bwd)}
    try:
        import torch

        torch.set_num_threads(2)
        t0 = torch.from_numpy(x0)

        def torch_fwd():
            x = t0.clone().requires_grad_(True)
            return chain(x, (torch.tensor(0.9), torch.tensor(0.1)), n)

        def torch_fwd_bwd():
            x = t0.clone().requires_grad_(True)
            chain(x, (torch.tensor(0.9), torch.tensor(0.1)), n).sum().backward()
            return x.grad

        sides["torch"] = (torch_fwd, torch_fwd_bwd)
        torch_version = torch.__version__
    except ImportError:
        torch_version = None

    res = rounds({f"{name} {mode}": fn for name, fns in sides.items() for mode, fn in zip(("fwd", "fwd+bwd"), fns)},
                 args.rounds)

    print(f"# Per-op overhead: chain of {n} ops on shape (4,), {args.rounds} interleaved rounds; "
          "times are medians, ratios medians of per-round ratios")
    print(f"# numpy {np.__version__}, torch {torch_version}, Python {platform.python_version()}; memory: "
          + ("keep_freed_memory() on (process-wide: both sides)" if kept else "malloc defaults (not glibc)"))
    print()
    print("| mode | tinygrad_cnn µs/op | torch µs/op | ratio (ours / torch) |")
    print("|---|---|---|---|")
    for mode in ("fwd", "fwd+bwd"):
        ts = res[f"tinygrad_cnn {mode}"]
        ours = median(ts) / n * 1e6
        if "torch" in sides:
            theirs = median(res[f"torch {mode}"]) / n * 1e6
            print(f"| {mode} | {ours:.2f} | {theirs:.2f} | {ratio(ts, res[f'torch {mode}']):.2f} |")
        else:
            print(f"| {mode} | {ours:.2f} | n/a | n/a |")


if __name__ == "__main__":
    main()
