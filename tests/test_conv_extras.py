"""Convolution extras: per-side (asymmetric) padding of conv2d / conv1d, the padding modes of Conv2d / Conv1d,
conv_transpose1d and the ConvTranspose1d / ConvTranspose2d modules. PyTorch is the oracle (values and the
gradients with respect to input, weight and bias, in float32 and float64); gradcheck and gradgradcheck check
the engine's own derivatives; bad arguments raise errors naming the op, the shapes and the rule."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
import tinygrad_cnn.nn as nn
from tinygrad_cnn import Tensor
from tinygrad_cnn.ops.conv_algorithms import ALGORITHMS

DTYPES = [np.float32, np.float64]


def _tol(dtype) -> dict[str, float]:
    return dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


def _leaves(rng: np.random.Generator, dtype, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _compare(torch, y: Tensor, ty, ours: list[Tensor], theirs: list, seed: int = 1) -> None:
    """y and ty agree, and so do the gradients of <y, g> (random g) with respect to each pair of leaves."""
    dtype = y.dtype
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), **_tol(dtype))
    g = np.random.default_rng(seed).standard_normal(y.shape).astype(dtype)
    y.backward(g)
    ty.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        assert a.grad is not None and a.grad.dtype == dtype
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), **_tol(dtype))


def _load_from_torch(ours: nn.Module, theirs) -> None:
    """Our module takes torch's state_dict by name (the keys must be the same: weight, bias)."""
    state = {k: Tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    assert set(state) == set(ours.state_dict())
    ours.load_state_dict(state)


# ---------------------------------------------------------------- asymmetric padding
ASYM_2D = [  # x shape, w shape, stride, ((top, bottom), (left, right)), dilation, groups
    ((2, 3, 6, 7), (4, 3, 3, 2), (1, 1), ((1, 2), (0, 3)), (1, 1), 1),
    ((1, 4, 5, 5), (4, 2, 2, 3), (2, 1), ((0, 1), (2, 0)), (1, 2), 2),
    ((2, 2, 7, 6), (2, 1, 3, 3), (2, 3), ((3, 0), (1, 1)), (2, 1), 2),
    ((1, 3, 4, 4), (3, 1, 1, 1), (1, 1), ((2, 0), (0, 2)), (1, 1), 3),
    ((2, 2, 3, 3), (3, 2, 4, 4), (1, 1), ((1, 0), (2, 1)), (1, 1), 1),  # a kernel larger than the input
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", ASYM_2D)
def test_conv2d_asymmetric_padding_matches_torch(torch, cfg, dtype):
    xs, ws, stride, pads, dilation, groups = cfg
    rng = np.random.default_rng(0)
    x, w, b = _leaves(rng, dtype, xs, ws, (ws[0],))
    X, W, B = (Tensor(a, requires_grad=True) for a in (x, w, b))
    TX, TW, TB = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    (pt, pb), (pl, pr) = pads
    y = F.conv2d(X, W, B, stride, pads, dilation, groups)
    ty = torch.nn.functional.conv2d(torch.nn.functional.pad(TX, (pl, pr, pt, pb)), TW, TB, stride, 0, dilation, groups)
    _compare(torch, y, ty, [X, W, B], [TX, TW, TB])


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS["conv2d"]))
def test_every_algorithm_pads_each_side_on_its_own(torch, algorithm):
    """The primitive takes (before, after) per axis; every algorithm (where it applies; else the fixed order)
    gives torch's values and gradients."""
    rng = np.random.default_rng(1)
    x, w = _leaves(rng, np.float64, (2, 3, 6, 7), (4, 3, 3, 2))
    X, W = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    TX, TW = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    with tg.conv_algorithm(algorithm):
        y = F.conv2d(X, W, padding=((2, 0), (1, 3)))
        ty = torch.nn.functional.conv2d(torch.nn.functional.pad(TX, (1, 3, 2, 0)), TW)
        _compare(torch, y, ty, [X, W], [TX, TW])


