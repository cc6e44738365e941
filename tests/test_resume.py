"""Resumable runs: a checkpoint holds the model, the optimizer state, the schedule, the epoch and the generators'
states, so that one epoch plus a resumed epoch takes exactly the steps of two epochs in one run; resuming
another model's checkpoint, or with other settings, is a clean error. Also the library's fit and callbacks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinygrad_cnn import cli, data, models, optim
from tinygrad_cnn import train as training

# small and fast, but with every piece of state a resumed run needs: Adam's moments, a schedule, shuffling,
# random shifts (the loader's generator) and dropout (its own generator)
CNN = ["--model", "cnn", "--dropout", "0.3", "--augment", "2", "--optimizer", "adam", "--schedule", "cosine"]
LENET_SGD = ["--model", "lenet5", "--optimizer", "sgd", "--momentum", "0.9", "--schedule", "step"]
SMALL = ["--limit-train", "96", "--limit-test", "40", "--batch-size", "32", "--no-progress", "--seed", "3"]


@pytest.fixture(scope="module")
def patterns():
    return data.load_patterns(n_train=200, n_test=60, seed=0)


def params_of(run_dir: Path) -> dict[str, np.ndarray]:
    return models.load_checkpoint(run_dir / "checkpoint.npz").params


def assert_bit_identical(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k


def history_without_times(run_dir: Path) -> dict[str, list[float]]:
    h = json.loads((run_dir / "metrics.json").read_text())["history"]
    h.pop("epoch_time")
    return h


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and len(lines) == 1, err
    assert lines[0].startswith("tinygrad-cnn: error: "), err
    return lines[0]


# -------------------------------------------------------------------- bit-identical resumption
@pytest.mark.parametrize("options", [CNN, LENET_SGD], ids=["cnn-adam-dropout-augment", "lenet5-sgd-step"])
def test_cli_one_epoch_plus_a_resumed_epoch_equals_two_epochs(tmp_path, options, capsys):
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert cli.main(["train", *options, *SMALL, "--epochs", "2", "--out", str(whole)]) == 0
    assert cli.main(["train", *options, *SMALL, "--epochs", "1", "--out", str(part)]) == 0
    first = params_of(part)
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(part), "--epochs", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "resuming from" in out and "after epoch 1/2" in out
    assert "epoch 2/2" in out and "epoch 1/2 " not in out  # only the missing epoch is trained
    resumed = params_of(part)
    assert not all(np.array_equal(first[k], resumed[k]) for k in first)
    assert_bit_identical(params_of(whole), resumed)
    assert history_without_times(whole) == history_without_times(part)
    ck = models.load_checkpoint(part / "checkpoint.npz")
    assert ck.config["epochs_done"] == 2 and ck.config["epochs"] == 2


def test_cli_resume_with_matching_options_and_another_out(tmp_path):
    """Options that agree with the run's are accepted; --out puts the continued run elsewhere."""
    whole, part, fork = tmp_path / "whole", tmp_path / "part", tmp_path / "fork"
    assert cli.main(["train", *LENET_SGD, *SMALL, "--epochs", "2", "--out", str(whole)]) == 0
    assert cli.main(["train", *LENET_SGD, *SMALL, "--epochs", "1", "--out", str(part)]) == 0
    assert cli.main(["train", "--resume", str(part), *LENET_SGD, *SMALL, "--epochs", "2", "--out", str(fork)]) == 0
    assert_bit_identical(params_of(whole), params_of(fork))
    assert models.load_checkpoint(part / "checkpoint.npz").config["epochs_done"] == 1  # left as it was


def test_library_one_epoch_plus_a_resumed_epoch_equals_two_epochs(tmp_path, patterns):
    base = dict(model="cnn", batch_size=32, dropout=0.25, augment=1, seed=5, limit_train=96, limit_test=40)
    quiet = dict(dataset=patterns, log=lambda s: None, progress=False)
    whole = training.train(training.TrainConfig(epochs=2, **base), tmp_path / "whole", **quiet)
    training.train(training.TrainConfig(epochs=1, **base), tmp_path / "part", **quiet)
    resumed = training.train(training.TrainConfig(epochs=2, **base), tmp_path / "part", resume=tmp_path / "part",
                             **quiet)
    for k in whole.params:
        assert np.array_equal(whole.params[k].data, resumed.params[k].data), k
    assert_bit_identical(params_of(tmp_path / "whole"), params_of(tmp_path / "part"))
    assert resumed.history["step_loss"] == whole.history["step_loss"]
    assert resumed.history["lr"] == whole.history["lr"]
    assert resumed.test_accuracy == whole.test_accuracy


