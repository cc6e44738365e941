"""Porting a PyTorch model built from the modern layers: its state_dict loads into the same Sequential of ours
by name, and both give the same outputs and input gradients, in training and in evaluation mode."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn.nn as nn
from tinygrad_cnn import Tensor

pytestmark = pytest.mark.oracle


def _layers(m, dropout):  # noqa: ANN001, ANN202
    """The same stack in either library (``m`` is ``torch.nn`` or ``tinygrad_cnn.nn``)."""
    return [
        m.Conv2d(1, 8, 3, padding=1, padding_mode="reflect"), m.BatchNorm2d(8), m.GELU(),
        m.Conv2d(8, 8, 3, padding=1, padding_mode="circular", bias=False), m.GroupNorm(2, 8), m.SiLU(),
        m.Dropout2d(dropout), m.ConvTranspose2d(8, 4, 2, stride=2), m.LeakyReLU(0.1),
        m.Upsample(scale_factor=0.5, mode="bilinear"), m.Conv2d(4, 6, 3, padding=1, padding_mode="replicate"),
        m.BatchNorm2d(6, momentum=None), m.Mish(), m.AdaptiveMaxPool2d(3), m.Hardswish(), m.Flatten(),
        m.LayerNorm(54), m.Linear(54, 16), m.ELU(0.5), m.Softplus(2.0), m.Linear(16, 10), m.ReLU6(),
        m.Hardtanh(-2, 2),
    ]


def _layers_1d(m):  # noqa: ANN001, ANN202
    return [m.Conv1d(2, 4, 3, padding=2, padding_mode="replicate"), m.BatchNorm1d(4), m.Mish(),
            m.ConvTranspose1d(4, 3, 3, stride=2, padding=1, output_padding=1), m.GELU(approximate="tanh")]


def _randomise(torch, net):  # noqa: ANN001
    """Non-trivial parameters and running statistics, so that loading them matters."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, t in list(net.named_parameters()) + list(net.named_buffers()):
            if name.endswith("num_batches_tracked"):
                t.fill_(3)
            elif name.endswith("running_var") or name.endswith("weight") and t.ndim == 1:
                t.copy_(0.5 + torch.rand(t.shape, generator=gen, dtype=t.dtype))
            else:
                t.copy_(0.5 * torch.randn(t.shape, generator=gen, dtype=t.dtype))


@pytest.mark.parametrize("kind", ["2d", "1d"])
def test_a_torch_state_dict_loads_by_name_and_gives_the_same_outputs(torch, kind):
    if kind == "2d":
        theirs, ours = torch.nn.Sequential(*_layers(torch.nn, 0.0)), nn.Sequential(*_layers(nn, 0.0))
        shape = (4, 1, 12, 12)
    else:
        theirs, ours = torch.nn.Sequential(*_layers_1d(torch.nn)), nn.Sequential(*_layers_1d(nn))
        shape = (3, 2, 7)
    _randomise(torch, theirs)
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict({k: v.numpy() for k, v in state.items()})
    rng = np.random.default_rng(0)
    for mode in (False, True):
        theirs.train(mode)
        ours.train(mode)
        x = rng.standard_normal(shape).astype(np.float32)
        tx = torch.from_numpy(x.copy()).requires_grad_(True)
        ox = Tensor(x, requires_grad=True)
        ty, oy = theirs(tx), ours(ox)
        np.testing.assert_allclose(oy.data, ty.detach().numpy(), rtol=2e-4, atol=2e-5)
        g = rng.standard_normal(oy.shape).astype(np.float32)
        ty.backward(torch.from_numpy(g))
        oy.backward(g)
        np.testing.assert_allclose(ox.grad.data, tx.grad.numpy(), rtol=2e-3, atol=2e-5)
    for k, v in theirs.state_dict().items():  # the training-mode pass moved the running statistics alike
        np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
