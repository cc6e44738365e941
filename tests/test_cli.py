"""The ``tinygrad-cnn`` command end to end, and the checkpoint format (round trip, refusal of pickles and
damaged files)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import cli, models
from tinygrad_cnn.core.registry import REGISTRY, Sample, register_op

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "tinygrad_cnn", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


# -------------------------------------------------------------------- checkpoints
def test_checkpoint_round_trip(tmp_path):
    params = models.lenet5_init(1)
    config = {"data": "patterns", "lr": 0.001, "classes": ["a", "b"], "nested": {"x": [1, 2]}}
    path = models.save_checkpoint(tmp_path / "run" / "ck.npz", "lenet5", params, config)
    assert [p.name for p in path.parent.iterdir()] == ["ck.npz"]  # no temporary file left behind
    ck = models.load_checkpoint(path)
    assert ck.model == "lenet5" and ck.config == config
    assert list(ck.params) == list(params)
    for k, v in params.items():
        assert ck.params[k].dtype == np.float32
        np.testing.assert_array_equal(ck.params[k], v.data)
    restored = models.params_from_checkpoint(ck)
    assert all(t.requires_grad for t in restored.values())
    with np.load(path, allow_pickle=False) as z:  # plain arrays and strings, readable without this library
        assert str(z["__model__"]) == "lenet5" and json.loads(str(z["__config__"]))["lr"] == 0.001


def test_saving_replaces_atomically(tmp_path):
    path = tmp_path / "ck.npz"
    models.save_checkpoint(path, "mlp", models.mlp_init(0))
    models.save_checkpoint(path, "mlp", models.mlp_init(1), {"epoch": 2})
    ck = models.load_checkpoint(path)
    np.testing.assert_array_equal(ck.params["fc1.weight"], models.mlp_init(1)["fc1.weight"].data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"]


def test_pickles_are_refused(tmp_path):
    evil = tmp_path / "evil.npz"
    with open(evil, "wb") as f:
        pickle.dump({"conv1.weight": np.zeros(3)}, f)
    with pytest.raises(models.CheckpointError, match="pickle"):
        models.load_checkpoint(evil)
    obj = tmp_path / "object.npz"
    np.savez(obj, __format__=np.array(models.FORMAT), __model__=np.array("mlp"), __config__=np.array("{}"),
             **{"params/fc1.weight": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(models.CheckpointError, match="pickled"):
        models.load_checkpoint(obj)


def test_damaged_and_foreign_files_are_refused(tmp_path):
    good = models.save_checkpoint(tmp_path / "good.npz", "mlp", models.mlp_init(0))
    raw = good.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(models.CheckpointError, match="damaged"):
        models.load_checkpoint(cut)
    flipped = bytearray(raw)
    i = raw.index(b"params/fc1.weight") + 200  # inside that member's data
    flipped[i] ^= 0xFF
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(models.CheckpointError, match="damaged"):
        models.load_checkpoint(bad)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"hello world")
    with pytest.raises(models.CheckpointError, match="not an .npz archive"):
        models.load_checkpoint(junk)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.zeros(3))
    with pytest.raises(models.CheckpointError, match="not a tinygrad_cnn-checkpoint"):
        models.load_checkpoint(foreign)
    with pytest.raises(FileNotFoundError):
        models.load_checkpoint(tmp_path / "none.npz")


def test_checkpoint_parameters_must_fit_the_model(tmp_path):
    params = models.mlp_init(0)
    path = models.save_checkpoint(tmp_path / "a.npz", "lenet5", params)
    with pytest.raises(models.CheckpointError, match="the model needs"):
        models.params_from_checkpoint(models.load_checkpoint(path))
    params["fc3.bias"] = tg.Tensor(np.zeros(11, dtype=np.float32))
    path = models.save_checkpoint(tmp_path / "b.npz", "mlp", params)
    with pytest.raises(models.CheckpointError, match=r"shape \(11,\)"):
        models.params_from_checkpoint(models.load_checkpoint(path))


# -------------------------------------------------------------------- the command
def test_train_then_eval_end_to_end(tmp_path):
    out = tmp_path / "run"
    r = run("train", "--data", "patterns", "--model", "cnn", "--epochs", "2", "--batch-size", "32",
            "--limit-train", "640", "--limit-test", "300", "--out", str(out), "--plots")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("training cnn (421,642 parameters) on patterns: 640 train / 300 test images")
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert len(epoch_lines) == 2 and "train loss" in epoch_lines[0] and "test acc" in epoch_lines[1]
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["history"]["test_acc"]) == 2 and metrics["config"]["model"] == "cnn"
    assert metrics["test_acc"] > 0.5  # chance is 1/6
    for png in ("curves.png", "filters.png", "feature_maps.png", "confusion.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = run("eval", "--checkpoint", str(out / "checkpoint.npz"), "--limit-test", "300")
    assert r.returncode == 0, r.stderr
    assert f"accuracy {100 * metrics['test_acc']:.2f}%" in r.stdout  # the same number the run reported
    assert "square" in r.stdout  # per-class lines


def test_default_command_trains_on_patterns(tmp_path):
    """`tinygrad-cnn` with no arguments is the main job: LeNet-5 on patterns, quickly, to high accuracy."""
    r = run(cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    metrics = json.loads((tmp_path / "runs" / "patterns-lenet5" / "metrics.json").read_text())
    assert metrics["config"]["epochs"] == 3 and metrics["test_acc"] >= 0.9
    assert "done in" in r.stdout.splitlines()[-1]


def test_errors_exit_with_a_message(tmp_path):
    r = run("train", "--data", "mnist", "--data-root", str(tmp_path), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "missing train-images-idx3-ubyte" in r.stderr
    junk = tmp_path / "x.npz"
    junk.write_bytes(pickle.dumps([1, 2]))
    r = run("eval", "--checkpoint", str(junk))
    assert r.returncode == 2 and "pickle" in r.stderr
    r = run("train", "--model", "resnet")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_summary_command(capsys):
    assert cli.main(["summary", "--model", "cnn"]) == 0
    out = capsys.readouterr().out
    assert "conv2 (Conv2d)" in out and "Total params: 421,642" in out


def test_gradcheck_command_table(capsys):
    assert cli.main(["gradcheck", "--op", "mul", "--op", "relu"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| mul") or line.startswith("| relu")]
    assert len(rows) == 2 and all(row.rstrip().endswith("| pass   |") for row in rows)
    assert "all ops pass" in out
    assert cli.main(["gradcheck", "--op", "nonexistent"]) == 2


def test_gradcheck_command_catches_a_wrong_vjp(capsys):
    name = "test_cli_wrong_square"
    register_op(name, lambda x: x * x, vjps=[lambda g, out, x: g * x], formula="y = x^2; dx = g x (wrong)",
                kind="elementwise", samples=lambda rng: [Sample((rng.standard_normal(3),))])
    try:
        assert cli.main(["gradcheck", "--op", name, "--op", "exp"]) == 1
    finally:
        del REGISTRY[name]
    out = capsys.readouterr().out
    assert f"| {name}" in out and "FAIL" in out and "SOME OPS FAIL" in out
    assert "| exp " in out


def test_registry_wide_gradcheck_passes():
    assert cli.run_gradcheck(log=lambda s: None)
