"""The model zoo, written two ways: pure functions over a parameter dict, and :mod:`tinygrad_cnn.nn` modules.

    params = models.lenet5_init(seed=0)                  # {"conv1.weight": Tensor (6, 1, 5, 5), ...}
    logits = models.lenet5(params, x)                    # x: (N, 1, 28, 28)
    loss, grads = tg.value_and_grad(lambda p: F.cross_entropy(models.lenet5(p, x), y))(params)

    model = models.LeNet5(seed=0)                        # the same network as an nn.Module,
    model.state_dict().keys() == params.keys()           # with the same parameter names and values

* **LeNet-5** (LeCun, Bottou, Bengio & Haffner 1998): 6 then 16 5x5 filters, each followed by 2x2
  subsampling, then 120-84-10 dense layers; 61,706 parameters. On 28x28 inputs the first convolution pads
  by 2 (the paper's inputs were 32x32). As in most modern re-implementations it uses ReLU and max pooling
  where the paper used scaled tanh and trainable average subsampling, and a plain softmax output.
* **cnn**: a small modern CNN: two blocks of 3x3 convolution (32 then 64 filters, padding 1), ReLU and
  2x2 max pooling, a 128-unit dense layer and the 10-way output; 421,642 parameters.
* **mlp**: a multilayer perceptron of about the same size: 784-512-128-10, 468,874 parameters.

Weights start He-normal (std sqrt(2 / fan_in)) in layers followed by a ReLU and Glorot-uniform in the output
layer; biases start at zero. This module also holds :func:`summary`, the checkpoint format
(:func:`save_checkpoint` / :func:`load_checkpoint`) and :func:`evaluate`.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import functional as F
from .. import nn
from ..nn import init
from ..core.tensor import Tensor, no_grad, scope

Params = dict[str, Tensor]


def _he(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return init.kaiming_normal(shape, nonlinearity="relu", rng=rng, dtype=dtype)


def _glorot(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return init.xavier_uniform(shape, rng=rng, dtype=dtype)


def _make_params(layers: list[tuple[str, tuple[int, ...], str]], seed: int | np.random.Generator,
                 dtype: Any) -> Params:
    """{name.weight, name.bias} for (name, weight shape, 'he' | 'glorot') layers, drawn in order."""
    rng = init.as_rng(seed)
    params: Params = {}
    for name, shape, how in layers:
        w = (_he if how == "he" else _glorot)(rng, shape, dtype)
        params[f"{name}.weight"] = Tensor(w, requires_grad=True, name=f"{name}.weight")
        params[f"{name}.bias"] = Tensor(np.zeros(shape[0], dtype=dtype), requires_grad=True, name=f"{name}.bias")
    return params


def _tap(taps: dict[str, Tensor] | None, name: str, t: Tensor) -> Tensor:
    if taps is not None:
        taps[name] = t
    return t


# -------------------------------------------------------------------- LeNet-5
LENET5_LAYERS = [("conv1", (6, 1, 5, 5), "he"), ("conv2", (16, 6, 5, 5), "he"), ("fc1", (120, 400), "he"),
                 ("fc2", (84, 120), "he"), ("fc3", (10, 84), "glorot")]


def lenet5_init(seed: int | np.random.Generator = 0, dtype: Any = np.float32) -> Params:
    """LeNet-5's parameters: conv1 (6, 1, 5, 5), conv2 (16, 6, 5, 5), fc1 (120, 400), fc2 (84, 120), fc3 (10, 84)."""
    return _make_params(LENET5_LAYERS, seed, dtype)


