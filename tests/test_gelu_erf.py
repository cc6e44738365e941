"""The ``erf`` primitive (fdlibm's algorithm in numpy), ``F.gelu`` / ``nn.GELU`` in both forms, and ``clamp``'s
gradient at its bounds, with ``math.erf`` and PyTorch as the oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor


# ---------------------------------------------------------------- erf: accuracy against math.erf
def _ulps(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|ours - ref| in units of ref's last place (the spacing at the smallest normal for ref = 0)."""
    spacing = np.spacing(np.maximum(np.abs(ref), np.finfo(ref.dtype).tiny))
    return np.abs(ours.astype(ref.dtype) - ref) / spacing


def _grid() -> np.ndarray:
    edges = np.array([0.84375, 1.25, 1 / 0.35, 6.0, 2.0 ** -28, 2.848094538889218e-306])
    edges = np.concatenate([edges, np.nextafter(edges, 0), np.nextafter(edges, np.inf)])
    x = np.concatenate([np.linspace(0, 7, 70001), np.geomspace(5e-324, 1, 3001), edges, [27.9, 28, 1e10, 1e300]])
    return np.concatenate([x, -x])


def test_erf_is_within_one_ulp_of_math_erf_in_float64():
    x = _grid()
    ours = F.erf(Tensor(x)).data
    ref = np.array([math.erf(v) for v in x])
    assert ours.dtype == np.float64
    err = _ulps(ours, ref)
    assert err.max() <= 1.0, (err.max(), x[err.argmax()])
    assert np.mean(ours == ref) > 0.95  # nearly always the correctly rounded value


def test_erf_in_float32_is_the_float64_value_rounded():
    x = np.linspace(-7, 7, 20001).astype(np.float32)
    ours = F.erf(Tensor(x)).data
    ref = np.array([math.erf(float(v)) for v in x]).astype(np.float32)
    assert ours.dtype == np.float32
    assert _ulps(ours, ref).max() <= 1.0


def test_erf_special_values_and_dtypes():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no unused branch overflows (underflow is fine)
        y = F.erf(Tensor(np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e308, -1e308, 5e-324]))).data
    assert y[0] == 1.0 and y[1] == -1.0 and np.isnan(y[2])
    assert y[3] == 0.0 and not np.signbit(y[3]) and y[4] == 0.0 and np.signbit(y[4])  # odd: erf(-0) = -0
    assert y[5] == 1.0 and y[6] == -1.0 and y[7] > 0
    assert F.erf(Tensor(np.array([0, 1, 2]))).dtype == np.float32
    assert F.erf(Tensor(np.array([True, False]))).dtype == np.float32
    assert F.erf(Tensor(np.float64(0.5))).shape == ()
    np.testing.assert_allclose(Tensor([0.5]).erf().data, [math.erf(0.5)], rtol=1e-7)  # the method


def test_erf_gradient_and_gradgradcheck():
    x = np.linspace(-3, 3, 13)
    t = Tensor(x, requires_grad=True)
    F.erf(t).sum().backward()
    np.testing.assert_allclose(t.grad.data, 2 / np.sqrt(np.pi) * np.exp(-x * x), rtol=1e-14)
    t32 = Tensor(x.astype(np.float32), requires_grad=True)
    F.erf(t32).sum().backward()
    assert t32.grad.dtype == np.float32
    leaf = Tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    assert tg.gradcheck(F.erf, (leaf,)) and tg.gradgradcheck(F.erf, (leaf,))


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erf_matches_torch(torch, dtype):
    x = np.concatenate([np.linspace(-7, 7, 1401), [np.inf, -np.inf, np.nan, 1e-30, -1e-30]]).astype(dtype)
    t, tt = Tensor(x, requires_grad=True), torch.from_numpy(x.copy()).requires_grad_()
    y, yt = F.erf(t), torch.erf(tt)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=0, atol=2 * np.finfo(dtype).eps)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    y.backward(g)
    yt.backward(torch.from_numpy(g))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t.grad.data, tt.grad.numpy(), **tol)


# ---------------------------------------------------------------- gelu
@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch_values_and_gradients(torch, dtype, approximate):
    x = np.concatenate([np.linspace(-10, 10, 401), [0.0, 1e-8, -1e-8, 30.0, -30.0]]).astype(dtype)
    t, tt = Tensor(x, requires_grad=True), torch.from_numpy(x.copy()).requires_grad_()
    y, yt = F.gelu(t, approximate=approximate), torch.nn.functional.gelu(tt, approximate=approximate)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.data, yt.detach().numpy(), **tol)
    if dtype == np.float32 and approximate == "tanh":
        # numpy's float32 tanh is 1 ulp short of -1 at some points where torch's rounds to -1 (x = -5.35:
        # -0.99999994 against -0.99999999295 exactly), and 1 - tanh^2 there is 1.2e-7 rather than 0; times
        # x * sqrt(2/pi) * (1 + 0.134 x^2) / 2 ~ 10 that is a 1e-6 difference in the gradient
        tol = dict(rtol=1e-5, atol=5e-6)
    g = np.random.default_rng(2).standard_normal(x.shape).astype(dtype)
    y.backward(g)
    yt.backward(torch.from_numpy(g))
    assert t.grad.dtype == dtype
    np.testing.assert_allclose(t.grad.data, tt.grad.numpy(), **tol)


