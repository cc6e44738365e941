"""max/avg pooling (1-D and 2-D), global and adaptive average pooling: naive loop references, hypothesis sweeps,
PyTorch as the oracle (values, gradients, tie and NaN routing), double backward, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor


# ---------------------------------------------------------------- naive references
def naive_pool(x, kernel, stride, padding, kind):
    """Loops over every window: the max with the first maximum in row-major scan order (and the gradient routed
    there), or the mean with zero padding counted. Returns (y, dx for an all-ones incoming gradient per window
    weighted by ``gy``) through a closure."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    y = np.zeros((n, c, ho, wo))
    route = {}  # (b, ch, p, q) -> list of (input position, weight)
    for b in range(n):
        for ch in range(c):
            for p in range(ho):
                for q in range(wo):
                    best, where, total = -np.inf, None, 0.0
                    for i in range(kh):
                        for j in range(kw):
                            r, s = p * sh + i - ph, q * sw + j - pw
                            inside = 0 <= r < h and 0 <= s < w
                            v = x[b, ch, r, s] if inside else (-np.inf if kind == "max" else 0.0)
                            total += v
                            if inside and (where is None or v > best):
                                best, where = v, (r, s)
                    if kind == "max":
                        y[b, ch, p, q] = best
                        route[b, ch, p, q] = [(where, 1.0)]
                    else:
                        y[b, ch, p, q] = total / (kh * kw)
                        route[b, ch, p, q] = [((p * sh + i - ph, q * sw + j - pw), 1.0 / (kh * kw))
                                              for i in range(kh) for j in range(kw)]

    def backward(gy):
        dx = np.zeros_like(x)
        for (b, ch, p, q), targets in route.items():
            for (r, s), wgt in targets:
                if 0 <= r < h and 0 <= s < w:
                    dx[b, ch, r, s] += gy[b, ch, p, q] * wgt
        return dx

    return y, backward


@st.composite
def pool_configs(draw):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = tuple(draw(st.integers(max(1, k - 2 * p), k - 2 * p + 6)) for k, p in zip(kernel, padding))
    return dict(shape=(draw(st.integers(1, 2)), draw(st.integers(1, 3))) + size, kernel=kernel, stride=stride,
                padding=padding)


def _values(shape, seed, ties):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    return np.round(x * 2) / 2 if ties else x  # rounding makes plenty of tied maxima


@given(pool_configs(), st.integers(0, 2**16), st.booleans(), st.sampled_from(["max", "avg"]))
def test_pool2d_matches_naive_loops(cfg, seed, ties, kind):
    x = _values(cfg["shape"], seed, ties)
    X = Tensor(x, requires_grad=True)
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    y = fn(X, cfg["kernel"], cfg["stride"], cfg["padding"])
    ref, backward = naive_pool(x, cfg["kernel"], cfg["stride"], cfg["padding"], kind)
    np.testing.assert_allclose(y.data, ref, rtol=1e-12, atol=1e-12)
    gy = np.random.default_rng(seed + 1).standard_normal(y.shape)
    y.backward(gy)
    np.testing.assert_allclose(X.grad.data, backward(gy), rtol=1e-12, atol=1e-12)


@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 12), st.integers(1, 4), st.integers(1, 3),
       st.integers(0, 2), st.integers(0, 2**16), st.sampled_from(["max", "avg"]))