def test_library_an_interrupted_run_resumes_where_it_stopped(tmp_path, patterns):
    """Ctrl-C after epoch 2 of 3 (the checkpoint of epoch 2 is written first); resuming the same config
    finishes epoch 3 exactly as the uninterrupted run did."""
    cfg = training.TrainConfig(model="lenet5", epochs=3, batch_size=40, optimizer="adamw", weight_decay=0.01,
                               limit_train=120, limit_test=40, seed=1)
    quiet = dict(dataset=patterns, log=lambda s: None, progress=False)
    whole = training.train(cfg, tmp_path / "whole", **quiet)

    class Interrupt(training.Callback):
        def on_epoch_end(self, run: training.Run, epoch: int) -> None:
            if epoch == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        training.train(cfg, tmp_path / "cut", callbacks=[Interrupt()], **quiet)
    assert models.load_checkpoint(tmp_path / "cut" / "checkpoint.npz").config["epochs_done"] == 2
    resumed = training.train(cfg, tmp_path / "cut", resume=tmp_path / "cut" / "checkpoint.npz", **quiet)
    for k in whole.params:
        assert np.array_equal(whole.params[k].data, resumed.params[k].data), k
    assert resumed.history["test_acc"] == whole.history["test_acc"]


def test_the_checkpoint_holds_the_resume_state_without_pickle(tmp_path, patterns):
    cfg = training.TrainConfig(model="cnn", epochs=1, batch_size=32, dropout=0.5, augment=1, limit_train=64,
                               limit_test=32)
    training.train(cfg, tmp_path, dataset=patterns, log=lambda s: None, progress=False)
    with np.load(tmp_path / "checkpoint.npz", allow_pickle=False) as z:
        kinds = {k: z[k].dtype.kind for k in z.files}
    assert all(kind != "O" for kind in kinds.values())
    ck = models.load_checkpoint(tmp_path / "checkpoint.npz")
    state = ck.config["resume"]
    assert state["epochs_done"] == 1 and state["scheduler_epoch"] == 1
    assert state["loader_rng"]["bit_generator"] == "PCG64" and state["dropout_rng"]["bit_generator"] == "PCG64"
    assert len(state["history"]["step_loss"]) == 2
    # Adam's two moments per parameter, each of the parameter's shape
    for name, p in ck.params.items():
        moments = [v for k, v in ck.state.items() if k.endswith(("/exp_avg", "/exp_avg_sq"))
                   and v.shape == p.shape]
        assert len(moments) >= 2, name


def test_optimizer_state_round_trips_through_a_checkpoint(tmp_path):
    params = models.mlp_init(0)
    opt = optim.SGD(params, 0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    for _ in range(2):
        opt.step({k: rng.standard_normal(v.shape).astype(np.float32) for k, v in params.items()})
    arrays: dict[str, np.ndarray] = {}
    enc = training.pack_state(training.optimizer_state(opt), "optimizer", arrays)
    models.save_checkpoint(tmp_path / "c.npz", "mlp", params, {"o": enc}, state=arrays)
    ck = models.load_checkpoint(tmp_path / "c.npz")
    fresh = optim.SGD(models.mlp_init(0), 0.1, momentum=0.9)
    training.load_optimizer_state(fresh, training.unpack_state(ck.config["o"], ck.state))
    assert fresh.steps == opt.steps == 2
    for a, b in zip(opt.state, fresh.state):
        assert a.keys() == b.keys() and "momentum_buffer" in a
        for k in a:
            assert np.array_equal(a[k], b[k])
    assert fresh.lr == opt.lr


# -------------------------------------------------------------------- clean errors
@pytest.fixture
def one_epoch_cnn(tmp_path) -> Path:
    run = tmp_path / "cnn-run"
    assert cli.main(["train", "--model", "cnn", *SMALL, "--epochs", "1", "--out", str(run)]) == 0
    return run


@pytest.mark.parametrize("model", ["mlp", "lenet5"])  # lenet5 is --model's default: given explicitly, it counts
def test_cli_resuming_with_another_model_is_a_clean_error(one_epoch_cnn, model, capsys):
    before = params_of(one_epoch_cnn)
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(one_epoch_cnn), "--model", model, "--epochs", "2"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "'cnn'" in line and repr(model) in line
    assert_bit_identical(before, params_of(one_epoch_cnn))


def test_library_resuming_with_another_model_is_a_clean_error(one_epoch_cnn, patterns):
    with pytest.raises(models.CheckpointError, match="model 'cnn', not 'mlp'"):
        training.train(training.TrainConfig(model="mlp", epochs=2), dataset=patterns, resume=one_epoch_cnn,
                       log=lambda s: None, progress=False)
    with pytest.raises(models.CheckpointError, match="model 'cnn', not 'lenet5'"):
        training.resume_config(one_epoch_cnn, model="lenet5")


@pytest.mark.parametrize("extra, message", [
    (["--lr", "0.5"], "has lr None, not 0.5"),
    (["--seed", "4"], "has seed 3, not 4"),
    ([], "has done 1 of 1 epoch(s)"),
    (["--epochs", "1"], "has done 1 of 1 epoch(s)"),
])
def test_cli_resume_refuses_other_settings_and_finished_runs(one_epoch_cnn, extra, message, capsys):
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(one_epoch_cnn), *extra]) == 2
    assert message in _one_error_line(capsys.readouterr().err)