@pytest.mark.oracle
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_second_derivative_matches_torch(torch, approximate):
    x = np.linspace(-4, 4, 41)
    t, tt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (dx,) = tg.gradients(F.gelu(t, approximate).sum(), [t], create_graph=True)
    (dxt,) = torch.autograd.grad(torch.nn.functional.gelu(tt, approximate=approximate).sum(), tt, create_graph=True)
    dx.sum().backward()
    dxt.sum().backward()
    np.testing.assert_allclose(t.grad.data, tt.grad.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradcheck_and_gradgradcheck(approximate):
    leaf = Tensor(np.random.default_rng(3).standard_normal((3, 5)) * 2, requires_grad=True)
    fn = lambda t: F.gelu(t, approximate=approximate)  # noqa: E731
    assert tg.gradcheck(fn, (leaf,)) and tg.gradgradcheck(fn, (leaf,))


def test_gelu_formulas_and_dtypes():
    x = np.linspace(-5, 5, 101)
    phi = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(F.gelu(Tensor(x)).data, x * phi, rtol=1e-14, atol=1e-300)
    c = math.sqrt(2 / math.pi)
    np.testing.assert_allclose(F.gelu(Tensor(x), "tanh").data, 0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x ** 3))),
                               rtol=1e-14, atol=1e-300)
    assert F.gelu(Tensor(np.array([-1, 0, 2]))).dtype == np.float32
    assert F.gelu(Tensor(np.zeros(3, np.float32)), "tanh").dtype == np.float32


@pytest.mark.parametrize("bad", ["exact", "Tanh", "", None, 1, True])
def test_gelu_bad_approximate(bad):
    with pytest.raises(ValueError, match=r"gelu: approximate must be one of 'none', 'tanh', got "):
        F.gelu(Tensor([1.0]), approximate=bad)
    with pytest.raises(ValueError, match=r"gelu: approximate must be one of"):
        tg.nn.GELU(approximate=bad)  # checked when the module is made


def test_gelu_is_no_tensor_method_as_in_torch():
    assert not hasattr(Tensor, "gelu")


@pytest.mark.oracle
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_module_matches_torch(torch, approximate):
    x = np.linspace(-8, 8, 33).astype(np.float32)
    ours, theirs = tg.nn.GELU(approximate=approximate), torch.nn.GELU(approximate=approximate)
    np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == []
    assert repr(tg.nn.GELU()) == "GELU(approximate='none')"


# ---------------------------------------------------------------- clamp / clip at the bounds
BOUNDS = [(-1.0, 1.0), (None, 1.0), (-1.0, None), (0.0, 0.0), (1.0, -1.0), (float("nan"), None), (None, float("nan"))]


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["clamp", "clip"])
@pytest.mark.parametrize("lo,hi", BOUNDS, ids=[f"{a}-{b}" for a, b in BOUNDS])
def test_clamp_gradient_at_the_bounds_matches_torch(torch, name, lo, hi):
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, np.nan, np.inf, -np.inf])  # the bounds themselves, NaN, infinities
    t, tt = Tensor(x, requires_grad=True), torch.from_numpy(x.copy()).requires_grad_()
    y, yt = getattr(t, name)(lo, hi), getattr(torch, name)(tt, lo, hi)
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    y.backward(np.ones_like(x))
    yt.backward(torch.ones_like(tt))
    np.testing.assert_array_equal(t.grad.data, tt.grad.numpy())  # 1 at x == min and x == max, 0 at NaN


@pytest.mark.oracle
def test_clamp_tensor_bounds_at_ties_and_nans_match_torch(torch):
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, np.nan, 0.5, 0.5])
    lo = np.array([-1.0, -1.0, 0.0, 2.0, 3.0, 0.0, np.nan, 0.0])
    hi = np.array([1.0, 1.0, 0.0, 1.0, 2.0, 1.0, 1.0, np.nan])
    for use_lo, use_hi in [(True, False), (False, True), (True, True)]:
        ours = [Tensor(a, requires_grad=True) for a in (x, lo, hi)]
        theirs = [torch.from_numpy(a.copy()).requires_grad_() for a in (x, lo, hi)]
        y = F.clamp(ours[0], ours[1] if use_lo else None, ours[2] if use_hi else None)
        yt = torch.clamp(theirs[0], theirs[1] if use_lo else None, theirs[2] if use_hi else None)
        np.testing.assert_array_equal(y.data, yt.detach().numpy())
        y.backward(np.ones_like(x))
        yt.backward(torch.ones_like(theirs[0]))
        for a, b in zip(ours, theirs):
            if b.grad is None:
                assert a.grad is None
            else:
                np.testing.assert_array_equal(a.grad.data, b.grad.numpy())


def test_clamp_gradient_at_the_bounds_without_torch():
    x = Tensor([-1.0, 0.0, 1.0], requires_grad=True)
    x.clamp(-1.0, 1.0).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]  # clamp passes the gradient at both bounds
    x.grad = None
    F.hardtanh(x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]  # hardtanh does not
    for lo, hi, want in [(None, 0.0, [1.0, 1.0, 0.0]), (0.0, None, [0.0, 1.0, 1.0])]:  # one bound: 1 at it
        x.grad = None
        x.clip(lo, hi).sum().backward()
        assert x.grad.tolist() == want
    leaf = Tensor(np.array([-1.5, -0.5, 0.2, 0.7, 1.4]), requires_grad=True)
    fn = lambda t: t.clamp(-1.0, 1.0) ** 3  # noqa: E731
    assert tg.gradcheck(fn, (leaf,)) and tg.gradgradcheck(fn, (leaf,))
