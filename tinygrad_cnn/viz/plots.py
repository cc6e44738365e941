"""Pictures of training and of what a CNN learned, written as PNG files (matplotlib, an optional extra).

    plots.plot_history(history, "curves.png")              # loss and accuracy per epoch
    plots.plot_filters(params["conv1.weight"], "filters.png")
    plots.plot_feature_maps(image, {"conv1": a1, "conv2": a2}, "maps.png")
    plots.plot_confusion(cm, classes, "confusion.png")

matplotlib is imported only when a function here runs, through its object-oriented API with the Agg
renderer (no pyplot, no window, no change to the global backend). Without it, the functions raise an
ImportError that says how to install it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "plots need matplotlib: pip install 'tinygrad_cnn[plots]' (or pip install matplotlib)"
        ) from None
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", bbox_inches="tight")
    return path


def _array(x: Any) -> np.ndarray:
    return np.asarray(getattr(x, "data", x))


def plot_history(history: Mapping[str, Sequence[float]], path: str | os.PathLike, title: str = "") -> Path:
    """Training loss (and test loss) and test accuracy (and train accuracy) per epoch, side by side.

    ``history`` holds lists keyed 'train_loss', 'test_loss', 'train_acc', 'test_acc' (any may be missing);
    with 'step_loss' the per-step training loss (a running mean) is drawn faintly behind the epoch means.
    """
    fig = _figure(10, 3.6)
    ax1, ax2 = fig.subplots(1, 2)
    n = max((len(v) for k, v in history.items() if k != "step_loss"), default=0)
    epochs = np.arange(1, n + 1)
    steps = np.asarray(history.get("step_loss") or [], dtype=np.float64)
    if steps.size and n:
        window = max(1, steps.size // (20 * n))  # ~20 points per epoch: a running mean, readable on a log axis
        smooth = np.convolve(steps, np.ones(window) / window, mode="valid")
        xs = np.arange(window, steps.size + 1) * (n / steps.size)
        ax1.plot(xs, smooth, color="tab:blue", alpha=0.35, lw=0.8, label=f"train (mean of {window} steps)")
    for key, style, label in (("train_loss", "o-", "train"), ("test_loss", "s--", "test")):
        if history.get(key):
            ax1.plot(epochs[:len(history[key])], history[key], style, label=label)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy")
    ax1.set_yscale("log")
    ax1.legend()
    ax1.grid(alpha=0.3)
    for key, style, label in (("train_acc", "o-", "train"), ("test_acc", "s--", "test")):
        if history.get(key):
            ax2.plot(epochs[:len(history[key])], 100 * np.asarray(history[key]), style, label=label)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy (%)")
    from matplotlib.ticker import MaxNLocator

    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.legend()
    ax2.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_filters(weight: Any, path: str | os.PathLike, title: str = "first-layer filters") -> Path:
    """Each filter of a conv weight (C_out, C_in, kH, kW) as a small image (input channel 0), on one
    symmetric diverging colour scale: red excites, blue inhibits."""
    w = _array(weight)
    if w.ndim != 4:
        raise ValueError(f"plot_filters: expected a conv weight (C_out, C_in, kH, kW), got shape {w.shape}")
    k = w.shape[0]
    cols = min(k, 8)
    rows = -(-k // cols)
    fig = _figure(1.1 * cols, 1.1 * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, cols)).reshape(-1)
    vmax = float(np.abs(w[:, 0]).max()) or 1.0
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < k:
            ax.imshow(w[i, 0], cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
            ax.set_title(str(i), fontsize=7)
    fig.suptitle(title)
    return _save(fig, path)


def plot_feature_maps(image: Any, maps: Mapping[str, Any], path: str | os.PathLike, max_channels: int = 16,
                      title: str = "") -> Path:
    """One input image and, one row per layer, its feature maps (C, H, W) or (1, C, H, W) after each conv layer."""
    img = _array(image).squeeze()
    layers = [(name, _array(m)[0] if _array(m).ndim == 4 else _array(m)) for name, m in maps.items()]
    cols = max([min(m.shape[0], max_channels) for _, m in layers] + [1])
    fig = _figure(1.0 * (cols + 1), 1.1 * (len(layers) + 1) + 0.3)
    grid = fig.add_gridspec(len(layers) + 1, cols + 1)
    ax = fig.add_subplot(grid[0, 0])
    ax.imshow(img, cmap="gray_r", interpolation="nearest")
    ax.set_title("input", fontsize=8)
    ax.set_axis_off()
    for r, (name, m) in enumerate(layers, start=1):
        lab = fig.add_subplot(grid[r, 0])
        lab.text(0.5, 0.5, f"{name}\n{m.shape[0]}x{m.shape[1]}x{m.shape[2]}", ha="center", va="center", fontsize=8)
        lab.set_axis_off()
        for c in range(min(m.shape[0], max_channels)):
            ax = fig.add_subplot(grid[r, c + 1])
            ax.imshow(m[c], cmap="viridis", interpolation="nearest")
            ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_confusion(cm: Any, classes: Sequence[str], path: str | os.PathLike, title: str = "confusion matrix") -> Path:
    """The confusion matrix (rows: true class, columns: predicted), shaded by row share, with counts."""
    cm = _array(cm)
    n = len(classes)
    if cm.shape != (n, n):
        raise ValueError(f"plot_confusion: matrix of shape {cm.shape} for {n} classes")
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    size = 1.5 + 0.55 * n
    fig = _figure(size, size)
    ax = fig.subplots()
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    return _save(fig, path)


def plot_samples(images: Any, labels: Any, classes: Sequence[str], path: str | os.PathLike, per_class: int = 6,
                 title: str = "") -> Path:
    """A grid of example images, one row per class."""
    images, labels = _array(images), _array(labels)
    n = len(classes)
    fig = _figure(0.9 * per_class + 1.6, 0.9 * n + 0.3)
    axes = fig.subplots(n, per_class, squeeze=False)
    for c in range(n):
        idx = np.flatnonzero(labels == c)[:per_class]
        for j in range(per_class):
            ax = axes[c, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(idx):
                ax.imshow(images[idx[j]].squeeze(), cmap="gray_r", interpolation="nearest")
            if j == 0:
                ax.set_ylabel(classes[c], rotation=0, ha="right", va="center", fontsize=8)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


__all__ = ["plot_history", "plot_filters", "plot_feature_maps", "plot_confusion", "plot_samples"]