def test_cli_resume_without_a_resumable_checkpoint_is_a_clean_error(tmp_path, capsys):
    assert cli.main(["train", "--resume", str(tmp_path / "nothing"), "--epochs", "2"]) == 2
    assert "no checkpoint to resume from" in _one_error_line(capsys.readouterr().err)
    bare = tmp_path / "bare"
    models.save_checkpoint(bare / "checkpoint.npz", "lenet5", models.lenet5_init(0), {"model": "lenet5"})
    assert cli.main(["train", "--resume", str(bare), "--epochs", "2"]) == 2
    assert "holds no resume state" in _one_error_line(capsys.readouterr().err)


# -------------------------------------------------------------------- the loop as a library
def test_fit_runs_callbacks_in_order_and_records_history(patterns):
    params = models.lenet5_init(0)
    opt = optim.Adam(params, 2e-3)
    sched = optim.StepLR(opt, step_size=1, gamma=0.5)
    events: list[tuple] = []

    class Recorder(training.Callback):
        def on_train_begin(self, run): events.append(("begin", run.epoch))
        def on_epoch_begin(self, run, epoch): events.append(("epoch", epoch))
        def on_step(self, run, epoch, step, loss): events.append(("step", epoch, step))
        def on_epoch_end(self, run, epoch): events.append(("end", epoch, run.epoch))
        def on_train_end(self, run): events.append(("done", run.epoch))

    train_loader = patterns.loader("train", 100, seed=0)
    run = training.fit(models.lenet5, params, opt, train_loader, patterns.loader("test", 60), 2, scheduler=sched,
                       callbacks=[Recorder()])
    steps = [("step", e, i) for e in (1, 2) for i in (1, 2)]
    assert events == [("begin", 0), ("epoch", 1), *steps[:2], ("end", 1, 1), ("epoch", 2), *steps[2:],
                      ("end", 2, 2), ("done", 2)]
    assert run.epoch == 2 and len(run.history["step_loss"]) == 4 and run.history["lr"] == [2e-3, 1e-3]
    assert run.evaluation is not None and run.history["test_acc"][-1] == run.evaluation.accuracy


def test_fit_stops_on_a_diverging_loss_before_the_update(patterns):
    params = models.mlp_init(0)
    opt = optim.SGD(params, 0.1)
    aborted = []

    class Abort(training.Callback):
        def on_abort(self, run): aborted.append(run.epoch)

    def inf_grad_fn(fn, **kw):
        from tinygrad_cnn import value_and_grad
        step = value_and_grad(fn, **kw)

        def wrapped(p, x, y):
            (loss, logits), grads = step(p, x, y)
            return (loss * float("inf"), logits), grads
        return wrapped

    before = {k: v.data.copy() for k, v in params.items()}
    with pytest.raises(training.TrainingDiverged, match="epoch 1/1, step 1/"):
        training.fit(models.mlp, params, opt, patterns.loader("train", 50), patterns.loader("test", 60), 1,
                     callbacks=[Abort()], grad_fn=inf_grad_fn)
    assert aborted == [0] and opt.steps == 0
    assert all(np.array_equal(before[k], params[k].data) for k in params)


def test_the_cli_reexports_the_library():
    assert cli.TrainConfig is training.TrainConfig and cli.TrainResult is training.TrainResult
    assert cli.TrainingDiverged is training.TrainingDiverged
    assert models.get_model("mlp").first_conv is None and models.get_model("cnn").takes_dropout
    assert models.get_model("lenet5").input_shape == (1, 28, 28)
