"""conv1d / conv2d / conv_transpose2d: naive loop references written from the definitions, hypothesis sweeps
of the fast kernels against them, PyTorch as an oracle (float32 and float64, values and every gradient, a
small CNN's Hessian-vector product), and the errors for bad input."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor


# ---------------------------------------------------------------- naive references (loops, from the definitions)
def pad2(x: np.ndarray, pads: tuple[tuple[int, int], tuple[int, int]]) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0)) + tuple(pads))


def naive_conv2d(x, w, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    """y[n, o, p, q] = sum_{c, i, j} x_pad[n, g*C/G + c, p*s + i*d, q*s + j*d] * w[o, c, i, j]."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    xp = pad2(x, pads)
    ho = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    wo = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    og = o // groups
    y = np.zeros((n, o, ho, wo), dtype=np.float64)
    for b in range(n):
        for oc in range(o):
            g = oc // og
            for p in range(ho):
                for q in range(wo):
                    total = 0.0
                    for ci in range(cg):
                        for i in range(kh):
                            for j in range(kw):
                                total += xp[b, g * cg + ci, p * sh + i * dh, q * sw + j * dw] * w[oc, ci, i, j]
                    y[b, oc, p, q] = total
    return y


def naive_conv_transpose2d(gy, w, size, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    """Each gy entry scatters the kernel: z_pad[n, g*C/G + c, p*s + i*d, q*s + j*d] += gy[n, o, p, q] w[o, c, i, j]."""
    n, o, ho, wo = gy.shape
    _, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    og = o // groups
    zp = np.zeros((n, cg * groups, size[0] + sum(pads[0]), size[1] + sum(pads[1])))
    for b in range(n):
        for oc in range(o):
            g = oc // og
            for p in range(ho):
                for q in range(wo):
                    for ci in range(cg):
                        for i in range(kh):
                            for j in range(kw):
                                zp[b, g * cg + ci, p * sh + i * dh, q * sw + j * dw] += \
                                    gy[b, oc, p, q] * w[oc, ci, i, j]
    return zp[:, :, pads[0][0]:pads[0][0] + size[0], pads[1][0]:pads[1][0] + size[1]]


def naive_weight_grad(x, gy, ksize, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    """dw[o, c, i, j] = sum_{n, p, q} gy[n, o, p, q] * x_pad[n, g*C/G + c, p*s + i*d, q*s + j*d]."""
    n, o, ho, wo = gy.shape
    cg = x.shape[1] // groups
    (sh, sw), (dh, dw) = stride, dilation
    xp = pad2(x, pads)
    og = o // groups
    dwt = np.zeros((o, cg) + tuple(ksize))
    for oc in range(o):
        g = oc // og
        for ci in range(cg):
            for i in range(ksize[0]):
                for j in range(ksize[1]):
                    total = 0.0
                    for b in range(n):
                        for p in range(ho):
                            for q in range(wo):
                                total += gy[b, oc, p, q] * xp[b, g * cg + ci, p * sh + i * dh, q * sw + j * dw]
                    dwt[oc, ci, i, j] = total
    return dwt


# ---------------------------------------------------------------- generated configurations
@st.composite
def conv_configs(draw, same_allowed: bool = True):
    groups = draw(st.integers(1, 3))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    n = draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    if same_allowed and draw(st.booleans()) and draw(st.booleans()):
        stride, padding = (1, 1), "same"
        pads = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in ((kh, dh), (kw, dw)))
    else:
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
        pads = ((padding[0], padding[0]), (padding[1], padding[1]))
    sizes = []
    for k, d, p in ((kh, dh, pads[0]), (kw, dw, pads[1])):
        low = max(1, d * (k - 1) + 1 - sum(p))  # the kernel must fit in the padded input
        sizes.append(draw(st.integers(low, low + 5)))
    return dict(x=(n, groups * cg, *sizes), w=(groups * og, cg, kh, kw), stride=stride, padding=padding,
                pads=pads, dilation=(dh, dw), groups=groups)


def _arrays(cfg, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(cfg["x"]).astype(dtype), rng.standard_normal(cfg["w"]).astype(dtype)


@given(conv_configs(), st.integers(0, 2**16))
def test_conv2d_and_both_gradients_match_naive_loops(cfg, seed):
    x, w = _arrays(cfg, seed)
    X, W = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    y = F.conv2d(X, W, stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"], groups=cfg["groups"])
    geo = dict(stride=cfg["stride"], pads=cfg["pads"], dilation=cfg["dilation"], groups=cfg["groups"])
    np.testing.assert_allclose(y.data, naive_conv2d(x, w, **geo), rtol=1e-10, atol=1e-10)
    gy = np.random.default_rng(seed + 1).standard_normal(y.shape)
    y.backward(gy)
    np.testing.assert_allclose(X.grad.data, naive_conv_transpose2d(gy, w, x.shape[2:], **geo), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(W.grad.data, naive_weight_grad(x, gy, w.shape[2:], **geo), rtol=1e-10, atol=1e-10)


@given(conv_configs(same_allowed=False), st.integers(0, 2**16), st.integers(0, 2), st.integers(0, 2))
def test_conv_transpose2d_matches_naive_scatter(cfg, seed, oph, opw):
    rng = np.random.default_rng(seed)
    n, cin, h, w_ = cfg["x"]
    (sh, sw), (dh, dw), (ph, pw) = cfg["stride"], cfg["dilation"], cfg["padding"]
    op = (oph % max(sh, dh), opw % max(sw, dw))
    wt = rng.standard_normal((cin, cfg["w"][0] // cfg["groups"]) + cfg["w"][2:])
    size = tuple((m - 1) * s - 2 * p + d * (k - 1) + o + 1
                 for m, s, p, d, k, o in zip((h, w_), (sh, sw), (ph, pw), (dh, dw), cfg["w"][2:], op))
    x = rng.standard_normal(cfg["x"])
    if min(size) < 1:
        with pytest.raises(ValueError, match="conv_transpose2d"):
            F.conv_transpose2d(Tensor(x), Tensor(wt), None, cfg["stride"], cfg["padding"], op, cfg["dilation"],
                               cfg["groups"])
        return
    y = F.conv_transpose2d(Tensor(x), Tensor(wt), None, cfg["stride"], cfg["padding"], op, cfg["dilation"],
                           cfg["groups"])
    ref = naive_conv_transpose2d(x, wt, size, cfg["stride"], cfg["pads"], cfg["dilation"], cfg["groups"])
    np.testing.assert_allclose(y.data, ref, rtol=1e-10, atol=1e-10)


@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 9), st.integers(1, 3), st.integers(1, 4), st.integers(1, 3),
       st.integers(0, 2), st.integers(1, 2), st.integers(0, 2**16))
def test_conv1d_matches_naive_loops(n, groups, length, og, k, s, p, d, seed):
    rng = np.random.default_rng(seed)
    c = groups * 2
    length = max(length, d * (k - 1) + 1 - 2 * p)
    x, w = rng.standard_normal((n, c, length)), rng.standard_normal((groups * og, 2, k))
    y = F.conv1d(Tensor(x), Tensor(w), stride=s, padding=p, dilation=d, groups=groups)
    lo = (length + 2 * p - d * (k - 1) - 1) // s + 1
    ref = np.zeros((n, groups * og, lo))
    xp = np.pad(x, ((0, 0), (0, 0), (p, p)))
    for b in range(n):
        for o in range(groups * og):
            g = o // og
            for t in range(lo):
                ref[b, o, t] = sum(xp[b, g * 2 + ci, t * s + i * d] * w[o, ci, i] for ci in range(2) for i in range(k))
    np.testing.assert_allclose(y.data, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups", [
    ((1, 1, 1, 1), (1, 1, 1, 1), 1, 0, 1, 1),  # 1x1 input
    ((2, 3, 1, 1), (4, 3, 3, 3), 1, 1, 1, 1),  # 1x1 input, padded up to the kernel
    ((1, 2, 3, 4), (2, 2, 5, 6), 2, 1, 1, 1),  # kernel == padded input: a single output
    ((1, 2, 5, 5), (2, 1, 3, 3), 3, 2, 2, 2),  # dilated kernel == padded input
    ((2, 4, 7, 5), (4, 1, 3, 2), (2, 3), (0, 2), (2, 1), 4),  # depthwise, everything non-square
    ((2, 4, 3, 5), (6, 2, 1, 1), 1, 0, 2, 2),  # grouped 1x1: the matmul-over-channels path
    ((2, 4, 3, 5), (6, 4, 1, 1), 2, 1, 1, 1),  # 1x1 with stride and padding: the general path
])
def test_edge_shapes_match_naive(xs, ws, stride, padding, dilation, groups):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    X, W = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    y = F.conv2d(X, W, None, stride, padding, dilation, groups)
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    geo = dict(stride=pair(stride), pads=tuple((p, p) for p in pair(padding)), dilation=pair(dilation), groups=groups)
    np.testing.assert_allclose(y.data, naive_conv2d(x, w, **geo), rtol=1e-10, atol=1e-10)
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    np.testing.assert_allclose(X.grad.data, naive_conv_transpose2d(gy, w, xs[2:], **geo), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(W.grad.data, naive_weight_grad(x, gy, ws[2:], **geo), rtol=1e-10, atol=1e-10)


def test_empty_batch():
    y = F.conv2d(Tensor(np.zeros((0, 2, 5, 5), np.float32), requires_grad=True),
                 Tensor(np.ones((3, 2, 3, 3), np.float32), requires_grad=True), padding=1)
    assert y.shape == (0, 3, 5, 5) and y.dtype == np.float32


# ---------------------------------------------------------------- dtypes, aliasing, threads
def test_float32_stays_float32_and_methods_exist():
    x = tg.randn(2, 3, 6, 6, requires_grad=True)
    w = tg.randn(4, 3, 3, 3, seed=1, requires_grad=True)
    b = tg.zeros(4, requires_grad=True)
    y = x.conv2d(w, b, padding=1)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
    assert x.conv_transpose2d(tg.randn(3, 2, 2, 2), stride=2).shape == (2, 2, 12, 12)
    assert tg.randn(2, 3, 7).conv1d(tg.randn(5, 3, 3), padding="same").shape == (2, 5, 7)


def test_results_do_not_alias_the_scratch_buffers():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 8, 8)).astype(np.float32), rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    first = F.conv2d(Tensor(x), Tensor(w), padding=1).data
    kept = first.copy()
    F.conv2d(Tensor(-x), Tensor(w), padding=1)  # same shapes: reuses every scratch buffer
    F.conv_transpose2d(Tensor(first), Tensor(w), padding=1)
    np.testing.assert_array_equal(first, kept)


def test_threads_do_not_share_scratch_buffers():
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((8, 16, 24, 24)).astype(np.float32) for _ in range(2)]
    w = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    expected = [F.conv2d(Tensor(x), Tensor(w), padding=1).data for x in xs]
    failures = []

    def work(k):
        for _ in range(20):
            if not np.array_equal(F.conv2d(Tensor(xs[k]), Tensor(w), padding=1).data, expected[k]):
                failures.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


# ---------------------------------------------------------------- PyTorch as the oracle
def _matches_torch(y: Tensor, ty, gy: np.ndarray, leaves: tuple, torch_leaves: tuple) -> None:
    """y and ty agree, and so do the gradients of <y, gy> with respect to each pair of leaves."""
    y.backward(gy)
    ty.backward(ty.new_tensor(gy))
    dtype = y.dtype
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    for ours, theirs in zip((y,) + tuple(t.grad for t in leaves), (ty,) + tuple(t.grad for t in torch_leaves)):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **tol)


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note about its own padded copy
@given(conv_configs(), st.integers(0, 2**16), st.sampled_from([np.float32, np.float64]))
def test_conv2d_matches_torch_values_and_gradients(torch, cfg, seed, dtype):
    x, w = _arrays(cfg, seed, dtype)
    b = np.random.default_rng(seed + 2).standard_normal(cfg["w"][0]).astype(dtype)
    X, W, B = (Tensor(a, requires_grad=True) for a in (x, w, b))
    TX, TW, TB = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"], groups=cfg["groups"])
    y, ty = F.conv2d(X, W, B, **kw), torch.nn.functional.conv2d(TX, TW, TB, **kw)
    gy = np.random.default_rng(seed + 1).standard_normal(y.shape).astype(dtype)
    _matches_torch(y, ty, gy, (X, W, B), (TX, TW, TB))