def lenet5(params: Mapping[str, Tensor], x: Tensor, taps: dict[str, Tensor] | None = None) -> Tensor:
    """Logits (N, 10) of LeNet-5 for images x (N, 1, 28, 28).

    conv 5x5 (pad 2) -> ReLU -> maxpool 2 -> conv 5x5 -> ReLU -> maxpool 2 -> 400 -> 120 -> 84 -> 10.
    ``taps``, when given, receives the activations after each convolution ("conv1", "conv2").
    """
    p = params
    with scope("conv1"):
        h = _tap(taps, "conv1", F.relu(F.conv2d(x, p["conv1.weight"], p["conv1.bias"], padding=2)))
    with scope("pool1"):
        h = F.max_pool2d(h, 2)
    with scope("conv2"):
        h = _tap(taps, "conv2", F.relu(F.conv2d(h, p["conv2.weight"], p["conv2.bias"])))
    with scope("pool2"):
        h = F.max_pool2d(h, 2)
    h = F.flatten(h, 1)
    with scope("fc1"):
        h = F.relu(F.linear(h, p["fc1.weight"], p["fc1.bias"]))
    with scope("fc2"):
        h = F.relu(F.linear(h, p["fc2.weight"], p["fc2.bias"]))
    with scope("fc3"):
        return F.linear(h, p["fc3.weight"], p["fc3.bias"])


# -------------------------------------------------------------------- the small modern CNN
CNN_LAYERS = [("conv1", (32, 1, 3, 3), "he"), ("conv2", (64, 32, 3, 3), "he"), ("fc1", (128, 64 * 7 * 7), "he"),
              ("fc2", (10, 128), "glorot")]


def cnn_init(seed: int | np.random.Generator = 0, dtype: Any = np.float32) -> Params:
    """The small CNN's parameters: conv1 (32, 1, 3, 3), conv2 (64, 32, 3, 3), fc1 (128, 3136), fc2 (10, 128)."""
    return _make_params(CNN_LAYERS, seed, dtype)


def cnn(params: Mapping[str, Tensor], x: Tensor, taps: dict[str, Tensor] | None = None, dropout: float = 0.0,
        rng: np.random.Generator | None = None) -> Tensor:
    """Logits (N, 10) of the small CNN for x (N, 1, 28, 28).

    [conv 3x3 (pad 1) -> ReLU -> maxpool 2] with 32 then 64 filters -> 3136 -> 128 -> 10. With ``dropout`` > 0
    and a generator ``rng``, the 128 hidden units are dropped with that probability (training only).
    """
    p = params
    with scope("conv1"):
        h = _tap(taps, "conv1", F.relu(F.conv2d(x, p["conv1.weight"], p["conv1.bias"], padding=1)))
    with scope("pool1"):
        h = F.max_pool2d(h, 2)
    with scope("conv2"):
        h = _tap(taps, "conv2", F.relu(F.conv2d(h, p["conv2.weight"], p["conv2.bias"], padding=1)))
    with scope("pool2"):
        h = F.max_pool2d(h, 2)
    h = F.flatten(h, 1)
    with scope("fc1"):
        h = F.relu(F.linear(h, p["fc1.weight"], p["fc1.bias"]))
        if dropout != 0 and rng is not None:  # nn.dropout checks 0 <= p <= 1
            h = nn.dropout(h, dropout, rng)
    with scope("fc2"):
        return F.linear(h, p["fc2.weight"], p["fc2.bias"])


# -------------------------------------------------------------------- the MLP
MLP_LAYERS = [("fc1", (512, 784), "he"), ("fc2", (128, 512), "he"), ("fc3", (10, 128), "glorot")]


def mlp_init(seed: int | np.random.Generator = 0, dtype: Any = np.float32) -> Params:
    """The MLP's parameters: fc1 (512, 784), fc2 (128, 512), fc3 (10, 128)."""
    return _make_params(MLP_LAYERS, seed, dtype)


def mlp(params: Mapping[str, Tensor], x: Tensor, taps: dict[str, Tensor] | None = None) -> Tensor:
    """Logits (N, 10) of the MLP for x (N, 1, 28, 28) or (N, 784): 784 -> 512 -> 128 -> 10 with ReLU."""
    p = params
    h = F.flatten(x, 1)
    with scope("fc1"):
        h = F.relu(F.linear(h, p["fc1.weight"], p["fc1.bias"]))
    with scope("fc2"):
        h = F.relu(F.linear(h, p["fc2.weight"], p["fc2.bias"]))
    with scope("fc3"):
        return F.linear(h, p["fc3.weight"], p["fc3.bias"])