def test_pool1d_matches_naive_loops(n, c, length, k, s, p, seed, kind):
    p = min(p, k // 2)
    length = max(length, k - 2 * p)
    x = _values((n, c, length), seed, ties=True)
    X = Tensor(x, requires_grad=True)
    y = (F.max_pool1d if kind == "max" else F.avg_pool1d)(X, k, s, p)
    ref, backward = naive_pool(x[:, :, None, :], (1, k), (1, s), (0, p), kind)
    np.testing.assert_allclose(y.data, ref[:, :, 0], rtol=1e-12, atol=1e-12)
    gy = np.random.default_rng(seed).standard_normal(y.shape)
    y.backward(gy)
    np.testing.assert_allclose(X.grad.data, backward(gy[:, :, None, :])[:, :, 0], rtol=1e-12, atol=1e-12)


def test_stride_defaults_to_kernel_and_float32_is_kept():
    x = tg.randn(2, 3, 8, 6, requires_grad=True)
    y = x.max_pool2d((2, 3))
    assert y.shape == (2, 3, 4, 2) and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.data.sum() == 2 * 3 * 4 * 2
    assert x.avg_pool2d(2).shape == (2, 3, 4, 3) and x.avg_pool2d(2).dtype == np.float32
    assert tg.randn(2, 3, 9).max_pool1d(3).shape == (2, 3, 3)
    assert tg.randn(2, 3, 9).avg_pool1d(2, 1).shape == (2, 3, 8)


def test_tie_routing_is_the_first_maximum_in_scan_order():
    x = Tensor(np.array([[[[1.0, 3.0, 3.0], [3.0, 0.0, 3.0], [2.0, 3.0, 1.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2, stride=1).backward(np.ones((1, 1, 2, 2)))
    # windows: top-left -> (0,1); top-right -> (0,1); bottom-left -> (1,0); bottom-right -> (1,2)
    np.testing.assert_array_equal(x.grad.data[0, 0], [[0, 2, 0], [1, 0, 1], [0, 0, 0]])


# ---------------------------------------------------------------- PyTorch as the oracle
@given(pool_configs(), st.integers(0, 2**16), st.booleans(), st.sampled_from([np.float32, np.float64]))
def test_pool2d_matches_torch(torch, cfg, seed, ties, dtype):
    x = _values(cfg["shape"], seed, ties).astype(dtype)
    for ours_fn, torch_fn in ((F.max_pool2d, torch.nn.functional.max_pool2d),
                              (F.avg_pool2d, torch.nn.functional.avg_pool2d)):
        X, TX = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y = ours_fn(X, cfg["kernel"], cfg["stride"], cfg["padding"])
        ty = torch_fn(TX, cfg["kernel"], cfg["stride"], cfg["padding"])
        gy = np.random.default_rng(seed).standard_normal(y.shape).astype(dtype)
        y.backward(gy)
        ty.backward(torch.tensor(gy))
        tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), **tol)
        np.testing.assert_allclose(X.grad.data, TX.grad.numpy(), **tol)
        assert y.dtype == X.grad.dtype == dtype


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 1, 1), (2, 1, 1), (3, 2, 1), (4, 3, 2)])
def test_nan_and_infinite_windows_route_as_torch(torch, k, s, p):
    x = np.array([[[[1.0, np.nan, 2.0, np.nan, 0.5], [np.nan, 0, 3, 4, -1], [-np.inf, -np.inf, 5, 5, 2],
                    [-np.inf, -np.inf, 5, 1, 0], [-np.inf, -np.inf, -np.inf, 7, 7]]]])
    X, TX = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = F.max_pool2d(X, k, s, p), torch.nn.functional.max_pool2d(TX, k, s, p)
    gy = np.arange(1.0, y.size + 1).reshape(y.shape)
    y.backward(gy)
    ty.backward(torch.tensor(gy))
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    np.testing.assert_array_equal(X.grad.data, TX.grad.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k,s,p", [(3, None, 0), (2, 1, 1), (4, 3, 2), (1, 2, 0)])
def test_pool1d_matches_torch(torch, dtype, k, s, p):
    x = _values((2, 3, 13), 0, ties=True).astype(dtype)
    for ours_fn, torch_fn in ((F.max_pool1d, torch.nn.functional.max_pool1d),
                              (F.avg_pool1d, torch.nn.functional.avg_pool1d)):
        X, TX = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = ours_fn(X, k, s, p), torch_fn(TX, k, s, p)
        gy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
        y.backward(gy)
        ty.backward(torch.tensor(gy))
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(X.grad.data, TX.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (3, 4), (7, 9), (5, 2), (10, 12), 4])
def test_adaptive_and_global_average_pooling_match_torch(torch, size):
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 9))
    X, TX = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = F.adaptive_avg_pool2d(X, size), torch.nn.functional.adaptive_avg_pool2d(TX, size)
    gy = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(gy)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(X.grad.data, TX.grad.numpy(), rtol=1e-12, atol=1e-12)
    g = F.global_avg_pool2d(Tensor(x), keepdims=True)
    np.testing.assert_allclose(g.data, torch.nn.functional.adaptive_avg_pool2d(torch.tensor(x), 1).numpy(), rtol=1e-12)
    assert F.global_avg_pool2d(Tensor(x)).shape == (2, 3)


def test_pooling_is_twice_differentiable():
    x = Tensor(np.random.default_rng(0).permutation(50).reshape(1, 2, 5, 5) / 7.0, requires_grad=True)

    def fn(t):
        return (F.max_pool2d(t, 3, 2, 1) ** 2).sum() + (F.avg_pool2d(t, 2, 1, 1) ** 3).sum()

    assert tg.gradgradcheck(fn, (x,))
    (g,) = tg.gradients(fn(x), x, create_graph=True)
    (h,) = tg.gradients((g * g).sum(), x)
    assert np.abs(h.data).max() > 0


