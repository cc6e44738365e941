"""The training loop as a library: :func:`fit` runs epochs of optimizer steps over a data loader, evaluates
after each and reports through callbacks; :func:`train` sets up a whole run from a :class:`TrainConfig`
(the zoo model, the dataset, the optimizer and schedule) and is what ``tinygrad-cnn train`` calls.

    params = models.lenet5_init(0)
    opt = optim.Adam(params, 1e-3)
    run = fit(models.lenet5, params, opt, ds.loader("train", 64), ds.loader("test", 1000), epochs=2)
    run.history["test_acc"]                       # one entry per epoch

    result = train(TrainConfig(model="cnn", epochs=2), out="runs/a")       # checkpoint.npz + metrics.json
    result = train(TrainConfig(model="cnn", epochs=4), out="runs/a", resume="runs/a")   # two more (see below)

Callbacks (:class:`Callback`) see the run at its start, after every step, after every epoch and at its end;
the built-in ones write the epoch lines (:class:`EpochLog`), show a tqdm bar (:class:`ProgressBar`), and save
``checkpoint.npz`` and ``metrics.json`` (:class:`CheckpointWriter`). Plots come in the same way: the command
line passes a callback that draws them at the end of the run (this floor does not import ``viz``).

A checkpoint written during a run holds, besides the parameters, everything a resumed run needs to take
exactly the steps the uninterrupted run would have taken: the optimizer's per-parameter state (moments,
step counts) and step count, the schedule's epoch, the epochs done, the history, and the states of the
shuffling / augmentation and dropout generators. Arrays are ``state/...`` entries of the ``.npz``, the rest
JSON in its config (``config["resume"]``): no pickle, as for the parameters. An interrupted run resumed to
its total is bit-identical to the uninterrupted one; a run extended to a larger total with a schedule that
depends on the total (cosine, step) takes the remaining epochs' rates from the new total.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from . import data as data_mod
from . import functional as F
from . import models, optim
from .core.tensor import Tensor
from .core.transforms import value_and_grad

DEFAULT_LR = {"adam": 1e-3, "adamw": 1e-3, "sgd": 0.05}
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("none", "step", "cosine")
MAX_SHIFT = 13  # the largest --augment the 28x28 images allow (the loader needs 2 * shift < 28)
RESUME_FORMAT = 1


class TrainingDiverged(FloatingPointError):
    """The training loss became NaN or infinite; the message says at which epoch and step, and what to try."""


# -------------------------------------------------------------------- option ranges
def int_problem(value: object, minimum: int, maximum: int | None = None) -> str | None:
    """Why ``value`` is not an int in [minimum, maximum] (None: it is)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        return f"must be an integer, got {value!r}"
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        return f"must be an integer {bound}, got {value}"
    return None


def float_problem(value: object, below: float | None = None) -> str | None:
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
    augment: int = 0  # random crops with this much padding: shifts of up to this many pixels (training images)
    flip: bool = False  # random horizontal flips (training images)
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
                problem = int_problem(value, *INT_RANGES[f.name])
            elif f.name in FLOAT_RANGES:
                problem = float_problem(value, FLOAT_RANGES[f.name])
            else:
                continue
            if problem:
                raise ValueError(f"train: {f.name} {problem}")
        choices = {"model": tuple(sorted(models.MODELS)), "optimizer": OPTIMIZERS, "schedule": SCHEDULES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"train: unknown {name} {getattr(self, name)!r}; choose from {', '.join(allowed)}")
        if not isinstance(self.flip, (bool, np.bool_)):
            raise ValueError(f"train: flip must be True or False, got {self.flip!r}")
        if self.dropout and not models.get_model(self.model).takes_dropout:
            raise ValueError(f"train: dropout is a layer of the {' and '.join(models.dropout_models())} model "
                             f"only, not of {self.model!r}")


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


HISTORY_KEYS = ("train_loss", "train_acc", "test_loss", "test_acc", "lr", "epoch_time", "step_loss")


