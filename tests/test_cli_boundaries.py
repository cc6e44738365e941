"""The command line fails early and without a traceback: option ranges, unwritable paths, missing
matplotlib, diverging training, bad checkpoints, interrupted saves, closed pipes and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tinygrad_cnn import cli, models
from tinygrad_cnn import data as data_mod

ROOT = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), **extra}


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m tinygrad_cnn.cli ARGS`` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "tinygrad_cnn.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=_env(), timeout=timeout)


@pytest.fixture
def no_work(monkeypatch):
    """Loading a dataset (the first piece of real work) fails the test."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("work started before the options were checked")
    monkeypatch.setattr(data_mod, "load_dataset", refuse)


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("tinygrad-cnn: error: "), err
    return lines[0]


# -------------------------------------------------------------------- option ranges
REFUSED = [
    (["train", "--limit-train", "0"], "--limit-train"),
    (["train", "--limit-train", "-5"], "--limit-train"),
    (["train", "--limit-test", "0"], "--limit-test"),
    (["train", "--epochs", "0"], "--epochs"),
    (["train", "--epochs", "2.5"], "--epochs"),
    (["train", "--batch-size", "0"], "--batch-size"),
    (["train", "--batch-size", "-64"], "--batch-size"),
    (["train", "--lr", "nan"], "--lr"),
    (["train", "--lr", "inf"], "--lr"),
    (["train", "--lr", "-0.1"], "--lr"),
    (["train", "--lr", "1e400"], "--lr"),
    (["train", "--lr", "fast"], "--lr"),
    (["train", "--optimizer", "sgd", "--momentum", "-0.9"], "--momentum"),
    (["train", "--optimizer", "sgd", "--momentum", "nan"], "--momentum"),
    (["train", "--weight-decay", "-1e-4"], "--weight-decay"),
    (["train", "--weight-decay", "inf"], "--weight-decay"),
    (["train", "--model", "cnn", "--dropout", "1.5"], "--dropout"),
    (["train", "--model", "cnn", "--dropout", "1"], "--dropout"),
    (["train", "--model", "cnn", "--dropout", "-0.1"], "--dropout"),
    (["train", "--model", "cnn", "--dropout", "nan"], "--dropout"),
    (["train", "--model", "lenet5", "--dropout", "0.5"], "--dropout"),
    (["train", "--augment", "-1"], "--augment"),
    (["train", "--augment", "14"], "--augment"),
    (["train", "--seed", "-1"], "--seed"),
    (["train", "--model", "resnet"], "--model"),
    (["eval", "--checkpoint", "x.npz", "--batch-size", "0"], "--batch-size"),
    (["eval", "--checkpoint", "x.npz", "--limit-test", "0"], "--limit-test"),
    (["eval"], "--checkpoint"),
]


