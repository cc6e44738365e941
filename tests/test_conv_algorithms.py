"""Every algorithm in the convolution table, and the planner that chooses among them.

Each algorithm is called through the table (its public signature) against the naive loops of
test_conv.py over the hypothesis sweep, on inputs large enough to be cut into uneven chunks, with inf in
the operands, through gradcheck/gradgradcheck under ``conv_algorithm(name)``, and against torch. The
planner: what it records, that it reuses a plan, the modes and their errors, per-thread pins, the
environment variable, and that BLAS's thread count is back after a threaded algorithm."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_conv import conv_configs, naive_conv2d, naive_conv_transpose2d, naive_weight_grad

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.ops import planner
from tinygrad_cnn.ops.common import out_size
from tinygrad_cnn.ops.conv_algorithms import ALGORITHMS

PRIMITIVES = tuple(ALGORITHMS)
EVERY = [(p, n) for p in PRIMITIVES for n in ALGORITHMS[p]]


def _geometry(cfg: dict) -> tuple[tuple[int, int], dict]:
    out = tuple(out_size(*a) for a in zip(cfg["x"][2:], cfg["w"][2:], cfg["stride"], cfg["pads"], cfg["dilation"]))
    return out, dict(stride=cfg["stride"], padding=cfg["pads"], dilation=cfg["dilation"], groups=cfg["groups"])


def _operands(primitive: str, cfg: dict, seed: int, dtype=np.float64) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(a, b, reference result, attributes) of ``primitive`` on a conv_configs() draw, the reference from naive loops."""
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(cfg["x"]).astype(dtype), rng.standard_normal(cfg["w"]).astype(dtype)
    out, geo = _geometry(cfg)
    g = rng.standard_normal((cfg["x"][0], cfg["w"][0]) + out).astype(dtype)
    naive = dict(stride=cfg["stride"], pads=cfg["pads"], dilation=cfg["dilation"], groups=cfg["groups"])
    if primitive == "conv2d":
        return x, w, naive_conv2d(x, w, **naive), geo
    if primitive == "conv_transpose2d":
        return g, w, naive_conv_transpose2d(g, w, cfg["x"][2:], **naive), {**geo, "input_size": cfg["x"][2:]}
    return x, g, naive_weight_grad(x, g, cfg["w"][2:], **naive), {**geo, "kernel_size": cfg["w"][2:]}


def _run(primitive: str, name: str, a: np.ndarray, b: np.ndarray, shape: tuple, attrs: dict) -> np.ndarray | None:
    """``name``'s result (written into a buffer full of nan, so a missed entry shows), or None where it does not apply."""
    kernel = b.shape[2:] if primitive != "conv2d_weight_grad" else attrs["kernel_size"]
    if name not in planner.candidates(primitive, kernel, a.shape[0], attrs):
        return None
    out = np.full(shape, np.nan, dtype=a.dtype)
    ALGORITHMS[primitive][name].run(a, b, out, **attrs)
    return out


@pytest.mark.parametrize("primitive", PRIMITIVES)
@given(cfg=conv_configs(), seed=st.integers(0, 2**16))
def test_every_algorithm_matches_naive_loops(primitive, cfg, seed):
    a, b, ref, attrs = _operands(primitive, cfg, seed)
    ran = []
    for name in ALGORITHMS[primitive]:
        got = _run(primitive, name, a, b, ref.shape, attrs)
        if got is not None:
            np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10, err_msg=f"{primitive}/{name}")
            ran.append(name)
    assert "reference" in ran


def test_every_algorithm_applies_somewhere_in_the_sweep():
    # a pointwise, an ungrouped undilated and a grouped dilated call between them reach every table entry
    reached = set()
    for kernel, dilation, groups in (((1, 1), (1, 1), 1), ((3, 3), (1, 1), 1), ((3, 3), (2, 2), 2)):
        attrs = dict(stride=(1, 1), padding=((0, 0), (0, 0)), dilation=dilation, groups=groups)
        reached |= {(p, n) for p in PRIMITIVES for n in planner.candidates(p, kernel, 4, attrs)}
    assert reached == set(EVERY) or os.cpu_count() == 1