@dataclass
class Run:
    """The state of a run that :func:`fit` advances and callbacks read: ``epoch`` counts the epochs done
    (also those of the run a resumed one continues), ``history`` has one entry per epoch done (per step for
    ``step_loss``), ``evaluation`` is the latest test evaluation, ``wall`` the seconds spent so far (in all
    sessions). :func:`train` also fills ``config``, ``dataset`` and ``out``."""

    apply: Callable[..., Tensor]
    params: Any
    optimizer: optim.Optimizer
    train_loader: Any
    test_loader: Any
    epochs: int
    scheduler: optim.LRScheduler | None = None
    epoch: int = 0
    history: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in HISTORY_KEYS})
    evaluation: models.Evaluation | None = None
    dropout: float = 0.0
    dropout_rng: np.random.Generator | None = None
    training_flag: bool = False
    wall: float = 0.0
    config: TrainConfig | None = None
    dataset: data_mod.Dataset | None = None
    out: Path | None = None


class Callback:
    """Hooks of :func:`fit`; override the ones needed. ``on_abort`` runs when an exception (a divergence,
    an interrupt) leaves the loop, before it propagates."""

    def on_train_begin(self, run: Run) -> None:
        pass

    def on_epoch_begin(self, run: Run, epoch: int) -> None:
        pass

    def on_step(self, run: Run, epoch: int, step: int, loss: float) -> None:
        pass

    def on_epoch_end(self, run: Run, epoch: int) -> None:
        pass

    def on_train_end(self, run: Run) -> None:
        pass

    def on_abort(self, run: Run) -> None:
        pass


def fit(apply: Callable[..., Tensor], params: Any, optimizer: optim.Optimizer, train_loader: Any,
        test_loader: Any, epochs: int, *, scheduler: optim.LRScheduler | None = None, dropout: float = 0.0,
        dropout_rng: np.random.Generator | None = None, training_flag: bool = False,
        callbacks: Sequence[Callback] = (), run: Run | None = None,
        diverged: Callable[[Run, float, int, int], str] | None = None,
        grad_fn: Callable[..., Any] = value_and_grad) -> Run:
    """Train ``apply(params, x)`` on the cross-entropy: for each epoch up to ``epochs``, one optimizer step
    per batch of ``train_loader``, then ``scheduler.step()`` and an evaluation on ``test_loader``.

    ``dropout`` > 0 passes ``dropout=`` and ``rng=dropout_rng`` to ``apply`` in training steps, and
    ``training_flag`` passes ``training=True`` (batch norm). Batch-norm buffers in a parameter dict
    (:func:`models.is_buffer`) are held out of the gradient and the update: only the training steps'
    forward passes change them. ``run``
    continues a run (its ``epoch`` epochs are done; see :func:`train` for restoring one from a checkpoint);
    the other arguments then come from it. A loss that becomes NaN or infinite raises
    :class:`TrainingDiverged` before that step's update, with ``diverged(run, loss, epoch, step)`` as its
    message when given. ``grad_fn`` builds the step function (``tg.value_and_grad`` by default).
    """
    if run is None:
        run = Run(apply, params, optimizer, train_loader, test_loader, epochs, scheduler,
                  dropout=dropout, dropout_rng=dropout_rng, training_flag=training_flag)
    run.epochs = epochs
    drop, drop_rng = run.dropout, run.dropout_rng
    kwargs: dict[str, Any] = {"dropout": drop, "rng": drop_rng} if drop > 0 else {}
    if run.training_flag:
        kwargs["training"] = True
    buffers: dict[str, Tensor] = {}
    if isinstance(run.params, dict):
        trainable, buffers = models.split_buffers(run.params)

    def loss_fn(p: Any, x: np.ndarray, y: np.ndarray) -> tuple[Tensor, Tensor]:
        logits = run.apply({**p, **buffers} if buffers else p, Tensor(x), **kwargs)
        return F.cross_entropy(logits, y), logits

    step = grad_fn(loss_fn, has_aux=True)
    opt, history, n_steps = run.optimizer, run.history, len(run.train_loader)
    start, before = time.perf_counter(), run.wall
    for cb in callbacks:
        cb.on_train_begin(run)
    try:
        for epoch in range(run.epoch + 1, epochs + 1):
            t0 = time.perf_counter()
            for cb in callbacks:
                cb.on_epoch_begin(run, epoch)
            total, correct, seen = 0.0, 0, 0
            for i, (x, y) in enumerate(run.train_loader, 1):
                (loss, logits), grads = step(trainable if buffers else run.params, x, y)
                lv = float(loss.item())
                if not math.isfinite(lv):
                    msg = diverged(run, lv, epoch, i) if diverged is not None else (
                        f"the training loss became {lv} at epoch {epoch}/{epochs}, step {i}/{n_steps}")
                    raise TrainingDiverged(msg)
                opt.step(grads)
                history["step_loss"].append(lv)
                total += lv * len(y)
                correct += int((np.argmax(logits.data, axis=1) == y).sum())
                seen += len(y)
                for cb in callbacks:
                    cb.on_step(run, epoch, i, lv)
            history["lr"].append(opt.lr)
            if run.scheduler is not None:
                run.scheduler.step()
            run.evaluation = ev = models.evaluate(run.apply, run.params, run.test_loader)
            history["train_loss"].append(total / seen)
            history["train_acc"].append(correct / seen)
            history["test_loss"].append(ev.loss)
            history["test_acc"].append(ev.accuracy)
            history["epoch_time"].append(time.perf_counter() - t0)
            run.epoch = epoch
            run.wall = before + time.perf_counter() - start
            for cb in callbacks:
                cb.on_epoch_end(run, epoch)
    except BaseException:
        for cb in callbacks:
            cb.on_abort(run)
        raise
    run.wall = before + time.perf_counter() - start
    for cb in callbacks:
        cb.on_train_end(run)
    return run