def test_symmetric_per_side_padding_is_the_int_padding():
    rng = np.random.default_rng(2)
    x, w = (Tensor(a) for a in _leaves(rng, np.float64, (1, 2, 5, 6), (3, 2, 3, 3)))
    np.testing.assert_array_equal(F.conv2d(x, w, padding=((1, 1), (2, 2))).data, F.conv2d(x, w, padding=(1, 2)).data)
    np.testing.assert_array_equal(F.conv2d(x, w, padding=[[0, 0], [0, 0]]).data, F.conv2d(x, w).data)
    np.testing.assert_array_equal(F.conv1d(x[:, :, 0], w[:, :, 0], padding=((2, 2),)).data,
                                  F.conv1d(x[:, :, 0], w[:, :, 0], padding=2).data)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("stride,pads,dilation,groups", [(1, (0, 2), 1, 1), (2, (3, 1), 1, 2), (1, (1, 0), 2, 4),
                                                         (3, (0, 0), 1, 1)])
def test_conv1d_per_end_padding_matches_torch(torch, dtype, stride, pads, dilation, groups):
    rng = np.random.default_rng(3)
    x, w, b = _leaves(rng, dtype, (2, 4, 9), (8, 4 // groups, 3), (8,))
    X, W, B = (Tensor(a, requires_grad=True) for a in (x, w, b))
    TX, TW, TB = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv1d(X, W, B, stride, (pads,), dilation, groups)
    ty = torch.nn.functional.conv1d(torch.nn.functional.pad(TX, pads), TW, TB, stride, 0, dilation, groups)
    _compare(torch, y, ty, [X, W, B], [TX, TW, TB])


def test_asymmetric_padding_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(4)
    x, w, b = (Tensor(a, requires_grad=True) for a in _leaves(rng, np.float64, (1, 2, 4, 5), (2, 2, 2, 3), (2,)))
    conv = lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=((0, 2), (1, 0)))  # noqa: E731
    assert tg.gradcheck(conv, (x, w, b))
    assert tg.gradgradcheck(conv, (x, w, b))
    x1, w1 = (Tensor(a, requires_grad=True) for a in _leaves(rng, np.float64, (2, 2, 5), (3, 2, 2)))
    conv1 = lambda x, w: F.conv1d(x, w, padding=((2, 1),), dilation=2)  # noqa: E731
    assert tg.gradcheck(conv1, (x1, w1))
    assert tg.gradgradcheck(conv1, (x1, w1))


# ---------------------------------------------------------------- padding modes of Conv2d and Conv1d
MODES = ["zeros", "reflect", "replicate", "circular"]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kw", [dict(kernel_size=3, padding=1), dict(kernel_size=(3, 2), padding=(2, 1), stride=2),
                                dict(kernel_size=(2, 4), padding="same", dilation=(2, 1)),
                                dict(kernel_size=3, padding=(0, 2), groups=2, bias=False),
                                dict(kernel_size=2, padding="valid")])
def test_conv2d_padding_modes_match_torch(torch, mode, kw, dtype):
    theirs = torch.nn.Conv2d(4, 6, padding_mode=mode, **kw).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = nn.Conv2d(4, 6, padding_mode=mode, dtype=dtype, rng=0, **kw)
    _load_from_torch(ours, theirs)
    x = np.random.default_rng(5).standard_normal((2, 4, 5, 6)).astype(dtype)
    X, TX = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    params = [ours.weight] + ([] if ours.bias is None else [ours.bias])
    tparams = [theirs.weight] + ([] if theirs.bias is None else [theirs.bias])
    _compare(torch, ours(X), theirs(TX), [X, *params], [TX, *tparams])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kw", [dict(kernel_size=3, padding=2), dict(kernel_size=3, padding=1, stride=2, dilation=2),
                                dict(kernel_size=4, padding="same", groups=2), dict(kernel_size=1, padding=(3,))])
def test_conv1d_padding_modes_match_torch(torch, mode, kw, dtype):
    theirs = torch.nn.Conv1d(4, 2, padding_mode=mode, **kw).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = nn.Conv1d(4, 2, padding_mode=mode, dtype=dtype, **kw)
    _load_from_torch(ours, theirs)
    x = np.random.default_rng(6).standard_normal((3, 4, 7)).astype(dtype)
    X, TX = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    _compare(torch, ours(X), theirs(TX), [X, ours.weight, ours.bias], [TX, theirs.weight, theirs.bias])


