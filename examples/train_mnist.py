"""Train the zoo on MNIST and Fashion-MNIST, and draw what was learned: the pictures and numbers of
docs/training.md.

Run: python examples/train_mnist.py --data-root ../shared/data [--runs lenet5-mnist cnn-mnist ...]

Each run trains with the same code as ``tinygrad-cnn train`` (checkpoints and metrics in runs/NAME/),
then writes into docs/img/: loss and accuracy curves, the learned conv1 filters, the feature maps of one
test digit through each conv layer and the test confusion matrix; docs/img/patterns.png and
docs/img/mnist.png show the data. The results (accuracy, epochs, wall time, parameters) are merged into
docs/training_results.json and printed as a markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tinygrad_cnn import data, models, plots  # noqa: E402
from tinygrad_cnn.cli import TrainConfig, TrainResult, train, write_plots  # noqa: E402

RUNS = {
    # the headline results: LeNet-5 and the small CNN on MNIST
    "lenet5-mnist": TrainConfig(data="mnist", model="lenet5", epochs=10, batch_size=32, lr=2e-3),
    "cnn-mnist": TrainConfig(data="mnist", model="cnn", epochs=8, batch_size=32, lr=1e-3, dropout=0.5),
    # CNN vs MLP with the same budget (8 epochs, batch 32, Adam, cosine schedule) on both datasets
    "mlp-mnist": TrainConfig(data="mnist", model="mlp", epochs=8, batch_size=32, lr=1e-3),
    "cnn-fashion": TrainConfig(data="fashion-mnist", model="cnn", epochs=8, batch_size=32, lr=1e-3, dropout=0.5),
    "mlp-fashion": TrainConfig(data="fashion-mnist", model="mlp", epochs=8, batch_size=32, lr=1e-3),
}
PICTURES = {"lenet5-mnist", "cnn-mnist", "cnn-fashion"}


def replay(name: str, ds: data.Dataset) -> TrainResult:
    """A finished run rebuilt from runs/NAME: its checkpoint, metrics.json and a fresh test evaluation."""
    run = ROOT / "runs" / name
    ck = models.load_checkpoint(run / "checkpoint.npz")
    metrics = json.loads((run / "metrics.json").read_text())
    cfg = TrainConfig(**{k: v for k, v in ck.config.items() if k in TrainConfig.__dataclass_fields__})
    params = models.params_from_checkpoint(ck)
    ev = models.evaluate(models.get_model(ck.model).apply, params, ds.loader("test", 1000))
    return TrainResult(cfg, params, metrics["history"], ev.accuracy, metrics["wall_time"], ds, ev)


def draw(name: str, res: TrainResult, img: Path) -> None:
    for f in write_plots(res, ROOT / "runs" / name, log=lambda s: None):
        target = img / f"{name}-{f.name}"
        target.write_bytes(f.read_bytes())
        print(f"wrote {target}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", default=None, help="directory with mnist/ and fashion-mnist/ IDX files")
    p.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    p.add_argument("--img", default=str(ROOT / "docs" / "img"))
    p.add_argument("--results", default=str(ROOT / "docs" / "training_results.json"))
    p.add_argument("--epochs", type=int, default=None, help="override every run's epoch count (quick tries)")
    p.add_argument("--replot", action="store_true",
                   help="only redraw the pictures from the checkpoints and metrics already in runs/")
    args = p.parse_args()
    img = Path(args.img)
    img.mkdir(parents=True, exist_ok=True)

    pat = data.load_patterns(n_train=600, n_test=10)
    plots.plot_samples(pat.train_images, pat.train_labels, pat.classes, img / "patterns.png",
                       title="the built-in patterns dataset")
    results_path = Path(args.results)
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    cache: dict[str, data.Dataset] = {}
    for name in args.runs:
        cfg = RUNS[name]
        if args.epochs:
            cfg.epochs = args.epochs
        if cfg.data not in cache:
            cache[cfg.data] = data.load_dataset(cfg.data, args.data_root)
            if cfg.data == "mnist":
                ds = cache[cfg.data]
                plots.plot_samples(ds.train_images[:2000], ds.train_labels[:2000], ds.classes, img / "mnist.png",
                                   per_class=8, title="MNIST training images")
        print(f"== {name}", flush=True)
        if args.replot:
            if name in PICTURES:
                draw(name, replay(name, cache[cfg.data]), img)
            continue
        res = train(cfg, ROOT / "runs" / name, dataset=cache[cfg.data], progress=False)
        if name in PICTURES:
            draw(name, res, img)
        results[name] = {
            "model": cfg.model, "data": cfg.data, "parameters": models.num_parameters(res.params),
            "epochs": cfg.epochs, "batch_size": cfg.batch_size, "optimizer": cfg.optimizer, "lr": cfg.lr,
            "schedule": cfg.schedule, "dropout": cfg.dropout, "test_acc": res.test_accuracy,
            "wall_time_s": round(res.wall_time, 1),
            "history": {k: v for k, v in res.history.items() if k != "step_loss"},
        }
        results_path.write_text(json.dumps(results, indent=2))

    if args.replot:
        return
    print("\n| run | parameters | epochs | test accuracy | wall time |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['parameters']:,} | {r['epochs']} | {100 * r['test_acc']:.2f}% | "
              f"{r['wall_time_s'] / 60:.1f} min |")


if __name__ == "__main__":
    main()