# -------------------------------------------------------------------- built-in callbacks
class EpochLog(Callback):
    """One line per epoch (losses, accuracies, seconds) through ``log``."""

    def __init__(self, log: Callable[[str], None] = print) -> None:
        self.log = log

    def on_epoch_end(self, run: Run, epoch: int) -> None:
        h = run.history
        self.log(f"epoch {epoch}/{run.epochs}  train loss {h['train_loss'][-1]:.4f}  train acc "
                 f"{100 * h['train_acc'][-1]:.2f}%  test loss {h['test_loss'][-1]:.4f}  test acc "
                 f"{100 * h['test_acc'][-1]:.2f}%  ({h['epoch_time'][-1]:.1f} s)")


class ProgressBar(Callback):
    """A tqdm bar per epoch when tqdm is installed and stdout is a terminal; nothing otherwise (the epoch
    lines of :class:`EpochLog` are the plain progress report)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled, self.bar = enabled, None

    def on_epoch_begin(self, run: Run, epoch: int) -> None:
        self.bar = _progress(len(run.train_loader), f"epoch {epoch}/{run.epochs}", self.enabled)

    def on_step(self, run: Run, epoch: int, step: int, loss: float) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def on_epoch_end(self, run: Run, epoch: int) -> None:
        self.on_abort(run)

    def on_abort(self, run: Run) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _progress(total: int, desc: str, enabled: bool) -> Any:
    """A tqdm bar when tqdm is installed and stdout is a terminal, else None."""
    if not enabled or not sys.stdout.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="batch", leave=False, dynamic_ncols=True)


class CheckpointWriter(Callback):
    """``checkpoint.npz`` (parameters and resume state) and ``metrics.json`` in ``out`` after every epoch,
    and once more at the end with the total wall time ("saved ..." through ``log``)."""

    def __init__(self, out: str | Path, log: Callable[[str], None] = print) -> None:
        self.out, self.log = Path(out), log

    def on_epoch_end(self, run: Run, epoch: int) -> None:
        save_run(self.out, run)

    def on_train_end(self, run: Run) -> None:
        save_run(self.out, run)
        self.log(f"saved {self.out / 'checkpoint.npz'} and {self.out / 'metrics.json'}")


class DoneLog(Callback):
    """The last line of a run: its wall time and final test accuracy."""

    def __init__(self, log: Callable[[str], None] = print) -> None:
        self.log = log

    def on_train_end(self, run: Run) -> None:
        assert run.evaluation is not None
        self.log(f"done in {run.wall:.1f} s: test accuracy {100 * run.evaluation.accuracy:.2f}%")


# -------------------------------------------------------------------- checkpoints with resume state
def _run_config(run: Run) -> dict[str, Any]:
    """The JSON config of metrics.json: the TrainConfig plus the dataset's normalisation and class names."""
    ds = run.dataset
    cfg = {} if run.config is None else asdict(run.config)
    return cfg if ds is None else {**cfg, "mean": ds.mean, "std": ds.std, "classes": list(ds.classes)}


