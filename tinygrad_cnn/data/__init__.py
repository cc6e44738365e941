"""Datasets: MNIST and Fashion-MNIST from their original IDX files, a synthetic ``patterns`` set that needs no
files, and a batching iterator.

    ds = data.load_mnist()                      # root: argument, else $TINYGRAD_CNN_DATA, else the cache dir
    ds = data.load_patterns(seed=0)             # generated: 6 classes of shapes, no download
    for x, y in data.DataLoader(ds.train_images, ds.train_labels, 64, shuffle=True, seed=0,
                                mean=ds.mean, std=ds.std):
        ...                                     # x: float32 (64, 1, 28, 28), y: int64 (64,)

IDX (LeCun's format): two zero bytes, a type code (0x08 = uint8), the number of dimensions, one
big-endian uint32 per dimension, then the values in row-major order. Files may be gzip-compressed.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENV_VAR = "TINYGRAD_CNN_DATA"

_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}


class IDXError(ValueError):
    """An IDX file is corrupt or is not the file that was expected (the message names the file)."""


# -------------------------------------------------------------------- IDX files
def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (raw, or gzip-compressed: detected from its first bytes) into a numpy array.

    Raises FileNotFoundError for a missing file and :class:`IDXError` (a ValueError) for a bad gzip stream, a
    bad magic number, a data length that does not match the header's dimensions, or a file holding no values
    (a zero dimension).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_idx: no such file: {path}")
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise IDXError(f"read_idx: {path} is a corrupt gzip file ({e})") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES or raw[3] == 0:
        head = raw[:4].hex() or "empty"
        raise IDXError(
            f"read_idx: {path} is not an IDX file: magic 0x{head} (expected 0x0000TTDD: two zero bytes, a type code "
            f"in {sorted(hex(k) for k in _IDX_TYPES)} and the number of dimensions >= 1)"
        )
    dtype, ndim = _IDX_TYPES[raw[2]], raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise IDXError(f"read_idx: {path} is truncated inside its header ({len(raw)} bytes for {ndim} dimensions)")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    expected = math.prod(dims) * dtype.itemsize
    found = len(raw) - 4 - 4 * ndim
    if found != expected:
        what = "truncated" if found < expected else "longer than its header says"
        raise IDXError(
            f"read_idx: {path} is {what}: dimensions {dims} of {dtype.name} need {expected} bytes of data, "
            f"found {found}"
        )
    if 0 in dims:
        raise IDXError(f"read_idx: {path} is empty: its dimensions {dims} hold no values")
    arr = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file (gzip-compressed when the name ends in .gz)."""
    arr = np.asarray(array)
    codes = {v.newbyteorder("=") if v.itemsize > 1 else v: k for k, v in _IDX_TYPES.items()}
    code = codes.get(arr.dtype.newbyteorder("="))
    if code is None or arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"write_idx: cannot store an array of dtype {arr.dtype} and shape {arr.shape} as IDX")
    if arr.size == 0:
        raise ValueError(
            f"write_idx: refusing to write an empty array (shape {arr.shape}); read_idx refuses such files"
        )
    payload = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    payload += np.ascontiguousarray(arr, dtype=_IDX_TYPES[code]).tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)


# -------------------------------------------------------------------- datasets
@dataclass
class Dataset:
    """Images (N, H, W) uint8 and labels (N,) int64 for both splits, with the class names and the mean and
    standard deviation of the training pixels on the 0-1 scale (used to normalise)."""

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: tuple[str, ...]
    mean: float
    std: float

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def loader(self, split: str, batch_size: int = 64, shuffle: bool | None = None, seed: int = 0,
               drop_last: bool = False, limit: int | None = None, shift: int = 0, flip: bool = False) -> DataLoader:
        """A :class:`DataLoader` over ``split`` ('train' shuffles by default; 'test' does not), normalised
        with the training mean and std. ``limit`` keeps only the first examples; ``shift`` and ``flip``
        augment (random crops with padding, horizontal flips; see :class:`DataLoader`)."""
        if split not in ("train", "test"):
            raise ValueError(f"Dataset.loader: split must be 'train' or 'test', got {split!r}")
        x, y = (self.train_images, self.train_labels) if split == "train" else (self.test_images, self.test_labels)
        if limit is not None and (isinstance(limit, (bool, np.bool_)) or not isinstance(limit, (int, np.integer))
                                  or limit < 1):
            raise ValueError(f"Dataset.loader: limit must be None or an integer >= 1, got {limit!r}")
        if limit is not None:
            x, y = x[:limit], y[:limit]
        return DataLoader(x, y, batch_size, shuffle=split == "train" if shuffle is None else shuffle, seed=seed,
                          drop_last=drop_last, mean=self.mean, std=self.std, shift=shift, flip=flip)