@given(conv_configs(same_allowed=False), st.integers(0, 2**16), st.sampled_from([np.float32, np.float64]),
       st.integers(0, 2), st.integers(0, 2))
def test_conv_transpose2d_matches_torch(torch, cfg, seed, dtype, oph, opw):
    rng = np.random.default_rng(seed)
    (sh, sw), (dh, dw) = cfg["stride"], cfg["dilation"]
    op = (oph % max(sh, dh), opw % max(sw, dw))
    x = rng.standard_normal(cfg["x"]).astype(dtype)
    w = rng.standard_normal((cfg["x"][1], cfg["w"][0] // cfg["groups"]) + cfg["w"][2:]).astype(dtype)
    b = rng.standard_normal(cfg["w"][0]).astype(dtype)
    args = (cfg["stride"], cfg["padding"], op)
    size = [(m - 1) * s - 2 * p + d * (k - 1) + o + 1 for m, s, p, d, k, o in
            zip(cfg["x"][2:], cfg["stride"], cfg["padding"], cfg["dilation"], cfg["w"][2:], op)]
    if min(size) < 1:  # torch raises, or returns an empty tensor for size 0; we always raise
        with pytest.raises(ValueError, match="non-positive output size"):
            F.conv_transpose2d(Tensor(x), Tensor(w), Tensor(b), *args, cfg["dilation"], cfg["groups"])
        return
    X, W, B = (Tensor(a, requires_grad=True) for a in (x, w, b))
    TX, TW, TB = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv_transpose2d(X, W, B, *args, cfg["dilation"], cfg["groups"])
    ty = torch.nn.functional.conv_transpose2d(TX, TW, TB, *args, cfg["groups"], cfg["dilation"])
    _matches_torch(y, ty, rng.standard_normal(y.shape).astype(dtype), (X, W, B), (TX, TW, TB))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 1, 2), (1, "same", 2, 1),
                                                            (3, 2, 2, 4), (1, "valid", 1, 4)])
