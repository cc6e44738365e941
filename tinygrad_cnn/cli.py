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
memory for reuse in its own process (:func:`tinygrad_cnn.memory.keep_freed_memory`). The loop itself is
:mod:`tinygrad_cnn.train`; this module parses and checks the options, and prints.

``tinygrad-cnn train --resume DIR`` continues the run whose checkpoint is in DIR (an interrupted one, or a
finished one with a larger ``--epochs``), taking exactly the steps the uninterrupted run would have taken:
the checkpoint holds the optimizer state, the schedule, the epoch and the generators' states. Options
given with ``--resume`` must agree with the run's (a checkpoint of another ``--model`` is refused).

Every option is checked before any work starts (ranges, a writable ``--out``, matplotlib for ``--plots``);
a bad one is refused with one line on stderr and exit status 2. Errors of the user's making (bad input,
missing or damaged files, unwritable paths) print ``tinygrad-cnn: error: ...`` and exit with 2, never a
traceback; a training loss that becomes NaN or infinite stops the run with exit status 1, an interrupt
(Ctrl-C) exits with 130, and a closed output pipe (``tinygrad-cnn summary | head -1``) ends quietly with 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import data as data_mod
from . import memory, models
from . import train as train_mod
from .core.tensor import Tensor, no_grad
from .core.transforms import value_and_grad
from .train import (  # noqa: F401  (re-exported: the command's options and results)
    DEFAULT_LR, FLOAT_RANGES, INT_RANGES, MAX_SHIFT, OPTIMIZERS, SCHEDULES, TrainConfig, TrainingDiverged,
    TrainResult, check_writable_dir, float_problem, int_problem,
)

# -------------------------------------------------------------------- option ranges (argparse types)
def _int_arg(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse ``type`` that parses an int and refuses one outside [minimum, maximum]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        problem = int_problem(value, minimum, maximum)
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
        problem = float_problem(value, below)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value
    return parse


def train(cfg: TrainConfig, out: str | Path | None = None, data_root: str | None = None,
          dataset: data_mod.Dataset | None = None, log: Callable[[str], None] = print,
          progress: bool = True, callbacks: Sequence[train_mod.Callback] = (),
          resume: str | Path | None = None) -> TrainResult:
    """:func:`tinygrad_cnn.train.train`, with the step function built by this module's ``value_and_grad``
    (which tests replace to make a run diverge)."""
    return train_mod.train(cfg, out, data_root, dataset, log, progress, callbacks, resume, grad_fn=value_and_grad)


def _write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed into place (see models.write_atomically)."""
    models.write_atomically(path, lambda f: f.write(text), binary=False)


class PlotWriter(train_mod.Callback):
    """Writes :func:`write_plots` into ``out`` at the end of a run; an ImportError (no matplotlib) is kept
    in ``error`` instead of raised, so that the run's checkpoint and lines stay as they are."""

    def __init__(self, out: str | Path, log: Callable[[str], None] = print) -> None:
        self.out, self.log = Path(out), log
        self.error: ImportError | None = None

    def on_train_end(self, run: train_mod.Run) -> None:
        try:
            write_plots(train_mod.result_of(run), self.out, self.log)
        except ImportError as e:
            self.error = e


def write_plots(result: TrainResult, out: str | Path, log: Callable[[str], None] = print) -> list[Path]:
    """Loss/accuracy curves, first-layer filters, feature maps of one test image, confusion matrix."""
    from .viz import plots

    out = Path(out)
    spec = models.get_model(result.config.model)
    params, ds = result.params, result.dataset
    assert ds is not None and result.evaluation is not None
    files = [plots.plot_history(result.history, out / "curves.png", title=f"{result.config.model} on {ds.name}")]
    if spec.first_conv is not None:
        files.append(plots.plot_filters(params[f"{spec.first_conv}.weight"], out / "filters.png",
                                        title=f"{result.config.model}: learned {spec.first_conv} filters"))
        loader = ds.loader("test", 1)
        x, _ = next(iter(loader))
        taps: dict[str, Tensor] = {}
        with no_grad():
            spec.apply(params, Tensor(x), taps=taps)
        files.append(plots.plot_feature_maps(ds.test_images[0], {k: v.data for k, v in taps.items()},
                                             out / "feature_maps.png"))
    else:
        w = params[f"{spec.first_layer}.weight"].data[:32].reshape(-1, *spec.input_shape)
        files.append(plots.plot_filters(w, out / "filters.png",
                                        title=f"{result.config.model}: first 32 {spec.first_layer} weight vectors"))
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
                   help=f"random crops of the training images padded by PIXELS (0-{MAX_SHIFT}): random shifts by up "
                        "to PIXELS in each direction")
    t.add_argument("--flip", action="store_true", help="mirror training images left-right at random (p = 1/2)")
    t.add_argument("--seed", type=_int_arg(0), default=0, help="initialisation, shuffling and dropout seed (>= 0)")
    t.add_argument("--out", default=None, help="output directory (default: runs/DATA-MODEL)")
    t.add_argument("--data-root", default=None, help=f"IDX files directory (default: ${data_mod.ENV_VAR} or the cache)")
    t.add_argument("--limit-train", type=count, default=None, help="use only the first N (>= 1) training images")
    t.add_argument("--limit-test", type=count, default=None, help="use only the first N (>= 1) test images")
    t.add_argument("--plots", action="store_true", help="write PNG plots (needs matplotlib)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar, epoch lines only")
    t.add_argument("--resume", default=None, metavar="DIR",
                   help="continue the run whose checkpoint.npz is in DIR (its settings; --epochs: the new total; "
                        "--out defaults to DIR)")
    t.set_defaults(_train_parser=t)

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
                      dropout=a.dropout, augment=a.augment, flip=a.flip, seed=a.seed, limit_train=a.limit_train,
                      limit_test=a.limit_test)
    if cfg.dropout and not models.get_model(cfg.model).takes_dropout:
        raise ValueError(f"--dropout is a layer of --model {' and '.join(models.dropout_models())} only, "
                         f"not of {cfg.model!r}")
    cfg.validate()
    return cfg


