"""Draw a small CNN three ways and write the pictures to docs/img/ (SVG):

- graph_forward.svg:   the forward graph: parameters, ops with their attributes, shapes, scopes
- graph_backward.svg:  the backward graph that loss.backward(create_graph=True) recorded (the VJPs)
- graph_gradients.svg: the forward graph shaded by gradient magnitude after a backward pass

    python examples/draw_graphs.py [--out docs/img] [--format svg|png|pdf]

Rendering needs Graphviz's `dot` program (apt-get install graphviz / brew install graphviz /
conda install graphviz); without it the script writes the DOT sources (.gv) instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn.viz import GraphvizNotFoundError, draw_graph, retain_grads

HAVE_CONV = hasattr(F, "conv2d") and hasattr(F, "max_pool2d")


def init_params(seed: int = 0) -> dict[str, tg.Tensor]:
    """A two-layer CNN for 1x12x12 images and 3 classes (an MLP where convolutions are unavailable)."""
    rng = np.random.default_rng(seed)
    shapes = ({"conv1.weight": (4, 1, 3, 3), "conv1.bias": (4,), "conv2.weight": (8, 4, 3, 3), "conv2.bias": (8,),
               "fc.weight": (3, 8 * 2 * 2), "fc.bias": (3,)} if HAVE_CONV else
              {"fc1.weight": (16, 144), "fc1.bias": (16,), "fc2.weight": (3, 16), "fc2.bias": (3,)})
    params = {}
    for name, shape in shapes.items():
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        scale = np.sqrt(2.0 / fan_in) if len(shape) > 1 else 0.1
        params[name] = tg.Tensor((rng.standard_normal(shape) * scale).astype(np.float32), requires_grad=True)
    return params


def forward(p: dict[str, tg.Tensor], x: tg.Tensor, y: np.ndarray) -> tg.Tensor:
    """Cross-entropy of the model's logits; every layer runs in its own scope (a cluster in the picture)."""
    if HAVE_CONV:
        with tg.scope("conv1"):
            h = F.max_pool2d(F.relu(F.conv2d(x, p["conv1.weight"], p["conv1.bias"], padding=1)), 2)
        with tg.scope("conv2"):
            h = F.max_pool2d(F.relu(F.conv2d(h, p["conv2.weight"], p["conv2.bias"])), 2)
        with tg.scope("fc"):
            logits = F.linear(F.flatten(h, 1), p["fc.weight"], p["fc.bias"])
    else:
        h = F.flatten(x, 1)
        with tg.scope("fc1"):
            h = F.relu(F.linear(h, p["fc1.weight"], p["fc1.bias"]))
        with tg.scope("fc2"):
            logits = F.linear(h, p["fc2.weight"], p["fc2.bias"])
    with tg.scope("cross_entropy"):
        return F.cross_entropy(logits, y)


def save(graph, out: Path, name: str, fmt: str) -> None:
    try:
        path = graph.render(out / name, format=fmt, cleanup=True)
    except GraphvizNotFoundError as e:
        path = graph.save(out / f"{name}.gv")
        print(f"{e}\nwrote the DOT source instead")
    print("wrote", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "img")
    parser.add_argument("--format", default="svg", choices=["svg", "png", "pdf"])
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(1)
    x = tg.Tensor(rng.standard_normal((4, 1, 12, 12)).astype(np.float32), name="images")
    y = np.array([0, 2, 1, 2])

    # 1. The forward graph, with the loss's ops folded into one box.
    params = init_params()
    loss = forward(params, x, y)
    loss.name = "loss"
    save(draw_graph(loss, params=params, collapse="cross_entropy"), args.out, "graph_forward", args.format)

    # 2. The backward graph: backward(create_graph=True) records the VJPs as ops.
    loss.backward(create_graph=True)
    save(draw_graph(loss, params=params, backward=True), args.out, "graph_backward", args.format)

    # 3. Gradients: keep every intermediate gradient, then shade the boxes by their magnitude.
    params = init_params()
    loss = forward(params, x, y)
    loss.name = "loss"
    retain_grads(loss)
    loss.backward()
    save(draw_graph(loss, params=params, show_grad=True, collapse="cross_entropy"), args.out, "graph_gradients",
         args.format)


if __name__ == "__main__":
    main()