@pytest.mark.parametrize("mode", MODES[1:])
def test_padding_mode_pads_as_torch_pad(torch, mode):
    """The padding itself, with the largest sizes torch allows (reflect: n - 1, circular: n), and per side."""
    x = np.arange(12.0).reshape(1, 1, 3, 4)
    limit = (2, 3) if mode == "reflect" else (3, 4)
    m = nn.Conv2d(1, 1, 1, padding=((limit[0], 1), (0, limit[1])), padding_mode=mode, bias=False)
    m.weight = Tensor(np.ones((1, 1, 1, 1)), requires_grad=True)
    expect = torch.nn.functional.pad(torch.tensor(x), (0, limit[1], limit[0], 1), mode=mode).numpy()
    np.testing.assert_array_equal(m(Tensor(x)).data, expect)


@pytest.mark.parametrize("mode", MODES)
def test_padding_modes_gradcheck_and_gradgradcheck(mode):
    rng = np.random.default_rng(7)
    x, w, b = (Tensor(a, requires_grad=True) for a in _leaves(rng, np.float64, (1, 2, 3, 4), (2, 2, 2, 2), (2,)))
    m = nn.Conv2d(2, 2, 2, padding=(2, 1), padding_mode=mode, dtype=np.float64)

    def conv(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        m.weight, m.bias = w, b
        return m(x)

    assert tg.gradcheck(conv, (x, w, b))
    assert tg.gradgradcheck(conv, (x, w, b))
    m1 = nn.Conv1d(2, 1, 3, padding=2, padding_mode=mode, bias=False, dtype=np.float64)
    x1, w1 = (Tensor(a, requires_grad=True) for a in _leaves(rng, np.float64, (2, 2, 3), (1, 2, 3)))

    def conv1(x: Tensor, w: Tensor) -> Tensor:
        m1.weight = w
        return m1(x)

    assert tg.gradcheck(conv1, (x1, w1))
    assert tg.gradgradcheck(conv1, (x1, w1))


def test_padding_mode_state_dict_and_repr():
    m = nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular", rng=0)
    assert list(m.state_dict()) == ["weight", "bias"]
    assert repr(m) == "Conv2d(2, 3, kernel_size=(3, 3), stride=1, padding=1, padding_mode='circular')"
    assert repr(nn.Conv1d(2, 3, 3, rng=0)) == "Conv1d(2, 3, kernel_size=3, stride=1)"
    assert m.padding_mode == "circular" and nn.Conv1d(2, 3, 3).padding_mode == "zeros"


# ---------------------------------------------------------------- conv_transpose1d
T1D = [  # C_in, C_out, k, L, stride, padding, output_padding, groups, dilation
    (2, 3, 3, 5, 1, 0, 0, 1, 1), (4, 6, 3, 4, 2, 1, 1, 2, 1), (3, 3, 2, 6, 3, 2, 2, 3, 1),
    (2, 4, 3, 3, 1, 1, 1, 1, 2), (4, 2, 4, 5, 2, 3, 0, 2, 3), (1, 2, 1, 4, 2, 0, 1, 1, 1),
    (2, 2, 5, 1, 1, 2, 0, 1, 1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", T1D)
def test_conv_transpose1d_matches_torch(torch, cfg, dtype):
    cin, cout, k, length, s, p, op, g, d = cfg
    rng = np.random.default_rng(8)
    x, w, b = _leaves(rng, dtype, (2, cin, length), (cin, cout // g, k), (cout,))
    X, W, B = (Tensor(a, requires_grad=True) for a in (x, w, b))
    TX, TW, TB = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv_transpose1d(X, W, B, s, p, op, g, d)  # PyTorch's positional order: ..., groups, dilation
    ty = torch.nn.functional.conv_transpose1d(TX, TW, TB, s, p, op, g, d)
    assert y.shape[2] == (length - 1) * s - 2 * p + d * (k - 1) + op + 1
    _compare(torch, y, ty, [X, W, B], [TX, TW, TB])


def test_conv_transpose1d_is_the_input_gradient_of_conv1d_and_a_method():
    rng = np.random.default_rng(9)
    x, w = _leaves(rng, np.float64, (2, 4, 9), (6, 2, 3))
    X = Tensor(x, requires_grad=True)
    y = F.conv1d(X, Tensor(w), stride=2, padding=1, groups=2)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    z = Tensor(g).conv_transpose1d(Tensor(w), stride=2, padding=1, output_padding=0, groups=2)
    np.testing.assert_allclose(z.data, X.grad.data, rtol=1e-12, atol=1e-12)
    assert F.conv_transpose1d is tg.Tensor.conv_transpose1d


def test_conv_transpose1d_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(10)
    x, w, b = (Tensor(a, requires_grad=True) for a in _leaves(rng, np.float64, (2, 2, 3), (2, 2, 3), (4,)))
    fn = lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1, groups=2,  # noqa: E731
                                            dilation=1)
    assert tg.gradcheck(fn, (x, w, b))
    assert tg.gradgradcheck(fn, (x, w, b))
    fn2 = lambda x, w: F.conv_transpose1d(x, w, dilation=2, padding=2)  # noqa: E731
    assert tg.gradcheck(fn2, (x, w))
    assert tg.gradgradcheck(fn2, (x, w))


# ---------------------------------------------------------------- ConvTranspose1d / ConvTranspose2d
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1, output_padding=1),
                                dict(kernel_size=(2, 3), stride=(2, 1), padding=(0, 1), groups=2),
                                dict(kernel_size=3, stride=2, dilation=2, output_padding=1, bias=False)])
def test_conv_transpose2d_module_matches_torch(torch, kw, dtype):
    theirs = torch.nn.ConvTranspose2d(4, 6, **kw).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = nn.ConvTranspose2d(4, 6, dtype=dtype, rng=0, **kw)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    _load_from_torch(ours, theirs)
    x = np.random.default_rng(11).standard_normal((2, 4, 4, 5)).astype(dtype)
    X, TX = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    params = [ours.weight] + ([] if ours.bias is None else [ours.bias])
    tparams = [theirs.weight] + ([] if theirs.bias is None else [theirs.bias])
    _compare(torch, ours(X), theirs(TX), [X, *params], [TX, *tparams])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=4, stride=3, padding=1, output_padding=2),
                                dict(kernel_size=2, stride=2, groups=2, dilation=3, padding=1)])