# -------------------------------------------------------------------- ResNet-8
BUFFER_SUFFIXES = (".running_mean", ".running_var")


def is_buffer(name: str) -> bool:
    """Whether a parameter-dict entry is batch-norm state (running mean / variance), updated by training
    steps in place but not by the optimizer."""
    return name.endswith(BUFFER_SUFFIXES)


def split_buffers(params: Mapping[str, Tensor]) -> tuple[Params, Params]:
    """(trainable parameters, batch-norm buffers) of a parameter dict (see :func:`is_buffer`)."""
    return ({k: v for k, v in params.items() if not is_buffer(k)},
            {k: v for k, v in params.items() if is_buffer(k)})


RESNET8_STAGES = ((16, 1), (32, 2), (64, 2))  # (channels, stride) of the three stages, one basic block each


def _resnet8_layers() -> list[tuple[str, str, tuple[int, ...]]]:
    """(name, kind, shape) in torchvision's naming: conv weights (no bias), batch norms (C,), the fc layer."""
    layers: list[tuple[str, str, tuple[int, ...]]] = [("conv1", "conv", (16, 1, 3, 3)), ("bn1", "bn", (16,))]
    cin = 16
    for i, (c, stride) in enumerate(RESNET8_STAGES, 1):
        b = f"layer{i}.0"
        layers += [(f"{b}.conv1", "conv", (c, cin, 3, 3)), (f"{b}.bn1", "bn", (c,)),
                   (f"{b}.conv2", "conv", (c, c, 3, 3)), (f"{b}.bn2", "bn", (c,))]
        if stride != 1 or cin != c:
            layers += [(f"{b}.downsample.0", "conv", (c, cin, 1, 1)), (f"{b}.downsample.1", "bn", (c,))]
        cin = c
    return layers + [("fc", "fc", (10, 64))]


def resnet8_init(seed: int | np.random.Generator = 0, dtype: Any = np.float32) -> Params:
    """ResNet-8's parameters and batch-norm buffers, torchvision's names and initialisation: convolutions
    He-normal over fan_out (no bias), batch norms weight 1, bias 0, running mean 0 and variance 1, the fc
    layer PyTorch's Linear default. The running statistics are Tensors that do not require grad."""
    rng = init.as_rng(seed)
    params: Params = {}
    for name, kind, shape in _resnet8_layers():
        if kind == "conv":
            w = init.kaiming_normal(shape, mode="fan_out", nonlinearity="relu", rng=rng, dtype=dtype)
            params[f"{name}.weight"] = Tensor(w, requires_grad=True, name=f"{name}.weight")
        elif kind == "bn":
            for k, v, grad in (("weight", 1.0, True), ("bias", 0.0, True), ("running_mean", 0.0, False),
                               ("running_var", 1.0, False)):
                params[f"{name}.{k}"] = Tensor(np.full(shape, v, dtype=dtype), requires_grad=grad, name=f"{name}.{k}")
        else:
            w, b = init.default_weight_and_bias(shape, True, rng, dtype)
            params[f"{name}.weight"] = Tensor(w, requires_grad=True, name=f"{name}.weight")
            params[f"{name}.bias"] = Tensor(b, requires_grad=True, name=f"{name}.bias")
    return params