@pytest.mark.parametrize("primitive", PRIMITIVES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_algorithm_agrees_on_a_batch_cut_into_uneven_chunks(primitive, dtype):
    # 7 images of 32 channels: each image's columns are about 1 MiB in float64, so the cache-sized chunks
    # and the pieces of the threaded forms are uneven
    cfg = dict(x=(7, 32, 20, 21), w=(24, 16, 3, 3), stride=(1, 2), pads=((1, 0), (2, 1)), dilation=(1, 1), groups=2)
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(cfg["x"]).astype(dtype), rng.standard_normal(cfg["w"]).astype(dtype)
    out, geo = _geometry(cfg)
    g = rng.standard_normal((7, 24) + out).astype(dtype)
    a, b, attrs, shape = {"conv2d": (x, w, geo, (7, 24) + out),
                          "conv_transpose2d": (g, w, {**geo, "input_size": (20, 21)}, cfg["x"]),
                          "conv2d_weight_grad": (x, g, {**geo, "kernel_size": (3, 3)}, cfg["w"])}[primitive]
    ref = _run(primitive, "reference", a, b, shape, attrs)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    for name in ALGORITHMS[primitive]:
        got = _run(primitive, name, a, b, shape, attrs)
        if got is not None:
            np.testing.assert_allclose(got, ref, rtol=tol, atol=tol, err_msg=name)


@pytest.mark.parametrize("name", sorted({n for p in PRIMITIVES for n in ALGORITHMS[p]}))
def test_inf_in_an_operand_reaches_only_the_outputs_it_touches(name):
    # inf at the right edge of x / the corner of w: the wide layouts read it in extra columns (0 * inf = nan)
    x = np.zeros((2, 1, 4, 5))
    x[0, 0, 1, 4] = np.inf
    w = np.ones((1, 1, 3, 3))
    w[0, 0, 0, 0] = np.inf
    gy = np.ones((2, 1, 4, 4))
    geo = dict(stride=(1, 1), dilation=(1, 1), groups=1)
    pads = ((1, 1), (1, 1))
    cases = [("conv2d_weight_grad", x, np.ones((2, 1, 2, 3)), {**geo, "padding": ((0, 0), (0, 0)), "kernel_size": (3, 3)},
              naive_weight_grad(x, np.ones((2, 1, 2, 3)), (3, 3))),
             ("conv_transpose2d", gy, w, {**geo, "padding": pads, "input_size": (4, 4)},
              naive_conv_transpose2d(gy, w, (4, 4), pads=pads))]
    for primitive, a, b, attrs, ref in cases:
        if name in ALGORITHMS[primitive]:
            got = _run(primitive, name, a, b, ref.shape, attrs)
            if got is not None:
                np.testing.assert_array_equal(got, ref, err_msg=f"{primitive}/{name}")


@pytest.mark.parametrize("pads", [((0, 1), (1, 0)), ((1, 0), (0, 1)), ((2, 0), (0, 2))])
def test_stacked_images_keep_their_input_gradients_apart_with_uneven_padding(pads):
    # each image's block must clear the next image's data rows from above (bottom padding > top) and below
    rng = np.random.default_rng(0)
    w = rng.standard_normal((2, 2, 2, 2))
    out = tuple(out_size(n, 2, 1, p, 1) for n, p in zip((2, 3), pads))
    gy = rng.standard_normal((3, 2) + out)
    ref = naive_conv_transpose2d(gy, w, (2, 3), pads=pads)
    attrs = dict(stride=(1, 1), padding=pads, dilation=(1, 1), groups=1, input_size=(2, 3))
    for name in ALGORITHMS["conv_transpose2d"]:
        got = _run("conv_transpose2d", name, gy, w, ref.shape, attrs)
        if got is not None:
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", sorted({n for p in PRIMITIVES for n in ALGORITHMS[p]}))
def test_gradcheck_and_gradgradcheck_under_each_algorithm(name):
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((2, 4, 5, 6)), requires_grad=True)
    configs = (((6, 2, 3, 2), dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)),
               ((3, 4, 1, 1), {}), ((3, 4, 2, 3), dict(padding=(1, 0))))
    for w_shape, kw in configs[:1] if name.endswith("_threads") else configs:  # (threads: slow on tiny calls)
        w = Tensor(rng.standard_normal(w_shape), requires_grad=True)
        with planner.conv_algorithm(name):
            assert tg.gradcheck(lambda a, b: F.conv2d(a, b, **kw), (x, w))
            assert tg.gradgradcheck(lambda a, b: F.conv2d(a, b, **kw), (x, w))


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted({n for p in PRIMITIVES for n in ALGORITHMS[p]}))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_algorithm_matches_torch(torch, name, dtype):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((4, 6, 11, 9)).astype(dtype), rng.standard_normal((8, 3, 3, 3)).astype(dtype)
    kw = dict(stride=(2, 1), padding=(1, 2), dilation=1, groups=2)
    X, W = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    TX, TW = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    with planner.conv_algorithm(name):
        y = F.conv2d(X, W, **kw)
        gy = rng.standard_normal(y.shape).astype(dtype)
        y.backward(gy)
    ty = torch.nn.functional.conv2d(TX, TW, **kw)
    ty.backward(torch.tensor(gy))
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    for ours, theirs in ((y, ty), (X.grad, TX.grad), (W.grad, TW.grad)):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **tol)


# ---------------------------------------------------------------- the planner
def _conv_once(shape=(3, 4, 9, 8), w_shape=(5, 4, 3, 3), **kw) -> tuple[Tensor, Tensor, Tensor]:
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal(w_shape).astype(np.float32), requires_grad=True)
    y = F.conv2d(x, w, **kw)
    y.sum().backward()
    return y, x, w