def test_conv_transpose1d_module_matches_torch(torch, kw, dtype):
    theirs = torch.nn.ConvTranspose1d(2, 4, **kw).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = nn.ConvTranspose1d(2, 4, dtype=dtype, **kw)
    _load_from_torch(ours, theirs)
    x = np.random.default_rng(12).standard_normal((3, 2, 6)).astype(dtype)
    X, TX = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    _compare(torch, ours(X), theirs(TX), [X, ours.weight, ours.bias], [TX, theirs.weight, theirs.bias])


def test_conv_transpose_output_size_matches_torch(torch):
    t2 = torch.nn.ConvTranspose2d(3, 2, 3, stride=3, padding=1).double()
    o2 = nn.ConvTranspose2d(3, 2, 3, 3, 1, dtype=np.float64)
    _load_from_torch(o2, t2)
    x = np.random.default_rng(13).standard_normal((1, 3, 4, 4))
    for size in [(10, 10), (12, 11), (1, 2, 11, 12)]:
        y = o2(Tensor(x), output_size=size)
        np.testing.assert_allclose(y.data, t2(torch.tensor(x), output_size=size).detach().numpy(), rtol=1e-12)
        assert y.shape[2:] == tuple(size[-2:])
    t1, o1 = torch.nn.ConvTranspose1d(3, 2, 2, stride=2).double(), nn.ConvTranspose1d(3, 2, 2, 2, dtype=np.float64)
    _load_from_torch(o1, t1)
    y = o1(Tensor(x[:, :, 0]), output_size=[9])
    np.testing.assert_allclose(y.data, t1(torch.tensor(x[:, :, 0]), output_size=[9]).detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"ConvTranspose2d: output_size \(13, 10\) is not reachable.*min = 10"):
        o2(Tensor(x), output_size=(13, 10))
    with pytest.raises(TypeError, match="ConvTranspose1d: output_size"):
        o1(Tensor(x[:, :, 0]), output_size=9)


