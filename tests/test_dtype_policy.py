"""The dtype policy at the boundary (docs/engine.md, "Dtypes"): one test per row of the table."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import REGISTRY, Tensor


@pytest.mark.parametrize("value", [3, 2.5, True, [1, 2, 3], [[1.5], [2.5]], np.float64(2.5), np.int64(3)])
def test_numbers_lists_and_numpy_scalars_become_float32(value) -> None:
    t = Tensor(value)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.asarray(value, dtype=np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, np.bool_])
def test_numpy_arrays_keep_their_dtype_and_memory(dtype) -> None:
    a = np.zeros((2, 3), dtype=dtype)
    t = Tensor(a)
    assert t.dtype == dtype and t.data is a


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_matrix_becomes_a_plain_array_and_masked_arrays_are_refused() -> None:
    m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    t = Tensor(m)
    assert type(t.data) is np.ndarray and t.shape == (2, 2)
    assert t.sum().item() == 10.0 and (t * 1.0).sum().item() == 10.0
    assert (t[0]).shape == (2,)  # a plain array: indexing drops the axis (np.matrix would keep it)
    masked = np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0])
    with pytest.raises(TypeError, match="masked arrays are refused.*filled"):
        Tensor(masked)
    with pytest.raises(TypeError, match="masked"):
        Tensor(np.ones(3)) + masked


@pytest.mark.parametrize(
    "value, words",
    [
        (None, "None"),
        ("1.5", "string"),
        (b"1", "bytes"),
        (["a", "b"], "strings are not numbers"),
        (np.array(["a"]), "strings are not numbers"),
        (np.array(["2020-01-01"], dtype="datetime64[D]"), "datetimes"),
        (np.array([1], dtype="timedelta64[s]"), "timedeltas"),
        (np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]), "structured"),
        (np.array([1, "a"], dtype=object), "object"),
        ([datetime.date(2020, 1, 1)], "object"),
        (np.array([1 + 2j]), "complex"),
        (1 + 2j, "complex"),
    ],
)
def test_non_numeric_complex_and_none_are_refused_with_a_type_error(value, words) -> None:
    with pytest.raises(TypeError, match=words):
        Tensor(value)


def test_float16_and_extended_precision_are_refused_everywhere() -> None:
    with pytest.raises(TypeError, match="float16 is not supported"):
        Tensor(np.ones(100_000, dtype=np.float16))
    with pytest.raises(TypeError, match="float16"):
        Tensor([1.0, 2.0], dtype=np.float16)
    with pytest.raises(TypeError, match="float16"):
        Tensor(np.ones(3)) * np.ones(3, dtype=np.float16)
    with pytest.raises(TypeError, match="float16"):
        Tensor(np.ones(3, dtype=np.float32)).astype(np.float16)
    if np.dtype(np.longdouble).itemsize > 8:
        with pytest.raises(TypeError, match="not supported"):
            Tensor(np.ones(3, dtype=np.longdouble))


def test_integer_tensors_never_require_grad() -> None:
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(np.arange(3), requires_grad=True)
    t = Tensor(np.arange(3))
    with pytest.raises(TypeError, match="floating-point"):
        t.requires_grad = True
    f = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="only leaves can stop requiring grad.*'mul'"):
        (f * 2.0).requires_grad = False
    f.requires_grad = False  # a leaf may
    assert not f.requires_grad and not (f * 2.0).requires_grad


def test_scalars_are_weak_they_take_the_tensors_dtype() -> None:
    f32, f64, i64 = Tensor(np.ones(2, np.float32)), Tensor(np.ones(2)), Tensor(np.arange(2))
    for s in (2, 2.5, np.float64(2.5), np.int64(2), np.float32(2.5)):
        assert (f32 * s).dtype == np.float32 and (s * f32).dtype == np.float32
        assert (f64 + s).dtype == np.float64 and (s - f64).dtype == np.float64
    assert (i64 + 2).dtype == np.int64 and (i64 * np.int32(2)).dtype == np.int64
    assert (i64 + 2.5).dtype == np.float32 and (i64 + np.float64(2.5)).dtype == np.float32
    assert (f32 * f64).dtype == np.float64  # two arrays: the wider float wins


def test_a_vjp_returning_the_wrong_dtype_is_an_error_naming_the_op() -> None:
    bad = tg.register_op(
        "bad_dtype_vjp_for_test", lambda x: x * 2,
        vjps=[lambda g, out, x: (g * 2.0).astype(np.float64)],
        formula="y = 2x;  dx = 2g (in the wrong dtype)", replace=True,
    )
    try:
        x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
        with pytest.raises(RuntimeError, match="bad_dtype_vjp_for_test: the VJP for input 0 returned dtype float64"):
            bad(x).sum().backward()
    finally:
        del REGISTRY["bad_dtype_vjp_for_test"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_registered_vjp_returns_its_inputs_dtype(dtype) -> None:
    """The engine raises when a VJP's dtype is wrong, so one backward per sample proves every built-in rule."""
    rng = np.random.default_rng(0)
    ran = 0
    for op in list(REGISTRY.values()):
        for sample in op.samples(rng):
            inputs = [Tensor(a.astype(dtype), requires_grad=op.vjps[i] is not None) if a.dtype.kind == "f"
                      else Tensor(a) for i, a in enumerate(sample.inputs)]
            if not any(t.requires_grad for t in inputs):
                continue
            attrs = dict(sample.attrs)
            if op.name == "cast":
                attrs["dtype"] = np.dtype(np.float64 if dtype == np.float32 else np.float32)
            out = op(*inputs, **attrs)
            if out.dtype.kind != "f":
                continue
            wanted = [t for t in inputs if t.requires_grad]
            grads = tg.gradients(out, wanted, grad_outputs=np.ones(out.shape, out.dtype), allow_unused=True)
            for t, g in zip(wanted, grads):
                assert g is None or g.dtype == t.dtype, op.name
            ran += 1
    assert ran > 20


def test_an_explicit_dtype_converts_float16_data_and_mixed_unsigned_integers_raise() -> None:
    t = Tensor(np.ones(3, dtype=np.float16), dtype=np.float32)
    assert t.dtype == np.float32 and t.data.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(TypeError, match="uint64 and int64"):
        Tensor(np.array([1], dtype=np.uint64)) + Tensor(np.array([1]))
    with pytest.raises(TypeError, match="complex"):
        Tensor(np.array([1 + 2j]), dtype=np.float32)