def _pixel_stats(images: np.ndarray) -> tuple[float, float]:
    """Mean and std of uint8 pixels on the 0-1 scale, exactly, from a histogram (no float copy of the data)."""
    if images.size == 0:
        raise ValueError(f"pixel statistics of an empty image set (shape {images.shape}) are undefined")
    counts = np.bincount(images.reshape(-1), minlength=256).astype(np.float64)
    values = np.arange(256) / 255.0
    mean = float((counts * values).sum() / counts.sum())
    var = float((counts * (values - mean) ** 2).sum() / counts.sum())
    return mean, math.sqrt(var)


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/tinygrad_cnn, else ~/.cache/tinygrad_cnn."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tinygrad_cnn"


def resolve_root(root: str | os.PathLike | None = None) -> Path:
    """The data directory: ``root`` if given, else $TINYGRAD_CNN_DATA, else :func:`default_cache_dir`."""
    if root is not None:
        return Path(root)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else default_cache_dir()


_FILES = {
    "train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte",
}
MNIST_CLASSES = tuple(str(i) for i in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")


def _find_file(root: Path, subdir: str, stem: str) -> Path | None:
    alt = stem.replace("-idx", ".idx")  # the alternative spelling "train-images.idx3-ubyte"
    for d in (root / subdir, root):
        for name in (stem + ".gz", stem, alt + ".gz", alt):
            if (d / name).is_file():
                return d / name
    return None


def _load_idx_dataset(name: str, root: str | os.PathLike | None, classes: tuple[str, ...]) -> Dataset:
    base = resolve_root(root)
    paths = {k: _find_file(base, name, stem) for k, stem in _FILES.items()}
    missing = [_FILES[k] for k, p in paths.items() if p is None]
    if missing:
        how = "the root argument" if root is not None else f"${ENV_VAR}" if os.environ.get(ENV_VAR) else "the default"
        raise FileNotFoundError(
            f"load {name}: missing {', '.join(m + '[.gz]' for m in missing)} in {base / name} or {base} (from {how}). "
            f"Pass root=, set {ENV_VAR}, or fetch the files with tinygrad_cnn.data.download({name!r}, root) / "
            f"`tinygrad-cnn download --data {name}`"
        )
    arrays = {k: read_idx(p) for k, p in paths.items()}
    for split in ("train", "test"):
        imgs, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        ipath, lpath = paths[f"{split}_images"], paths[f"{split}_labels"]
        if imgs.ndim != 3 or imgs.dtype != np.uint8:
            raise IDXError(
                f"load {name}: {ipath} holds {imgs.dtype} of shape {imgs.shape}, expected uint8 images (N, H, W)"
            )
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise IDXError(
                f"load {name}: {lpath} holds {labels.dtype} of shape {labels.shape}, expected uint8 labels (N,)"
            )
        if len(imgs) != len(labels):
            raise IDXError(f"load {name}: {len(imgs)} images in {ipath} but {len(labels)} labels in {lpath}")
        if labels.size and labels.max() >= len(classes):
            raise IDXError(f"load {name}: {lpath} has label {labels.max()}, but there are only {len(classes)} classes")
    mean, std = _pixel_stats(arrays["train_images"])
    return Dataset(name, arrays["train_images"], arrays["train_labels"].astype(np.int64), arrays["test_images"],
                   arrays["test_labels"].astype(np.int64), classes, mean, std)


def load_mnist(root: str | os.PathLike | None = None) -> Dataset:
    """MNIST handwritten digits (60000 train, 10000 test, 28x28) from IDX files in ``root`` or ``root/mnist``."""
    return _load_idx_dataset("mnist", root, MNIST_CLASSES)


def load_fashion_mnist(root: str | os.PathLike | None = None) -> Dataset:
    """Fashion-MNIST (Zalando; same shapes as MNIST) from IDX files in ``root`` or ``root/fashion-mnist``."""
    return _load_idx_dataset("fashion-mnist", root, FASHION_CLASSES)


# -------------------------------------------------------------------- download
URLS = {
    "mnist": ("https://yann.lecun.com/exdb/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/"),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
}


class DownloadError(OSError):
    """No mirror delivered a file with the published checksum."""


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(name: str = "mnist", root: str | os.PathLike | None = None, urls: Sequence[str] | None = None,
             timeout: float = 60.0) -> Path:
    """Fetch the four original gzip IDX files of ``name`` ('mnist' or 'fashion-mnist') into ``root/name``.

    Each file is checked against its published sha256 before it is moved into place (atomically); files
    already present with the right checksum are kept. Mirrors are tried in order. Returns the directory.
    """
    import urllib.request

    if name not in SHA256:
        raise ValueError(f"download: unknown dataset {name!r}; choose from {sorted(SHA256)}")
    dest = resolve_root(root) / name
    dest.mkdir(parents=True, exist_ok=True)
    for fname, digest in SHA256[name].items():
        target = dest / fname
        if target.is_file() and sha256_file(target) == digest:
            continue
        errors = []
        for base in urls or URLS[name]:
            url = base.rstrip("/") + "/" + fname
            fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{fname}.", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310
                    for chunk in iter(lambda: resp.read(1 << 20), b""):
                        out.write(chunk)
                got = sha256_file(tmp)
                if got != digest:
                    errors.append(f"{url}: sha256 {got} != published {digest}")
                    continue
                os.replace(tmp, target)
                break
            except OSError as e:
                errors.append(f"{url}: {e}")
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        else:
            raise DownloadError(f"download {name}: could not fetch {fname}: " + "; ".join(errors))
    return dest


# -------------------------------------------------------------------- the synthetic patterns dataset
PATTERN_CLASSES = ("horizontal bar", "vertical bar", "cross", "square", "circle", "diagonal")


def _segment_distance(along: np.ndarray, across: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Distance to a segment of half-length ``half`` centred at 0 along the ``along`` axis."""
    return np.sqrt(np.maximum(np.abs(along) - half, 0.0) ** 2 + across**2)


def make_patterns(n: int, seed: int | np.random.SeedSequence = 0, size: int = 28,
                  noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (n, size, size) uint8 and labels (n,) int64 of the :data:`PATTERN_CLASSES`.

    Each image draws one shape, anti-aliased, at a random centre, size (half-extent 4-10 px at 28 px),
    stroke width (1-2.5 px), brightness and, for diagonals, direction; then Gaussian noise of std ``noise``
    (on the 0-1 scale) and clipping. The same seed gives the same images on every machine.
    """
    for arg, v, low in (("n", n, 0), ("size", size, 1)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < low:
            raise ValueError(f"make_patterns: {arg} must be an integer >= {low}, got {v!r}")
    if isinstance(noise, (bool, np.bool_)) or not isinstance(noise, (int, float, np.integer, np.floating)) \
            or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"make_patterns: noise must be a finite number >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    k = len(PATTERN_CLASSES)
    labels = rng.permutation(np.arange(n) % k).astype(np.int64)
    s = size / 28.0
    cx = rng.uniform(10, 18, n) * s
    cy = rng.uniform(10, 18, n) * s
    half = rng.uniform(4, 10, n) * s
    width = rng.uniform(1.0, 2.5, n) * s
    bright = rng.uniform(0.6, 1.0, n)
    sign = rng.choice([-1.0, 1.0], n)
    grid = np.arange(size, dtype=np.float64) + 0.5
    images = np.empty((n, size, size), dtype=np.float64)
    for c in range(k):
        idx = np.flatnonzero(labels == c)
        dx = grid[None, None, :] - cx[idx, None, None]
        dy = grid[None, :, None] - cy[idx, None, None]
        h = half[idx, None, None]
        if c == 0:
            d = _segment_distance(dx, dy, h)
        elif c == 1:
            d = _segment_distance(dy, dx, h)
        elif c == 2:
            d = np.minimum(_segment_distance(dx, dy, h), _segment_distance(dy, dx, h))
        elif c == 3:
            d = np.abs(np.maximum(np.abs(dx), np.abs(dy)) - h)
        elif c == 4:
            d = np.abs(np.sqrt(dx**2 + dy**2) - h)
        else:
            sg = sign[idx, None, None]
            d = _segment_distance((dx + sg * dy) / math.sqrt(2), (sg * dx - dy) / math.sqrt(2), h * math.sqrt(2))
        ink = np.clip(width[idx, None, None] / 2 + 0.5 - d, 0.0, 1.0)
        images[idx] = bright[idx, None, None] * ink
    images += noise * rng.standard_normal(images.shape)
    return np.round(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8), labels


def load_patterns(n_train: int = 6000, n_test: int = 1000, seed: int = 0, noise: float = 0.2) -> Dataset:
    """The synthetic ``patterns`` dataset (28x28, 6 classes), generated from ``seed`` with no files."""
    for arg, v in (("n_train", n_train), ("n_test", n_test)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"load_patterns: {arg} must be an integer >= 1, got {v!r}")
    train_seq, test_seq = np.random.SeedSequence(seed).spawn(2)
    xtr, ytr = make_patterns(n_train, train_seq, noise=noise)
    xte, yte = make_patterns(n_test, test_seq, noise=noise)
    mean, std = _pixel_stats(xtr)
    return Dataset("patterns", xtr, ytr, xte, yte, PATTERN_CLASSES, mean, std)


DATASETS = ("patterns", "mnist", "fashion-mnist")


def load_dataset(name: str, root: str | os.PathLike | None = None, seed: int = 0) -> Dataset:
    """'patterns' (generated from ``seed``), 'mnist' or 'fashion-mnist' (from ``root``)."""
    if name == "patterns":
        return load_patterns(seed=seed)
    if name == "mnist":
        return load_mnist(root)
    if name == "fashion-mnist":
        return load_fashion_mnist(root)
    raise ValueError(f"load_dataset: unknown dataset {name!r}; choose from {DATASETS}")


# -------------------------------------------------------------------- batching
class DataLoader:
    """Mini-batches ``(x, y)``: x float32 (B, 1, H, W) normalised as (pixel - mean) / std, y int64 (B,).

    uint8 images are scaled to 0-1 first; float images are taken as they are. With ``shuffle`` each pass
    draws a new order from a generator seeded once with ``seed``, so a run repeats exactly. ``drop_last``
    leaves out a final batch smaller than ``batch_size``. ``shift`` > 0 augments with random crops with
    padding: each image is padded by ``shift`` background pixels (0) on every side and a random window of
    its own size is cut out, i.e. it moves by a random whole number of pixels in [-shift, shift] along each
    axis. ``flip`` mirrors each image left-right with probability 1/2. Both draw from the same generator
    (crops, then flips, per batch), so an augmented run repeats exactly too.

    Arguments are checked (ValueError): the dataset must not be empty, ``batch_size`` is an int >= 1 (and
    not larger than the dataset with ``drop_last``, which would leave no batch), ``mean`` finite, ``std``
    finite and > 0.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch_size: int = 64, shuffle: bool = False,
                 seed: int = 0, drop_last: bool = False, mean: float = 0.0, std: float = 1.0, shift: int = 0,
                 flip: bool = False) -> None:
        images, labels = np.asarray(images), np.asarray(labels)
        if images.ndim not in (3, 4):
            raise ValueError(f"DataLoader: images must be (N, H, W) or (N, C, H, W), got shape {images.shape}")
        if labels.shape != images.shape[:1] or labels.dtype.kind not in "iu":
            raise ValueError(
                f"DataLoader: labels must be integers of shape ({len(images)},), got {labels.dtype} {labels.shape}"
            )
        if images.dtype != np.uint8 and images.dtype.kind != "f":
            raise TypeError(f"DataLoader: images must be uint8 or float, got {images.dtype}")
        if len(images) == 0 or images[0].size == 0:
            raise ValueError(
                f"DataLoader: the dataset is empty (images of shape {images.shape}); there is nothing to batch"
            )
        if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        for arg, v in (("mean", mean), ("std", std)):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(v):
                raise ValueError(f"DataLoader: {arg} must be a finite number, got {v!r}")
        if std <= 0:
            raise ValueError(f"DataLoader: std must be positive, got {std}")
        if drop_last and batch_size > len(images):
            raise ValueError(
                f"DataLoader: drop_last with batch_size {batch_size} > {len(images)} examples leaves no batch"
            )
        if not isinstance(shift, (int, np.integer)) or shift < 0 or 2 * shift >= min(images.shape[-2:]):
            most = (min(images.shape[-2:]) - 1) // 2
            raise ValueError(f"DataLoader: shift must be an int in [0, {most}], got {shift!r}")
        if not isinstance(flip, (bool, np.bool_)):
            raise TypeError(f"DataLoader: flip must be True or False, got {flip!r}")
        self.images, self.labels = images, labels
        self.flip = bool(flip)
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), bool(shuffle), bool(drop_last)
        self.mean, self.std, self.shift = float(mean), float(std), int(shift)
        self._rng = np.random.default_rng(seed)

    @property
    def rng(self) -> np.random.Generator:
        """The generator the shuffles and shifts are drawn from (its ``bit_generator.state`` resumes a run)."""
        return self._rng

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def normalize(self, images: np.ndarray) -> np.ndarray:
        """float32 (B, C, H, W) of uint8 or float images, (x - mean) / std."""
        scale = 1.0 / 255.0 if images.dtype == np.uint8 else 1.0
        x = images.astype(np.float32)
        x *= np.float32(scale / self.std)
        x -= np.float32(self.mean / self.std)
        return x[:, None] if x.ndim == 3 else x

    def translate(self, images: np.ndarray) -> np.ndarray:
        """Each image shifted by random (dy, dx) in [-shift, shift]^2, background-filled (see the class doc)."""
        s = self.shift
        h, w = images.shape[-2:]
        width = [(0, 0)] * (images.ndim - 2) + [(s, s), (s, s)]
        windows = np.lib.stride_tricks.sliding_window_view(np.pad(images, width), (h, w), axis=(-2, -1))
        dy, dx = self._rng.integers(0, 2 * s + 1, (2, len(images)))
        return windows[np.arange(len(images)), ..., dy, dx, :, :]

    def mirror(self, images: np.ndarray) -> np.ndarray:
        """Each image flipped left-right (last axis reversed) with probability 1/2, the others as they are."""
        chosen = self._rng.random(len(images)) < 0.5
        return np.where(chosen.reshape((-1,) + (1,) * (images.ndim - 1)), images[..., ::-1], images)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(self.labels)
        order = self._rng.permutation(n) if self.shuffle else None
        for i in range(len(self)):
            sl = slice(i * self.batch_size, min(n, (i + 1) * self.batch_size))
            idx = order[sl] if order is not None else sl
            images = self.images[idx]
            if self.shift:
                images = self.translate(images)
            if self.flip:
                images = self.mirror(images)
            yield self.normalize(images), self.labels[idx].astype(np.int64)


__all__ = [
    "IDXError", "read_idx", "write_idx", "Dataset", "load_mnist", "load_fashion_mnist", "load_patterns",
    "load_dataset", "make_patterns", "download", "DownloadError", "DataLoader", "PATTERN_CLASSES", "DATASETS",
    "resolve_root", "default_cache_dir", "sha256_file",
]
