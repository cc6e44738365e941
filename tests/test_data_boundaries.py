"""Data and dropout boundaries: dropout's p in [0, 1] (module and function), normalisation statistics finite
with std > 0, empty datasets and empty IDX files refused, batch sizes positive integers."""

from __future__ import annotations

import struct

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import data, nn

IMAGES = np.zeros((6, 4, 4), dtype=np.uint8)
LABELS = np.arange(6, dtype=np.int64) % 3


# -------------------------------------------------------------------- dropout
BAD_P = [1.5, -0.1, 2.0, float("nan"), float("inf"), True, "0.5", None]


@pytest.mark.parametrize("p", BAD_P, ids=repr)
def test_dropout_function_refuses_p_outside_0_1(p):
    x = tg.Tensor(np.ones((4, 4), np.float32))
    with pytest.raises(ValueError, match=r"dropout: p must be a number in \[0, 1\]"):
        nn.dropout(x, p, np.random.default_rng(0))  # p = 1.5 used to scale by 1 / (1 - 1.5) = -2


@pytest.mark.parametrize("p", BAD_P, ids=repr)
def test_dropout_module_refuses_p_outside_0_1(p):
    with pytest.raises(ValueError, match=r"Dropout: p must be a number in \[0, 1\]"):
        nn.Dropout(p)


@pytest.mark.oracle
@pytest.mark.parametrize("p", BAD_P[:4], ids=repr)
def test_torch_refuses_the_same_p(torch, p):
    with pytest.raises((ValueError, RuntimeError)):  # torch: ValueError, RuntimeError for NaN
        torch.nn.functional.dropout(torch.ones(3), p)


def test_dropout_edges_and_integer_inputs():
    rng = np.random.default_rng(0)
    x = tg.Tensor(np.ones((50, 50), np.float32))
    assert nn.dropout(x, 0, rng) is x
    assert nn.dropout(x, np.float64(1.0), rng).data.sum() == 0
    y = nn.dropout(tg.Tensor(np.ones((50, 50), np.int64)), 0.5, rng)
    assert y.dtype == np.float32 and set(np.unique(y.data)) <= {0.0, 2.0}
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        nn.dropout(x, 0.5, 0)


# -------------------------------------------------------------------- DataLoader arguments
@pytest.mark.parametrize("std", [0.0, -1.0, float("nan"), float("inf"), np.float32(0.0)], ids=repr)
def test_loader_std_must_be_finite_and_positive(std):
    with pytest.raises(ValueError, match="DataLoader: std must be"):
        data.DataLoader(IMAGES, LABELS, 2, std=std)


@pytest.mark.parametrize("mean", [float("nan"), float("-inf"), "0.1"], ids=repr)
def test_loader_mean_must_be_finite(mean):
    with pytest.raises(ValueError, match="DataLoader: mean must be a finite number"):
        data.DataLoader(IMAGES, LABELS, 2, mean=mean)


@pytest.mark.parametrize("batch_size", [0, -3, 2.0, True, "4", None], ids=repr)
def test_loader_batch_size_must_be_a_positive_int(batch_size):
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive int"):
        data.DataLoader(IMAGES, LABELS, batch_size)


def test_loader_accepts_numpy_arguments():
    loader = data.DataLoader(IMAGES, LABELS, np.int64(4), mean=np.float32(0.1), std=np.float64(0.3))
    assert [len(y) for _, y in loader] == [4, 2]


@pytest.mark.parametrize("shape", [(0, 4, 4), (0, 1, 4, 4), (3, 0, 4)])
def test_empty_dataset_is_refused(shape):
    with pytest.raises(ValueError, match="DataLoader: the dataset is empty"):
        data.DataLoader(np.zeros(shape, np.uint8), np.zeros(shape[0], np.int64), 2)


