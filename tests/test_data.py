"""Data: IDX parsing (generated tiny files and corrupt ones), dataset loading from a directory or the
environment, the download helper's verification (with local files only), the patterns set, batching."""

from __future__ import annotations

import gzip
import hashlib
import struct

import numpy as np
import pytest
from conftest import data_dir

from tinygrad_cnn import data


# -------------------------------------------------------------------- IDX files
@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("arr", [
    np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
    np.array([3, 1, 4, 1, 5], dtype=np.uint8),
    np.arange(-6, 6, dtype=np.int32).reshape(3, 4),
    np.linspace(-1, 1, 6, dtype=np.float32).reshape(6, 1),
    np.array([[1.5, -2.25]], dtype=np.float64),
    np.array([-3, 7], dtype=np.int16),
])
def test_idx_round_trip(tmp_path, arr, suffix):
    path = tmp_path / f"a-idx{suffix}"
    data.write_idx(path, arr)
    back = data.read_idx(path)
    assert back.dtype == arr.dtype and back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)


def test_idx_bytes_follow_the_format(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    data.write_idx(path, np.array([7, 2, 1], dtype=np.uint8))
    assert path.read_bytes() == b"\x00\x00\x08\x01" + struct.pack(">I", 3) + bytes([7, 2, 1])
    int_path = tmp_path / "ints"
    data.write_idx(int_path, np.array([1, 256], dtype=np.int32))
    assert int_path.read_bytes()[8:] == b"\x00\x00\x00\x01\x00\x00\x01\x00"  # big-endian values


def _idx(header: bytes, payload: bytes = b"") -> bytes:
    return header + payload


@pytest.mark.parametrize("content,message", [
    (b"", "not an IDX file"),
    (b"\x00\x00", "not an IDX file"),
    (b"\x00\x01\x08\x01" + struct.pack(">I", 2) + b"\x01\x02", "magic 0x00010801"),
    (b"\x00\x00\x07\x01" + struct.pack(">I", 2) + b"\x01\x02", "type code"),
    (b"\x00\x00\x08\x00", "not an IDX file"),
    (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "truncated inside its header"),
    (b"\x00\x00\x08\x02" + struct.pack(">II", 2, 3) + bytes(5),
     r"truncated: dimensions \(2, 3\) of uint8 need 6 bytes"),
    (b"\x00\x00\x08\x01" + struct.pack(">I", 2) + bytes(3), "longer than its header says"),
    (b"\x00\x00\x0c\x01" + struct.pack(">I", 2) + bytes(6), "need 8 bytes"),
])
def test_corrupt_idx_is_refused_with_a_clear_error(tmp_path, content, message):
    for name, raw in (("raw", content), ("z.gz", gzip.compress(content))):
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(data.IDXError, match=message) as exc:
            data.read_idx(path)
        assert str(path) in str(exc.value)


def test_corrupt_gzip_and_missing_file(tmp_path):
    good = gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 4) + bytes(4))
    path = tmp_path / "bad.gz"
    path.write_bytes(good[:-6])  # cut off the stream's end
    with pytest.raises(data.IDXError, match="corrupt gzip"):
        data.read_idx(path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        data.read_idx(tmp_path / "nothing.gz")
    with pytest.raises(ValueError, match="cannot store"):
        data.write_idx(tmp_path / "x", np.array(["a"]))


# -------------------------------------------------------------------- datasets from IDX directories
def _write_fake_mnist(folder, n_train=12, n_test=5, gz=True, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, classes, n_train).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, classes, n_test).astype(np.uint8),
    }
    for stem, arr in arrays.items():
        data.write_idx(folder / (stem + (".gz" if gz else "")), arr)
    return arrays