def test_conv1d_matches_torch(torch, dtype, stride, padding, dilation, groups):
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((3, 4, 11), (8, 4 // groups, 3), (8,)))
    X, W, B = (Tensor(a, requires_grad=True) for a in (x, w, b))
    TX, TW, TB = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv1d(X, W, B, stride, padding, dilation, groups)
    ty = torch.nn.functional.conv1d(TX, TW, TB, stride, padding, dilation, groups)
    _matches_torch(y, ty, rng.standard_normal(y.shape).astype(dtype), (X, W, B), (TX, TW, TB))


def test_small_cnn_hessian_vector_product_matches_torch(torch):
    """H v for all parameters of conv -> tanh -> max-pool -> grouped strided conv -> avg-pool -> linear -> loss."""
    rng = np.random.default_rng(0)
    shapes = [(4, 2, 3, 3), (4,), (6, 2, 3, 3), (6,), (3, 6)]
    params = [rng.standard_normal(s) * 0.5 for s in shapes]
    vs = [rng.standard_normal(s) for s in shapes]
    x, target = rng.standard_normal((2, 2, 9, 9)), rng.standard_normal((2, 3))

    def forward(fn, ps, xx):
        w1, b1, w2, b2, w3 = ps
        h = fn.conv2d(xx, w1, b1, padding=1).tanh()
        h = fn.max_pool2d(h, 2, stride=2, padding=1)  # 9 -> 5
        h = fn.conv2d(h, w2, b2, stride=2, groups=2, dilation=1, padding=1).tanh()  # 5 -> 3
        h = fn.avg_pool2d(h, 3, stride=1, padding=1)  # 3 -> 3
        h = h.reshape(2, 6, 9).sum(2)  # 2 x 6
        return ((h @ w3.T - tgt(fn)) ** 2).sum()

    def tgt(fn):
        return Tensor(target) if fn is F else torch.tensor(target)

    ours = [Tensor(p, requires_grad=True) for p in params]
    loss = forward(F, ours, Tensor(x))
    grads = tg.gradients(loss, ours, create_graph=True)
    dot = sum((g * Tensor(v)).sum() for g, v in zip(grads, vs))
    hv = tg.gradients(dot, ours)

    theirs = [torch.tensor(p, requires_grad=True) for p in params]
    tloss = forward(torch.nn.functional, theirs, torch.tensor(x))
    tgrads = torch.autograd.grad(tloss, theirs, create_graph=True)
    thv = torch.autograd.grad(sum((g * torch.tensor(v)).sum() for g, v in zip(tgrads, vs)), theirs)
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
    for a, b in zip(hv, thv):
        assert np.abs(b.numpy()).max() > 1e-3  # the product is not trivially zero
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-9, atol=1e-10)


def test_third_order_gradient_through_conv():
    """The conv ops are each other's VJPs, so any order works: d3/dw3 of sum(conv(x, w)^3) vs finite differences."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((1, 2, 4, 4)))
    w0 = rng.standard_normal((2, 2, 2, 2))
    v = rng.standard_normal(w0.shape)

    def second_directional(wv):
        W = Tensor(wv, requires_grad=True)
        (g,) = tg.gradients((F.conv2d(x, W, stride=2) ** 3).sum(), W, create_graph=True)
        (h,) = tg.gradients((g * Tensor(v)).sum(), W, create_graph=True)
        return W, (h * Tensor(v)).sum()

    W, s2 = second_directional(w0)
    (third,) = tg.gradients(s2, W)
    eps = 1e-5
    fd = (second_directional(w0 + eps * v)[1].item() - second_directional(w0 - eps * v)[1].item()) / (2 * eps)
    assert abs(fd) > 1e-3
    np.testing.assert_allclose((third.data * v).sum(), fd, rtol=1e-6)


# ---------------------------------------------------------------- bad input
def _raises(exc, fn, *needles):
    with pytest.raises(exc) as info:
        fn()
    for needle in needles:
        assert needle in str(info.value), f"{needle!r} not in {str(info.value)!r}"
    return str(info.value)


def test_conv2d_bad_input_messages_name_the_op_and_shapes():
    x, w = tg.zeros(2, 4, 6, 6), tg.zeros(8, 4, 3, 3)
    _raises(ValueError, lambda: F.conv2d(x, tg.zeros(8, 3, 3, 3)), "conv2d", "channel mismatch", "(2, 4, 6, 6)",
            "(8, 3, 3, 3)")
    _raises(ValueError, lambda: F.conv2d(x, tg.zeros(8, 2, 3, 3), groups=3), "conv2d", "groups=3", "(2, 4, 6, 6)")
    _raises(ValueError, lambda: F.conv2d(x, tg.zeros(6, 2, 3, 3), groups=4), "conv2d", "groups=4", "C_out=6")
    _raises(ValueError, lambda: F.conv2d(x, tg.zeros(8, 4, 9, 3), padding=1), "conv2d", "kernel larger than the padded",
            "(8, 4, 9, 3)", "6 + padding 1+1 = 8")
    _raises(ValueError, lambda: F.conv2d(x, w, dilation=4), "conv2d", "spans 9")
    _raises(ValueError, lambda: F.conv2d(tg.zeros(4, 6, 6), w), "conv2d", "4-D", "(4, 6, 6)")
    _raises(ValueError, lambda: F.conv2d(x, tg.zeros(8, 4, 3)), "conv2d", "weight must be 4-D", "(8, 4, 3)")
    _raises(ValueError, lambda: F.conv2d(x, w, stride=0), "conv2d", "stride", ">= 1")
    _raises(ValueError, lambda: F.conv2d(x, w, stride=(1, 0)), "conv2d", "stride")
    _raises(ValueError, lambda: F.conv2d(x, w, padding=-1), "conv2d", "padding", ">= 0")
    _raises(ValueError, lambda: F.conv2d(x, w, dilation=0), "conv2d", "dilation")
    _raises(ValueError, lambda: F.conv2d(x, w, padding="same", stride=2), "conv2d", "'same'", "strided")
    _raises(ValueError, lambda: F.conv2d(x, w, padding="full"), "conv2d", "'full'")
    _raises(ValueError, lambda: F.conv2d(x, w, groups=0), "conv2d", "groups")
    _raises(TypeError, lambda: F.conv2d(x, w, stride=1.5), "conv2d", "stride")
    _raises(TypeError, lambda: F.conv2d(x, w, padding=(1, 1, 1)), "conv2d", "padding")
    _raises(TypeError, lambda: F.conv2d(x, w.astype(np.float64)), "conv2d", "float32", "float64")
    _raises(TypeError, lambda: F.conv2d(x, np.zeros((8, 4, 3, 3))), "conv2d", "Tensor")
    _raises(ValueError, lambda: F.conv2d(x, w, tg.zeros(4)), "conv2d", "bias", "(8,)", "(4,)")


def test_conv1d_and_transpose_bad_input():
    _raises(ValueError, lambda: F.conv1d(tg.zeros(2, 3, 5), tg.zeros(4, 2, 3)), "conv1d", "channel mismatch",
            "(2, 3, 5)", "(4, 2, 3)")
    _raises(ValueError, lambda: F.conv1d(tg.zeros(2, 3, 5, 5), tg.zeros(4, 3, 3)), "conv1d", "3-D", "(2, 3, 5, 5)")
    _raises(ValueError, lambda: F.conv1d(tg.zeros(2, 3, 2), tg.zeros(4, 3, 5)), "conv1d", "along L", "(2, 3, 2)")
    _raises(ValueError, lambda: F.conv1d(tg.zeros(2, 3, 5), tg.zeros(4, 3, 3), stride=0), "conv1d", "stride")
    x = tg.zeros(2, 4, 5, 5)
    _raises(ValueError, lambda: F.conv_transpose2d(x, tg.zeros(3, 2, 3, 3)), "conv_transpose2d", "channel mismatch",
            "(2, 4, 5, 5)", "(3, 2, 3, 3)")
    _raises(ValueError, lambda: F.conv_transpose2d(x, tg.zeros(4, 2, 3, 3), groups=3), "conv_transpose2d", "groups=3")
    _raises(ValueError, lambda: F.conv_transpose2d(x, tg.zeros(4, 2, 3, 3), stride=2, output_padding=2),
            "conv_transpose2d", "output_padding")
    _raises(ValueError, lambda: F.conv_transpose2d(x, tg.zeros(4, 2, 3, 3), padding=-1), "conv_transpose2d", "padding")
    _raises(ValueError, lambda: F.conv_transpose2d(x, tg.zeros(4, 2, 1, 1), padding=3), "conv_transpose2d",
            "non-positive output size")
    _raises(ValueError, lambda: F.conv_transpose2d(tg.zeros(4, 5, 5), tg.zeros(4, 2, 3, 3)), "conv_transpose2d",
            "(4, 5, 5)")


def test_registered_ops_check_their_inputs():
    from tinygrad_cnn.core.registry import REGISTRY

    attrs = dict(stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1)
    x, w = Tensor(np.zeros((1, 2, 4, 4))), Tensor(np.zeros((3, 2, 3, 3)))
    _raises(ValueError, lambda: REGISTRY["conv2d"](x, w, **{**attrs, "stride": (0, 1)}), "conv2d", "stride")
    _raises(ValueError, lambda: REGISTRY["conv_transpose2d"](Tensor(np.zeros((1, 3, 3, 3))), w, **attrs,
                                                             input_size=(4, 4)), "conv_transpose2d", "(1, 3, 3, 3)",
            "gives (2, 2)")
    _raises(ValueError, lambda: REGISTRY["conv2d_weight_grad"](x, Tensor(np.zeros((1, 3, 3, 3))), **attrs,
                                                               kernel_size=(3, 3)),
            "conv2d_weight_grad", "(1, 3, 3, 3)")
    _raises(TypeError, lambda: REGISTRY["conv2d"](x, Tensor(np.zeros((3, 2, 3, 3), np.float32)), **attrs), "conv2d",
            "float64", "float32")
