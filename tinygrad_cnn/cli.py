"""The ``tinygrad-cnn`` command (also ``python -m tinygrad_cnn``).

    tinygrad-cnn train                       # LeNet-5 on the built-in patterns data, a few seconds
    tinygrad-cnn train --data mnist --model cnn --epochs 5 --out runs/mnist-cnn --plots
    tinygrad-cnn eval --checkpoint runs/mnist-cnn/checkpoint.npz
    tinygrad-cnn gradcheck                   # finite-difference check of every registered op
    tinygrad-cnn summary --model lenet5      # layers, output shapes, parameter counts
    tinygrad-cnn download --data mnist       # fetch the original IDX files (sha256-verified)

Training uses the functional models: ``tg.value_and_grad`` of the cross-entropy over the parameter dict,
then an optimizer step. After every epoch it prints the mean training loss and the test accuracy, and
saves ``checkpoint.npz`` (atomically, no pickle) and ``metrics.json`` in ``--out``. ``train`` keeps freed
memory for reuse in its own process (:func:`tinygrad_cnn.memory.keep_freed_memory`).

Every option is checked before any work starts (ranges, a writable ``--out``, matplotlib for ``--plots``);
a bad one is refused with one line on stderr and exit status 2. Errors of the user's making (bad input,
missing or damaged files, unwritable paths) print ``tinygrad-cnn: error: ...`` and exit with 2, never a
traceback; a training loss that becomes NaN or infinite stops the run with exit status 1, an interrupt
(Ctrl-C) exits with 130, and a closed output pipe (``tinygrad-cnn summary | head -1``) ends quietly with 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import data as data_mod
from . import functional as F
from . import memory, models, optim
from .core.tensor import Tensor, no_grad
from .core.transforms import value_and_grad

DEFAULT_LR = {"adam": 1e-3, "adamw": 1e-3, "sgd": 0.05}
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("none", "step", "cosine")
MAX_SHIFT = 13  # the largest --augment the 28x28 images allow (the loader needs 2 * shift < 28)


class TrainingDiverged(FloatingPointError):
    """The training loss became NaN or infinite; the message says at which epoch and step, and what to try."""


# -------------------------------------------------------------------- option ranges
def _int_problem(value: object, minimum: int, maximum: int | None = None) -> str | None:
    """Why ``value`` is not an int in [minimum, maximum] (None: it is)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        return f"must be an integer, got {value!r}"
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        return f"must be an integer {bound}, got {value}"
    return None


def _float_problem(value: object, below: float | None = None) -> str | None:
    """Why ``value`` is not a finite number >= 0 (and < ``below`` when given); None: it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return f"must be a number, got {value!r}"
    v = float(value)
    bound = "finite and >= 0" if below is None else f"in [0, {below:g})"
    if not math.isfinite(v) or v < 0 or (below is not None and v >= below):
        return f"must be {bound}, got {v:g}"
    return None


# TrainConfig field -> (minimum, maximum) for ints, and -> exclusive upper bound (or None) for floats >= 0
INT_RANGES: dict[str, tuple[int, int | None]] = {
    "epochs": (1, None), "batch_size": (1, None), "augment": (0, MAX_SHIFT), "seed": (0, None),
    "data_seed": (0, None), "limit_train": (1, None), "limit_test": (1, None), "eval_batch_size": (1, None),
}
FLOAT_RANGES: dict[str, float | None] = {"lr": None, "momentum": None, "weight_decay": None, "dropout": 1.0}


def _int_arg(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse ``type`` that parses an int and refuses one outside [minimum, maximum]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        problem = _int_problem(value, minimum, maximum)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value
    return parse


def _float_arg(below: float | None = None) -> Callable[[str], float]:
    """An argparse ``type`` that parses a float and refuses NaN, infinities, negatives and values >= ``below``."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        problem = _float_problem(value, below)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value
    return parse