@pytest.mark.parametrize("layout", ["subdir", "flat", "raw"])
def test_load_mnist_from_a_directory(tmp_path, layout):
    folder = tmp_path / "mnist" if layout == "subdir" else tmp_path
    arrays = _write_fake_mnist(folder, gz=layout != "raw")
    ds = data.load_mnist(tmp_path)
    assert ds.name == "mnist" and ds.num_classes == 10
    np.testing.assert_array_equal(ds.train_images, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(ds.test_labels, arrays["t10k-labels-idx1-ubyte"])
    assert ds.train_labels.dtype == np.int64
    x = arrays["train-images-idx3-ubyte"] / 255.0
    assert ds.mean == pytest.approx(x.mean(), rel=1e-12) and ds.std == pytest.approx(x.std(), rel=1e-12)


def test_root_from_the_environment(tmp_path, monkeypatch):
    _write_fake_mnist(tmp_path / "fashion-mnist", seed=1)
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    ds = data.load_fashion_mnist()
    assert ds.name == "fashion-mnist" and ds.classes[9] == "Ankle boot"
    assert data.resolve_root() == tmp_path
    assert data.resolve_root("elsewhere").name == "elsewhere"


def test_missing_files_say_what_to_do(tmp_path):
    _write_fake_mnist(tmp_path / "mnist")
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as exc:
        data.load_mnist(tmp_path)
    msg = str(exc.value)
    assert "t10k-labels-idx1-ubyte" in msg and data.ENV_VAR in msg and "download" in msg
    assert "train-images" not in msg


def test_inconsistent_dataset_files(tmp_path):
    arrays = _write_fake_mnist(tmp_path, n_train=12)
    data.write_idx(tmp_path / "train-labels-idx1-ubyte.gz", arrays["train-labels-idx1-ubyte"][:10])
    with pytest.raises(data.IDXError, match="12 images .* but 10 labels"):
        data.load_mnist(tmp_path)
    _write_fake_mnist(tmp_path)
    data.write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.full(5, 12, dtype=np.uint8))
    with pytest.raises(data.IDXError, match="label 12"):
        data.load_mnist(tmp_path)
    _write_fake_mnist(tmp_path)
    data.write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((5, 784), dtype=np.uint8))
    with pytest.raises(data.IDXError, match=r"expected uint8 images \(N, H, W\)"):
        data.load_mnist(tmp_path)