# the train options that are TrainConfig fields (the others say where and how, not what to train)
_CONFIG_OPTIONS = ("data", "model", "epochs", "batch_size", "lr", "optimizer", "momentum", "weight_decay",
                   "schedule", "dropout", "augment", "flip", "seed", "limit_train", "limit_test")


def _given_options(a: argparse.Namespace, argv: Sequence[str]) -> dict[str, Any]:
    """The TrainConfig options that ``argv`` (a ``train`` command line) sets explicitly, parsed."""
    t: argparse.ArgumentParser = a._train_parser
    saved = {action.dest: action.default for action in t._actions}
    try:
        for action in t._actions:
            action.default = argparse.SUPPRESS
        given = vars(t.parse_args(list(argv)[list(argv).index("train") + 1:]))
    finally:
        for action in t._actions:
            action.default = saved[action.dest]
    return {k: v for k, v in given.items() if k in _CONFIG_OPTIONS}


def _resume_config(a: argparse.Namespace, argv: Sequence[str]) -> TrainConfig:
    """The config of the run in ``--resume DIR``, checked against the options given with it."""
    given = _given_options(a, argv)
    cfg = train_mod.resume_config(a.resume, **given)
    cfg.validate()
    return cfg


def _cmd_train(a: argparse.Namespace, argv: Sequence[str] = ("train",)) -> int:
    if a.resume is not None:
        cfg = _resume_config(a, argv)
        out = Path(a.out) if a.out else Path(a.resume)
    else:
        cfg = _train_config(a)
        out = Path(a.out) if a.out else Path("runs") / f"{a.data}-{a.model}"
    check_writable_dir(out, "--out")
    _check_data_root(a.data_root, cfg.data)
    if a.plots:
        _check_plotting()
    memory.keep_freed_memory(True)
    plots = PlotWriter(out) if a.plots else None
    train(cfg, out, a.data_root, progress=not a.no_progress, callbacks=[plots] if plots else [],
          resume=a.resume)
    if plots is not None and plots.error is not None:
        _error(f"plots: {plots.error}")
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
        return _cmd_train(a, args or ["train"])
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



__all__ = ["main", "build_parser", "train", "write_plots", "run_gradcheck", "PlotWriter", "TrainConfig", "TrainResult",
           "TrainingDiverged"]


if __name__ == "__main__":
    raise SystemExit(main())