@dataclass
class TrainConfig:
    """Everything that defines a training run (stored in the checkpoint as JSON)."""

    data: str = "patterns"
    model: str = "lenet5"
    epochs: int = 3
    batch_size: int = 64
    lr: float | None = None  # None: DEFAULT_LR[optimizer]
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "cosine"
    dropout: float = 0.0
    augment: int = 0  # random shifts of up to this many pixels (training images only)
    seed: int = 0
    data_seed: int = 0
    limit_train: int | None = None
    limit_test: int | None = None
    eval_batch_size: int = 1000

    def validate(self) -> None:
        """Raise ValueError naming the first field that is out of range or unknown (see INT_RANGES and
        FLOAT_RANGES; ``lr``, ``limit_train`` and ``limit_test`` may be None). ``data`` is checked when the
        dataset is loaded, since :func:`train` also takes a dataset of the caller's."""
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in ("lr", "limit_train", "limit_test"):
                continue
            if f.name in INT_RANGES:
                problem = _int_problem(value, *INT_RANGES[f.name])
            elif f.name in FLOAT_RANGES:
                problem = _float_problem(value, FLOAT_RANGES[f.name])
            else:
                continue
            if problem:
                raise ValueError(f"train: {f.name} {problem}")
        choices = {"model": tuple(sorted(models.MODELS)), "optimizer": OPTIMIZERS, "schedule": SCHEDULES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"train: unknown {name} {getattr(self, name)!r}; choose from {', '.join(allowed)}")
        if self.dropout and self.model != "cnn":
            raise ValueError(f"train: dropout is a layer of the cnn model only, not of {self.model!r}")


def check_writable_dir(path: str | Path, what: str = "output directory") -> None:
    """Raise OSError unless ``path`` is a directory that files can be written to, or could be created as
    one (its nearest existing ancestor is a writable directory). Creates nothing that stays behind."""
    target = Path(path).absolute()
    probe = target
    try:
        while not probe.exists() and probe.parent != probe:
            probe = probe.parent
        if not probe.is_dir():
            raise NotADirectoryError(f"{what} {path} cannot be created: {probe} is not a directory")
        with tempfile.TemporaryFile(dir=probe):
            pass
    except NotADirectoryError:
        raise
    except OSError as e:
        raise PermissionError(f"{what} {path} is not writable: {e.strerror or e}") from None


@dataclass
class TrainResult:
    config: TrainConfig
    params: dict[str, Tensor]
    history: dict[str, list[float]] = field(default_factory=dict)
    test_accuracy: float = 0.0
    wall_time: float = 0.0
    dataset: data_mod.Dataset | None = None
    evaluation: models.Evaluation | None = None


def _make_optimizer(cfg: TrainConfig, params: dict[str, Tensor]) -> optim.Optimizer:
    lr = DEFAULT_LR[cfg.optimizer] if cfg.lr is None else cfg.lr
    if cfg.optimizer == "sgd":
        return optim.SGD(params, lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=cfg.momentum > 0)
    if cfg.optimizer == "adam":
        return optim.Adam(params, lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return optim.AdamW(params, lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}; choose from sgd, adam, adamw")


def _progress(total: int, desc: str, enabled: bool) -> Any:
    """A tqdm bar when tqdm is installed and stdout is a terminal, else None."""
    if not enabled or not sys.stdout.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="batch", leave=False, dynamic_ncols=True)


