"""Optimizer boundaries: gradients matched to parameters by key and structure, each parameter once, and
hyperparameters that are finite and in range (ValueError naming the optimizer, the argument and the value)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn, optim


def _p(*values, dtype=np.float64):
    return tg.Tensor(np.array(values, dtype=dtype), requires_grad=True)


def _g(*values, dtype=np.float64):
    return np.array(values, dtype=dtype)


# -------------------------------------------------------------------- matching by key and structure
def test_dict_gradients_are_matched_by_key_not_position():
    params = {"a": _p(0.0), "b": _p(0.0)}
    opt = optim.SGD(params, lr=1.0)
    returned = opt.step({"b": _g(2.0), "a": _g(1.0)})  # the issue: 2 was applied to a
    assert returned is params
    np.testing.assert_array_equal(params["a"].data, [-1.0])
    np.testing.assert_array_equal(params["b"].data, [-2.0])


def test_nested_structures_are_matched_by_key_at_every_level():
    params = {"enc": [_p(0.0), _p(0.0, 0.0)], "dec": {"w": _p(0.0), "b": _p(0.0)}}
    opt = optim.SGD(params, lr=1.0)
    opt.step({"dec": {"b": _g(4.0), "w": _g(3.0)}, "enc": (_g(1.0), tg.Tensor(_g(2.0, 2.5)))})
    np.testing.assert_array_equal(params["enc"][0].data, [-1.0])
    np.testing.assert_array_equal(params["enc"][1].data, [-2.0, -2.5])
    np.testing.assert_array_equal(params["dec"]["w"].data, [-3.0])
    np.testing.assert_array_equal(params["dec"]["b"].data, [-4.0])


def test_key_value_pairs_are_matched_by_key():
    params = {"a": _p(0.0), "b": _p(0.0)}
    optim.SGD(params, lr=1.0).step([("b", _g(2.0)), ("a", _g(1.0))])
    assert params["a"].item() == -1.0 and params["b"].item() == -2.0
    optim.SGD(params, lr=1.0).step(iter([("a", _g(1.0)), ("b", _g(1.0))]))
    assert params["a"].item() == -2.0 and params["b"].item() == -3.0


def test_module_optimizer_takes_gradients_keyed_by_parameter_name():
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.ReLU(), nn.Linear(2, 1, rng=1)).to(np.float64)
    before = model.state_dict()
    opt = optim.SGD(model, lr=1.0)
    grads = {k: np.full_like(v, i + 1.0) for i, (k, v) in enumerate(before.items())}
    opt.step(dict(reversed(list(grads.items()))))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k] - grads[k])


def test_named_parameters_pairs_build_a_keyed_optimizer():
    model = nn.Linear(3, 2, rng=0).to(np.float64)
    opt = optim.SGD(model.named_parameters(), lr=1.0)
    assert opt.paths == ["weight", "bias"]
    b0 = model.bias.data.copy()
    opt.step({"bias": np.ones(2), "weight": np.zeros((2, 3))})
    np.testing.assert_array_equal(model.bias.data, b0 - 1)
    with pytest.raises(ValueError, match="'w' is repeated"):
        optim.SGD([("w", _p(0.0)), ("w", _p(1.0))], lr=0.1)


@pytest.mark.parametrize("grads,kind,names", [
    ({"a": _g(1.0), "b": _g(1.0), "c": _g(1.0)}, "unknown", ["c"]),
    ({"a": _g(1.0)}, "missing", ["b"]),
    ({"a": _g(1.0), "zz": _g(1.0)}, "unknown", ["zz"]),
    ([("a", _g(1.0)), ("b", _g(1.0)), ("a", _g(2.0))], "repeated", ["a"]),
])
def test_unknown_missing_and_repeated_keys_are_named(grads, kind, names):
    params = {"a": _p(0.0), "b": _p(0.0)}
    with pytest.raises(ValueError, match=rf"{kind} keys {re.escape(str(names))}"):
        optim.SGD(params, lr=1.0).step(grads)
    assert params["a"].item() == 0.0 and params["b"].item() == 0.0  # nothing was updated


def test_unknown_and_missing_keys_in_nested_dicts_are_named_by_path():
    params = {"enc": {"w": _p(0.0), "b": _p(0.0)}}
    with pytest.raises(ValueError, match=r"unknown keys \['enc.bias'\]; missing keys \['enc.b'\]"):
        optim.SGD(params, lr=1.0).step({"enc": {"w": _g(1.0), "bias": _g(1.0)}})


def test_structure_mismatches_raise():
    params = {"a": _p(0.0), "b": _p(0.0)}
    with pytest.raises(ValueError, match="the parameters are a dict, the gradients a ndarray"):
        optim.SGD(params, lr=1.0).step(_g(1.0))
    with pytest.raises(ValueError, match="not an array or Tensor"):
        optim.SGD(params, lr=1.0).step({"a": [_g(1.0)], "b": _g(1.0)})
    lst = [_p(0.0), _p(0.0)]
    with pytest.raises(ValueError, match="got 3 gradients for 2 parameters"):
        optim.SGD(lst, lr=1.0).step([_g(1.0)] * 3)
    with pytest.raises(ValueError, match="the parameters are a list, the gradients a dict"):
        optim.SGD(lst, lr=1.0).step({"0": _g(1.0), "1": _g(1.0)})
    with pytest.raises(ValueError, match=r"got 1 gradients for 2 parameters at 'x'"):
        optim.SGD({"x": [_p(0.0), _p(0.0)]}, lr=1.0).step({"x": [_g(1.0)]})
    with pytest.raises(TypeError, match="must be a Tensor or numpy array, got str"):
        optim.SGD(lst, lr=1.0).step(["a", "b"])


def test_none_gradient_skips_its_parameter():
    params = {"a": _p(0.0), "b": _p(0.0)}
    optim.SGD(params, lr=1.0).step({"a": None, "b": _g(1.0)})
    assert params["a"].item() == 0.0 and params["b"].item() == -1.0


def test_a_bad_gradient_anywhere_leaves_every_parameter_unchanged():
    params = [_p(0.0), _p(0.0), _p(0.0)]
    opt = optim.Adam(params, lr=0.1)
    with pytest.raises(ValueError, match=r"\[2\]' has shape \(2,\)"):
        opt.step([_g(1.0), _g(1.0), _g(1.0, 1.0)])
    assert all(p.item() == 0.0 for p in params) and opt.steps == 0 and all(not s for s in opt.state)


# -------------------------------------------------------------------- each parameter once
def test_the_same_tensor_twice_is_refused():
    p = _p(1.0)
    with pytest.raises(ValueError, match=r"same parameter \(Tensor\) appears twice, as '\[0\]' and '\[1\]'"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="'a' and 'b'"):
        optim.Adam({"a": p, "b": p})
    with pytest.raises(ValueError, match="appears twice"):
        optim.SGD({"x": [p], "y": (p,)}, lr=0.1)


def test_arrays_sharing_memory_are_refused():
    a = np.zeros(4)
    with pytest.raises(ValueError, match=r"same parameter \(array\)"):
        optim.SGD([a, a], lr=0.1)
    p = _p(1.0, 2.0)
    with pytest.raises(ValueError, match="appears twice"):
        optim.SGD([p, p.detach()], lr=0.1)  # two Tensors, one array
    buf = np.zeros(10)
    with pytest.raises(ValueError, match="share memory"):
        optim.SGD([buf[:6], buf[4:]], lr=0.1)
    optim.SGD([buf[:5], buf[5:]], lr=0.1)  # disjoint views of one buffer are two parameters


# -------------------------------------------------------------------- hyperparameters
nan, inf = float("nan"), float("inf")
BAD = [
    (optim.Adam, dict(lr=nan), "lr"),
    (optim.Adam, dict(lr=inf), "lr"),
    (optim.Adam, dict(lr=-1e-3), "lr"),
    (optim.AdamW, dict(lr="0.1"), "lr"),
    (optim.SGD, dict(lr=True), "lr"),
    (optim.SGD, dict(lr=None), "lr"),
    (optim.SGD, dict(lr=0.1, momentum=-0.5), "momentum"),
    (optim.SGD, dict(lr=0.1, momentum=nan), "momentum"),
    (optim.SGD, dict(lr=0.1, dampening=1.5), "dampening"),
    (optim.SGD, dict(lr=0.1, dampening=-0.1), "dampening"),
    (optim.SGD, dict(lr=0.1, weight_decay=-1.0), "weight_decay"),
    (optim.SGD, dict(lr=0.1, weight_decay=inf), "weight_decay"),
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov="yes"), "nesterov"),
    (optim.Adam, dict(betas=(1.0, 0.999)), "betas[0]"),
    (optim.Adam, dict(betas=(0.9, 1.0)), "betas[1]"),
    (optim.Adam, dict(betas=(-0.1, 0.999)), "betas[0]"),
    (optim.Adam, dict(betas=(0.9, nan)), "betas[1]"),
    (optim.Adam, dict(betas=0.9), "betas"),
    (optim.Adam, dict(betas=(0.9, 0.99, 0.999)), "betas"),
    (optim.Adam, dict(eps=0.0), "eps"),
    (optim.Adam, dict(eps=-1e-8), "eps"),
    (optim.AdamW, dict(eps=nan), "eps"),
    (optim.Adam, dict(weight_decay=-0.01), "weight_decay"),
    (optim.AdamW, dict(weight_decay=nan), "weight_decay"),
    (optim.Adam, dict(amsgrad=None), "amsgrad"),
]


@pytest.mark.parametrize("cls,kw,arg", BAD, ids=[f"{c.__name__}-{a}-{list(k.values())[-1]!r}" for c, k, a in BAD])
def test_bad_hyperparameters_are_named(cls, kw, arg):
    value = kw.get(arg.split("[")[0])
    if arg.endswith("]"):
        value = value[int(arg[-2])]
    with pytest.raises(ValueError) as exc:
        cls([_p(1.0)], **kw)
    msg = str(exc.value)
    assert msg.startswith(f"{cls.__name__}:") and arg in msg and repr(value) in msg, msg


def test_nan_learning_rate_cannot_train_to_a_nan_checkpoint():
    p = _p(1.0, 2.0)
    with pytest.raises(ValueError, match="Adam: lr must be a finite number >= 0, got nan"):
        optim.Adam([p], lr=nan)
    opt = optim.Adam([p], lr=0.1)
    with pytest.raises(ValueError, match="Adam: lr .* got inf"):
        opt.lr = inf  # also when set later (schedules set it every epoch)
    assert opt.lr == 0.1


def test_numpy_scalars_and_edges_are_accepted():
    p = _p(1.0)
    opt = optim.Adam([p], lr=np.float32(0.5), betas=(0.0, np.float64(0.5)), eps=np.float32(1e-6), weight_decay=0)
    assert isinstance(opt.lr, float) and opt.betas == (0.0, 0.5)
    optim.SGD([p], lr=0, momentum=0.9, dampening=1.0, weight_decay=0.0)
    optim.SGD([p], lr=1, momentum=np.float64(0.9), nesterov=np.bool_(True))


@pytest.mark.parametrize("make,arg,value", [
    (lambda o: optim.StepLR(o, step_size=0), "step_size", 0),
    (lambda o: optim.StepLR(o, step_size=2.5), "step_size", 2.5),
    (lambda o: optim.StepLR(o, step_size=True), "step_size", True),
    (lambda o: optim.StepLR(o, step_size=2, gamma=nan), "gamma", nan),
    (lambda o: optim.StepLR(o, step_size=2, gamma=0.0), "gamma", 0.0),
    (lambda o: optim.StepLR(o, step_size=2, gamma=-0.5), "gamma", -0.5),
    (lambda o: optim.CosineAnnealingLR(o, T_max=0), "T_max", 0),
    (lambda o: optim.CosineAnnealingLR(o, T_max=-3), "T_max", -3),
    (lambda o: optim.CosineAnnealingLR(o, T_max=10.0), "T_max", 10.0),
    (lambda o: optim.CosineAnnealingLR(o, T_max=10, eta_min=-1e-3), "eta_min", -1e-3),
    (lambda o: optim.CosineAnnealingLR(o, T_max=10, eta_min=inf), "eta_min", inf),
    (lambda o: optim.CosineAnnealingLR(o, T_max=10, last_epoch=-2), "last_epoch", -2),
    (lambda o: optim.StepLR(o, 2, last_epoch=1.5), "last_epoch", 1.5),
])
def test_bad_schedule_arguments_are_named(make, arg, value):
    opt = optim.SGD([_p(1.0)], lr=0.1)
    with pytest.raises(ValueError) as exc:
        make(opt)
    msg = str(exc.value)
    assert arg in msg and repr(value) in msg, msg
    assert opt.lr == 0.1


def test_schedule_overflow_is_refused_not_stored():
    opt = optim.SGD([_p(1.0)], lr=0.1)
    sched = optim.StepLR(opt, step_size=1, gamma=1e200)
    sched.step()
    with pytest.raises(ValueError, match="lr must be a finite number"):
        sched.step()  # 0.1 * 1e400 overflows to inf
    assert math.isfinite(opt.lr)


# -------------------------------------------------------------------- writes go through the in-place API
@pytest.mark.parametrize("cls,kw", [(optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
                                    (optim.Adam, dict(lr=0.1)), (optim.AdamW, dict(lr=0.1))])
def test_updates_bump_versions_and_stay_in_place(cls, kw):
    p = _p(1.0, 2.0, dtype=np.float32)
    buf, v0 = p.data, p._version
    opt = cls([p], **kw)
    for i in range(3):
        p.grad = np.array([0.5, -0.5], np.float32)
        opt.step()
        assert p.data is buf and p._version > v0
        v0 = p._version


def test_a_graph_recorded_before_a_step_cannot_be_differentiated_after_it():
    p = _p(1.0, 2.0)
    opt = optim.SGD([p], lr=0.1)
    loss = (p * p).sum()
    opt.step([np.ones(2)])
    with pytest.raises(RuntimeError, match="in-place"):
        loss.backward()
