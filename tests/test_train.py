"""Training: short runs that must learn (far above chance), the module and functional styles taking the
same steps, and one epoch of real MNIST when the files are present."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import data_dir

import tinygrad_cnn as tg
from tinygrad_cnn import data, models, optim
from tinygrad_cnn import train as training
from tinygrad_cnn import functional as F


@pytest.fixture(scope="module")
def patterns():
    return data.load_patterns(n_train=1500, n_test=600, seed=0)


def test_short_functional_training_beats_chance_widely(patterns):
    """LeNet-5, functional style, one pass over 1500 patterns: chance is 1/6."""
    params = models.lenet5_init(0)
    opt = optim.Adam(params, lr=2e-3)
    vg = tg.value_and_grad(lambda p, x, y: F.cross_entropy(models.lenet5(p, tg.Tensor(x)), y))
    losses = []
    for x, y in patterns.loader("train", 32, seed=0):
        loss, grads = vg(params, x, y)
        opt.step(grads)
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:5])
    ev = models.evaluate(models.lenet5, params, patterns.loader("test", 300))
    assert ev.accuracy >= 0.8, ev.accuracy
    cm = models.confusion_matrix(ev.labels, ev.predictions, 6)
    assert cm.sum() == 600 and np.trace(cm) == round(ev.accuracy * 600)


def test_module_training_takes_the_same_steps_as_functional(patterns):
    model = models.LeNet5(seed=2)
    params = models.lenet5_init(2)
    opt_m = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    opt_f = optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True)
    vg = tg.value_and_grad(lambda p, x, y: F.cross_entropy(models.lenet5(p, tg.Tensor(x)), y))
    for i, (x, y) in enumerate(patterns.loader("train", 16, seed=1)):
        if i == 3:
            break
        opt_m.zero_grad()
        loss_m = F.cross_entropy(model(tg.Tensor(x)), y)
        loss_m.backward()
        opt_m.step()
        loss_f, grads = vg(params, x, y)
        opt_f.step(grads)
        assert loss_m.item() == pytest.approx(loss_f.item(), rel=1e-5)
    for k, v in model.state_dict().items():
        np.testing.assert_allclose(v, params[k].data, rtol=1e-5, atol=1e-6, err_msg=k)


def test_train_function_records_history_and_checkpoint(tmp_path, patterns):
    cfg = training.TrainConfig(model="mlp", epochs=2, batch_size=50, optimizer="sgd", lr=0.05, schedule="step")
    logs = []
    res = training.train(cfg, tmp_path, dataset=patterns, log=logs.append, progress=False)
    h = res.history
    assert len(h["train_loss"]) == 2 and h["train_loss"][1] < h["train_loss"][0]
    assert len(h["step_loss"]) == 2 * 30 and h["lr"] == pytest.approx([0.05, 0.005])  # step: x0.1 every epochs//3
    assert res.test_accuracy == h["test_acc"][-1] > 0.5
    ck = models.load_checkpoint(tmp_path / "checkpoint.npz")
    assert ck.model == "mlp" and ck.config["epochs_done"] == 2 and ck.config["optimizer"] == "sgd"
    restored = models.params_from_checkpoint(ck)
    ev = models.evaluate(models.mlp, restored, patterns.loader("test", 200))
    assert ev.accuracy == res.test_accuracy
    assert any(line.startswith("epoch 2/2") for line in logs)


@pytest.mark.slow
@pytest.mark.skipif(data_dir() is None, reason="real MNIST files not present")
def test_one_epoch_of_mnist_reaches_97_percent():
    """LeNet-5, one epoch of the 60000 MNIST training images, Adam, batch 64: >= 97% on the 10000 test images."""
    ds = data.load_mnist(data_dir())
    cfg = training.TrainConfig(data="mnist", model="lenet5", epochs=1, batch_size=64, lr=2e-3, schedule="none")
    res = training.train(cfg, dataset=ds, log=lambda s: None, progress=False)
    assert res.test_accuracy >= 0.97, res.test_accuracy


def test_training_doc_examples_run():
    """docs/training.md's examples (a short training run, the module API, summary's table) stay true."""
    import doctest
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "training.md"
    result = doctest.testfile(str(page), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 10 and result.failed == 0