def test_the_first_call_plans_each_primitive_and_later_calls_reuse_the_plan():
    planner.clear_plans()
    with planner.conv_algorithm("plan"):
        _conv_once(padding=1)
        first = planner.plans()
        _conv_once(padding=1)
        assert planner.plans() == first  # no new plans, the same choices
    assert sorted(k[0] for k in first) == sorted(PRIMITIVES)
    for key, plan in first.items():
        attrs = dict(stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1)
        applicable = planner.candidates(key[0], (3, 3), 3, attrs, planned=True)
        assert set(plan.times) == set(applicable)  # every applicable planned algorithm was timed
        assert not any(n.endswith("_threads") for n in applicable)
        assert plan.algorithm == min(plan.times, key=plan.times.get)  # and the fastest kept
        assert 0 < min(plan.times.values()) and plan.seconds >= sum(plan.times.values())


def test_plan_threads_also_times_the_threaded_algorithms():
    planner.clear_plans()
    with planner.conv_algorithm("plan_threads"):
        _conv_once(padding=1)
    timed = {n for p in planner.plans().values() for n in p.times}
    assert any(n.endswith("_threads") for n in timed) or os.cpu_count() == 1
    assert all(k[-1] == "threads" for k in planner.plans())  # kept apart from the plain plans


def test_a_different_shape_dtype_or_attribute_is_a_new_plan():
    planner.clear_plans()
    with planner.conv_algorithm("plan"):
        _conv_once(padding=1)
        n = len(planner.plans())
        _conv_once(padding=0)
        _conv_once(shape=(2, 4, 9, 8), padding=1)
        assert len(planner.plans()) == n + 6


@pytest.mark.parametrize("mode", ["plan", "plan_threads", "fixed", "reference", "wide", "per_image", "pointwise"])
def test_every_mode_gives_the_same_results(mode):
    with planner.conv_algorithm("reference"):
        ref = [t.grad.data if t.grad is not None else t.data for t in _conv_once(stride=2, padding=(1, 2))]
    with planner.conv_algorithm(mode):
        got = [t.grad.data if t.grad is not None else t.data for t in _conv_once(stride=2, padding=(1, 2))]
    for a, b in zip(ref, got):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_a_pinned_algorithm_runs_no_plan_and_a_bad_mode_is_an_error():
    planner.clear_plans()
    with planner.conv_algorithm("reference"):
        assert planner.mode() == "reference"
        _conv_once()
    with planner.conv_algorithm("fixed"):
        _conv_once()
    assert planner.plans() == {}
    with pytest.raises(ValueError, match="'plan', 'plan_threads', 'fixed' or an algorithm's name.*reference"):
        with planner.conv_algorithm("fastest"):
            pass


def test_the_mode_is_per_thread():
    seen = {}
    with planner.conv_algorithm("reference"):
        t = threading.Thread(target=lambda: seen.setdefault("other", planner.mode()))
        t.start()
        t.join()
        assert planner.mode() == "reference"
    assert seen["other"] == planner.mode() != "reference" or os.environ.get(planner.ENV) == "reference"


def test_the_environment_variable_sets_the_default_mode():
    code = ("import tinygrad_cnn as tg, tinygrad_cnn.functional as F\n"
            "from tinygrad_cnn.ops import planner\n"
            "F.conv2d(tg.randn(2, 3, 6, 6), tg.randn(4, 3, 3, 3))\n"
            "print(planner.mode(), len(planner.plans()))\n")
    run = lambda v: subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,  # noqa: E731
                                   env={**os.environ, planner.ENV: v})
    assert run("reference").stdout.split() == ["reference", "0"]
    assert run("plan").stdout.split() == ["plan", "1"]
    bad = run("quick")
    assert bad.returncode != 0 and "TINYGRAD_CNN_CONV_ALGORITHM" in bad.stderr


def test_threaded_algorithms_give_blas_its_threads_back():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    for name in ("wide_threads", "channel_last_threads"):
        with planner.conv_algorithm(name):
            _conv_once(shape=(4, 4, 9, 8))
    assert [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"] == before


def test_an_error_inside_a_piece_reaches_the_caller():
    from tinygrad_cnn.ops.common import cores, on_cores

    def piece(n0, n1):
        if n0 > 0:
            raise RuntimeError("piece failed")
        return n1

    if cores() > 1:
        with pytest.raises(RuntimeError, match="piece failed"):
            on_cores(piece, 4)
    assert on_cores(lambda a, b: (a, b), 1) == [(0, 1)]


def test_the_planning_call_returns_what_the_kept_algorithm_computes_later():
    # planning runs every candidate into the same output buffer; the result it returns must be the winner's
    planner.clear_plans()
    rng = np.random.default_rng(5)
    x = Tensor(rng.standard_normal((6, 5, 11, 9)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((7, 5, 3, 3)).astype(np.float32), requires_grad=True)
    gy = rng.standard_normal((6, 7, 6, 9)).astype(np.float32)
    results = []
    for _ in range(2):
        x.grad = w.grad = None
        with planner.conv_algorithm("plan"):
            y = F.conv2d(x, w, stride=(2, 1), padding=1)
            y.backward(gy)
        results.append((y.data.copy(), x.grad.data.copy(), w.grad.data.copy()))
    for first, later in zip(*results):
        np.testing.assert_array_equal(first, later)  # bit for bit: the same algorithm computed both