def resnet8(params: Mapping[str, Tensor], x: Tensor, taps: dict[str, Tensor] | None = None,
            training: bool = False, momentum: float = 0.1) -> Tensor:
    """Logits (N, 10) of ResNet-8 for x (N, 1, 28, 28): He et al. 2016's CIFAR design at 28x28.

    stem: conv 3x3 (16) -> BN -> ReLU; three stages of one basic block at 16, 32 and 64 channels, the last
    two with stride 2 (28 -> 14 -> 7) and a 1x1 stride-2 projection (conv + BN) on the shortcut; a basic
    block is relu(BN(conv3x3(relu(BN(conv3x3(h))))) + shortcut(h)). Then global average pooling and a
    64 -> 10 dense layer. ``training`` normalises with batch statistics and updates the running ones in
    ``params`` in place (with ``momentum``); otherwise the running statistics normalise.
    """
    p = params

    def bn(name: str, h: Tensor) -> Tensor:
        return F.batch_norm(h, p[f"{name}.running_mean"], p[f"{name}.running_var"], p[f"{name}.weight"],
                            p[f"{name}.bias"], training=training, momentum=momentum)

    with scope("conv1"):
        h = _tap(taps, "conv1", F.relu(bn("bn1", F.conv2d(x, p["conv1.weight"], padding=1))))
    cin = 16
    for i, (c, stride) in enumerate(RESNET8_STAGES, 1):
        b = f"layer{i}.0"
        with scope(f"layer{i}"):
            out = F.relu(bn(f"{b}.bn1", F.conv2d(h, p[f"{b}.conv1.weight"], stride=stride, padding=1)))
            out = bn(f"{b}.bn2", F.conv2d(out, p[f"{b}.conv2.weight"], padding=1))
            short = h
            if stride != 1 or cin != c:
                short = bn(f"{b}.downsample.1", F.conv2d(h, p[f"{b}.downsample.0.weight"], stride=stride))
            h = _tap(taps, f"layer{i}", F.relu(out + short))
        cin = c
    h = F.global_avg_pool2d(h)
    with scope("fc"):
        return F.linear(h, p["fc.weight"], p["fc.bias"])


# -------------------------------------------------------------------- the same networks as modules
class LeNet5(nn.Module):
    """LeNet-5 as a module; ``LeNet5(seed)`` starts from exactly ``lenet5_init(seed)``."""

    def __init__(self, seed: int | np.random.Generator = 0, dtype: Any = np.float32) -> None:
        super().__init__()
        self.conv1, self.relu1, self.pool1 = nn.Conv2d(1, 6, 5, padding=2, rng=0), nn.ReLU(), nn.MaxPool2d(2)
        self.conv2, self.relu2, self.pool2 = nn.Conv2d(6, 16, 5, rng=0), nn.ReLU(), nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1, self.relu3 = nn.Linear(400, 120, rng=0), nn.ReLU()
        self.fc2, self.relu4 = nn.Linear(120, 84, rng=0), nn.ReLU()
        self.fc3 = nn.Linear(84, 10, rng=0)
        self.to(dtype).load_state_dict(lenet5_init(seed, dtype))

    def forward(self, x: Tensor) -> Tensor:
        h = self.pool1(self.relu1(self.conv1(x)))
        h = self.pool2(self.relu2(self.conv2(h)))
        h = self.relu3(self.fc1(self.flatten(h)))
        return self.fc3(self.relu4(self.fc2(h)))