def pack_state(obj: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    """``obj`` as JSON with its arrays moved to ``arrays`` (as {"__array__": key}); dicts become
    {"__dict__": [[key, value], ...]} so that non-string keys survive."""
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, np.ndarray):
        arrays[key] = obj
        return {"__array__": key}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Mapping):
        return {"__dict__": [[k, pack_state(v, f"{key}/{k}", arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [pack_state(v, f"{key}/{i}", arrays) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"optimizer state: cannot store a {type(obj).__name__} ({key})")


def unpack_state(obj: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    if isinstance(obj, dict) and "__array__" in obj:
        return np.array(arrays[obj["__array__"]])
    if isinstance(obj, dict) and "__dict__" in obj:
        return {k: unpack_state(v, arrays) for k, v in obj["__dict__"]}
    if isinstance(obj, list):
        return [unpack_state(v, arrays) for v in obj]
    return obj


def optimizer_state(opt: optim.Optimizer) -> dict[str, Any]:
    """The optimizer's step count and state: its ``state_dict()`` when it has one (moments, per-parameter step
    counts, hyperparameters), else its per-parameter state list."""
    if hasattr(opt, "state_dict") and hasattr(opt, "load_state_dict"):
        return {"steps": opt.steps, "state_dict": opt.state_dict()}
    return {"steps": opt.steps, "state": opt.state}


def load_optimizer_state(opt: optim.Optimizer, state: Mapping[str, Any]) -> None:
    """Put back what :func:`optimizer_state` returned (after a round trip through a checkpoint)."""
    if "state_dict" in state:
        if not hasattr(opt, "load_state_dict"):
            raise models.CheckpointError("the checkpoint's optimizer state is a state_dict, which this optimizer "
                                         "cannot load")
        try:
            opt.load_state_dict(state["state_dict"])
        except (ValueError, TypeError, KeyError) as e:
            raise models.CheckpointError(f"the checkpoint's optimizer state does not fit the optimizer: {e}") from None
        opt.steps = int(state["steps"])
        return
    per_param = state["state"]
    if len(per_param) != len(opt.state):
        raise models.CheckpointError(f"the checkpoint's optimizer state is for {len(per_param)} parameters, "
                                     f"the optimizer has {len(opt.state)}")
    for i, (saved, p) in enumerate(zip(per_param, opt.params)):
        arr = p.data if isinstance(p, Tensor) else p
        for k, v in saved.items():
            if isinstance(v, np.ndarray) and v.shape != arr.shape:
                raise models.CheckpointError(f"the checkpoint's optimizer state {k!r} of parameter {opt.paths[i]} "
                                             f"has shape {v.shape}, the parameter {arr.shape}")
        opt.state[i] = {k: v.astype(arr.dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
                        for k, v in saved.items()}
    opt.steps = int(state["steps"])


def _rng_state(rng: np.random.Generator | None) -> Any:
    return None if rng is None else rng.bit_generator.state


def _loader_rng(loader: Any) -> np.random.Generator | None:
    return getattr(loader, "rng", None)


def save_run(out: str | Path, run: Run) -> None:
    """Write ``checkpoint.npz`` (the parameters and the resume state) and ``metrics.json`` in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    history, config = run.history, _run_config(run)
    arrays: dict[str, np.ndarray] = {}
    resume = {
        "format": RESUME_FORMAT, "epochs_done": run.epoch, "wall": run.wall, "history": history,
        "optimizer": pack_state(optimizer_state(run.optimizer), "optimizer", arrays),
        "scheduler_epoch": None if run.scheduler is None else run.scheduler.last_epoch,
        "loader_rng": _rng_state(_loader_rng(run.train_loader)), "dropout_rng": _rng_state(run.dropout_rng),
    }
    model = run.config.model if run.config is not None else getattr(run.apply, "__name__", "model")
    models.save_checkpoint(out / "checkpoint.npz", model, run.params,
                           {**config, "epochs_done": run.epoch, "test_acc": history["test_acc"][-1],
                            "resume": resume}, state=arrays)
    hist = {**history, "step_loss": [float(f"{v:.5g}") for v in history["step_loss"]]}
    metrics = {"config": config, "history": hist, "wall_time": run.wall, "test_acc": history["test_acc"][-1]}
    models.write_atomically(out / "metrics.json", lambda f: f.write(json.dumps(metrics, indent=2)), binary=False)


def checkpoint_path(resume: str | Path) -> Path:
    """The checkpoint a ``resume`` argument names: DIR/checkpoint.npz, or the file itself."""
    p = Path(resume)
    return p if p.suffix == ".npz" and not p.is_dir() else p / "checkpoint.npz"


def load_resumable(resume: str | Path) -> models.Checkpoint:
    """The checkpoint in ``resume`` (a run directory or its checkpoint.npz), checked to hold resume state."""
    path = checkpoint_path(resume)
    if not path.is_file():
        raise FileNotFoundError(f"resume: no checkpoint to resume from: {path} does not exist")
    ckpt = models.load_checkpoint(path)
    state = ckpt.config.get("resume")
    if not isinstance(state, dict) or state.get("format") != RESUME_FORMAT:
        raise models.CheckpointError(f"resume: {path} holds no resume state (it was not written during a run "
                                     "of this version); it can be evaluated, not resumed")
    return ckpt


def resume_config(resume: str | Path, **given: Any) -> TrainConfig:
    """The TrainConfig of the run in ``resume``, with ``epochs`` replaced when given (the new total; it must
    exceed the epochs done). Any other field given must equal the checkpoint's (ValueError naming it:
    a resumed run continues the same run), ``model`` first."""
    ckpt = load_resumable(resume)
    names = {f.name for f in fields(TrainConfig)}
    saved = {k: v for k, v in ckpt.config.items() if k in names}
    if "model" in given and given["model"] != ckpt.model:
        raise models.CheckpointError(f"resume: {checkpoint_path(resume)} is a checkpoint of model {ckpt.model!r}, "
                                     f"not {given['model']!r}")
    cfg = TrainConfig(**{**saved, "model": ckpt.model})
    for k, v in given.items():
        if k == "epochs":
            cfg.epochs = v
        elif k not in names:
            raise TypeError(f"resume_config: no TrainConfig field {k!r}")
        elif v != getattr(cfg, k):
            raise ValueError(f"resume: the run in {resume} has {k} {getattr(cfg, k)!r}, not {v!r}; a resumed run "
                             "keeps its settings (only epochs may change)")
    done = int(ckpt.config["resume"]["epochs_done"])
    if cfg.epochs <= done:
        raise ValueError(f"resume: the run in {resume} has done {done} of {cfg.epochs} epoch(s); "
                         f"pass a larger number of epochs (> {done}) to train further")
    return cfg


def _restore(run: Run, ckpt: models.Checkpoint, cfg: TrainConfig, where: str | Path) -> None:
    """Put a checkpoint's parameters and resume state into a freshly set-up run of the same config."""
    if ckpt.model != cfg.model:
        raise models.CheckpointError(f"resume: {where} is a checkpoint of model {ckpt.model!r}, not {cfg.model!r}")
    names = {f.name for f in fields(TrainConfig)} - {"epochs"}
    defaults = TrainConfig()  # a field newer than the checkpoint has its default there
    saved = {k: ckpt.config.get(k, getattr(defaults, k)) for k in names}
    wanted = {k: getattr(cfg, k) for k in names}
    for k in sorted(names):
        if saved[k] != wanted[k]:
            raise ValueError(f"resume: the run in {where} has {k} {saved[k]!r}, not {wanted[k]!r}; a resumed run "
                             "keeps its settings (only epochs may change)")
    state = ckpt.config["resume"]
    done = int(state["epochs_done"])
    if cfg.epochs <= done:
        raise ValueError(f"resume: the run in {where} has done {done} of {cfg.epochs} epoch(s); "
                         f"pass a larger number of epochs (> {done}) to train further")
    params = models.params_from_checkpoint(ckpt)
    for k, t in run.params.items():
        t.data[...] = params[k].data
    load_optimizer_state(run.optimizer, unpack_state(state["optimizer"], ckpt.state))
    if run.scheduler is not None:
        run.scheduler.last_epoch = done - 1
        run.scheduler.step()  # the rate of epoch `done` under this run's schedule
    loader_rng = _loader_rng(run.train_loader)
    if loader_rng is not None and state.get("loader_rng") is not None:
        loader_rng.bit_generator.state = state["loader_rng"]
    if run.dropout_rng is not None and state.get("dropout_rng") is not None:
        run.dropout_rng.bit_generator.state = state["dropout_rng"]
    run.history = {k: list(state["history"].get(k, [])) for k in HISTORY_KEYS}
    run.epoch, run.wall = done, float(state.get("wall", 0.0))


# -------------------------------------------------------------------- a whole run from a TrainConfig
def make_optimizer(cfg: TrainConfig, params: dict[str, Tensor]) -> optim.Optimizer:
    lr = DEFAULT_LR[cfg.optimizer] if cfg.lr is None else cfg.lr
    if cfg.optimizer == "sgd":
        return optim.SGD(params, lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=cfg.momentum > 0)
    if cfg.optimizer == "adam":
        return optim.Adam(params, lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return optim.AdamW(params, lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}; choose from sgd, adam, adamw")


def make_scheduler(cfg: TrainConfig, opt: optim.Optimizer) -> optim.LRScheduler | None:
    if cfg.schedule == "cosine":
        return optim.CosineAnnealingLR(opt, T_max=cfg.epochs)
    if cfg.schedule == "step":
        return optim.StepLR(opt, step_size=max(1, cfg.epochs // 3), gamma=0.1)
    if cfg.schedule != "none":
        raise ValueError(f"unknown schedule {cfg.schedule!r}; choose from none, step, cosine")
    return None


def divergence_message(cfg: TrainConfig, lr: float, loss: float, epoch: int, step: int, steps: int,
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


def train(cfg: TrainConfig, out: str | Path | None = None, data_root: str | None = None,
          dataset: data_mod.Dataset | None = None, log: Callable[[str], None] = print,
          progress: bool = True, callbacks: Iterable[Callback] = (), resume: str | Path | None = None,
          grad_fn: Callable[..., Any] = value_and_grad) -> TrainResult:
    """Train ``cfg.model`` on ``cfg.data``; with ``out``, save checkpoint.npz and metrics.json there after
    every epoch. Returns the parameters, the per-epoch history and the final test evaluation.

    ``resume`` (a run directory or its checkpoint.npz) continues that run up to ``cfg.epochs`` epochs in
    all, taking the same steps as an uninterrupted run; ``cfg`` must be the run's config except for
    ``epochs`` (see :func:`resume_config`), and a checkpoint of another model is a CheckpointError.
    ``callbacks`` run after the built-in ones (progress bar, epoch lines, checkpoint, final line).

    The configuration and ``out`` are checked before any work (ValueError, OSError). When the training
    loss becomes NaN or infinite the run stops with :class:`TrainingDiverged` before that step's update.
    """
    cfg.validate()
    if out is not None:
        check_writable_dir(out)
    ckpt = load_resumable(resume) if resume is not None else None
    if ckpt is not None and ckpt.model != cfg.model:
        raise models.CheckpointError(f"resume: {checkpoint_path(resume)} is a checkpoint of model {ckpt.model!r}, "
                                     f"not {cfg.model!r}")
    spec = models.get_model(cfg.model)
    ds = dataset or data_mod.load_dataset(cfg.data, data_root, seed=cfg.data_seed)
    if ds.num_classes > 10:
        raise ValueError(f"train: the zoo models have 10 outputs, {ds.name} has {ds.num_classes} classes")
    train_loader = ds.loader("train", cfg.batch_size, seed=cfg.seed, limit=cfg.limit_train, shift=cfg.augment,
                               flip=cfg.flip)
    test_loader = ds.loader("test", cfg.eval_batch_size, limit=cfg.limit_test)
    params = spec.init(cfg.seed)
    opt = make_optimizer(cfg, models.split_buffers(params)[0])
    sched = make_scheduler(cfg, opt)
    dropout = cfg.dropout if spec.takes_dropout else 0.0
    run = Run(spec.apply, params, opt, train_loader, test_loader, cfg.epochs, sched, dropout=dropout,
              dropout_rng=np.random.default_rng([cfg.seed, 1]), training_flag=spec.takes_training,
              config=cfg, dataset=ds,
              out=None if out is None else Path(out))
    if ckpt is not None:
        _restore(run, ckpt, cfg, checkpoint_path(resume))
    n_train, n_test = len(train_loader.labels), len(test_loader.labels)
    log(f"training {cfg.model} ({models.num_parameters(models.split_buffers(params)[0]):,} parameters) on {ds.name}: {n_train} train / "
        f"{n_test} test images, {cfg.epochs} epoch(s), batch {cfg.batch_size}, {cfg.optimizer} lr {opt.initial_lr:g}"
        f"{'' if sched is None else f' ({cfg.schedule} schedule)'}"
        f"{f', dropout {cfg.dropout:g}' if cfg.dropout else ''}"
        f"{f', random crops padded by {cfg.augment} px' if cfg.augment else ''}"
        f"{', random horizontal flips' if cfg.flip else ''}")
    if ckpt is not None:
        log(f"resuming from {checkpoint_path(resume)} after epoch {run.epoch}/{cfg.epochs}")

    def diverged(r: Run, loss: float, epoch: int, step: int) -> str:
        return divergence_message(cfg, r.optimizer.lr, loss, epoch, step, len(r.train_loader), out)

    cbs: list[Callback] = [ProgressBar(progress), EpochLog(log)]
    if out is not None:
        cbs.append(CheckpointWriter(out, log))
    cbs += [DoneLog(log), *callbacks]
    fit(spec.apply, params, opt, train_loader, test_loader, cfg.epochs, callbacks=cbs, run=run,
        diverged=diverged, grad_fn=grad_fn)
    return result_of(run)


def result_of(run: Run) -> TrainResult:
    """The TrainResult of a finished run that :func:`train` set up."""
    assert run.config is not None and run.evaluation is not None
    return TrainResult(run.config, run.params, run.history, run.evaluation.accuracy, run.wall, run.dataset,
                       run.evaluation)


__all__ = [
    "TrainConfig", "TrainResult", "TrainingDiverged", "Run", "Callback", "fit", "train", "EpochLog", "ProgressBar",
    "CheckpointWriter", "DoneLog", "save_run", "resume_config", "load_resumable", "checkpoint_path",
    "optimizer_state", "load_optimizer_state", "pack_state", "unpack_state", "make_optimizer", "make_scheduler", "divergence_message",
    "check_writable_dir", "result_of", "DEFAULT_LR", "OPTIMIZERS", "SCHEDULES", "MAX_SHIFT", "INT_RANGES",
    "FLOAT_RANGES",
]
