"""Engine state belongs to the thread: grad mode, anomaly mode, scopes and transforms never leak across threads."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.models import lenet5, lenet5_init


@pytest.fixture
def tiny_switch_interval() -> Iterator[None]:
    """Make the interpreter switch threads every 10 µs, so races show up within a few hundred calls."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def run_threads(*targets: Callable[[], None], timeout: float = 120.0) -> None:
    """Run each target in its own thread; re-raise the first exception any of them raised."""
    errors: list[BaseException] = []

    def guard(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as e:  # noqa: BLE001  (reported to the test's thread)
                errors.append(e)
        return run

    threads = [threading.Thread(target=guard(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a worker thread did not finish"
    if errors:
        raise errors[0]


def assert_default_state() -> None:
    assert tg.is_grad_enabled() is True
    assert tg.is_anomaly_enabled() is False
    x = Tensor(np.ones(2), requires_grad=True)
    y = x * 2
    assert y.requires_grad and y.op == "mul"
    assert y._node.scope == ()


def test_grad_in_one_thread_while_another_runs_backward(tiny_switch_interval: None) -> None:
    rng = np.random.default_rng(0)
    w0, x0 = rng.standard_normal((4, 3)), rng.standard_normal((5, 4))

    def loss(params: dict[str, Tensor], x: Tensor) -> Tensor:
        return (x @ params["w"]).tanh().square().sum()

    want = tg.grad(loss)({"w": w0}, Tensor(x0))["w"].data
    stop = threading.Event()

    def backward_loop() -> None:
        while not stop.is_set():
            a = Tensor(rng.standard_normal(8), requires_grad=True)
            (a.sigmoid() * a).sum().backward()

    def grad_loop() -> None:
        try:
            for _ in range(300):
                got = tg.grad(loss)({"w": w0}, Tensor(x0))["w"].data
                np.testing.assert_array_equal(got, want)
        finally:
            stop.set()

    run_threads(backward_loop, grad_loop)
    assert_default_state()


def test_two_threads_value_and_grad_on_lenet5(tiny_switch_interval: None) -> None:
    params = lenet5_init(0, np.float64)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 1, 28, 28))
    y = np.array([3, 7])

    def loss(p: dict[str, Tensor], x: Tensor, y: np.ndarray) -> Tensor:
        return F.cross_entropy(lenet5(p, x), y)

    value0, want = tg.value_and_grad(loss)(params, Tensor(x), y)

    def worker() -> None:
        for _ in range(60):
            value, got = tg.value_and_grad(loss)(params, Tensor(x), y)
            assert value.item() == pytest.approx(value0.item(), rel=1e-12)
            for k in want:
                assert np.abs(got[k].data).max() > 0, f"all-zero gradient for {k}"
                np.testing.assert_allclose(got[k].data, want[k].data, rtol=1e-9, atol=1e-12)

    run_threads(worker, worker)
    assert_default_state()


def test_no_grad_in_one_thread_does_not_stop_recording_in_another() -> None:
    inside, release = threading.Event(), threading.Event()
    seen: list[bool] = []

    def holder() -> None:
        with tg.no_grad():
            seen.append(tg.is_grad_enabled())
            inside.set()
            release.wait(30)
            seen.append((Tensor(np.ones(2), requires_grad=True) * 2).requires_grad)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert inside.wait(30)
        assert tg.is_grad_enabled()
        y = Tensor(np.ones(2), requires_grad=True) * 2
        assert y.requires_grad and y.op == "mul"
    finally:
        release.set()
        t.join(30)
    assert seen == [False, False]  # the holder's own thread did stop recording
    assert_default_state()


def test_new_thread_starts_with_grad_enabled_even_inside_no_grad() -> None:
    seen: dict[str, Any] = {}

    def child() -> None:
        seen["grad"] = tg.is_grad_enabled()
        seen["recorded"] = (Tensor(np.ones(2), requires_grad=True) * 3).op

    with tg.no_grad(), tg.scope("outer"):
        run_threads(child)
        assert not tg.is_grad_enabled()
    assert seen == {"grad": True, "recorded": "mul"}


def test_scope_and_anomaly_mode_are_per_thread() -> None:
    inside, release = threading.Event(), threading.Event()

    def holder() -> None:
        with tg.detect_anomaly(), tg.scope("other"):
            inside.set()
            release.wait(30)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert inside.wait(30)
        x = Tensor(np.array([0.0]), requires_grad=True)
        with np.errstate(divide="ignore"):
            y = x.log()  # -inf: an error only where detect_anomaly is on
        assert np.isneginf(y.data).all()
        assert y._node.scope == ()
    finally:
        release.set()
        t.join(30)


def test_backward_restores_only_its_own_thread_grad_mode(tiny_switch_interval: None) -> None:
    """backward() turns recording off while it runs; other threads keep recording all the while."""
    stop = threading.Event()
    unrecorded: list[int] = []

    def backward_loop() -> None:
        while not stop.is_set():
            a = Tensor(np.ones(64), requires_grad=True)
            b = a
            for _ in range(20):
                b = b.sigmoid()
            b.sum().backward()

    def record_loop() -> None:
        try:
            for _ in range(3000):
                if (Tensor(np.ones(2), requires_grad=True) + 1.0)._node is None:
                    unrecorded.append(1)
        finally:
            stop.set()

    run_threads(backward_loop, record_loop)
    assert unrecorded == []
    assert_default_state()


def test_a_shared_no_grad_object_used_from_two_threads_restores_each() -> None:
    ng = tg.no_grad()
    barrier = threading.Barrier(2)
    after: list[bool] = []

    def worker() -> None:
        for _ in range(50):
            with ng:
                barrier.wait(10)
                assert not tg.is_grad_enabled()
            barrier.wait(10)
            after.append(tg.is_grad_enabled())

    run_threads(worker, worker)
    assert after and all(after)
    assert_default_state()


def test_nested_transforms_in_threads_give_second_derivatives(tiny_switch_interval: None) -> None:
    def f(x: Tensor) -> Tensor:
        return (x ** 3).sum()

    def worker() -> None:
        for _ in range(100):
            h = tg.grad(lambda x: tg.grad(f)(x).sum())(np.array([2.0]))
            assert h.data.tolist() == [12.0]

    run_threads(worker, worker)
    assert_default_state()


def test_a_mode_left_out_of_order_by_a_generator_does_not_leak() -> None:
    def evaluate(batches: list[Tensor]) -> Iterator[Tensor]:
        with tg.no_grad():
            for b in batches:
                yield b * 2.0

    gen = evaluate([Tensor(np.ones(2))] * 3)
    next(gen)  # suspended inside no_grad()
    with tg.scope("train"):
        for _ in gen:  # the generator's no_grad() ends inside this scope
            pass
        assert tg.is_grad_enabled()
        assert (Tensor(np.ones(2), requires_grad=True) * 2.0)._node.scope == ("train",)
    assert_default_state()


def test_writes_in_another_thread_never_switch_off_this_threads_version_checks(tiny_switch_interval: None) -> None:
    stop = threading.Event()

    def writer() -> None:
        own = Tensor(np.ones(4))
        while not stop.is_set():
            own.add_(1.0)

    def checker() -> None:
        try:
            for _ in range(300):
                w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
                loss = (w * w).sum()
                with tg.no_grad():
                    w.mul_(10.0)
                with pytest.raises(RuntimeError, match="modified by an in-place operation"):
                    loss.backward()
        finally:
            stop.set()

    run_threads(writer, checker)