def train(cfg: TrainConfig, out: str | Path | None = None, data_root: str | None = None,
          dataset: data_mod.Dataset | None = None, log: Callable[[str], None] = print,
          progress: bool = True) -> TrainResult:
    """Train ``cfg.model`` on ``cfg.data``; with ``out``, save checkpoint.npz and metrics.json there after
    every epoch. Returns the parameters, the per-epoch history and the final test evaluation.

    The configuration and ``out`` are checked before any work (ValueError, OSError). When the training
    loss becomes NaN or infinite the run stops with :class:`TrainingDiverged` before that step's update.
    """
    cfg.validate()
    if out is not None:
        check_writable_dir(out)
    spec = models.get_model(cfg.model)
    ds = dataset or data_mod.load_dataset(cfg.data, data_root, seed=cfg.data_seed)
    if ds.num_classes > 10:
        raise ValueError(f"train: the zoo models have 10 outputs, {ds.name} has {ds.num_classes} classes")
    train_loader = ds.loader("train", cfg.batch_size, seed=cfg.seed, limit=cfg.limit_train, shift=cfg.augment)
    test_loader = ds.loader("test", cfg.eval_batch_size, limit=cfg.limit_test)
    params = spec.init(cfg.seed)
    opt = _make_optimizer(cfg, params)
    sched: optim.LRScheduler | None = None
    if cfg.schedule == "cosine":
        sched = optim.CosineAnnealingLR(opt, T_max=cfg.epochs)
    elif cfg.schedule == "step":
        sched = optim.StepLR(opt, step_size=max(1, cfg.epochs // 3), gamma=0.1)
    elif cfg.schedule != "none":
        raise ValueError(f"unknown schedule {cfg.schedule!r}; choose from none, step, cosine")
    drop_rng = np.random.default_rng([cfg.seed, 1])

    def loss_fn(p: dict[str, Tensor], x: np.ndarray, y: np.ndarray) -> tuple[Tensor, Tensor]:
        if cfg.dropout > 0 and cfg.model == "cnn":
            logits = spec.apply(p, Tensor(x), dropout=cfg.dropout, rng=drop_rng)
        else:
            logits = spec.apply(p, Tensor(x))
        return F.cross_entropy(logits, y), logits

    step = value_and_grad(loss_fn, has_aux=True)
    n_train, n_test = len(train_loader.labels), len(test_loader.labels)
    log(f"training {cfg.model} ({models.num_parameters(params):,} parameters) on {ds.name}: {n_train} train / "
        f"{n_test} test images, {cfg.epochs} epoch(s), batch {cfg.batch_size}, {cfg.optimizer} lr {opt.lr:g}"
        f"{'' if sched is None else f' ({cfg.schedule} schedule)'}"
        f"{f', dropout {cfg.dropout:g}' if cfg.dropout else ''}"
        f"{f', random shifts <= {cfg.augment} px' if cfg.augment else ''}")
    history: dict[str, list[float]] = {k: [] for k in ("train_loss", "train_acc", "test_loss", "test_acc", "lr",
                                                        "epoch_time", "step_loss")}
    start = time.perf_counter()
    ev = None
    config = {**asdict(cfg), "mean": ds.mean, "std": ds.std, "classes": list(ds.classes)}
    for epoch in range(1, cfg.epochs + 1):
        t0 = time.perf_counter()
        bar = _progress(len(train_loader), f"epoch {epoch}/{cfg.epochs}", progress)
        total, correct, seen = 0.0, 0, 0
        for i, (x, y) in enumerate(train_loader, 1):
            (loss, logits), grads = step(params, x, y)
            lv = float(loss.item())
            if not math.isfinite(lv):
                if bar is not None:
                    bar.close()
                raise TrainingDiverged(_divergence_message(cfg, opt.lr, lv, epoch, i, len(train_loader), out))
            opt.step(grads)
            history["step_loss"].append(lv)
            total += lv * len(y)
            correct += int((np.argmax(logits.data, axis=1) == y).sum())
            seen += len(y)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{lv:.4f}", refresh=False)
        if bar is not None:
            bar.close()
        history["lr"].append(opt.lr)
        if sched is not None:
            sched.step()
        ev = models.evaluate(spec.apply, params, test_loader)
        dt = time.perf_counter() - t0
        history["train_loss"].append(total / seen)
        history["train_acc"].append(correct / seen)
        history["test_loss"].append(ev.loss)
        history["test_acc"].append(ev.accuracy)
        history["epoch_time"].append(dt)
        log(f"epoch {epoch}/{cfg.epochs}  train loss {total / seen:.4f}  train acc {100 * correct / seen:.2f}%  "
            f"test loss {ev.loss:.4f}  test acc {100 * ev.accuracy:.2f}%  ({dt:.1f} s)")
        if out is not None:
            _save_run(Path(out), cfg, params, history, config, time.perf_counter() - start)
    wall = time.perf_counter() - start
    assert ev is not None
    if out is not None:
        _save_run(Path(out), cfg, params, history, config, wall)
        log(f"saved {Path(out) / 'checkpoint.npz'} and {Path(out) / 'metrics.json'}")
    log(f"done in {wall:.1f} s: test accuracy {100 * ev.accuracy:.2f}%")
    return TrainResult(cfg, params, history, ev.accuracy, wall, ds, ev)


def _divergence_message(cfg: TrainConfig, lr: float, loss: float, epoch: int, step: int, steps: int,
                        out: str | Path | None) -> str:
    """What happened (the loss value, epoch and step) and what to try instead."""
    tips = [f"a lower --lr (this run used {lr:g}; try {lr / 10:g})"]
    if cfg.optimizer == "sgd" and cfg.momentum > 0:
        tips.append(f"a lower --momentum (this run used {cfg.momentum:g})")
    if cfg.optimizer == "sgd":
        tips.append("--optimizer adam")
    if cfg.schedule == "none":
        tips.append("--schedule cosine")
    saved = ""
    if out is not None and epoch > 1:
        saved = f"; {Path(out) / 'checkpoint.npz'} holds the parameters after epoch {epoch - 1}"
    return (f"the training loss became {loss} at epoch {epoch}/{cfg.epochs}, step {step}/{steps} (the run "
            f"diverged){saved}; try {', or '.join(tips)}")


def _write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed into place (see models.write_atomically)."""
    models.write_atomically(path, lambda f: f.write(text), binary=False)


def _save_run(out: Path, cfg: TrainConfig, params: dict[str, Tensor], history: dict[str, list[float]],
              config: dict[str, Any], wall: float) -> None:
    out.mkdir(parents=True, exist_ok=True)
    hist = {**history, "step_loss": [float(f"{v:.5g}") for v in history["step_loss"]]}
    models.save_checkpoint(out / "checkpoint.npz", cfg.model, params,
                           {**config, "epochs_done": len(history["test_acc"]), "test_acc": history["test_acc"][-1]})
    metrics = {"config": config, "history": hist, "wall_time": wall,
               "test_acc": history["test_acc"][-1]}
    _write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=2))


def write_plots(result: TrainResult, out: str | Path, log: Callable[[str], None] = print) -> list[Path]:
    """Loss/accuracy curves, first-layer filters, feature maps of one test image, confusion matrix."""
    from .viz import plots

    out = Path(out)
    spec = models.get_model(result.config.model)
    params, ds = result.params, result.dataset
    assert ds is not None and result.evaluation is not None
    files = [plots.plot_history(result.history, out / "curves.png", title=f"{result.config.model} on {ds.name}")]
    if "conv1.weight" in params:
        files.append(plots.plot_filters(params["conv1.weight"], out / "filters.png",
                                        title=f"{result.config.model}: learned conv1 filters"))
        loader = ds.loader("test", 1)
        x, _ = next(iter(loader))
        taps: dict[str, Tensor] = {}
        with no_grad():
            spec.apply(params, Tensor(x), taps=taps)
        files.append(plots.plot_feature_maps(ds.test_images[0], {k: v.data for k, v in taps.items()},
                                             out / "feature_maps.png"))
    else:
        w = params["fc1.weight"].data[:32].reshape(-1, 1, 28, 28)
        files.append(plots.plot_filters(w, out / "filters.png", title="mlp: first 32 fc1 weight vectors"))
    cm = models.confusion_matrix(result.evaluation.labels, result.evaluation.predictions, ds.num_classes)
    files.append(plots.plot_confusion(cm, ds.classes, out / "confusion.png",
                                      title=f"{result.config.model} on {ds.name}: test confusion"))
    for f in files:
        log(f"wrote {f}")
    return files


# -------------------------------------------------------------------- gradcheck over the registry
def run_gradcheck(ops: Sequence[str] | None = None, atol: float = 1e-5, rtol: float = 1e-3, eps: float = 1e-6,
                  log: Callable[[str], None] = print) -> bool:
    """gradcheck and gradgradcheck (float64) over every sample of every registered op (or of ``ops``);
    prints a table and returns True when all pass."""
    from .core.gradcheck import jacobian_error, vjp_function
    from .core.registry import REGISTRY

    names = sorted(REGISTRY) if not ops else list(ops)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"gradcheck: no registered op named {unknown}; known ops: {', '.join(sorted(REGISTRY))}")
    log(f"finite-difference check of {len(names)} op(s), float64, eps={eps:g}; relative error = "
        f"|analytical - numerical| / (|numerical| + atol/rtol), pass when <= rtol = {rtol:g} (atol={atol:g})")
    head = f"| {'op':<22} | samples | {'grad rel err':>12} | {'gradgrad rel err':>16} | result |"
    log(head)
    log("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
    all_ok = True
    for name in names:
        op = REGISTRY[name]
        samples = op.samples(np.random.default_rng(0))
        e1 = e2 = 0.0
        error = ""
        for sample in samples:
            inputs = [Tensor(x.astype(np.float64), requires_grad=op.vjps[i] is not None) if x.dtype.kind == "f"
                      else Tensor(x) for i, x in enumerate(sample.inputs)]
            if not any(t.requires_grad for t in inputs):
                continue
            fn = (lambda o, a: lambda *ts: o(*ts, **a))(op, sample.attrs)
            try:
                e1 = max(e1, jacobian_error(fn, tuple(inputs), atol, rtol, eps))
                fn2, inputs2 = vjp_function(fn, tuple(inputs))
                e2 = max(e2, jacobian_error(fn2, tuple(inputs2), atol, rtol, eps))
            except Exception as e:  # a crash in a VJP is a failure of that op, reported in the table
                error = f"{type(e).__name__}: {e}"
                break
        ok = not error and bool(samples) and e1 <= rtol and e2 <= rtol
        all_ok &= ok
        result = "pass" if ok else ("no samples" if not samples else "FAIL")
        log(f"| {name:<22} | {len(samples):>7} | {e1:>12.2e} | {e2:>16.2e} | {result:<6} |")
        if error:
            log(f"    {name}: {error}")
    log(f"{'all ops pass' if all_ok else 'SOME OPS FAIL'}")
    return all_ok


# -------------------------------------------------------------------- the command line
class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: ``tinygrad-cnn: error: ...`` and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print the problem and where to read the usage on one line, and exit with status 2."""
        self.exit(2, f"tinygrad-cnn: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``tinygrad-cnn`` argument parser; every numeric option has its range checked while parsing."""
    p = _Parser(prog="tinygrad-cnn", description="Train, evaluate and check CNNs built on tinygrad_cnn.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    count = _int_arg(1)

    t = sub.add_parser("train", help="train a model (default: LeNet-5 on the built-in patterns data)")
    t.add_argument("--data", choices=data_mod.DATASETS, default="patterns")
    t.add_argument("--model", choices=sorted(models.MODELS), default="lenet5")
    t.add_argument("--epochs", type=count, default=3, help="passes over the training set (>= 1)")
    t.add_argument("--batch-size", type=count, default=64, help="images per step (>= 1)")
    t.add_argument("--lr", type=_float_arg(), default=None,
                   help="learning rate, finite and >= 0 (default: 1e-3 for adam, 0.05 for sgd)")
    t.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    t.add_argument("--momentum", type=_float_arg(), default=0.9, help="SGD (Nesterov) momentum, finite and >= 0")
    t.add_argument("--weight-decay", type=_float_arg(), default=0.0, help="finite and >= 0")
    t.add_argument("--schedule", choices=SCHEDULES, default="cosine", help="per-epoch lr schedule")
    t.add_argument("--dropout", type=_float_arg(FLOAT_RANGES["dropout"]), default=0.0,
                   help="dropout probability on the cnn's hidden layer, in [0, 1)")
    t.add_argument("--augment", type=_int_arg(*INT_RANGES["augment"]), default=0, metavar="PIXELS",
                   help=f"shift training images randomly by up to PIXELS (0-{MAX_SHIFT}) in each direction")
    t.add_argument("--seed", type=_int_arg(0), default=0, help="initialisation, shuffling and dropout seed (>= 0)")
    t.add_argument("--out", default=None, help="output directory (default: runs/DATA-MODEL)")
    t.add_argument("--data-root", default=None, help=f"IDX files directory (default: ${data_mod.ENV_VAR} or the cache)")
    t.add_argument("--limit-train", type=count, default=None, help="use only the first N (>= 1) training images")
    t.add_argument("--limit-test", type=count, default=None, help="use only the first N (>= 1) test images")
    t.add_argument("--plots", action="store_true", help="write PNG plots (needs matplotlib)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar, epoch lines only")

    e = sub.add_parser("eval", help="evaluate a checkpoint on its dataset's test split")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--data-root", default=None)
    e.add_argument("--batch-size", type=count, default=1000, help="images per batch (>= 1)")
    e.add_argument("--limit-test", type=count, default=None, help="use only the first N (>= 1) test images")

    g = sub.add_parser("gradcheck", help="finite-difference check of every registered op (first and second order)")
    g.add_argument("--op", action="append", default=None, help="check only this op (repeatable)")

    s = sub.add_parser("summary", help="layers, output shapes and parameter counts of a zoo model")
    s.add_argument("--model", choices=sorted(models.MODELS), default="lenet5")

    d = sub.add_parser("download", help="download the original IDX files with sha256 verification")
    d.add_argument("--data", choices=["mnist", "fashion-mnist"], default="mnist")
    d.add_argument("--data-root", default=None)
    return p


def _check_data_root(root: str | None, data: str) -> None:
    """Refuse a ``--data-root`` that exists but is not a directory (for the datasets read from files)."""
    if root is not None and data != "patterns" and Path(root).exists() and not Path(root).is_dir():
        raise NotADirectoryError(f"--data-root {root} is not a directory")


def _check_plotting() -> None:
    """Raise ImportError with the fix when matplotlib, which ``--plots`` needs, cannot be imported."""
    try:
        import matplotlib  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401
    except ImportError as e:
        raise ImportError(f"--plots needs matplotlib ({e}); install it (python -m pip install matplotlib) "
                          "or leave out --plots") from None


def _train_config(a: argparse.Namespace) -> TrainConfig:
    """The TrainConfig of parsed ``train`` arguments, checked (ValueError names the option)."""
    cfg = TrainConfig(data=a.data, model=a.model, epochs=a.epochs, batch_size=a.batch_size, lr=a.lr,
                      optimizer=a.optimizer, momentum=a.momentum, weight_decay=a.weight_decay, schedule=a.schedule,
                      dropout=a.dropout, augment=a.augment, seed=a.seed, limit_train=a.limit_train,
                      limit_test=a.limit_test)
    if cfg.dropout and cfg.model != "cnn":
        raise ValueError(f"--dropout is a layer of --model cnn only, not of {cfg.model!r}")
    cfg.validate()
    return cfg


def _cmd_train(a: argparse.Namespace) -> int:
    cfg = _train_config(a)
    out = Path(a.out) if a.out else Path("runs") / f"{a.data}-{a.model}"
    check_writable_dir(out, "--out")
    _check_data_root(a.data_root, a.data)
    if a.plots:
        _check_plotting()
    memory.keep_freed_memory(True)
    result = train(cfg, out, a.data_root, progress=not a.no_progress)
    if a.plots:
        try:
            write_plots(result, out)
        except ImportError as e:
            _error(f"plots: {e}")
            return 1
    return 0


def _cmd_eval(a: argparse.Namespace) -> int:
    ckpt = models.load_checkpoint(a.checkpoint)
    params = models.params_from_checkpoint(ckpt)
    cfg = ckpt.config
    data = cfg.get("data", "patterns")
    if data not in data_mod.DATASETS:
        raise models.CheckpointError(f"{a.checkpoint} names an unknown dataset {data!r}")
    _check_data_root(a.data_root, data)
    ds = data_mod.load_dataset(data, a.data_root, seed=int(cfg.get("data_seed", 0)))
    if "mean" in cfg:
        ds.mean, ds.std = float(cfg["mean"]), float(cfg["std"])
    spec = models.get_model(ckpt.model)
    t0 = time.perf_counter()
    ev = models.evaluate(spec.apply, params, ds.loader("test", a.batch_size, limit=a.limit_test))
    dt = time.perf_counter() - t0
    print(f"{ckpt.model} on {ds.name} ({len(ev.labels)} test images): loss {ev.loss:.4f}  "
          f"accuracy {100 * ev.accuracy:.2f}%  ({dt:.1f} s)")
    cm = models.confusion_matrix(ev.labels, ev.predictions, ds.num_classes)
    per_class = cm.diagonal() / np.maximum(cm.sum(axis=1), 1)
    for name, acc, n in zip(ds.classes, per_class, cm.sum(axis=1)):
        print(f"  {name:<16} {100 * acc:6.2f}%  of {n}")
    return 0


def _cmd_download(a: argparse.Namespace) -> int:
    if a.data_root is not None:
        check_writable_dir(a.data_root, "--data-root")
    print(f"downloaded to {data_mod.download(a.data, a.data_root)}")
    return 0


def _error(message: str) -> None:
    """``tinygrad-cnn: error: message`` on stderr (nothing when stderr itself is a closed pipe)."""
    try:
        print(f"tinygrad-cnn: error: {message}", file=sys.stderr, flush=True)
    except (BrokenPipeError, ValueError):
        pass


def _silence_stdout() -> None:
    """Point stdout's file descriptor at /dev/null, so that flushing what is still buffered after the
    reader went away (at exit) raises no second BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _run(argv: Sequence[str] | None) -> int:
    """Parse and run one command; user errors become one line on stderr and an exit status."""
    parser = build_parser()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        a = parser.parse_args(args or ["train"])
    except SystemExit as e:  # --help, or a refused option (already reported)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    if a.command is None:
        parser.print_help()
        return 2
    if a.command == "train":
        return _cmd_train(a)
    if a.command == "eval":
        return _cmd_eval(a)
    if a.command == "gradcheck":
        return 0 if run_gradcheck(a.op) else 1
    if a.command == "summary":
        models.summary(a.model)
        return 0
    if a.command == "download":
        return _cmd_download(a)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tinygrad-cnn`` console script; returns the exit code.

    0: success; 1: a check failed (gradcheck), training diverged (NaN or infinite loss), plots failed, or
    stdout was closed early (a pipe into ``head``); 2: a refused option or a user error (bad input, a
    missing, damaged or foreign checkpoint, a missing dataset, an unwritable path; one line on stderr);
    130: interrupted. With ``TINYGRAD_CNN_TRACEBACK=1`` in the environment, errors show their traceback.
    """
    try:
        try:
            code = _run(argv)
        except TrainingDiverged as e:
            _error(str(e))
            code = 1
        except (ValueError, TypeError, ImportError, OSError) as e:  # CheckpointError, DownloadError, ...
            if isinstance(e, BrokenPipeError):
                raise
            if os.environ.get("TINYGRAD_CNN_TRACEBACK") == "1":
                raise
            _error(str(e) or type(e).__name__)
            code = 2
        except KeyboardInterrupt:
            _error("interrupted")
            code = 130
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _silence_stdout()
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