class SmallCNN(nn.Module):
    """The small CNN as a module; ``SmallCNN(seed)`` starts from ``cnn_init(seed)``. ``dropout`` applies to
    the 128 hidden units in training mode."""

    def __init__(self, seed: int | np.random.Generator = 0, dtype: Any = np.float32, dropout: float = 0.0) -> None:
        super().__init__()
        self.conv1, self.relu1, self.pool1 = nn.Conv2d(1, 32, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2)
        self.conv2, self.relu2, self.pool2 = nn.Conv2d(32, 64, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1, self.relu3, self.drop = nn.Linear(3136, 128, rng=0), nn.ReLU(), nn.Dropout(dropout, rng=seed)
        self.fc2 = nn.Linear(128, 10, rng=0)
        self.to(dtype).load_state_dict(cnn_init(seed, dtype))

    def forward(self, x: Tensor) -> Tensor:
        h = self.pool1(self.relu1(self.conv1(x)))
        h = self.pool2(self.relu2(self.conv2(h)))
        h = self.drop(self.relu3(self.fc1(self.flatten(h))))
        return self.fc2(h)


class MLP(nn.Module):
    """The MLP as a module; ``MLP(seed)`` starts from ``mlp_init(seed)``."""

    def __init__(self, seed: int | np.random.Generator = 0, dtype: Any = np.float32) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1, self.relu1 = nn.Linear(784, 512, rng=0), nn.ReLU()
        self.fc2, self.relu2 = nn.Linear(512, 128, rng=0), nn.ReLU()
        self.fc3 = nn.Linear(128, 10, rng=0)
        self.to(dtype).load_state_dict(mlp_init(seed, dtype))

    def forward(self, x: Tensor) -> Tensor:
        h = self.relu1(self.fc1(self.flatten(x)))
        return self.fc3(self.relu2(self.fc2(h)))


class BasicBlock(nn.Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), 3x3 convolutions without bias; ``downsample``
    (conv 1x1 with ``stride`` + BN) when the shape changes, as torchvision's BasicBlock."""

    def __init__(self, cin: int, cout: int, stride: int = 1, dtype: Any = np.float32) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False, rng=0, dtype=dtype)
        self.bn1, self.relu = nn.BatchNorm2d(cout, dtype=dtype), nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False, rng=0, dtype=dtype)
        self.bn2 = nn.BatchNorm2d(cout, dtype=dtype)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False, rng=0, dtype=dtype),
                                            nn.BatchNorm2d(cout, dtype=dtype))

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet8(nn.Module):
    """ResNet-8 as a module (see :func:`resnet8`); ``ResNet8(seed)`` starts from ``resnet8_init(seed)``. Its
    ``state_dict`` adds each batch norm's ``num_batches_tracked`` counter to the functional dict's keys, so
    it loads torchvision-style PyTorch state dicts by name."""

    def __init__(self, seed: int | np.random.Generator = 0, dtype: Any = np.float32) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False, rng=0, dtype=dtype)
        self.bn1, self.relu = nn.BatchNorm2d(16, dtype=dtype), nn.ReLU()
        cin = 16
        for i, (c, stride) in enumerate(RESNET8_STAGES, 1):
            setattr(self, f"layer{i}", nn.Sequential(BasicBlock(cin, c, stride, dtype)))
            cin = c
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64, 10, rng=0, dtype=dtype)
        self.load_state_dict(resnet8_init(seed, dtype), strict=False)

    def forward(self, x: Tensor) -> Tensor:
        h = self.relu(self.bn1(self.conv1(x)))
        h = self.layer3(self.layer2(self.layer1(h)))
        return self.fc(F.global_avg_pool2d(h))


@dataclass(frozen=True)
class ModelSpec:
    """A zoo entry: the functional pair, the module class and a one-line description, and what training and
    plotting need to know about the network: the name of its first layer (``<first_layer>.weight``), of its
    first convolution (None for a network without one), the shape (C, H, W) of one input image, whether
    ``apply`` takes ``dropout=`` and ``rng=``, and whether it takes ``training=`` (batch norm: True in training
    steps, which then update the running statistics in the parameter dict; see :func:`split_buffers`)."""

    name: str
    init: Callable[..., Params]
    apply: Callable[..., Tensor]
    module: type[nn.Module]
    description: str
    first_layer: str = "conv1"
    first_conv: str | None = "conv1"
    input_shape: tuple[int, ...] = (1, 28, 28)
    takes_dropout: bool = False
    takes_training: bool = False