def test_conv_transpose_default_init_is_torchs():
    """kaiming_uniform(a=sqrt(5)) with torch's fan_in of the (C_in, C_out/groups, *k) weight, weight.shape[1] * k:
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias; the bias has C_out entries."""
    m = nn.ConvTranspose2d(64, 8, (3, 2), groups=2, rng=0)
    bound = 1 / np.sqrt(4 * 3 * 2)
    assert m.weight.shape == (64, 4, 3, 2) and m.bias.shape == (8,) and m.weight.dtype == np.float32
    assert bound * 0.95 < np.abs(m.weight.data).max() <= bound and np.abs(m.bias.data).max() <= bound
    m1 = nn.ConvTranspose1d(300, 10, 5, bias=False, rng=1, dtype=np.float64)
    assert m1.bias is None and m1.weight.dtype == np.float64 and list(m1.state_dict()) == ["weight"]
    assert 0.95 / np.sqrt(50) < np.abs(m1.weight.data).max() <= 1 / np.sqrt(50)
    np.testing.assert_array_equal(nn.ConvTranspose1d(3, 4, 2, rng=5).weight.data,
                                  nn.ConvTranspose1d(3, 4, 2, rng=5).weight.data)
    assert repr(nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1, groups=2)) == \
        "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=2, output_padding=1, groups=2)"