@pytest.mark.skipif(data_dir() is None, reason="real MNIST files not present")
def test_real_mnist_and_fashion_files():
    ds = data.load_mnist(data_dir())
    assert ds.train_images.shape == (60000, 28, 28) and ds.test_images.shape == (10000, 28, 28)
    assert ds.train_labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(ds.test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert ds.mean == pytest.approx(0.1307, abs=1e-4) and ds.std == pytest.approx(0.3081, abs=1e-4)
    fs = data.load_fashion_mnist(data_dir())
    assert fs.test_labels[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]


# -------------------------------------------------------------------- the download helper, offline
def test_download_verifies_checksums(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    arrays = _write_fake_mnist(mirror)
    sums = {stem + ".gz": hashlib.sha256((mirror / (stem + ".gz")).read_bytes()).hexdigest() for stem in arrays}
    monkeypatch.setitem(data.SHA256, "mnist", sums)
    dest = data.download("mnist", tmp_path / "cache", urls=[(tmp_path / "missing").as_uri(), mirror.as_uri()])
    assert dest == tmp_path / "cache" / "mnist"
    assert data.load_mnist(tmp_path / "cache").train_images.shape == (12, 28, 28)
    assert not list(dest.glob(".*part"))
    bad = dict(sums, **{"t10k-images-idx3-ubyte.gz": "0" * 64})
    monkeypatch.setitem(data.SHA256, "mnist", bad)
    with pytest.raises(data.DownloadError, match="sha256 .* != published 0000"):
        data.download("mnist", tmp_path / "cache2", urls=[mirror.as_uri()])
    assert not (tmp_path / "cache2" / "mnist" / "t10k-images-idx3-ubyte.gz").exists()
    with pytest.raises(ValueError, match="unknown dataset"):
        data.download("cifar")


def test_published_checksums_are_recorded():
    assert data.SHA256["mnist"]["train-images-idx3-ubyte.gz"].startswith("440fcabf")
    assert data.SHA256["fashion-mnist"]["t10k-labels-idx1-ubyte.gz"].startswith("67da17c7")
    assert all(len(v) == 64 for d in data.SHA256.values() for v in d.values())


# -------------------------------------------------------------------- patterns
def test_patterns_are_deterministic_and_balanced():
    a, ya = data.make_patterns(120, seed=3)
    b, yb = data.make_patterns(120, seed=3)
    c, _ = data.make_patterns(120, seed=4)
    assert a.shape == (120, 28, 28) and a.dtype == np.uint8 and ya.dtype == np.int64
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a, c)
    assert np.bincount(ya).tolist() == [20] * 6
    assert hashlib.sha256(a.tobytes()).hexdigest() == hashlib.sha256(b.tobytes()).hexdigest()


def test_patterns_have_their_shapes():
    x, y = data.make_patterns(600, seed=0, noise=0.0)
    ink = x.astype(np.float64) / 255
    # every image shows its shape: brightness >= 0.6 and a stroke >= 1 px cover some pixel at least half
    assert (ink.reshape(600, -1).max(axis=1) >= 0.29).all()
    rows, cols = ink.sum(axis=2), ink.sum(axis=1)  # ink per row / per column
    hbar, vbar = y == 0, y == 1
    # a horizontal bar puts its ink in few rows, a vertical one in few columns
    assert ((rows > 0.5).sum(axis=1)[hbar].mean() < (cols > 0.5).sum(axis=1)[hbar].mean())
    assert ((cols > 0.5).sum(axis=1)[vbar].mean() < (rows > 0.5).sum(axis=1)[vbar].mean())
    ds = data.load_patterns(n_train=60, n_test=30, seed=1)
    assert ds.classes == data.PATTERN_CLASSES and len(ds.test_labels) == 30
    assert not np.array_equal(ds.train_images[:30], ds.test_images)


def test_load_dataset_dispatch():
    assert data.load_dataset("patterns").name == "patterns"
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load_dataset("imagenet")


# -------------------------------------------------------------------- batching
def test_loader_batches_and_normalises():
    images = np.arange(10 * 2 * 2, dtype=np.uint8).reshape(10, 2, 2)
    labels = np.arange(10)
    loader = data.DataLoader(images, labels, batch_size=4, mean=0.5, std=0.25)
    batches = list(loader)
    assert len(loader) == 3 and [len(y) for _, y in batches] == [4, 4, 2]
    x, y = batches[0]
    assert x.dtype == np.float32 and x.shape == (4, 1, 2, 2) and y.dtype == np.int64
    np.testing.assert_allclose(x[1, 0], (images[1] / 255 - 0.5) / 0.25, rtol=1e-6)
    dropped = data.DataLoader(images, labels, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [len(y) for _, y in dropped] == [4, 4]
    floats = data.DataLoader(np.ones((3, 1, 2, 2), dtype=np.float32), np.zeros(3, dtype=np.int64), 2)
    assert next(iter(floats))[0].shape == (2, 1, 2, 2) and next(iter(floats))[0].max() == 1.0


def test_loader_shuffles_reproducibly():
    images = np.zeros((50, 2, 2), dtype=np.uint8)
    labels = np.arange(50)

    def epochs(seed):
        loader = data.DataLoader(images, labels, 8, shuffle=True, seed=seed)
        return [np.concatenate([y for _, y in loader]) for _ in range(2)]

    e1, e2 = epochs(7)
    assert sorted(e1.tolist()) == list(range(50))  # every example once per epoch
    assert not np.array_equal(e1, e2) and not np.array_equal(e1, labels)  # a new order each epoch
    f1, f2 = epochs(7)
    np.testing.assert_array_equal(e1, f1)
    np.testing.assert_array_equal(e2, f2)
    assert not np.array_equal(e1, epochs(8)[0])


def test_loader_checks_its_arguments():
    with pytest.raises(ValueError, match="labels must be integers"):
        data.DataLoader(np.zeros((3, 2, 2), dtype=np.uint8), np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(np.zeros((3, 2, 2), dtype=np.uint8), np.zeros(3, dtype=np.int64), batch_size=0)
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        data.DataLoader(np.zeros(3, dtype=np.uint8), np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="uint8 or float"):
        data.DataLoader(np.zeros((3, 2, 2), dtype=np.int32), np.zeros(3, dtype=np.int64))
    ds = data.load_patterns(n_train=12, n_test=6)
    assert len(list(ds.loader("train", 5, limit=7))) == 2
    with pytest.raises(ValueError, match="split"):
        ds.loader("valid")


def test_random_shifts_move_images_and_repeat():
    images = np.zeros((40, 9, 9), dtype=np.uint8)
    images[:, 4, 4] = 255  # one bright pixel in the centre
    loader = data.DataLoader(images, np.zeros(40, dtype=np.int64), 40, seed=3, shift=2)
    x, _ = next(iter(loader))
    assert x.shape == (40, 1, 9, 9)
    pos = np.argwhere(x[:, 0] == x.max())
    assert len(pos) == 40  # every image keeps its pixel (a shift of <= 2 cannot push it out)
    dy, dx = pos[:, 1] - 4, pos[:, 2] - 4
    assert set(dy) == set(dx) == {-2, -1, 0, 1, 2}
    again, _ = next(iter(data.DataLoader(images, np.zeros(40, dtype=np.int64), 40, seed=3, shift=2)))
    np.testing.assert_array_equal(x, again)
    with pytest.raises(ValueError, match="shift"):
        data.DataLoader(images, np.zeros(40, dtype=np.int64), shift=5)