MODELS: dict[str, ModelSpec] = {
    "lenet5": ModelSpec("lenet5", lenet5_init, lenet5, LeNet5, "LeNet-5: conv 6@5x5, conv 16@5x5, dense 120-84-10"),
    "cnn": ModelSpec("cnn", cnn_init, cnn, SmallCNN, "small CNN: conv 32@3x3, conv 64@3x3, dense 128-10",
                     takes_dropout=True),
    "mlp": ModelSpec("mlp", mlp_init, mlp, MLP, "MLP: dense 784-512-128-10", first_layer="fc1", first_conv=None),
    "resnet8": ModelSpec("resnet8", resnet8_init, resnet8, ResNet8,
                         "ResNet-8: 3x3 stem, basic blocks at 16/32/64 channels, batch norm, global average pool",
                         takes_training=True),
}


def dropout_models() -> list[str]:
    """The names of the zoo models whose ``apply`` takes ``dropout=`` (see ModelSpec.takes_dropout)."""
    return sorted(name for name, spec in MODELS.items() if spec.takes_dropout)


def get_model(name: str) -> ModelSpec:
    """The zoo entry called ``name`` ('lenet5', 'cnn' or 'mlp')."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {sorted(MODELS)}")
    return MODELS[name]


def num_parameters(params: Mapping[str, Any]) -> int:
    """Total number of scalar parameters in a parameter dict."""
    return int(sum(np.asarray(getattr(p, "data", p)).size for p in params.values()))


# -------------------------------------------------------------------- summary
def summary(model: nn.Module | str, input_shape: tuple[int, ...] = (1, 1, 28, 28),
            print_fn: Callable[[str], None] | None = print) -> list[dict[str, Any]]:
    """Run one zero batch of ``input_shape`` through ``model`` (a Module or a zoo name) and tabulate, per
    layer, the output shape and parameter count, plus the total.

    For convolutions the last column shows what a dense layer mapping the same input to the same output
    would need (in * out + out): the saving bought by sharing weights across positions. Returns the rows
    as dicts (name, type, output_shape, params, dense_params) and prints the table via ``print_fn``.
    """
    if isinstance(model, str):
        model = get_model(model).module()
    names = {id(m): n for n, m in model.named_modules()}
    rows: list[dict[str, Any]] = []

    def hook(m: nn.Module, args: tuple[Any, ...], out: Any) -> None:
        if m._modules or id(m) not in names:
            return
        own = sum(p.size for p in m.parameters())
        dense = None
        if isinstance(m, (nn.Conv2d, nn.Conv1d)) and args and isinstance(args[0], Tensor):
            n_in, n_out = int(np.prod(args[0].shape[1:])), int(np.prod(out.shape[1:]))
            dense = n_in * n_out + n_out
        rows.append({"name": names[id(m)], "type": type(m).__name__, "output_shape": tuple(out.shape),
                     "params": int(own), "dense_params": dense})

    dtype = next((p.dtype for p in model.parameters()), np.dtype(np.float32))
    was_training = model.training
    handle = nn.register_module_forward_hook(hook)
    try:
        with no_grad():
            model.eval()(Tensor(np.zeros(input_shape, dtype=dtype)))
    finally:
        handle.remove()
        model.train(was_training)
    total = model.num_parameters()
    if print_fn is not None:
        dense = any(r["dense_params"] is not None for r in rows)
        head = ("Layer (type)", "Output shape", "Params") + (("Dense layer, same in/out",) if dense else ())
        body = [(f"{r['name']} ({r['type']})", str(r["output_shape"]), f"{r['params']:,}")
                + (("" if r["dense_params"] is None else f"{r['dense_params']:,}",) if dense else ()) for r in rows]
        widths = [max(len(x) for x in col) for col in zip(head, *body)]
        line = "  ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths)))
        print_fn(line)
        print_fn("-" * len(line))
        for b in body:
            print_fn("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(b, widths))).rstrip())
        print_fn("-" * len(line))
        print_fn(f"Total params: {total:,}")
    return rows


# -------------------------------------------------------------------- evaluation
def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[i, j] = how many examples of true class i were predicted as class j."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape:
        raise ValueError(f"confusion_matrix: labels {labels.shape} and predictions {predictions.shape} differ in shape")
    return np.bincount(labels * num_classes + predictions, minlength=num_classes**2).reshape(num_classes, num_classes)


@dataclass
class Evaluation:
    loss: float
    accuracy: float
    predictions: np.ndarray
    labels: np.ndarray


def evaluate(apply: Callable[..., Tensor], params: Any, batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> Evaluation:
    """Mean cross-entropy, accuracy, predictions and labels of ``apply(params, x)`` over ``batches`` (no graph)."""
    total, correct, n = 0.0, 0, 0
    preds, labels = [], []
    with no_grad():
        for x, y in batches:
            logits = apply(params, Tensor(x))
            total += float(F.cross_entropy(logits, y, reduction="sum").item())
            p = np.argmax(logits.data, axis=1)
            correct += int((p == y).sum())
            n += len(y)
            preds.append(p)
            labels.append(y)
    if n == 0:
        raise ValueError("evaluate: no examples")
    return Evaluation(total / n, correct / n, np.concatenate(preds), np.concatenate(labels))


# -------------------------------------------------------------------- checkpoints
FORMAT = "tinygrad_cnn-checkpoint-v1"


class CheckpointError(ValueError):
    """A checkpoint file is corrupt, is not a checkpoint, or holds pickled content (which is refused)."""


@dataclass
class Checkpoint:
    model: str
    params: dict[str, np.ndarray]
    config: dict[str, Any] = field(default_factory=dict)
    state: dict[str, np.ndarray] = field(default_factory=dict)  # training state arrays (optimizer moments, ...)


def save_checkpoint(path: str | os.PathLike, model: str, params: Mapping[str, Any],
                    config: Mapping[str, Any] | None = None, state: Mapping[str, Any] | None = None) -> Path:
    """Write an ``.npz`` checkpoint atomically (a temporary file renamed into place).

    It holds only floating-point arrays and strings, no pickle: ``params/<name>`` per parameter, and the
    format tag, the model name and the JSON-encoded ``config`` as string arrays. Parameters that are not
    floating point raise TypeError (they could not be trained or loaded back). If writing fails or is
    interrupted (an exception, KeyboardInterrupt), the temporary file is removed and an existing file at
    ``path`` is left as it was.

    ``state``, when given, adds ``state/<key>`` arrays beside the parameters: what a resumed run needs
    besides them (optimizer moments, ...; see :mod:`tinygrad_cnn.train`). They must be numeric or boolean
    arrays (TypeError otherwise) and come back in :attr:`Checkpoint.state`.
    """
    path = Path(path)
    arrays: dict[str, np.ndarray] = {
        "__format__": np.array(FORMAT), "__model__": np.array(str(model)),
        "__config__": np.array(json.dumps(dict(config or {}), sort_keys=True)),
    }
    for k, v in params.items():
        arr = np.asarray(v.data if isinstance(v, Tensor) else v)
        if arr.dtype.kind != "f":
            raise TypeError(f"save_checkpoint: parameter {k!r} has dtype {arr.dtype}; only floating-point "
                            "arrays are stored")
        arrays[f"params/{k}"] = arr
    for k, v in (state or {}).items():
        arr = np.asarray(v.data if isinstance(v, Tensor) else v)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"save_checkpoint: state array {k!r} has dtype {arr.dtype}; only numeric arrays are stored")
        arrays[f"state/{k}"] = arr
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda f: np.savez(f, **arrays))
    return path


def write_atomically(path: Path, write: Callable[[Any], object], binary: bool = True) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it into place: an interrupted
    or failed write (KeyboardInterrupt included) leaves ``path`` as it was and no temporary file behind."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            fd = -1  # owned by f from here on
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`, never unpickling anything.

    Raises FileNotFoundError for a missing file and :class:`CheckpointError` for a file that is not an
    ``.npz`` archive (e.g. a pickle), holds object (pickled) arrays, is damaged, lacks the format tag, or
    holds parameters that are not floating point (integer, boolean, complex or string arrays).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_checkpoint: no such file: {path}")
    with open(path, "rb") as f:
        head = f.read(4)
    if head != b"PK\x03\x04":
        kind = "a pickle" if head[:1] == b"\x80" else f"not an .npz archive (it starts with 0x{head.hex() or 'empty'})"
        raise CheckpointError(
            f"load_checkpoint: {path} is {kind}; only .npz checkpoints without pickled content are loaded"
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise CheckpointError(f"load_checkpoint: {path} holds pickled (object) arrays, which are refused") from None
        raise CheckpointError(f"load_checkpoint: {path} is damaged: {e}") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as e:
        raise CheckpointError(f"load_checkpoint: {path} is damaged: {e}") from None
    tag = arrays.get("__format__")
    if tag is None or tag.dtype.kind != "U" or str(tag) != FORMAT:
        raise CheckpointError(f"load_checkpoint: {path} is an .npz archive but not a {FORMAT} checkpoint")
    try:
        model = str(arrays["__model__"])
        config = json.loads(str(arrays["__config__"]))
    except (KeyError, json.JSONDecodeError) as e:
        raise CheckpointError(f"load_checkpoint: {path} has a damaged header: {e}") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"load_checkpoint: {path} has a damaged header: its config is a "
                              f"{type(config).__name__}, not a JSON object")
    params = {k[len("params/"):]: v for k, v in arrays.items() if k.startswith("params/")}
    for k, v in params.items():
        if v.dtype.kind != "f":
            raise CheckpointError(f"load_checkpoint: parameter {k!r} in {path} has dtype {v.dtype}; "
                                  "parameters must be floating-point arrays")
    state = {k[len("state/"):]: v for k, v in arrays.items() if k.startswith("state/")}
    for k, v in state.items():
        if v.dtype.kind not in "fiub":
            raise CheckpointError(f"load_checkpoint: state array {k!r} in {path} has dtype {v.dtype}; "
                                  "state arrays must be numeric")
    return Checkpoint(model, params, config, state)


def params_from_checkpoint(ckpt: Checkpoint) -> Params:
    """The checkpoint's parameters as Tensors, checked against its zoo model's names, shapes and (floating)
    dtypes; any mismatch is a :class:`CheckpointError`."""
    if ckpt.model not in MODELS:
        raise CheckpointError(f"checkpoint is for a model called {ckpt.model!r}; known models: {sorted(MODELS)}")
    spec = get_model(ckpt.model)
    ref = spec.init(0)
    if set(ref) != set(ckpt.params):
        raise CheckpointError(
            f"checkpoint for {ckpt.model!r} has parameters {sorted(ckpt.params)}, the model needs {sorted(ref)}"
        )
    for k, t in ref.items():
        if ckpt.params[k].shape != t.shape:
            raise CheckpointError(
                f"checkpoint parameter {k!r} has shape {ckpt.params[k].shape}, the model needs {t.shape}"
            )
        if ckpt.params[k].dtype.kind != "f":
            raise CheckpointError(f"checkpoint parameter {k!r} has dtype {ckpt.params[k].dtype}; parameters must "
                                  "be floating-point arrays")
    return {k: Tensor(ckpt.params[k].copy(), requires_grad=not is_buffer(k), name=k) for k in ref}


__all__ = [
    "lenet5_init", "lenet5", "cnn_init", "cnn", "mlp_init", "mlp", "LeNet5", "SmallCNN", "MLP", "MODELS", "ModelSpec",
    "resnet8_init", "resnet8", "ResNet8", "BasicBlock", "is_buffer", "split_buffers", "RESNET8_STAGES",
    "get_model", "dropout_models", "num_parameters", "summary", "confusion_matrix", "evaluate", "Evaluation",
    "save_checkpoint", "load_checkpoint", "params_from_checkpoint", "Checkpoint", "CheckpointError", "write_atomically",
]