# ---------------------------------------------------------------- bad input
def _raises(exc, fn, *needles):
    with pytest.raises(exc) as info:
        fn()
    for needle in needles:
        assert needle in str(info.value), f"{needle!r} not in {str(info.value)!r}"


def test_pool_bad_input_messages():
    x = tg.zeros(2, 3, 5, 5)
    _raises(ValueError, lambda: F.max_pool2d(tg.zeros(3, 5, 5), 2), "max_pool2d", "4-D", "(3, 5, 5)")
    _raises(ValueError, lambda: F.avg_pool2d(x, 7), "avg_pool2d", "larger than the padded input", "(2, 3, 5, 5)")
    _raises(ValueError, lambda: F.max_pool2d(x, 2, padding=2), "max_pool2d", "at most half", "(2, 3, 5, 5)")
    _raises(ValueError, lambda: F.max_pool2d(x, 2, stride=0), "max_pool2d", "stride", ">= 1")
    _raises(ValueError, lambda: F.max_pool2d(x, 0), "max_pool2d", "kernel_size")
    _raises(ValueError, lambda: F.avg_pool2d(x, 2, padding=-1), "avg_pool2d", "padding", ">= 0")
    _raises(TypeError, lambda: F.max_pool2d(x, 2.0), "max_pool2d", "kernel_size")
    _raises(TypeError, lambda: F.max_pool2d(Tensor(np.zeros((1, 1, 4, 4), np.int64)), 2), "max_pool2d", "int64")
    _raises(ValueError, lambda: F.max_pool1d(x, 2), "max_pool1d", "3-D", "(2, 3, 5, 5)")
    _raises(ValueError, lambda: F.avg_pool1d(tg.zeros(2, 3, 2), 3), "avg_pool1d", "larger", "(2, 3, 2)")
    _raises(ValueError, lambda: F.global_avg_pool2d(tg.zeros(2, 3)), "global_avg_pool2d", "(2, 3)")
    _raises(ValueError, lambda: F.adaptive_avg_pool2d(x, 0), "adaptive_avg_pool2d", "output_size")


def test_registered_pool_ops_check_offsets_and_shapes():
    from tinygrad_cnn.core.registry import REGISTRY

    a = dict(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
    g = Tensor(np.ones((1, 1, 2, 2)))
    _raises(ValueError, lambda: REGISTRY["max_pool2d_scatter"](g, Tensor(np.full((1, 1, 2, 2), 4)), **a,
                                                               input_size=(4, 4)), "max_pool2d_scatter", "[0, 4)")
    _raises(TypeError, lambda: REGISTRY["max_pool2d_scatter"](g, Tensor(np.zeros((1, 1, 2, 2))), **a,
                                                              input_size=(4, 4)), "max_pool2d_scatter", "integers")
    _raises(ValueError, lambda: REGISTRY["max_pool2d_scatter"](g, Tensor(np.zeros((1, 1, 2, 2), np.uint8)), **a,
                                                               input_size=(6, 6)), "max_pool2d_scatter", "(1, 1, 2, 2)")
    _raises(ValueError, lambda: REGISTRY["max_pool2d_gather"](Tensor(np.ones((1, 1, 4, 4))),
                                                              Tensor(np.zeros((1, 1, 3, 3), np.uint8)), **a),
            "max_pool2d_gather", "(1, 1, 3, 3)")
    _raises(ValueError, lambda: REGISTRY["avg_pool2d_spread"](g, **a, input_size=(5, 7)), "avg_pool2d_spread",
            "(1, 1, 2, 2)")


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 1, 1), (3, 2, 1)])
def test_infinite_gradients_stay_at_their_window_maximum(torch, k, s, p):
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 6))
    X, TX = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = F.max_pool2d(X, k, s, p), torch.nn.functional.max_pool2d(TX, k, s, p)
    gy = np.ones(y.shape)
    gy[0, 0, 0, 0], gy[0, 1, -1, -1] = np.inf, np.nan
    y.backward(gy)
    ty.backward(torch.tensor(gy))
    np.testing.assert_array_equal(X.grad.data, TX.grad.numpy())
    assert (~np.isfinite(X.grad.data)).sum() == 2  # one inf, one nan; everything else finite
