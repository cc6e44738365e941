"""Shape, axis, kernel, stride and padding arguments: integers only (bools are not ints), axes in range,
and every refusal a ValueError (a value out of range) or TypeError (not an integer) whose message names the op,
the tensor's shape and the rule broken."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.core.registry import REGISTRY


def x23():
    return Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))


def _raises(exc, fn, *needles):
    with pytest.raises(exc) as info:
        fn()
    text = str(info.value)
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"
    return text


# ---------------------------------------------------------------- movement and reductions on a (2, 3) tensor
BAD_MOVEMENT = [
    ("reshape-float", lambda x: x.reshape(3.5, 2), TypeError, ["reshape", "3.5", "(2, 3)", "int"]),
    ("reshape-float-tuple", lambda x: x.reshape((2.0, 3)), TypeError, ["reshape", "2.0", "(2, 3)"]),
    ("reshape-bool", lambda x: x.reshape(True, 6), TypeError, ["reshape", "True", "(2, 3)"]),
    ("reshape-np-bool", lambda x: x.reshape(np.bool_(True), 6), TypeError, ["reshape", "(2, 3)"]),
    ("reshape-str", lambda x: x.reshape("6"), TypeError, ["reshape", "'6'"]),
    ("reshape-two-minus-one", lambda x: x.reshape(-1, -1), ValueError, ["reshape", "-1", "(2, 3)"]),
    ("reshape-negative", lambda x: x.reshape(-2, -3), ValueError, ["reshape", "-2", "(2, 3)"]),
    ("reshape-size", lambda x: x.reshape(4, 2), ValueError, ["reshape", "(4, 2)", "(2, 3)"]),
    ("reshape-infer", lambda x: x.reshape(4, -1), ValueError, ["reshape", "(2, 3)"]),
    ("expand_dims-5", lambda x: x.expand_dims(5), ValueError, ["expand_dims", "5", "(2, 3)", "[-3, 2]"]),
    ("expand_dims--4", lambda x: x.expand_dims(-4), ValueError, ["expand_dims", "-4", "(2, 3)"]),
    ("expand_dims-float", lambda x: x.expand_dims(1.0), TypeError, ["expand_dims", "1.0", "(2, 3)"]),
    ("expand_dims-bool", lambda x: x.expand_dims(True), TypeError, ["expand_dims", "True"]),
    ("swapaxes-5", lambda x: x.swapaxes(0, 5), ValueError, ["swapaxes", "5", "(2, 3)", "[-2, 1]"]),
    ("swapaxes--3", lambda x: x.swapaxes(-3, 0), ValueError, ["swapaxes", "-3", "(2, 3)"]),
    ("swapaxes-float", lambda x: x.swapaxes(0.0, 1), TypeError, ["swapaxes", "0.0"]),
    ("swapaxes-bool", lambda x: x.swapaxes(0, True), TypeError, ["swapaxes", "True"]),
    ("permute-range", lambda x: x.permute(0, 5), ValueError, ["permute", "5", "(2, 3)"]),
    ("permute-float", lambda x: x.permute(0.5, 1), TypeError, ["permute", "0.5", "(2, 3)"]),
    ("permute-bool", lambda x: x.permute(True, 0), TypeError, ["permute", "True"]),
    ("permute-count", lambda x: x.permute(0), ValueError, ["permute", "(2, 3)", "2 axes"]),
    ("permute-repeat", lambda x: x.permute(0, -2), ValueError, ["permute", "(2, 3)", "repeat"]),
    ("transpose-range", lambda x: x.transpose((0, 2)), ValueError, ["transpose", "2", "(2, 3)"]),
    ("broadcast_to-float", lambda x: x.broadcast_to((2.5, 3)), TypeError, ["broadcast_to", "2.5", "(2, 3)"]),
    ("broadcast_to-bool", lambda x: x.broadcast_to((True, 2, 3)), TypeError, ["broadcast_to", "True"]),
    ("broadcast_to-negative", lambda x: x.broadcast_to((-1, 3)), ValueError, ["broadcast_to", "-1", "(2, 3)"]),
    ("broadcast_to-clash", lambda x: x.broadcast_to((3, 3)), ValueError, ["broadcast_to", "(3, 3)", "(2, 3)"]),
    ("squeeze-range", lambda x: x.squeeze(5), ValueError, ["squeeze", "5", "(2, 3)"]),
    ("squeeze-size", lambda x: x.squeeze(0), ValueError, ["squeeze", "(2, 3)", "not 1"]),
    ("squeeze-bool", lambda x: x.squeeze(True), TypeError, ["squeeze", "True"]),
    ("flip-range", lambda x: x.flip(5), ValueError, ["flip", "5", "(2, 3)"]),
    ("flip-float", lambda x: x.flip(1.0), TypeError, ["flip", "1.0"]),
    ("sum-range", lambda x: x.sum(axis=5), ValueError, ["sum", "5", "(2, 3)"]),
    ("sum-float", lambda x: x.sum(axis=1.0), TypeError, ["sum", "1.0", "(2, 3)"]),
    ("sum-bool", lambda x: x.sum(axis=True), TypeError, ["sum", "True"]),
    ("sum-np-bool", lambda x: x.sum(axis=np.bool_(False)), TypeError, ["sum", "False"]),
    ("sum-str", lambda x: x.sum(axis="0"), TypeError, ["sum", "'0'"]),
    ("sum-repeat", lambda x: x.sum(axis=(0, -2)), ValueError, ["sum", "repeats"]),
    ("max-range", lambda x: x.max(axis=-3), ValueError, ["max", "-3", "(2, 3)"]),
    ("pad-float", lambda x: x.pad(1.5), TypeError, ["pad", "1.5", "(2, 3)"]),
    ("pad-bool", lambda x: x.pad(True), TypeError, ["pad", "True"]),
    ("pad-negative", lambda x: x.pad(-1), ValueError, ["pad", "-1", "(2, 3)", ">= 0"]),
    ("pad-float-pair", lambda x: x.pad(((1, 0.5), (0, 0))), TypeError, ["pad", "0.5", "(2, 3)"]),
    ("pad-axes", lambda x: x.pad(((1, 1), (1, 1), (1, 1))), ValueError, ["pad", "(2, 3)", "2 axes"]),
    ("pad-triple", lambda x: x.pad((1, 2, 3)), ValueError, ["pad", "(2, 3)"]),
    ("pad-value", lambda x: x.pad(1, value="0"), TypeError, ["pad", "value"]),
    ("scatter-shape", lambda x: F.scatter(x, (slice(None),), (2.0, 3)), TypeError, ["scatter", "2.0"]),
    ("sum_to-shape", lambda x: x.sum_to((1.0, 3)), TypeError, ["sum_to", "1.0", "(2, 3)"]),
    ("getitem-range", lambda x: x[5], IndexError, ["getitem", "(2, 3)", "5"]),
    ("getitem-float", lambda x: x[1.0], TypeError, ["getitem", "float"]),
]


@pytest.mark.parametrize("case", BAD_MOVEMENT, ids=[c[0] for c in BAD_MOVEMENT])
def test_bad_shape_and_axis_arguments_are_refused(case):
    _, fn, exc, needles = case
    _raises(exc, lambda: fn(x23()), *needles)


def test_the_reported_cases():
    x = x23()
    _raises(TypeError, lambda: x.reshape(3.5, 2), "reshape")  # was: truncated to (3, 2)
    _raises(ValueError, lambda: x.expand_dims(5), "expand_dims")  # was: wrapped around to (2, 3, 1)
    _raises(ValueError, lambda: x.swapaxes(0, 5), "swapaxes")  # was: a bare IndexError
    _raises(ValueError, lambda: F.flatten(x, 5), "flatten")  # was: wrapped around
    _raises(ValueError, lambda: F.softmax(x, axis=5), "softmax")  # was: numpy's AxisError without the op


GOOD_MOVEMENT = [
    (lambda x: x.reshape(np.int64(3), 2), lambda a: a.reshape(3, 2)),
    (lambda x: x.reshape([6]), lambda a: a.reshape(6)),
    (lambda x: x.reshape(-1), lambda a: a.reshape(-1)),
    (lambda x: x.expand_dims(2), lambda a: np.expand_dims(a, 2)),
    (lambda x: x.expand_dims(-1), lambda a: np.expand_dims(a, -1)),
    (lambda x: x.expand_dims(-3), lambda a: np.expand_dims(a, -3)),
    (lambda x: x.expand_dims(np.int32(0)), lambda a: np.expand_dims(a, 0)),
    (lambda x: x.swapaxes(0, -1), lambda a: np.swapaxes(a, 0, -1)),
    (lambda x: x.swapaxes(np.int64(1), 1), lambda a: a),
    (lambda x: x.permute(-1, 0), lambda a: a.T),
    (lambda x: x.transpose((1, 0)), lambda a: a.T),
    (lambda x: x.broadcast_to((np.int64(4), 2, 3)), lambda a: np.broadcast_to(a, (4, 2, 3))),
    (lambda x: x.reshape(1, 2, 3).broadcast_to((2, 2, 3)).sum(0), lambda a: 2 * a),
    (lambda x: x[None].squeeze(np.int64(0)), lambda a: a),
    (lambda x: x.flip(-1), lambda a: np.flip(a, -1)),
    (lambda x: x.sum(axis=np.int64(1)), lambda a: a.sum(1)),
    (lambda x: x.max(axis=[0, 1]), lambda a: a.max()),
    (lambda x: x.pad(np.int64(1)), lambda a: np.pad(a, 1)),
    (lambda x: x.pad((1, 2)), lambda a: np.pad(a, (1, 2))),
    (lambda x: x.pad(((1, 2),)), lambda a: np.pad(a, ((1, 2),))),
    (lambda x: x.pad(((0, 1), (2, 0)), value=-1), lambda a: np.pad(a, ((0, 1), (2, 0)), constant_values=-1)),
]


@pytest.mark.parametrize("i", range(len(GOOD_MOVEMENT)))
def test_integer_arguments_including_numpy_integers_work_as_numpy(i):
    ours, ref = GOOD_MOVEMENT[i]
    x = x23()
    np.testing.assert_array_equal(ours(x).data, ref(x.data))


@pytest.mark.parametrize("fn, needles", [
    (lambda x: F.softmax(x, axis=5), ["softmax", "5"]),
    (lambda x: F.log_softmax(x, axis=-3), ["log_softmax", "-3"]),
    (lambda x: F.logsumexp(x, axis=2), ["logsumexp", "2"]),
    (lambda x: F.mean(x, axis=2), ["mean", "2"]),
    (lambda x: F.flatten(x, 5), ["flatten", "5"]),
    (lambda x: F.flatten(x, 0, 2), ["flatten", "2"]),
])
def test_composites_name_themselves_on_a_bad_axis(fn, needles):
    _raises(ValueError, lambda: fn(x23()), *needles, "(2, 3)")


# ---------------------------------------------------------------- conv and pool arguments
def _img():
    return Tensor(np.zeros((2, 4, 6, 6), np.float32)), Tensor(np.zeros((8, 4, 3, 3), np.float32))


BAD_CONV = [
    ("stride-bool", lambda x, w: F.conv2d(x, w, stride=True), TypeError, ["conv2d", "stride", "True"]),
    ("stride-bool-pair", lambda x, w: F.conv2d(x, w, stride=(1, True)), TypeError, ["conv2d", "stride"]),
    ("stride-float", lambda x, w: F.conv2d(x, w, stride=1.5), TypeError, ["conv2d", "stride", "1.5"]),
    ("stride-zero", lambda x, w: F.conv2d(x, w, stride=0), ValueError, ["conv2d", "stride", ">= 1", "(2, 4, 6, 6)"]),
    ("padding-negative", lambda x, w: F.conv2d(x, w, padding=-1), ValueError, ["conv2d", "padding", ">= 0",
                                                                                 "(2, 4, 6, 6)"]),
    ("padding-bool", lambda x, w: F.conv2d(x, w, padding=False), TypeError, ["conv2d", "padding"]),
    ("dilation-bool", lambda x, w: F.conv2d(x, w, dilation=True), TypeError, ["conv2d", "dilation"]),
    ("dilation-zero", lambda x, w: F.conv2d(x, w, dilation=0), ValueError, ["conv2d", "dilation", ">= 1"]),
    ("groups-bool", lambda x, w: F.conv2d(x, w, groups=True), TypeError, ["conv2d", "groups", "True"]),
    ("groups-float", lambda x, w: F.conv2d(x, w, groups=1.0), TypeError, ["conv2d", "groups", "1.0"]),
    ("groups-zero", lambda x, w: F.conv2d(x, w, groups=0), ValueError, ["conv2d", "groups", "(2, 4, 6, 6)"]),
    ("conv1d-pair", lambda x, w: F.conv1d(x[:, :, 0], w[:, :, 0], stride=(1, 1)), TypeError, ["conv1d", "stride"]),
    ("transpose-output-padding-bool", lambda x, w: F.conv_transpose2d(x, w.permute(1, 0, 2, 3), output_padding=True),
     TypeError, ["conv_transpose2d", "output_padding"]),
    ("transpose-output-padding-negative",
     lambda x, w: F.conv_transpose2d(x, w.permute(1, 0, 2, 3), output_padding=-1),
     ValueError, ["conv_transpose2d", "output_padding", ">= 0"]),
    ("transpose-groups-bool", lambda x, w: F.conv_transpose2d(x, w.permute(1, 0, 2, 3), groups=True),
     TypeError, ["conv_transpose2d", "groups"]),
    ("max_pool-kernel-bool", lambda x, w: F.max_pool2d(x, True), TypeError, ["max_pool2d", "kernel_size"]),
    ("max_pool-kernel-zero", lambda x, w: F.max_pool2d(x, 0), ValueError, ["max_pool2d", "kernel_size", ">= 1",
                                                                             "(2, 4, 6, 6)"]),
    ("max_pool-kernel-float", lambda x, w: F.max_pool2d(x, 2.0), TypeError, ["max_pool2d", "kernel_size"]),
    ("max_pool-kernel-triple", lambda x, w: F.max_pool2d(x, (2, 2, 2)), TypeError, ["max_pool2d", "kernel_size"]),
    ("max_pool-stride-zero", lambda x, w: F.max_pool2d(x, 2, stride=0), ValueError, ["max_pool2d", "stride"]),
    ("max_pool-stride-bool", lambda x, w: F.max_pool2d(x, 2, stride=True), TypeError, ["max_pool2d", "stride"]),
    ("max_pool-padding-negative", lambda x, w: F.max_pool2d(x, 2, padding=-1), ValueError, ["max_pool2d", "padding"]),
    ("max_pool-padding-half", lambda x, w: F.max_pool2d(x, 2, padding=2), ValueError, ["max_pool2d", "at most half"]),
    ("avg_pool-kernel-bool", lambda x, w: F.avg_pool2d(x, (2, True)), TypeError, ["avg_pool2d", "kernel_size"]),
    ("avg_pool1d-pair", lambda x, w: F.avg_pool1d(x[:, :, 0], (2, 2)), TypeError, ["avg_pool1d", "kernel_size"]),
    ("max_pool1d-zero", lambda x, w: F.max_pool1d(x[:, :, 0], 0), ValueError, ["max_pool1d", "kernel_size"]),
    ("adaptive-zero", lambda x, w: F.adaptive_avg_pool2d(x, 0), ValueError, ["adaptive_avg_pool2d", "output_size"]),
    ("adaptive-bool", lambda x, w: F.adaptive_avg_pool2d(x, True), TypeError, ["adaptive_avg_pool2d",
                                                                                 "output_size"]),
    ("adaptive-float", lambda x, w: F.adaptive_avg_pool2d(x, 1.5), TypeError, ["adaptive_avg_pool2d", "output_size"]),
]


@pytest.mark.parametrize("case", BAD_CONV, ids=[c[0] for c in BAD_CONV])
def test_bad_conv_and_pool_arguments_are_refused(case):
    _, fn, exc, needles = case
    x, w = _img()
    _raises(exc, lambda: fn(x, w), *needles)


def test_numpy_integers_are_fine_for_conv_and_pool():
    x, w = _img()
    assert F.conv2d(x, w, stride=np.int64(2), padding=np.int32(1), groups=np.int64(1)).shape == (2, 8, 3, 3)
    assert F.max_pool2d(x, np.int64(2), stride=(np.int32(2), 2)).shape == (2, 4, 3, 3)
    assert F.adaptive_avg_pool2d(x, np.int64(3)).shape == (2, 4, 3, 3)


CONV_ATTRS = dict(stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1)
POOL_ATTRS = dict(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))


@pytest.mark.parametrize("name, attrs, needle", [
    ("conv2d", {**CONV_ATTRS, "stride": (True, 1)}, "stride"),
    ("conv2d", {**CONV_ATTRS, "stride": (1.0, 1)}, "stride"),
    ("conv2d", {**CONV_ATTRS, "dilation": (1, True)}, "dilation"),
    ("conv2d", {**CONV_ATTRS, "padding": ((0, False), (0, 0))}, "padding"),
    ("conv2d", {**CONV_ATTRS, "groups": True}, "groups"),
    ("max_pool2d", {**POOL_ATTRS, "kernel_size": (True, 2)}, "kernel_size"),
    ("avg_pool2d", {**POOL_ATTRS, "stride": (2, 2.0)}, "stride"),
    ("avg_pool2d", {**POOL_ATTRS, "padding": (False, 0)}, "padding"),
])
def test_registered_ops_refuse_bools_and_floats_in_their_attributes(name, attrs, needle):
    x = Tensor(np.zeros((1, 2, 4, 4)))
    inputs = (x, Tensor(np.zeros((3, 2, 3, 3)))) if name == "conv2d" else (x,)
    _raises(TypeError, lambda: REGISTRY[name](*inputs, **attrs), name, needle, "(1, 2, 4, 4)")


def test_registered_pool_gradient_ops_refuse_bool_sizes():
    g = Tensor(np.ones((1, 1, 2, 2)))
    _raises(TypeError, lambda: REGISTRY["avg_pool2d_spread"](g, **POOL_ATTRS, input_size=(4, True)),
            "avg_pool2d_spread", "input_size")
    _raises(TypeError, lambda: REGISTRY["conv2d_weight_grad"](Tensor(np.zeros((1, 2, 4, 4))),
                                                              Tensor(np.zeros((1, 3, 2, 2))), **CONV_ATTRS,
                                                              kernel_size=(3, 3.0)),
            "conv2d_weight_grad", "kernel_size")


def test_valid_registered_calls_still_work():
    x = Tensor(np.ones((1, 2, 4, 4)), requires_grad=True)
    assert tg.gradcheck(lambda t: REGISTRY["avg_pool2d"](t, **POOL_ATTRS), (x,))