def test_conv_transpose_module_is_conv_modules_adjoint():
    """ConvTranspose2d with Conv2d's weight computes Conv2d's input-gradient (the layer's definition)."""
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1, bias=False, rng=0, dtype=np.float64)
    up = nn.ConvTranspose2d(5, 3, 3, stride=2, padding=1, output_padding=1, bias=False, dtype=np.float64)
    up.weight = conv.weight
    x = Tensor(np.random.default_rng(14).standard_normal((2, 3, 8, 8)), requires_grad=True)
    y = conv(x)
    g = np.random.default_rng(15).standard_normal(y.shape)
    y.backward(g)
    np.testing.assert_allclose(up(Tensor(g)).data, x.grad.data, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- bad arguments
def _raises(exc, fn, *needles) -> str:
    with pytest.raises(exc) as info:
        fn()
    for needle in needles:
        assert needle in str(info.value), f"{needle!r} not in {str(info.value)!r}"
    return str(info.value)


def test_bad_per_side_padding():
    x, w = tg.zeros(2, 4, 6, 6), tg.zeros(8, 4, 3, 3)
    _raises(ValueError, lambda: F.conv2d(x, w, padding=((1, -1), (0, 0))), "conv2d", ">= 0 on every side",
            "((top, bottom), (left, right))", "(2, 4, 6, 6)", "(8, 4, 3, 3)")
    for bad in [((1, 2), (3,)), ((1, 2), 3), ((1, 2),), ((1, 2), (1, 1), (0, 0)), ((1.0, 2), (1, 1)),
                ((True, 0), (0, 0))]:
        _raises(TypeError, lambda: F.conv2d(x, w, padding=bad), "conv2d", "((top, bottom), (left, right))",
                "(2, 4, 6, 6)")
    _raises(ValueError, lambda: F.conv2d(x, tg.zeros(8, 4, 9, 3), padding=((1, 1), (0, 0))), "conv2d",
            "kernel larger than the padded input along H", "6 + padding 1+1 = 8")
    _raises(ValueError, lambda: F.conv2d(x, w, padding=((0, 0), (0, 0)), stride=0), "conv2d", "stride")
    x1, w1 = tg.zeros(2, 4, 6), tg.zeros(8, 4, 3)
    _raises(ValueError, lambda: F.conv1d(x1, w1, padding=((0, -2),)), "conv1d", ">= 0", "((left, right),)",
            "(2, 4, 6)")
    _raises(TypeError, lambda: F.conv1d(x1, w1, padding=(1, 2)), "conv1d", "((left, right),)", "1-tuple",
            "(2, 4, 6)")  # a pair of ints is not taken for (left, right): for conv2d it means (H, W)
    _raises(TypeError, lambda: F.conv1d(x1, w1, padding=((1, 2), (0, 0))), "conv1d", "((left, right),)")
    assert F.conv1d(x1, w1, padding=(1,)).shape == (2, 8, 6)


def test_bad_padding_mode():
    for cls in (nn.Conv2d, nn.Conv1d):
        msg = _raises(ValueError, lambda: cls(2, 2, 3, padding_mode="mirror"), cls.__name__, "padding_mode", "'mirror'")
        assert all(repr(m) in msg for m in MODES)
    _raises(ValueError, lambda: nn.Conv2d(2, 2, 3, padding_mode=None), "padding_mode", "'zeros'")
    small = nn.Conv2d(1, 1, 1, padding=3, padding_mode="reflect")
    _raises(ValueError, lambda: small(tg.zeros(1, 1, 3, 5)), "Conv2d", "reflect", "smaller than", "(1, 1, 3, 5)")
    circ = nn.Conv1d(1, 1, 1, padding=4, padding_mode="circular")
    _raises(ValueError, lambda: circ(tg.zeros(1, 1, 3)), "Conv1d", "circular", "at most", "(1, 1, 3)")
    strided = nn.Conv2d(1, 1, 3, stride=2, padding="same", padding_mode="replicate")
    _raises(ValueError, lambda: strided(tg.zeros(1, 1, 5, 5)), "Conv2d", "'same'", "strided")
    _raises(ValueError, lambda: nn.Conv2d(1, 1, 3, padding=-1, padding_mode="reflect")(tg.zeros(1, 1, 5, 5)),
            "Conv2d", "padding", ">= 0")
    _raises(ValueError, lambda: nn.Conv2d(2, 1, 3, padding=1, padding_mode="reflect")(tg.zeros(1, 2, 5)),
            "conv2d", "4-D", "(1, 2, 5)")  # the wrong rank is worded by the functional conv
    _raises(ValueError, lambda: nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect"), "ConvTranspose2d", "'zeros'")


def test_bad_conv_transpose1d_arguments():
    x, w = tg.zeros(2, 4, 5), tg.zeros(4, 2, 3)
    _raises(ValueError, lambda: F.conv_transpose1d(x, tg.zeros(3, 2, 3)), "conv_transpose1d", "channel mismatch",
            "(2, 4, 5)", "(3, 2, 3)")
    _raises(ValueError, lambda: F.conv_transpose1d(x, w, groups=3), "conv_transpose1d", "groups=3")
    _raises(ValueError, lambda: F.conv_transpose1d(x, w, stride=2, output_padding=2), "conv_transpose1d",
            "output_padding", "(2,)")
    _raises(ValueError, lambda: F.conv_transpose1d(x, w, padding=-1), "conv_transpose1d", "padding", ">= 0")
    _raises(ValueError, lambda: F.conv_transpose1d(x, tg.zeros(4, 2, 1), padding=3), "conv_transpose1d",
            "non-positive output size")
    _raises(ValueError, lambda: F.conv_transpose1d(tg.zeros(2, 4, 5, 5), tg.zeros(4, 2, 3, 3)), "conv_transpose1d",
            "(N, C_in, L)", "(2, 4, 5, 5)")
    _raises(ValueError, lambda: F.conv_transpose1d(x, w, tg.zeros(3)), "conv_transpose1d", "bias", "(2,)", "(3,)")
    _raises(TypeError, lambda: F.conv_transpose1d(x, w, stride=(1, 1)), "conv_transpose1d", "stride", "1 ints")
    _raises(TypeError, lambda: F.conv_transpose1d(x, w, dilation=1.5), "conv_transpose1d", "dilation")
    _raises(TypeError, lambda: F.conv_transpose1d(x, w.astype(np.float64)), "conv_transpose1d", "float64")
    _raises(ValueError, lambda: nn.ConvTranspose1d(4, 6, 3, groups=4), "ConvTranspose1d", "groups=4")
    _raises(TypeError, lambda: nn.ConvTranspose2d(4, 6, "3"), "ConvTranspose2d", "kernel_size")
