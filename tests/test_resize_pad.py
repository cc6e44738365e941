"""F.pad (PyTorch's four modes and the numpy-style pad_width it still takes), F.interpolate (nearest, bilinear),
F.adaptive_max_pool2d and their modules: PyTorch as the oracle (values and gradients, float32 and float64),
naive loop references written from the definitions, gradcheck / gradgradcheck, and bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn

TOL = {np.float32: dict(rtol=2e-6, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}


def _rand(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _both(torch, fn_ours, fn_torch, x, dtype, exact=False, seed=1):
    """Forward and gradient (for a random upstream gradient) of ours and torch's, compared."""
    X, TX = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = fn_ours(X), fn_torch(TX)
    assert y.shape == tuple(ty.shape) and y.dtype == x.dtype
    g = _rand(y.shape, dtype, seed)
    y.backward(Tensor(g))
    ty.backward(torch.tensor(g))
    if exact:
        np.testing.assert_array_equal(y.data, ty.detach().numpy())
    else:
        np.testing.assert_allclose(y.data, ty.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(X.grad.data, TX.grad.numpy(), **TOL[dtype])
    return y


# ================================================================ pad
PAD_CASES = [  # shape, pad (PyTorch's flat tuple)
    ((2, 5), (1, 2)), ((2, 3, 5), (2, 0)), ((2, 3, 5), (0, 4)), ((1, 2, 4, 5), (1, 2, 3, 0)),
    ((2, 3, 4, 5), (3, 3, 2, 1)), ((3, 4, 5), (1, 1, 1, 1)), ((1, 2, 3, 4, 5), (1, 2, 0, 1, 2, 1)),
    ((2, 3, 4, 4, 3), (2, 1, 1, 3, 1, 0)), ((1, 1, 6), (-1, 2)), ((1, 1, 6), (3, -2)),
    ((1, 2, 5, 6), (-1, 2, 1, -2)), ((2, 1, 6), (-2, -1)), ((1, 1, 1, 6), (0, 0, 0, 0)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pads", PAD_CASES)
def test_pad_matches_torch(torch, shape, pads, mode, dtype):
    x = _rand(shape, dtype)
    _both(torch, lambda t: F.pad(t, pads, mode=mode), lambda t: torch.nn.functional.pad(t, pads, mode=mode),
          x, dtype, exact=True)


@pytest.mark.parametrize("shape,pads,value", [
    ((4,), (2, 3), 0.0), ((2, 3), (1, 1, 2, 0), -1.5), ((2, 3, 4), (1, 0, 0, 2, 1, 1), 7.0),
    ((2, 3, 4, 5), (0, 1, 0, 0, 0, 0, 1, 0), 2.0), ((3, 6), (-2, -3), 0.0), ((3, 6), (-6, 1, 2, -1), 3.0),
    ((2, 3, 4), (), 0.0),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_constant_pad_any_dims_and_negative_crops_match_torch(torch, shape, pads, value, dtype):
    x = _rand(shape, dtype)
    _both(torch, lambda t: F.pad(t, pads, value=value), lambda t: torch.nn.functional.pad(t, pads, value=value),
          x, dtype, exact=True)


def test_pad_definitions_by_hand():
    x = Tensor(np.array([[[0.0, 1, 2, 3]]]))
    assert F.pad(x, (2, 3), mode="reflect").tolist() == [[[2, 1, 0, 1, 2, 3, 2, 1, 0]]]
    assert F.pad(x, (2, 3), mode="replicate").tolist() == [[[0, 0, 0, 1, 2, 3, 3, 3, 3]]]
    assert F.pad(x, (2, 3), mode="circular").tolist() == [[[2, 3, 0, 1, 2, 3, 0, 1, 2]]]
    assert F.pad(x, (2, 3), value=9).tolist() == [[[9, 9, 0, 1, 2, 3, 9, 9, 9]]]
    assert F.pad(x, (-1, 1)).tolist() == [[[1, 2, 3, 0]]]


@pytest.mark.parametrize("mode,pads", [("reflect", (2, 1, 1, 2)), ("replicate", (3, 1, 0, 2)),
                                       ("circular", (2, 2, 1, 0)), ("constant", (1, -1, 2, 0)),
                                       ("reflect", (-1, 2, 0, 1)), ("circular", (-1, 1, 1, -1))])
def test_pad_gradcheck_and_gradgradcheck(mode, pads):
    x = Tensor(_rand((1, 2, 3, 4)), requires_grad=True)
    fn = lambda t: F.pad(t, pads, mode=mode) * F.pad(t, pads, mode=mode)  # noqa: E731  (nonlinear: 2nd order)
    assert tg.gradcheck(fn, (x,))
    assert tg.gradgradcheck(fn, (x,))


def test_pad_edge_gradients_accumulate_on_the_copied_pixels():
    x = Tensor(np.arange(4.0).reshape(1, 1, 4), requires_grad=True)
    F.pad(x, (2, 2), mode="replicate").sum().backward()
    assert x.grad.tolist() == [[[3.0, 1.0, 1.0, 3.0]]]
    x.grad = None
    F.pad(x, (2, 2), mode="reflect").sum().backward()  # y = x2 x1 | x0 x1 x2 x3 | x2 x1
    assert x.grad.tolist() == [[[1.0, 3.0, 3.0, 1.0]]]


def test_pad_keeps_the_numpy_style_pad_width():
    a = _rand((2, 3))
    x = Tensor(a)
    np.testing.assert_array_equal(F.pad(x, ((1, 0), (2, 2))).data, np.pad(a, ((1, 0), (2, 2))))
    np.testing.assert_array_equal(F.pad(x, [(1, 2)]).data, np.pad(a, ((1, 2),)))
    np.testing.assert_array_equal(F.pad(x, 1, value=-1.0).data, np.pad(a, 1, constant_values=-1.0))
    np.testing.assert_array_equal(F.pad(x, np.array([[1, 0], [0, 2]])).data, np.pad(a, ((1, 0), (0, 2))))
    np.testing.assert_array_equal(F.pad(x, pad_width=(1, 2)).data, np.pad(a, (1, 2)))  # numpy's flat pair
    np.testing.assert_array_equal(F.pad(x, (1, 2)).data, np.pad(a, ((0, 0), (1, 2))))  # a flat tuple: PyTorch's
    np.testing.assert_array_equal(x.pad((1, 2)).data, np.pad(a, (1, 2)))  # the method stays numpy's
    assert F.cat([x, x], 1).shape == (2, 6)  # cat pads with per-axis pairs


PAD_ERRORS = [  # shape, kwargs, error, words in the message
    ((2, 3), dict(pad=(1,)), ValueError, ["pad", "even", "(2, 3)"]),
    ((2, 3), dict(pad=(1, 1, 1, 1, 1, 1)), ValueError, ["pad", "3 dimensions", "(2, 3)"]),
    ((2, 3), dict(pad=(1.5, 1)), TypeError, ["pad", "1.5", "ints", "(2, 3)"]),
    ((2, 3), dict(pad=(True, 1)), TypeError, ["pad", "True"]),
    ((2, 3), dict(pad=(1, 1), mode="wrap"), ValueError, ["pad", "'wrap'", "'reflect'"]),
    ((2, 3), dict(pad=(1, 1), mode=0.5), TypeError, ["pad", "0.5", "value="]),
    ((2, 3), dict(pad=(1, 1), value="0"), TypeError, ["pad", "value"]),
    ((2, 4), dict(pad=(-3, -2)), ValueError, ["pad", "crop", "size 4", "(2, 4)"]),
    ((1, 1, 4), dict(pad=(4, 0), mode="reflect"), ValueError, ["pad", "reflect", "smaller", "size 4", "(1, 1, 4)"]),
    ((1, 1, 4), dict(pad=(0, 5), mode="circular"), ValueError, ["pad", "circular", "once", "(1, 1, 4)"]),
    ((1, 1, 4), dict(pad=(-2, 3), mode="circular"), ValueError, ["pad", "circular", "crop"]),
    ((1, 1, 4), dict(pad=(-2, -2), mode="replicate"), ValueError, ["pad", "at least 1", "(1, 1, 4)"]),
    ((4,), dict(pad=(1, 1), mode="reflect"), ValueError, ["pad", "reflect", "2 entries", "(4,)"]),
    ((1, 2, 4, 6), dict(pad=(1, 1), mode="replicate"), ValueError, ["pad", "4-D", "(1, 2, 4, 6)"]),
    ((2, 3, 4), dict(pad=(1, 1, 1, 1, 1, 1), mode="circular"), ValueError, ["pad", "6 entries", "(2, 3, 4)"]),
    ((2, 0, 3), dict(pad=(1, 1), mode="reflect"), ValueError, ["pad", "non-empty", "(2, 0, 3)"]),
    ((2, 3, 4), dict(pad=(1, 1), mode="reflect", value=1.0), ValueError, ["pad", "no fill value"]),
    ((2, 3), dict(pad=((1, 1), (1, 1)), mode="reflect"), ValueError, ["pad", "flat pad tuple"]),
    ((2, 3), dict(pad=(1, 1), pad_width=1), TypeError, ["pad", "not both"]),
    ((2, 3), dict(), TypeError, ["pad", "missing"]),
]


@pytest.mark.parametrize("shape,kwargs,error,words", PAD_ERRORS, ids=[str(i) for i in range(len(PAD_ERRORS))])
def test_pad_bad_arguments(shape, kwargs, error, words):
    with pytest.raises(error) as info:
        F.pad(Tensor(np.zeros(shape)), **kwargs)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_pad_bad_arguments_are_refused_by_torch_too(torch):
    """Each rule above is PyTorch's (where its result would be usable), so torch refuses the same calls."""
    for shape, kwargs, _, _ in PAD_ERRORS:
        if "pad_width" in kwargs or "pad" not in kwargs or kwargs.get("mode") == 0.5 or kwargs.get("value") == "0" \
                or (isinstance(kwargs["pad"], tuple) and kwargs["pad"] and isinstance(kwargs["pad"][0], tuple)) \
                or kwargs["pad"] == (-2, 3):  # numpy-style only, or torch's own result is garbage there
            continue
        with pytest.raises((RuntimeError, ValueError, TypeError, NotImplementedError)):
            torch.nn.functional.pad(torch.zeros(shape), kwargs["pad"], mode=kwargs.get("mode", "constant"),
                                    value=kwargs.get("value"))


def test_pad_on_integer_tensors_is_exact():
    x = Tensor(np.arange(6, dtype=np.int64).reshape(1, 2, 3))
    y = F.pad(x, (1, 1), mode="reflect")
    assert y.dtype == np.int64 and y.tolist() == [[[1, 0, 1, 2, 1], [4, 3, 4, 5, 4]]]


# ================================================================ interpolate
def naive_bilinear(x, out_h, out_w, align_corners, scale=None):
    """From the definition, one output pixel at a time: the source position along each axis, its two
    neighbours and the weights; returns y and the routing (input pixel, weight) of every output pixel."""
    n, c, h, w = x.shape

    def src(d, n_in, n_out, s):
        if n_out == n_in:
            return float(d)
        if align_corners:
            return d * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        ratio = 1.0 / s if s is not None else n_in / n_out
        return max(ratio * (d + 0.5) - 0.5, 0.0)

    y = np.zeros((n, c, out_h, out_w), dtype=x.dtype)
    route = {}
    for i in range(out_h):
        for j in range(out_w):
            sh, sw = (None, None) if scale is None else scale
            r, q = src(i, h, out_h, sh), src(j, w, out_w, sw)
            r0, q0 = min(int(math.floor(r)), h - 1), min(int(math.floor(q)), w - 1)
            r1, q1 = min(r0 + 1, h - 1), min(q0 + 1, w - 1)
            tr, tq = min(max(r - r0, 0.0), 1.0), min(max(q - q0, 0.0), 1.0)
            taps = [((r0, q0), (1 - tr) * (1 - tq)), ((r0, q1), (1 - tr) * tq),
                    ((r1, q0), tr * (1 - tq)), ((r1, q1), tr * tq)]
            route[i, j] = taps
            y[:, :, i, j] = sum(wt * x[:, :, a, b] for (a, b), wt in taps)
    return y, route


def naive_nearest(x, out_h, out_w):
    n, c, h, w = x.shape
    y = np.zeros((n, c, out_h, out_w), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            y[:, :, i, j] = x[:, :, min(i * h // out_h, h - 1), min(j * w // out_w, w - 1)]
    return y


@pytest.mark.parametrize("shape,size", [((1, 2, 4, 5), (7, 3)), ((2, 1, 3, 3), (3, 8)), ((1, 1, 6, 4), (2, 9)),
                                        ((1, 1, 1, 4), (3, 1)), ((1, 1, 5, 5), (5, 5))])
@pytest.mark.parametrize("align_corners", [False, True])
def test_bilinear_matches_the_naive_reference(shape, size, align_corners):
    x = _rand(shape)
    X = Tensor(x, requires_grad=True)
    y = F.interpolate(X, size=size, mode="bilinear", align_corners=align_corners)
    ref, route = naive_bilinear(x, *size, align_corners)
    np.testing.assert_allclose(y.data, ref, rtol=1e-12, atol=1e-12)
    g = _rand(y.shape, seed=3)
    y.backward(Tensor(g))
    dx = np.zeros_like(x)
    for (i, j), taps in route.items():  # the gradient: g spread with the same 4 weights
        for (a, b), wt in taps:
            dx[:, :, a, b] += wt * g[:, :, i, j]
    np.testing.assert_allclose(X.grad.data, dx, rtol=1e-12, atol=1e-12)


def test_bilinear_with_scale_factor_matches_the_naive_reference():
    x = _rand((1, 2, 5, 4))
    y = F.interpolate(Tensor(x), scale_factor=(1.7, 0.6), mode="bilinear")
    assert y.shape == (1, 2, 8, 2)
    np.testing.assert_allclose(y.data, naive_bilinear(x, 8, 2, False, scale=(1.7, 0.6))[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape,size", [((1, 2, 4, 5), (7, 3)), ((2, 1, 3, 6), (9, 2)), ((1, 1, 5, 5), (5, 10))])
def test_nearest_matches_the_naive_reference(shape, size):
    x = _rand(shape)
    np.testing.assert_array_equal(F.interpolate(Tensor(x), size=size).data, naive_nearest(x, *size))


RESIZES = [  # input shape, dict(size=...) or dict(scale_factor=...)
    ((2, 3, 4, 5), dict(size=(8, 10))), ((1, 2, 4, 5), dict(size=(7, 3))), ((1, 2, 9, 7), dict(size=(4, 3))),
    ((1, 1, 5, 6), dict(size=(1, 1))), ((1, 2, 1, 1), dict(size=(3, 4))), ((1, 1, 3, 7), dict(size=11)),
    ((2, 2, 4, 4), dict(scale_factor=2)), ((1, 2, 5, 7), dict(scale_factor=1.5)),
    ((1, 1, 7, 9), dict(scale_factor=0.5)), ((1, 2, 10, 6), dict(scale_factor=0.3)),
    ((1, 1, 5, 6), dict(scale_factor=(1.7, 2.5))), ((1, 1, 6, 5), dict(scale_factor=(0.7, 3.3))),
    ((1, 1, 5, 6), dict(scale_factor=1.1)), ((1, 2, 3, 4), dict(scale_factor=(2.1, 1.0))),
    ((1, 1, 8, 9), dict(scale_factor=(0.6, 1.3), recompute_scale_factor=True)),
    ((1, 1, 7, 5), dict(scale_factor=2.5, recompute_scale_factor=False)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode,align_corners", [("nearest", None), ("bilinear", False), ("bilinear", True),
                                                ("bilinear", None)])
@pytest.mark.parametrize("shape,kw", RESIZES, ids=[str(i) for i in range(len(RESIZES))])
def test_interpolate_matches_torch(torch, shape, kw, mode, align_corners, dtype):
    x = _rand(shape, dtype)
    args = dict(kw, mode=mode, align_corners=align_corners)
    _both(torch, lambda t: F.interpolate(t, **args), lambda t: torch.nn.functional.interpolate(t, **args),
          x, dtype, exact=mode == "nearest")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nearest_source_indices_equal_torch_over_many_sizes(torch, dtype):
    """PyTorch's nearest index floor(d * s) in float32 (with s = 1/scale_factor when one is given, and its
    same-size and double-size shortcuts): a sweep of sizes and scale factors, compared exactly."""
    factors = [0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5, 1 / 3, 2 / 3, 2.0, 2.1, 2.5, 2.9, 3.0, 3.3, 4 / 3, 5 / 7, 1.9]
    for n_in in range(1, 30):
        x = np.broadcast_to(np.arange(n_in, dtype=dtype), (1, 1, 1, n_in)).copy()
        for n_out in range(1, 40):
            y = F.interpolate(Tensor(x), size=(1, n_out)).data
            np.testing.assert_array_equal(y, torch.nn.functional.interpolate(torch.tensor(x), size=(1, n_out)).numpy())
        for sf in factors:
            if int(n_in * sf) < 1:
                continue
            y = F.interpolate(Tensor(x), scale_factor=(1.0, sf)).data
            ty = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=(1.0, sf)).numpy()
            np.testing.assert_array_equal(y, ty, err_msg=f"n_in={n_in}, scale_factor={sf}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("align_corners", [False, True])
def test_bilinear_weights_equal_torch_over_many_sizes(torch, dtype, align_corners):
    """The interpolation matrix along one axis (the output for each one-hot input), sizes and scale factors
    swept; float32 weights agree to the last bit (PyTorch's fused s (d + 0.5) - 0.5 included)."""
    tol = dict(rtol=0, atol=0) if dtype == np.float32 else dict(rtol=0, atol=4e-15)
    for n_in in range(1, 16):
        eye = np.eye(n_in, dtype=dtype).reshape(n_in, 1, 1, n_in)
        sizes = [dict(size=(1, n)) for n in range(1, 20)]
        for kw in sizes + [dict(scale_factor=(1.0, s)) for s in (0.4, 0.7, 1.3, 1.7, 2.5)]:
            if "scale_factor" in kw and int(n_in * kw["scale_factor"][1]) < 1:
                continue
            args = dict(kw, mode="bilinear", align_corners=align_corners)
            np.testing.assert_allclose(F.interpolate(Tensor(eye), **args).data,
                                       torch.nn.functional.interpolate(torch.tensor(eye), **args).numpy(), **tol,
                                       err_msg=f"n_in={n_in}, {kw}")


@pytest.mark.parametrize("kw", [dict(size=(5, 3), mode="nearest"), dict(scale_factor=1.5, mode="nearest"),
                                dict(size=(5, 3), mode="bilinear"), dict(scale_factor=(0.7, 1.6), mode="bilinear"),
                                dict(size=(2, 7), mode="bilinear", align_corners=True)])
def test_interpolate_gradcheck_and_gradgradcheck(kw):
    x = Tensor(_rand((1, 2, 3, 4)), requires_grad=True)
    fn = lambda t: F.interpolate(t, **kw).square()  # noqa: E731
    assert tg.gradcheck(fn, (x,))
    assert tg.gradgradcheck(fn, (x,))


def test_nearest_gradient_is_the_scatter_add_to_the_source_pixel():
    x = Tensor(np.zeros((1, 1, 2, 2)), requires_grad=True)
    F.interpolate(x, size=(3, 5)).sum().backward()  # rows 0 0 1, columns 0 0 0 1 1
    assert x.grad.data[0, 0].tolist() == [[6.0, 4.0], [3.0, 2.0]]


def test_nearest_keeps_integer_dtypes():
    x = Tensor(np.arange(6, dtype=np.int32).reshape(1, 1, 2, 3))
    y = F.interpolate(x, scale_factor=2)
    assert y.dtype == np.int32 and y.shape == (1, 1, 4, 6)


INTERPOLATE_ERRORS = [  # shape, kwargs, error, words
    ((1, 1, 4, 4), dict(), ValueError, ["interpolate", "either size or scale_factor"]),
    ((1, 1, 4, 4), dict(size=3, scale_factor=2), ValueError, ["interpolate", "only one of size or scale_factor"]),
    ((1, 1, 4, 4), dict(size=3, align_corners=True), ValueError, ["interpolate", "align_corners", "'nearest'"]),
    ((1, 1, 4, 4), dict(size=3, align_corners=False), ValueError, ["interpolate", "align_corners"]),
    ((1, 1, 4, 4), dict(size=3, mode="foo"), ValueError, ["interpolate", "'foo'", "'bilinear'"]),
    ((1, 1, 4, 4), dict(size=3, mode="bicubic"), NotImplementedError, ["interpolate", "'bicubic'"]),
    ((1, 1, 4, 4), dict(size=3, mode=2), TypeError, ["interpolate", "mode"]),
    ((1, 4, 4), dict(size=3, mode="bilinear"), NotImplementedError, ["interpolate", "4-D", "(1, 4, 4)"]),
    ((4, 4), dict(size=3), ValueError, ["interpolate", "4-D", "(4, 4)"]),
    ((1, 1, 4, 4), dict(size=(3,)), ValueError, ["interpolate", "2 sizes", "(1, 1, 4, 4)"]),
    ((1, 1, 4, 4), dict(size=(3, 2, 1)), ValueError, ["interpolate", "2 sizes"]),
    ((1, 1, 4, 4), dict(size=0), ValueError, ["interpolate", ">= 1"]),
    ((1, 1, 4, 4), dict(size=2.0), TypeError, ["interpolate", "size", "2.0"]),
    ((1, 1, 4, 4), dict(size=(3, None)), TypeError, ["interpolate", "size"]),
    ((1, 1, 4, 4), dict(scale_factor=0.1), ValueError, ["interpolate", "output size (0, 0)", "(1, 1, 4, 4)"]),
    ((1, 1, 4, 4), dict(scale_factor=-1), ValueError, ["interpolate", "> 0"]),
    ((1, 1, 4, 4), dict(scale_factor=float("inf")), ValueError, ["interpolate", "finite"]),
    ((1, 1, 4, 4), dict(scale_factor="2"), TypeError, ["interpolate", "scale_factor"]),
    ((1, 1, 4, 4), dict(scale_factor=(2,)), ValueError, ["interpolate", "2 factors"]),
    ((1, 1, 4, 4), dict(size=3, recompute_scale_factor=True), ValueError, ["interpolate", "recompute_scale_factor"]),
    ((1, 1, 4, 4), dict(size=3, antialias=True), NotImplementedError, ["interpolate", "antialias"]),
    ((1, 1, 0, 4), dict(size=3), ValueError, ["interpolate", "(1, 1, 0, 4)"]),
]


@pytest.mark.parametrize("shape,kwargs,error,words", INTERPOLATE_ERRORS,
                         ids=[str(i) for i in range(len(INTERPOLATE_ERRORS))])
def test_interpolate_bad_arguments(torch, shape, kwargs, error, words):
    with pytest.raises(error) as info:
        F.interpolate(Tensor(np.zeros(shape)), **kwargs)
    for w in words:
        assert w in str(info.value), (w, str(info.value))
    if error is not NotImplementedError:  # PyTorch refuses them too (the others it has: bicubic, antialias, 3-D)
        with pytest.raises((ValueError, TypeError, RuntimeError, NotImplementedError)):
            torch.nn.functional.interpolate(torch.zeros(shape), **kwargs)
    if error is ValueError and "align_corners" in kwargs or not kwargs:  # the same type as PyTorch's
        with pytest.raises(ValueError):
            torch.nn.functional.interpolate(torch.zeros(shape), **kwargs)


def test_interpolate_bilinear_needs_a_float_input():
    with pytest.raises(TypeError, match="interpolate.*floating"):
        F.interpolate(Tensor(np.zeros((1, 1, 2, 2), np.int64)), size=3, mode="bilinear")


# ================================================================ adaptive_max_pool2d
def naive_adaptive_max(x, oh, ow):
    """Each bin [floor(i H/h), ceil((i+1) H/h)) x [...] scanned in row-major order: the max, the first
    position holding it (the last NaN if any), and dx for an upstream gradient through a closure."""
    n, c, h, w = x.shape
    y = np.zeros((n, c, oh, ow), dtype=x.dtype)
    arg = {}
    for b in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    r0, r1 = (i * h) // oh, -(-((i + 1) * h) // oh)
                    c0, c1 = (j * w) // ow, -(-((j + 1) * w) // ow)
                    best, where = -np.inf, (r0, c0)
                    for r in range(r0, r1):
                        for s in range(c0, c1):
                            v = x[b, ch, r, s]
                            if v > best or np.isnan(v):
                                best, where = v, (r, s)
                    y[b, ch, i, j], arg[b, ch, i, j] = best, where

    def backward(g):
        dx = np.zeros_like(x)
        for (b, ch, i, j), (r, s) in arg.items():
            dx[b, ch, r, s] += g[b, ch, i, j]
        return dx

    return y, backward


ADAPTIVE = [((2, 3, 5, 7), (2, 3)), ((1, 2, 7, 5), (3, 2)), ((1, 1, 6, 6), (4, 4)), ((1, 2, 5, 5), 3),
            ((1, 1, 4, 6), (2, 3)), ((1, 1, 4, 6), (None, 4)), ((1, 2, 5, 3), (5, None)), ((1, 1, 3, 4), (7, 9)),
            ((1, 1, 9, 9), 1), ((2, 1, 1, 5), (1, 2))]


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("shape,size", ADAPTIVE)
def test_adaptive_max_pool2d_matches_the_naive_reference(shape, size, ties):
    rng = np.random.default_rng(4)
    x = rng.integers(0, 3, shape).astype(np.float64) if ties else rng.standard_normal(shape)
    X = Tensor(x, requires_grad=True)
    y = F.adaptive_max_pool2d(X, size)
    oh, ow = y.shape[2:]
    ref, backward = naive_adaptive_max(x, oh, ow)
    np.testing.assert_array_equal(y.data, ref)
    g = rng.standard_normal(y.shape)
    y.backward(Tensor(g))
    np.testing.assert_allclose(X.grad.data, backward(g), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("shape,size", ADAPTIVE)
def test_adaptive_max_pool2d_matches_torch(torch, shape, size, ties, dtype):
    rng = np.random.default_rng(5)
    x = (rng.integers(0, 3, shape) if ties else rng.standard_normal(shape)).astype(dtype)
    _both(torch, lambda t: F.adaptive_max_pool2d(t, size), lambda t: torch.nn.functional.adaptive_max_pool2d(t, size),
          x, dtype, exact=True)


@pytest.mark.parametrize("size", [(2, 2), (3, 2)])
def test_adaptive_max_pool2d_routes_nan_and_inf_as_torch(torch, size):
    x = np.array([[[[1.0, np.nan, 2.0], [np.nan, 0.0, 1.0], [3.0, -np.inf, np.inf]]]])
    x = np.concatenate([x, np.full_like(x, -np.inf)], axis=1)
    _both(torch, lambda t: F.adaptive_max_pool2d(t, size), lambda t: torch.nn.functional.adaptive_max_pool2d(t, size),
          x, np.float64, exact=True)


@pytest.mark.parametrize("shape,size", [((1, 2, 5, 7), (2, 3)), ((1, 1, 4, 6), (2, 3)), ((1, 1, 3, 4), (5, 6))])
def test_adaptive_max_pool2d_gradcheck_and_gradgradcheck(shape, size):
    n = int(np.prod(shape))
    x = Tensor((np.random.default_rng(6).permutation(n).reshape(shape) - n / 2) / 4.0, requires_grad=True)
    fn = lambda t: F.adaptive_max_pool2d(t, size).square()  # noqa: E731
    assert tg.gradcheck(fn, (x,))
    assert tg.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("x,size,error,words", [
    (np.zeros((1, 5, 5)), 2, ValueError, ["adaptive_max_pool2d", "4-D", "(1, 5, 5)"]),
    (np.zeros((1, 1, 5, 5), np.int64), 2, TypeError, ["adaptive_max_pool2d", "floating", "int64"]),
    (np.zeros((1, 1, 5, 5)), 0, ValueError, ["adaptive_max_pool2d", "output_size", ">= 1"]),
    (np.zeros((1, 1, 5, 5)), (2,), TypeError, ["adaptive_max_pool2d", "output_size", "(1, 1, 5, 5)"]),
    (np.zeros((1, 1, 5, 5)), 2.0, TypeError, ["adaptive_max_pool2d", "output_size"]),
    (np.zeros((1, 1, 0, 5)), 2, ValueError, ["adaptive_max_pool2d", "(1, 1, 0, 5)"]),
])
def test_adaptive_max_pool2d_bad_arguments(x, size, error, words):
    with pytest.raises(error) as info:
        F.adaptive_max_pool2d(Tensor(x), size)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_adaptive_avg_pool2d_takes_none_entries(torch):
    x = _rand((1, 2, 5, 7))
    _both(torch, lambda t: F.adaptive_avg_pool2d(t, (None, 3)),
          lambda t: torch.nn.functional.adaptive_avg_pool2d(t, (None, 3)), x, np.float64)


# ================================================================ modules
@pytest.mark.parametrize("make", [
    lambda m: m.Upsample(scale_factor=2), lambda m: m.Upsample(size=(7, 3), mode="bilinear"),
    lambda m: m.Upsample(scale_factor=(1.5, 0.5), mode="bilinear", align_corners=True),
    lambda m: m.Upsample(size=5, mode="nearest"), lambda m: m.AdaptiveAvgPool2d((None, 3)),
    lambda m: m.AdaptiveAvgPool2d(2), lambda m: m.AdaptiveMaxPool2d((3, 2)), lambda m: m.AdaptiveMaxPool2d((None, 4)),
])
def test_modules_match_torch(torch, make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    x = _rand((2, 3, 4, 6))
    _both(torch, ours, theirs, x, np.float64)


@pytest.mark.parametrize("make,error,words", [
    (lambda: nn.Upsample(), ValueError, ["Upsample", "either size or scale_factor"]),
    (lambda: nn.Upsample(size=2, scale_factor=2), ValueError, ["Upsample", "only one"]),
    (lambda: nn.Upsample(size=2, align_corners=True), ValueError, ["Upsample", "align_corners"]),
    (lambda: nn.Upsample(size=2, mode="bicubic"), NotImplementedError, ["Upsample", "'bicubic'"]),
    (lambda: nn.Upsample(scale_factor=0), ValueError, ["Upsample", "> 0"]),
    (lambda: nn.Upsample(size=(2, 2, 2)), ValueError, ["Upsample", "2 sizes"]),
    (lambda: nn.AdaptiveAvgPool2d(0), ValueError, ["AdaptiveAvgPool2d", ">= 1"]),
    (lambda: nn.AdaptiveMaxPool2d((2, "a")), TypeError, ["AdaptiveMaxPool2d", "output_size"]),
    (lambda: nn.AdaptiveMaxPool2d(None), TypeError, ["AdaptiveMaxPool2d", "output_size"]),
])
def test_modules_check_their_arguments_when_made(make, error, words):
    with pytest.raises(error) as info:
        make()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_upsample_in_a_model_trains():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Upsample(scale_factor=2, mode="bilinear"),
                          nn.AdaptiveMaxPool2d(3), nn.Flatten(), nn.Linear(18, 2))
    x = Tensor(_rand((2, 1, 4, 4), np.float32))
    loss = F.cross_entropy(model(x), np.array([0, 1]))
    loss.backward()
    assert all(p.grad is not None and np.isfinite(p.grad.data).all() for p in model.parameters())
