"""In-place writes through the library: ``Module.to(dtype)`` converts the parameters in place (same Tensor
objects, through ``Tensor.set_``), so an optimizer made earlier keeps working and its state follows the new
dtype; ``load_state_dict`` and the optimizers write through the in-place API, so versions are bumped and a
graph recorded before the write refuses to be differentiated after it."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import nn, optim

pytestmark = pytest.mark.skipif(not hasattr(tg.Tensor, "set_"), reason="needs the Tensor in-place API")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((8, 5))
Y = RNG.integers(0, 3, 8)


def _model():
    return nn.Sequential(nn.Linear(5, 4, rng=0), nn.Tanh(), nn.Linear(4, 3, rng=1))


def _train_step(model, opt, dtype):
    opt.zero_grad()
    loss = F.cross_entropy(model(tg.Tensor(X.astype(dtype))), Y)
    loss.backward()
    opt.step()
    return loss.item()


OPTIMIZERS = [(optim.SGD, dict(lr=0.1, momentum=0.9)), (optim.Adam, dict(lr=1e-2)),
              (optim.AdamW, dict(lr=1e-2, amsgrad=True))]


@pytest.mark.parametrize("cls,kw", OPTIMIZERS, ids=lambda v: getattr(v, "__name__", ""))
def test_to_keeps_the_parameters_so_an_earlier_optimizer_trains(cls, kw):
    model = _model()
    params = list(model.parameters())
    opt = cls(model.parameters(), **kw)
    assert model.to(np.float64) is model
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]  # converted in place
    before = [p.data.copy() for p in params]
    _train_step(model, opt, np.float64)  # used to raise "no parameter has a .grad"
    for p, b in zip(model.parameters(), before):
        assert p.dtype == np.float64 and p.requires_grad and p.is_leaf
        assert not np.array_equal(p.data, b)
    for st in opt.state:
        for v in st.values():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float64


@pytest.mark.parametrize("cls,kw", OPTIMIZERS, ids=lambda v: getattr(v, "__name__", ""))
def test_optimizer_state_follows_a_dtype_change_mid_training(cls, kw):
    model = _model()
    opt = cls(model.parameters(), **kw)
    _train_step(model, opt, np.float32)
    keys = [k for k, v in opt.state[0].items() if isinstance(v, np.ndarray)]
    assert keys and all(opt.state[0][k].dtype == np.float32 for k in keys)
    saved = [{k: v.copy() for k, v in st.items() if isinstance(v, np.ndarray)} for st in opt.state]
    model.to(np.float64)
    _train_step(model, opt, np.float64)
    for st, old in zip(opt.state, saved):
        for k in keys:
            assert st[k].dtype == np.float64 and st[k].shape == old[k].shape
    assert all(p.dtype == np.float64 for p in model.parameters())


@pytest.mark.oracle
@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=1e-2)), ("AdamW", dict(lr=1e-2, weight_decay=0.1)),
                                     ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True))])
def test_dtype_change_mid_training_matches_torch(torch, name, kw):
    """Two float32 steps, then float64: PyTorch keeps the Parameters through model.double() and casts the
    optimizer state to the parameters' dtype on load_state_dict; ours does the cast at the next step."""
    ours = _model()
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    opt, topt = getattr(optim, name)(ours.parameters(), **kw), getattr(torch.optim, name)(theirs.parameters(), **kw)

    def torch_step(dtype):
        topt.zero_grad()
        torch.nn.functional.cross_entropy(theirs(torch.tensor(X.astype(dtype))), torch.tensor(Y)).backward()
        topt.step()

    for _ in range(2):
        _train_step(ours, opt, np.float32)
        torch_step(np.float32)
    ours.to(np.float64)
    theirs.double()
    topt.load_state_dict(topt.state_dict())  # casts exp_avg & co. to float64
    for _ in range(3):
        _train_step(ours, opt, np.float64)
        torch_step(np.float64)
    for (k, v), tv in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert v.dtype == np.float64
        np.testing.assert_allclose(v, tv.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


def test_functional_parameters_changed_with_set_keep_training():
    params = {k: tg.Tensor(v, requires_grad=True) for k, v in _model().state_dict().items()}
    opt = optim.Adam(params, lr=1e-2)

    def loss_fn(p, x):
        h = F.tanh(F.linear(tg.Tensor(x), p["0.weight"], p["0.bias"]))
        return F.cross_entropy(F.linear(h, p["2.weight"], p["2.bias"]), Y)

    opt.step(tg.grad(loss_fn)(params, X.astype(np.float32)))
    with tg.no_grad():
        for p in params.values():
            p.set_(p.data.astype(np.float64))
    returned = opt.step(tg.grad(loss_fn)(params, X))
    assert returned is params and all(p.dtype == np.float64 for p in params.values())
    assert opt.state[0]["exp_avg"].dtype == np.float64 and opt.state[0]["step"] == 2


def test_a_parameter_replaced_with_a_new_shape_is_reported():
    p = tg.Tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    opt.step([np.ones(3)])
    with tg.no_grad():
        p.set_(np.ones(4))
    with pytest.raises(ValueError, match=r"changed shape to \(4,\) since its optimizer state"):
        opt.step([np.ones(4)])


# -------------------------------------------------------------------- versions
def test_to_bumps_versions_and_converts_gradients():
    model = _model()
    F.cross_entropy(model(tg.Tensor(X.astype(np.float32))), Y).backward()
    versions = [p._version for p in model.parameters()]
    grads = [p.grad.data.copy() for p in model.parameters()]
    model.to(np.float64)
    for p, v, g in zip(model.parameters(), versions, grads):
        assert p._version > v
        assert p.grad.dtype == np.float64
        np.testing.assert_array_equal(p.grad.data, g.astype(np.float64))
    versions = [p._version for p in model.parameters()]
    model.to(np.float64)  # already float64: nothing written
    assert [p._version for p in model.parameters()] == versions


def test_to_refuses_unsupported_dtypes_before_changing_anything():
    model = _model()
    for bad in (np.int32, np.float16, np.bool_, "not a dtype"):
        with pytest.raises(TypeError, match="Module.to"):
            model.to(bad)
        assert all(p.dtype == np.float32 for p in model.parameters())


def test_load_state_dict_writes_in_place_and_bumps_versions():
    a, b = _model(), _model()
    for p in b.parameters():
        with tg.no_grad():
            p.mul_(2.0)
    bufs = [p.data for p in a.parameters()]
    versions = [p._version for p in a.parameters()]
    a.load_state_dict(b.state_dict())
    for p, q, buf, v in zip(a.parameters(), b.parameters(), bufs, versions):
        assert p.data is buf and p._version == v + 1
        np.testing.assert_array_equal(p.data, q.data)


def test_a_graph_recorded_before_a_library_write_refuses_backward():
    model = _model()
    x = tg.Tensor(X.astype(np.float32))
    loss = F.cross_entropy(model(x), Y)
    model.load_state_dict(model.state_dict())
    with pytest.raises(RuntimeError, match="in-place"):
        loss.backward()
    loss = F.cross_entropy(model(x), Y)
    model.to(np.float64)
    with pytest.raises(RuntimeError, match="in-place"):
        loss.backward()
    F.cross_entropy(model(tg.Tensor(X)), Y).backward()  # a fresh graph is fine
    assert all(p.grad.dtype == np.float64 for p in model.parameters())


def test_models_built_with_to_and_load_state_dict_still_work():
    from tinygrad_cnn import models

    m = models.LeNet5(0, dtype=np.float64)
    assert all(p.dtype == np.float64 for p in m.parameters())
    opt = optim.SGD(m.parameters(), lr=0.01)
    x = tg.Tensor(np.random.default_rng(0).standard_normal((2, 1, 28, 28)))
    F.cross_entropy(m(x), np.array([1, 2])).backward()
    opt.step()
