"""ResNet-8 on Fashion-MNIST in PyTorch, with the recipe of ``tinygrad-cnn train --model resnet8``: the yardstick
for the accuracy and wall time of our own run (docs/training.md).

Run: python benchmarks/resnet8_torch.py --epochs 15 [--batch-size 128 --lr 0.1 --momentum 0.9 --weight-decay 5e-4
     --augment 2 --flip --seed 0 --threads 2 --data-root ../shared/data --out runs/torch-resnet8.json]

Everything but the library is shared with our run: the architecture (torchvision's BasicBlock naming, so the
state dicts match key for key), the initial weights (``models.resnet8_init(seed)`` loaded into the torch
model), the batches (our ``DataLoader`` with the same seed: the same shuffles, crops and flips), SGD with
Nesterov momentum and coupled weight decay, the per-epoch cosine schedule, and the per-epoch test evaluation
in evaluation mode (running statistics). Per epoch it prints the train loss, test accuracy and seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import blas_kernels  # noqa: E402


def torch_resnet8():  # noqa: ANN201
    """The torch module with our ResNet-8's layer names (see tinygrad_cnn.models.ResNet8)."""
    import torch.nn as tnn
    import torch.nn.functional as tF

    from tinygrad_cnn.models import RESNET8_STAGES

    class Block(tnn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(cout)
            self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = tnn.Sequential(tnn.Conv2d(cin, cout, 1, stride, bias=False), tnn.BatchNorm2d(cout))

        def forward(self, x):  # noqa: ANN001, ANN202
            out = tF.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return tF.relu(out + (x if self.downsample is None else self.downsample(x)))

    class Net(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = tnn.Conv2d(1, 16, 3, 1, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(16)
            cin = 16
            for i, (c, stride) in enumerate(RESNET8_STAGES, 1):
                setattr(self, f"layer{i}", tnn.Sequential(Block(cin, c, stride)))
                cin = c
            self.fc = tnn.Linear(64, 10)

        def forward(self, x):  # noqa: ANN001, ANN202
            h = tF.relu(self.bn1(self.conv1(x)))
            h = self.layer3(self.layer2(self.layer1(h)))
            return self.fc(h.mean(dim=(2, 3)))

    return Net()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--augment", type=int, default=2, help="random crops padded by this many pixels")
    p.add_argument("--flip", action="store_true", help="random horizontal flips")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data-root", default=None)
    p.add_argument("--limit-train", type=int, default=None)
    p.add_argument("--out", default=None, help="write the per-epoch history as JSON here")
    a = p.parse_args()

    import torch
    import torch.nn.functional as tF

    from tinygrad_cnn import data, models

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    ds = data.load_dataset("fashion-mnist", a.data_root)
    train = ds.loader("train", a.batch_size, seed=a.seed, limit=a.limit_train, shift=a.augment, flip=a.flip)
    test = ds.loader("test", 1000)
    net = torch_resnet8()
    start = {k: torch.from_numpy(v.data.copy()) for k, v in models.resnet8_init(a.seed).items()}
    missing, unexpected = net.load_state_dict(start, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=a.momentum, nesterov=a.momentum > 0,
                          weight_decay=a.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a.epochs)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy BLAS: {blas_kernels()}")
    history: list[dict[str, float]] = []
    wall = 0.0
    for epoch in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        net.train()
        total, seen = 0.0, 0
        for x, y in train:
            loss = tF.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
            seen += len(y)
        sched.step()
        net.eval()
        correct = 0
        with torch.no_grad():
            for x, y in test:
                correct += int((net(torch.from_numpy(x)).argmax(1).numpy() == y).sum())
        dt = time.perf_counter() - t0
        wall += dt
        acc = correct / len(test.labels)
        history.append({"epoch": epoch, "train_loss": total / seen, "test_acc": acc, "seconds": dt})
        print(f"epoch {epoch}/{a.epochs}  train loss {total / seen:.4f}  test acc {100 * acc:.2f}%  ({dt:.1f} s)",
              flush=True)
    print(f"done in {wall:.1f} s: test accuracy {100 * history[-1]['test_acc']:.2f}%")
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps({"args": vars(a), "torch": torch.__version__, "history": history,
                                           "wall": wall}, indent=1))


if __name__ == "__main__":
    main()
