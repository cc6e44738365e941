"""ResNet-8: the functional model and the module are one network (in training and evaluation mode), it
matches a torchvision-style torch model loaded from its state dict, its batch-norm buffers go through the
training loop and checkpoints as state (not as parameters), it learns in a short run; and the loader's
crop-and-flip augmentation."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, data, models
from tinygrad_cnn import train as training

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def _batch(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, n)


def test_size_names_and_summary():
    params = models.resnet8_init(0)
    trainable, buffers = models.split_buffers(params)
    assert models.num_parameters(trainable) == 77_754 == models.ResNet8(0).num_parameters()
    assert sorted(buffers) == sorted(k for k in params if k.endswith(("running_mean", "running_var")))
    assert len(buffers) == 2 * 9 and not any(b.requires_grad for b in buffers.values())
    assert "layer2.0.downsample.0.weight" in params and "layer1.0.downsample.0.weight" not in params
    rows = {r["name"]: r for r in models.summary("resnet8", print_fn=None)}
    assert rows["layer1.0.conv2"]["output_shape"] == (1, 16, 28, 28)
    assert rows["layer2.0.downsample.0"]["output_shape"] == (1, 32, 14, 14)
    assert rows["layer3.0.conv2"]["output_shape"] == (1, 64, 7, 7) and rows["fc"]["output_shape"] == (1, 10)


def test_function_and_module_are_one_network_in_both_modes():
    params = models.resnet8_init(1)
    model = models.ResNet8(1)
    state = model.state_dict()
    assert set(state) - set(params) == {k for k in state if k.endswith("num_batches_tracked")}
    for k, v in params.items():
        np.testing.assert_array_equal(state[k], v.data)
    x, y = _batch()
    trainable, buffers = models.split_buffers(params)
    loss_f = lambda p: F.cross_entropy(models.resnet8({**p, **buffers}, Tensor(x), training=True), y)  # noqa: E731
    loss, grads = tg.value_and_grad(loss_f)(trainable)
    lm = F.cross_entropy(model.train()(Tensor(x)), y)
    lm.backward()
    np.testing.assert_allclose(loss.item(), lm.item(), rtol=1e-6)
    for k, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.data, grads[k].data, rtol=1e-5, atol=1e-6, err_msg=k)
    after = model.state_dict()
    for k, b in buffers.items():  # both updated their running statistics the same way
        np.testing.assert_allclose(after[k], b.data, rtol=1e-6, atol=1e-7, err_msg=k)
        assert not np.allclose(b.data, models.resnet8_init(1)[k].data)
    assert int(after["bn1.num_batches_tracked"]) == 1
    with tg.no_grad():
        np.testing.assert_allclose(model.eval()(Tensor(x)).data, models.resnet8(params, Tensor(x)).data,
                                   rtol=1e-5, atol=1e-6)


def test_resnet8_passes_gradcheck_in_float64_in_training_mode():
    params = {k: Tensor(v.data.astype(np.float64), requires_grad=v.requires_grad) for k, v in models.resnet8_init(0).items()}
    trainable, buffers = models.split_buffers(params)
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6))
    w, b = trainable["conv1.weight"], trainable["layer3.0.bn2.weight"]

    def f(w_: Tensor, b_: Tensor, x_: Tensor) -> Tensor:
        return models.resnet8({**trainable, **buffers, "conv1.weight": w_, "layer3.0.bn2.weight": b_}, x_,
                              training=True)

    assert tg.gradcheck(f, [Tensor(w.data), Tensor(b.data), Tensor(x)])


@pytest.mark.oracle
def test_matches_torch_loaded_from_its_state_dict(torch):
    from resnet8_torch import torch_resnet8

    net = torch_resnet8()
    with torch.no_grad():  # non-trivial batch-norm state
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2)
    ours = models.ResNet8(0)
    ours.load_state_dict({k: v.numpy() for k, v in net.state_dict().items()})
    assert list(ours.state_dict()) == list(net.state_dict())
    x, y = _batch(8)
    for mode in (False, True):
        ours.train(mode)
        net.train(mode)
        out = ours(Tensor(x))
        tout = net(torch.from_numpy(x))
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-4, atol=1e-5)
    F.cross_entropy(out, y).backward()
    torch.nn.functional.cross_entropy(tout, torch.from_numpy(y)).backward()
    theirs = dict(net.named_parameters())
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, theirs[k].grad.numpy(), rtol=1e-3, atol=1e-5, err_msg=k)
    for k, v in net.state_dict().items():  # one training-mode forward: running statistics updated alike
        np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


def test_resnet8_learns_in_a_short_run_and_its_checkpoint_evaluates_with_running_statistics(tmp_path):
    ds = data.load_patterns(n_train=1600, n_test=400, seed=0)
    cfg = training.TrainConfig(data="patterns", model="resnet8", epochs=4, batch_size=32, optimizer="sgd", lr=0.05,
                               weight_decay=5e-4, augment=1, flip=True, seed=0)
    with tg.conv_algorithm("fixed"):  # no planning: the run is short
        res = training.train(cfg, tmp_path, dataset=ds, log=lambda s: None, progress=False)
        hist = res.history
        assert len(hist["step_loss"]) == 4 * 50  # 200 steps
        assert np.mean(hist["step_loss"][-20:]) < 0.5 * np.mean(hist["step_loss"][:20])
        assert res.evaluation.accuracy >= 0.9
        ckpt = models.load_checkpoint(tmp_path / "checkpoint.npz")
        params = models.params_from_checkpoint(ckpt)
        assert not params["bn1.running_var"].requires_grad and params["bn1.weight"].requires_grad
        assert not np.allclose(params["bn1.running_var"].data, 1)  # the trained statistics were saved
        ev = models.evaluate(models.resnet8, params, ds.loader("test", 100))
    assert ev.accuracy == pytest.approx(res.evaluation.accuracy)


def test_flip_and_crop_augmentation_is_seeded_and_is_what_it_says():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (64, 6, 6)).astype(np.uint8)
    labels = np.arange(64) % 10
    plain = data.DataLoader(images, labels, 64)
    flipped = data.DataLoader(images, labels, 64, flip=True, seed=3)
    again = data.DataLoader(images, labels, 64, flip=True, seed=3)
    (x0, _), (x1, _), (x2, _) = next(iter(plain)), next(iter(flipped)), next(iter(again))
    np.testing.assert_array_equal(x1, x2)
    mirrored = np.all(x1 == x0[..., ::-1], axis=(1, 2, 3))
    same = np.all(x1 == x0, axis=(1, 2, 3))
    assert np.all(mirrored | same) and 16 < mirrored.sum() < 48
    crop = data.DataLoader(images, labels, 64, shift=1, seed=3)
    (x3, _), = [next(iter(crop))]
    padded = np.pad(x0, [(0, 0), (0, 0), (1, 1), (1, 1)], constant_values=plain.normalize(np.zeros((1, 1, 1), np.uint8)).item())
    windows = [padded[:, :, i:i + 6, j:j + 6] for i in range(3) for j in range(3)]
    assert all(any(np.array_equal(x3[n], w[n]) for w in windows) for n in range(64))  # a crop of the padded image
    with pytest.raises(TypeError, match="flip must be True or False"):
        data.DataLoader(images, labels, 8, flip="yes")