@pytest.mark.parametrize(("argv", "option"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_out_of_range_options_are_refused_before_any_work(argv, option, tmp_path, no_work, capsys):
    out = tmp_path / "out"
    assert cli.main([*argv, "--out", str(out)] if argv[0] == "train" else argv) == 2
    captured = capsys.readouterr()
    assert option in _one_error_line(captured.err)
    assert captured.out == ""  # nothing started
    assert not out.exists()


def test_refusals_in_a_real_process_are_one_line_without_traceback(tmp_path):
    for argv in (["train", "--limit-train", "0"], ["train", "--lr", "nan"], ["train", "--model", "cnn", "--dropout",
                                                                              "1.5"]):
        r = run_cli(*argv, cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        assert argv[-2] in _one_error_line(r.stderr)
        assert r.stdout == "" and not (tmp_path / "runs").exists()


def test_boundary_values_are_accepted(tmp_path, capsys):
    """The smallest allowed values run: one image, one epoch, batch 1, lr 0, dropout 0."""
    assert cli.main(["train", "--limit-train", "1", "--limit-test", "1", "--epochs", "1", "--batch-size", "1",
                     "--lr", "0", "--momentum", "0", "--weight-decay", "0", "--dropout", "0", "--augment", "0",
                     "--seed", "0", "--no-progress", "--out", str(tmp_path / "o")]) == 0
    assert "1 train / 1 test images" in capsys.readouterr().out
    assert (tmp_path / "o" / "checkpoint.npz").is_file()


def test_the_library_train_checks_its_config_before_loading_data(no_work):
    for cfg in (cli.TrainConfig(limit_train=0), cli.TrainConfig(lr=float("nan")), cli.TrainConfig(epochs=0),
                cli.TrainConfig(model="cnn", dropout=1.5), cli.TrainConfig(optimizer="rmsprop"),
                cli.TrainConfig(schedule="linear"), cli.TrainConfig(augment=20), cli.TrainConfig(batch_size=True)):
        with pytest.raises(ValueError, match="^train: "):
            cli.train(cfg, log=lambda s: None, progress=False)


# -------------------------------------------------------------------- checks before training
def test_an_unwritable_out_is_refused_before_training(tmp_path, no_work, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert cli.main(["train", "--out", str(blocker / "run")]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--out" in line and "not a directory" in line
    assert cli.main(["train", "--out", str(blocker)]) == 2
    assert "--out" in _one_error_line(capsys.readouterr().err)
    assert blocker.read_text() == "not a directory"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_out_is_refused_before_training(tmp_path, no_work, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert cli.main(["train", "--out", str(ro / "run")]) == 2
        assert "not writable" in _one_error_line(capsys.readouterr().err)
    finally:
        ro.chmod(0o700)


def test_plots_without_matplotlib_are_refused_before_training(tmp_path, no_work, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    assert cli.main(["train", "--plots", "--out", str(tmp_path / "o")]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "matplotlib" in line and "--plots" in line
    assert not (tmp_path / "o").exists()


# -------------------------------------------------------------------- a diverging run
def test_a_nan_loss_stops_with_the_epoch_the_step_and_what_to_try(tmp_path):
    out = tmp_path / "run"
    r = run_cli("train", "--optimizer", "sgd", "--lr", "1000", "--limit-train", "256", "--limit-test", "100",
                "--epochs", "2", "--no-progress", "--out", str(out))
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    line = [x for x in r.stderr.splitlines() if x.startswith("tinygrad-cnn: error: ")]
    assert len(line) == 1, r.stderr
    assert "training loss became nan" in line[0] and "epoch 1/2, step " in line[0] and "lower --lr" in line[0]
    assert "done in" not in r.stdout


def test_divergence_is_caught_before_the_update_and_names_the_last_good_checkpoint(tmp_path, monkeypatch, capsys):
    """A loss that turns inf on the 4th step (epoch 2, step 2 of 2): the run stops there, exit 1, and the
    checkpoint of epoch 1 is left with finite parameters."""
    real = cli.value_and_grad
    calls = [0]

    def failing_value_and_grad(fn, **kw):  # noqa: ANN001, ANN202
        step = real(fn, **kw)

        def wrapped(params, x, y):  # noqa: ANN001, ANN202
            (loss, logits), grads = step(params, x, y)
            calls[0] += 1
            if calls[0] == 4:
                loss = loss * float("inf")
            return (loss, logits), grads
        return wrapped

    monkeypatch.setattr(cli, "value_and_grad", failing_value_and_grad)
    out = tmp_path / "run"
    assert cli.main(["train", "--limit-train", "128", "--limit-test", "64", "--epochs", "3", "--no-progress",
                     "--out", str(out)]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "loss became inf at epoch 2/3, step 2/2" in line and "--lr" in line
    assert "after epoch 1" in line and str(out / "checkpoint.npz") in line
    ck = models.load_checkpoint(out / "checkpoint.npz")
    assert ck.config["epochs_done"] == 1
    assert all(np.isfinite(v).all() for v in ck.params.values())
    with pytest.raises(cli.TrainingDiverged, match="epoch 2/3, step 2/2"):
        calls[0] = 0
        cli.train(cli.TrainConfig(limit_train=128, limit_test=64), log=lambda s: None, progress=False)


# -------------------------------------------------------------------- checkpoints
def _write_raw_checkpoint(path: Path, params: dict[str, np.ndarray], config: str = "{}",
                          model: str = "lenet5") -> Path:
    np.savez(path, __format__=np.array(models.FORMAT), __model__=np.array(model), __config__=np.array(config),
             **{f"params/{k}": v for k, v in params.items()})
    return path


def test_integer_parameters_are_a_checkpoint_error(tmp_path):
    ints = {k: (v.data * 100).astype(np.int32) for k, v in models.lenet5_init(0).items()}
    path = _write_raw_checkpoint(tmp_path / "int.npz", ints)
    with pytest.raises(models.CheckpointError, match="floating-point"):
        models.load_checkpoint(path)
    with pytest.raises(models.CheckpointError, match="floating-point"):
        models.params_from_checkpoint(models.Checkpoint("lenet5", ints))
    with pytest.raises(TypeError, match="floating-point"):
        models.save_checkpoint(tmp_path / "b.npz", "lenet5", ints)
    assert not (tmp_path / "b.npz").exists()
    r = run_cli("eval", "--checkpoint", str(path))
    assert r.returncode == 2
    assert "floating-point" in _one_error_line(r.stderr)


def test_foreign_headers_are_checkpoint_errors(tmp_path):
    floats = {k: v.data for k, v in models.lenet5_init(0).items()}
    with pytest.raises(models.CheckpointError, match="not a JSON object"):
        models.load_checkpoint(_write_raw_checkpoint(tmp_path / "a.npz", floats, config="[1, 2]"))
    ck = models.load_checkpoint(_write_raw_checkpoint(tmp_path / "b.npz", floats, model="resnet"))
    with pytest.raises(models.CheckpointError, match="resnet"):
        models.params_from_checkpoint(ck)
    for name in ("a.npz", "b.npz"):
        r = run_cli("eval", "--checkpoint", str(tmp_path / name))
        assert r.returncode == 2
        _one_error_line(r.stderr)


class _Boom(Exception):
    pass


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError, _Boom])
def test_an_interrupted_save_leaves_no_temporary_file_and_the_old_checkpoint(tmp_path, monkeypatch, failure):
    path = models.save_checkpoint(tmp_path / "ck.npz", "mlp", models.mlp_init(0))
    real_savez = np.savez

    def half_written(f, **arrays):  # noqa: ANN001, ANN202
        f.write(b"PK\x03\x04 half a checkpoint")
        raise failure("disk full" if failure is OSError else "stop")

    monkeypatch.setattr(np, "savez", half_written)
    with pytest.raises(failure):
        models.save_checkpoint(path, "mlp", models.mlp_init(1))
    monkeypatch.setattr(np, "savez", real_savez)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"]
    np.testing.assert_array_equal(models.load_checkpoint(path).params["fc1.weight"],
                                  models.mlp_init(0)["fc1.weight"].data)


def test_a_failed_rename_leaves_no_temporary_file(tmp_path, monkeypatch):
    def refuse(src: object, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(KeyboardInterrupt):
        models.save_checkpoint(tmp_path / "new" / "ck.npz", "mlp", models.mlp_init(0))
    with pytest.raises(KeyboardInterrupt):
        cli._write_text_atomic(tmp_path / "metrics.json", json.dumps({"a": 1}))
    assert [p.name for p in tmp_path.iterdir()] == ["new"]
    assert list((tmp_path / "new").iterdir()) == []


# -------------------------------------------------------------------- pipes, interrupts, user errors
def test_summary_into_a_closed_pipe_exits_quietly():
    p = subprocess.Popen([sys.executable, "-m", "tinygrad_cnn.cli", "summary"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=_env())
    p.stdout.close()  # the reader goes away before the first line is written
    err = p.stderr.read().decode()
    p.stderr.close()
    assert p.wait(timeout=120) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_summary_piped_into_head():
    r = subprocess.run(f"'{sys.executable}' -m tinygrad_cnn.cli summary --model cnn | head -1", shell=True,
                       capture_output=True, text=True, env=_env(PYTHONUNBUFFERED="1"), timeout=120)
    assert r.stdout.startswith("Layer (type)") and r.stdout.count("\n") == 1
    assert "Traceback" not in r.stderr and "BrokenPipeError" not in r.stderr, r.stderr


def test_a_broken_stdout_in_process_returns_1(monkeypatch):
    class Closed:
        def write(self, s: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert cli.main(["summary"]) == 1


def test_ctrl_c_during_training_exits_130_without_traceback(tmp_path):
    out = tmp_path / "run"
    p = subprocess.Popen([sys.executable, "-m", "tinygrad_cnn.cli", "train", "--epochs", "50", "--no-progress",
                          "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=_env(PYTHONUNBUFFERED="1"))
    try:
        first = p.stdout.readline()
        assert first.startswith("training lenet5"), first
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        rest, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert _one_error_line(err) == "tinygrad-cnn: error: interrupted"
    assert not out.exists() or all(not f.name.endswith(".tmp") for f in out.iterdir())


@pytest.mark.parametrize("exc", [ValueError("bad value"), TypeError("bad type"), FileNotFoundError("no file"),
                                 PermissionError("read-only"), models.CheckpointError("damaged")])
def test_user_errors_are_one_line_with_exit_2(exc, monkeypatch, capsys):
    def fail(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(models, "summary", fail)
    assert cli.main(["summary"]) == 2
    assert _one_error_line(capsys.readouterr().err) == f"tinygrad-cnn: error: {exc}"


def test_keyboard_interrupt_in_process_is_130(monkeypatch, capsys):
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(models, "summary", interrupt)
    assert cli.main(["summary"]) == 130
    assert _one_error_line(capsys.readouterr().err) == "tinygrad-cnn: error: interrupted"


def test_help_returns_0_instead_of_raising(capsys):
    assert cli.main(["train", "--help"]) == 0
    assert "--limit-train" in capsys.readouterr().out


def test_download_into_an_unwritable_root_is_refused(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli.main(["download", "--data-root", str(blocker / "data")]) == 2
    assert "--data-root" in _one_error_line(capsys.readouterr().err)
