"""Modules and initialisers: registration and naming, state dicts, train/eval, scopes, PyTorch layouts and
numerics, module/functional equivalence of the zoo, and summary()."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import init, models, nn
from tinygrad_cnn import functional as F


# -------------------------------------------------------------------- initialisers
@pytest.mark.oracle
@pytest.mark.parametrize("shape", [(7, 3), (6, 1, 5, 5), (16, 6, 5, 5), (4, 2, 3), (10, 84)])
def test_fans_match_torch(torch, shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.calculate_fan_in_and_fan_out(shape) == expected


@pytest.mark.oracle
@pytest.mark.parametrize("name,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)])
def test_gains_match_torch(torch, name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-12)


@pytest.mark.parametrize("fn,shape,expected_std", [
    (lambda s, r: init.kaiming_normal(s, nonlinearity="relu", rng=r), (256, 32, 3, 3), math.sqrt(2 / 288)),
    (lambda s, r: init.kaiming_uniform(s, nonlinearity="relu", rng=r), (256, 32, 3, 3), math.sqrt(2 / 288)),
    (lambda s, r: init.kaiming_normal(s, mode="fan_out", nonlinearity="relu", rng=r), (64, 512), math.sqrt(2 / 64)),
    (lambda s, r: init.xavier_normal(s, rng=r), (300, 500), math.sqrt(2 / 800)),
    (lambda s, r: init.xavier_uniform(s, gain=2.0, rng=r), (300, 500), 2 * math.sqrt(2 / 800)),
])
def test_initialiser_statistics(fn, shape, expected_std):
    w = fn(shape, 0)
    assert w.shape == shape and w.dtype == np.float32
    assert abs(w.mean()) < 0.02 * expected_std * 10
    assert w.std() == pytest.approx(expected_std, rel=0.03)
    np.testing.assert_array_equal(w, fn(shape, 0))  # a seed repeats exactly
    assert not np.array_equal(w, fn(shape, 1))


def test_uniform_bounds():
    b = math.sqrt(6 / (20 + 30))
    w = init.xavier_uniform((30, 20), rng=3)
    assert np.abs(w).max() <= b and np.abs(w).max() > 0.9 * b
    w, bias = init.default_weight_and_bias((8, 4, 3, 3), True, rng=0)
    assert np.abs(w).max() <= 1 / 6 and bias.shape == (8,) and np.abs(bias).max() <= 1 / 6


def test_manual_seed_and_bad_rng():
    init.manual_seed(5)
    a = nn.Linear(3, 2).weight.data.copy()
    init.manual_seed(5)
    np.testing.assert_array_equal(a, nn.Linear(3, 2).weight.data)
    with pytest.raises(TypeError, match="rng"):
        init.as_rng("seed")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.kaiming_normal((5,))


# -------------------------------------------------------------------- Module mechanics
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 3, rng=0)
        self.act = nn.Tanh()
        self.scale = tg.Tensor(np.float32(2.0), requires_grad=True)
        self.constant = tg.Tensor(np.ones(3, dtype=np.float32))  # not a parameter: no requires_grad

    def forward(self, x):
        return self.act(self.lin(x)) * self.scale


def test_named_parameters_and_children():
    model = nn.Sequential(Block(), nn.Linear(3, 2, bias=False, rng=1))
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.scale", "0.lin.weight", "0.lin.bias", "1.weight"]
    assert [n for n, _ in model.named_modules()] == ["", "0", "0.lin", "0.act", "1"]
    assert [type(m).__name__ for m in model.children()] == ["Block", "Linear"]
    assert model.num_parameters() == 1 + 12 + 3 + 6
    assert len(model) == 2 and isinstance(model[1], nn.Linear) and model["0"] is model[0]


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(3, 3, rng=0)
    model = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(model.parameters())) == 2


def test_forgotten_super_init_is_explained():
    class Bad(nn.Module):
        def __init__(self):
            self.w = 1

    with pytest.raises(AttributeError, match="super"):
        Bad()


def test_state_dict_round_trip():
    a = nn.Sequential(nn.Linear(4, 3, rng=0), nn.ReLU(), nn.Linear(3, 2, rng=1))
    b = nn.Sequential(nn.Linear(4, 3, rng=5), nn.ReLU(), nn.Linear(3, 2, rng=6))
    state = a.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    a[0].weight.data[...] = 7.0  # the state dict holds copies
    assert not np.any(state["0.weight"] == 7.0)
    bufs = [p.data for p in b.parameters()]
    assert b.load_state_dict(state) == ([], [])
    for (k, v), p, buf in zip(state.items(), b.parameters(), bufs):
        np.testing.assert_array_equal(p.data, v)
        assert p.data is buf  # loaded in place: an optimizer holding the tensors still sees them
    x = tg.Tensor(np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32))
    a.load_state_dict(state)
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_load_state_dict_errors():
    m = nn.Linear(3, 2, rng=0)
    good = m.state_dict()
    with pytest.raises(KeyError, match="missing keys \\['bias'\\]"):
        m.load_state_dict({"weight": good["weight"]})
    with pytest.raises(KeyError, match="unexpected keys \\['extra'\\]"):
        m.load_state_dict({**good, "extra": np.zeros(1)})
    with pytest.raises(ValueError, match=r"weight has shape \(3, 2\)"):
        m.load_state_dict({**good, "weight": np.zeros((3, 2), dtype=np.float32)})
    with pytest.raises(TypeError, match="float64"):
        m.load_state_dict({**good, "weight": good["weight"].astype(np.float64)})
    missing, unexpected = m.load_state_dict({"weight": good["weight"], "x": 1}, strict=False)
    assert missing == ["bias"] and unexpected == ["x"]


def test_train_eval_and_dropout():
    model = nn.Sequential(nn.Linear(10, 10, rng=0), nn.Dropout(0.5, rng=0))
    assert model.training and model[1].training
    x = tg.Tensor(np.ones((200, 10), dtype=np.float32))
    model.eval()
    assert not model[1].training
    np.testing.assert_array_equal(model(x).data, model[0](x).data)
    model.train()
    y = model(x).data
    ref = model[0](x).data
    kept = y != 0
    assert 0.4 < kept.mean() < 0.6
    np.testing.assert_allclose(y[kept], 2 * ref[kept], rtol=1e-6)
    a = nn.Dropout(0.3, rng=42)(x).data
    np.testing.assert_array_equal(a, nn.Dropout(0.3, rng=42)(x).data)
    assert nn.Dropout(1.0)(x).data.sum() == 0
    with pytest.raises(ValueError, match="Dropout"):
        nn.Dropout(1.5)


def test_dropout_gradient_uses_the_same_mask():
    x = tg.Tensor(np.ones((4, 6)), requires_grad=True)
    y = nn.Dropout(0.5, rng=0)(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)


def test_scopes_name_the_layers():
    model = nn.Sequential({"hidden": nn.Linear(3, 4, rng=0), "act": nn.ReLU(), "out": nn.Linear(4, 2, rng=1)})
    x = tg.Tensor(np.ones((2, 3), dtype=np.float32))
    y = model(x)
    assert y._node.scope == ("Sequential", "out")
    h = y._node.inputs[0]._node.inputs[0]  # add(matmul(relu(...)), bias) -> matmul's input is relu's output
    assert h._node.op.name == "relu" and h._node.scope == ("Sequential", "act")


def test_module_to_float64_and_gradcheck():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Sigmoid(), nn.Linear(4, 2, rng=1)).to(np.float64)
    assert all(p.dtype == np.float64 for p in model.parameters())
    x = tg.Tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    assert tg.gradcheck(lambda x: model(x), (x,))
    with pytest.raises(TypeError):
        model.to(np.int32)


def test_repr_and_argument_checks():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=0), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4, 2))
    text = repr(model)
    assert "(0): Conv2d(1, 4, kernel_size=(3, 3), stride=1, padding=1)" in text and "(3): Linear(in_features=4" in text
    assert nn.Conv2d(4, 6, (3, 5), groups=2, rng=0).weight.shape == (6, 2, 3, 5)
    assert nn.Conv1d(2, 3, 4, rng=0).weight.shape == (3, 2, 4)
    with pytest.raises(ValueError, match="groups=3 must divide"):
        nn.Conv2d(4, 6, 3, groups=3)
    with pytest.raises(TypeError, match="kernel_size"):
        nn.Conv2d(1, 2, "3")
    with pytest.raises(ValueError, match="positive"):
        nn.Linear(0, 3)
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), F.relu)


# -------------------------------------------------------------------- layers against PyTorch
@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layers_match_torch(torch, dtype):
    rng = np.random.default_rng(0)
    ours = nn.Sequential(
        nn.Conv2d(2, 4, 3, stride=1, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, (3, 2), stride=(1, 2), groups=2, rng=1), nn.Tanh(), nn.AvgPool2d(2, stride=1),
        nn.Flatten(), nn.Linear(6 * 1 * 1, 5, rng=2), nn.Sigmoid(),
    ).to(dtype)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, stride=1, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, (3, 2), stride=(1, 2), groups=2), torch.nn.Tanh(), torch.nn.AvgPool2d(2, stride=1),
        torch.nn.Flatten(), torch.nn.Linear(6, 5), torch.nn.Sigmoid(),
    ).to(tdt)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((3, 2, 8, 8)).astype(dtype)
    y = ours(tg.Tensor(x))
    ty = theirs(torch.tensor(x))
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=tol, atol=tol)
    y.sum().backward()
    ty.sum().backward()
    tgrads = {k: p.grad.numpy() for k, p in theirs.named_parameters()}
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, tgrads[k], rtol=tol * 10, atol=tol * 10, err_msg=k)


@pytest.mark.oracle
def test_conv1d_and_pool1d_match_torch(torch):
    rng = np.random.default_rng(1)
    ours = nn.Sequential(nn.Conv1d(3, 4, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool1d(2), nn.AvgPool1d(2))
    ours.to(np.float64)
    theirs = torch.nn.Sequential(torch.nn.Conv1d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool1d(2),
                                 torch.nn.AvgPool1d(2)).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((2, 3, 12))
    expected = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(tg.Tensor(x)).data, expected, rtol=1e-12, atol=1e-12)


# -------------------------------------------------------------------- the zoo: two ways, one network
ZOO = [("lenet5", models.LeNet5), ("cnn", models.SmallCNN), ("mlp", models.MLP)]


@pytest.mark.parametrize("name,cls", ZOO)
def test_module_and_functional_models_agree(name, cls):
    spec = models.get_model(name)
    params = spec.init(3)
    model = cls(3)
    assert list(model.state_dict()) == list(params)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, params[k].data)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 4)
    out_f = spec.apply(params, tg.Tensor(x))
    out_m = model(tg.Tensor(x))
    assert out_m.shape == (4, 10) and out_m.dtype == np.float32
    np.testing.assert_array_equal(out_f.data, out_m.data)
    loss, grads = tg.value_and_grad(lambda p: F.cross_entropy(spec.apply(p, tg.Tensor(x)), y))(params)
    F.cross_entropy(model(tg.Tensor(x)), y).backward()
    for k, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.data, grads[k].data, rtol=1e-6, atol=1e-7, err_msg=k)


def test_zoo_sizes_and_init():
    assert models.num_parameters(models.lenet5_init()) == 61_706
    assert models.num_parameters(models.cnn_init()) == 421_642
    assert models.num_parameters(models.mlp_init()) == 468_874
    p = models.cnn_init(0)
    assert p["conv2.weight"].data.std() == pytest.approx(math.sqrt(2 / 288), rel=0.05)
    assert not p["fc2.bias"].data.any()
    np.testing.assert_array_equal(p["fc1.weight"].data, models.cnn_init(0)["fc1.weight"].data)
    with pytest.raises(ValueError, match="unknown model"):
        models.get_model("resnet")


def test_functional_model_scopes_and_taps():
    params = models.lenet5_init(0)
    taps = {}
    y = models.lenet5(params, tg.Tensor(np.zeros((2, 1, 28, 28), dtype=np.float32)), taps=taps)
    assert y._node.scope == ("fc3",)
    assert taps["conv1"].shape == (2, 6, 28, 28) and taps["conv2"].shape == (2, 16, 10, 10)


def test_cnn_dropout_is_training_only():
    params = models.cnn_init(0)
    x = tg.Tensor(np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32))
    plain = models.cnn(params, x).data
    dropped = models.cnn(params, x, dropout=0.5, rng=np.random.default_rng(0)).data
    assert not np.allclose(plain, dropped)
    m = models.SmallCNN(0, dropout=0.5).eval()
    np.testing.assert_array_equal(m(x).data, plain)


def test_summary_rows_show_weight_sharing():
    lines = []
    rows = models.summary(models.LeNet5(), (1, 1, 28, 28), print_fn=lines.append)
    by = {r["name"]: r for r in rows}
    assert by["conv1"]["output_shape"] == (1, 6, 28, 28) and by["conv1"]["params"] == 156
    assert by["conv1"]["dense_params"] == 784 * 4704 + 4704
    assert by["pool2"]["output_shape"] == (1, 16, 5, 5) and by["fc1"]["params"] == 48_120
    assert by["fc3"]["output_shape"] == (1, 10) and by["fc1"]["dense_params"] is None
    assert sum(r["params"] for r in rows) == 61_706
    assert lines[-1] == "Total params: 61,706"
    assert any(line.startswith("conv2 (Conv2d)") and "2,416" in line for line in lines)
    rows = models.summary("cnn", print_fn=None)
    assert [r["output_shape"] for r in rows if r["type"] == "MaxPool2d"] == [(1, 32, 14, 14), (1, 64, 7, 7)]