def test_drop_last_that_leaves_no_batch_is_refused():
    with pytest.raises(ValueError, match="drop_last with batch_size 8 > 6 examples leaves no batch"):
        data.DataLoader(IMAGES, LABELS, 8, drop_last=True)
    assert len(data.DataLoader(IMAGES, LABELS, 8)) == 1
    assert len(data.DataLoader(IMAGES, LABELS, 6, drop_last=True)) == 1


def test_loader_batches_are_never_nan():
    ds = data.load_patterns(n_train=12, n_test=6)
    for split in ("train", "test"):
        for x, _ in ds.loader(split, 5):
            assert np.all(np.isfinite(x))


# -------------------------------------------------------------------- datasets
@pytest.mark.parametrize("limit", [0, -1, 2.5, True])
def test_dataset_loader_limit_must_be_positive(limit):
    ds = data.load_patterns(n_train=12, n_test=6)
    with pytest.raises(ValueError, match="limit must be None or an integer >= 1"):
        ds.loader("train", 4, limit=limit)  # limit=-1 used to drop the last example silently


@pytest.mark.parametrize("kw", [dict(n_train=0), dict(n_test=0), dict(n_train=-5), dict(n_test=2.0)])
def test_empty_patterns_dataset_is_refused(kw):
    with pytest.raises(ValueError, match="load_patterns: n_"):
        data.load_patterns(**kw)


@pytest.mark.parametrize("kw,arg", [(dict(n=-1), "n"), (dict(n=3, size=0), "size"),
                                    (dict(n=3, noise=float("nan")), "noise"), (dict(n=3, noise=-0.1), "noise")])
def test_make_patterns_arguments(kw, arg):
    with pytest.raises(ValueError, match=f"make_patterns: {arg} must be"):
        data.make_patterns(**kw)


def test_pixel_statistics_of_nothing_raise():
    with pytest.raises(ValueError, match="empty image set"):
        data._pixel_stats(np.zeros((0, 28, 28), np.uint8))


# -------------------------------------------------------------------- empty IDX files
@pytest.mark.parametrize("dims", [(0,), (0, 28, 28), (5, 0, 28)])
def test_empty_idx_file_is_refused(tmp_path, dims):
    path = tmp_path / "empty-idx"
    path.write_bytes(bytes([0, 0, 8, len(dims)]) + struct.pack(f">{len(dims)}I", *dims))
    with pytest.raises(data.IDXError, match=r"is empty: its dimensions .* hold no values") as exc:
        data.read_idx(path)
    assert isinstance(exc.value, ValueError) and str(path) in str(exc.value)


def test_write_idx_refuses_empty_arrays(tmp_path):
    with pytest.raises(ValueError, match="empty array"):
        data.write_idx(tmp_path / "x", np.zeros((0, 3), np.uint8))


def _raw_idx(dims, payload=b""):
    return bytes([0, 0, 8, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload


@pytest.mark.parametrize("empty", ["train", "test"])
def test_dataset_with_an_empty_split_is_refused(tmp_path, empty):
    d = tmp_path / "mnist"
    d.mkdir()
    n = {"train": 0 if empty == "train" else 3, "test": 0 if empty == "test" else 2}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        (d / f"{prefix}-images-idx3-ubyte").write_bytes(_raw_idx((n[split], 2, 2), bytes(4 * n[split])))
        (d / f"{prefix}-labels-idx1-ubyte").write_bytes(_raw_idx((n[split],), bytes(n[split])))
    with pytest.raises(ValueError, match="is empty"):  # not a dataset whose mean, std and batches are NaN
        data.load_mnist(tmp_path)


def test_the_model_zoos_dropout_is_checked_too() -> None:
    import tinygrad_cnn as tg

    params = tg.models.cnn_init(0)
    x = tg.Tensor(np.zeros((1, 1, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"dropout: p must be a number in \[0, 1\]"):
        tg.models.cnn(params, x, dropout=-0.5, rng=np.random.default_rng(0))
