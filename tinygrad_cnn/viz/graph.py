"""Draw the graph that autograd recorded, with Graphviz.

    import tinygrad_cnn as tg
    g = tg.draw_graph(loss, params=params)   # a graphviz.Digraph; shows inline in Jupyter
    g.source                                 # the DOT text (needs no Graphviz program)
    g.render("graph", format="svg")          # graph.svg (needs Graphviz's `dot` program)
    loss.draw()                              # the same as draw_graph(loss)

Legend (each box is one tensor or one op; arrows run in the direction the values flow):

- **parameter** (blue, rounded): a leaf tensor that requires grad, named by ``params`` or ``Tensor.name``.
- **data** (grey, square corners, dashed border): a leaf that needs no gradient: inputs, labels,
  constants. One-element constants are written inside the op that uses them (``b = 64``).
- **op** (yellow, rounded): one registered primitive with its attributes (``stride=2``, ``axis=(1,)``).
  The box also stands for the tensor the op produced: its shape and dtype are on the last line.
  Hovering over an op in an SVG shows the op's formula and VJP.
- **output** (green, bold border): a tensor passed to ``draw_graph``.
- **folded scope** (purple 3-D box): a scope folded with ``collapse=``, with its op and parameter counts.
- **backward graph** (``backward=True``): VJP ops (orange), values of the forward pass they read
  (white, dotted border) and the gradients they produce (red, bold border).
- Solid arrows are paths along which gradients flow back; dashed ones carry values that need no gradient.
- With ``show_grad=True`` tensors are filled by the mean of |grad| on a log scale, pale (small) to red
  (large); grey means an all-zero gradient (a dead ReLU, a vanished signal).

Scopes (``with tg.scope("block1"):``) become nested, labelled clusters.
"""

from __future__ import annotations

import html
import itertools
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import graphviz
import numpy as np

from ..ops.movement import format_index
from ..core.tensor import Ghost, Tensor
from ..core.tree import tree_flatten

__all__ = ["draw_graph", "retain_grads", "GraphDrawing", "GraphvizNotFoundError"]

_INSTALL_HINT = (
    "Install Graphviz (the program, not only the Python package): `apt-get install graphviz` on "
    "Debian/Ubuntu, `brew install graphviz` on macOS, `conda install graphviz` in a conda environment, "
    "or see https://graphviz.org/download/. The DOT text is available without it: graph.source"
)


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's ``dot`` program, which is not installed (the message says how to)."""

    def __init__(self, message: str) -> None:
        RuntimeError.__init__(self, message)


class GraphDrawing(graphviz.Digraph):
    """The ``graphviz.Digraph`` that :func:`draw_graph` returns; a missing ``dot`` gets a clear error."""

    def _wrap(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(super(), method)(*args, **kwargs)
        except graphviz.ExecutableNotFound as e:
            if isinstance(e, GraphvizNotFoundError):
                raise
            raise GraphvizNotFoundError(f"draw_graph: cannot {method} the graph: {e}. {_INSTALL_HINT}") from e

    def render(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrap("render", *args, **kwargs)

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrap("pipe", *args, **kwargs)

    def view(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrap("view", *args, **kwargs)

    def unflatten(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrap("unflatten", *args, **kwargs)


# ---------------------------------------------------------------- styles (the legend)
_FONT = "Helvetica"
_STYLE: dict[str, dict[str, str]] = {
    "param": {"style": "rounded,filled", "fillcolor": "#dbe9f6", "color": "#3d78b5"},
    "data": {"style": "filled,dashed", "fillcolor": "#f2f2f2", "color": "#8c8c8c"},
    "op": {"style": "rounded,filled", "fillcolor": "#fff4cc", "color": "#c9a227"},
    "vjp": {"style": "rounded,filled", "fillcolor": "#fde3c8", "color": "#d9822b"},
    "output": {"style": "rounded,filled", "fillcolor": "#d7ecd0", "color": "#3f7f2f", "penwidth": "2.2"},
    "grad": {"style": "rounded,filled", "fillcolor": "#f8d3d0", "color": "#b03a2e", "penwidth": "2.2"},
    "forward": {"style": "rounded,filled,dotted", "fillcolor": "#ffffff", "color": "#7f7f7f"},
    "folded": {"shape": "box3d", "style": "filled", "fillcolor": "#e8dcf0", "color": "#7d5a9e",
               "margin": "0.22,0.14"},
}
_CLUSTER_FILL = ("#f6f6f6", "#ececec")
_ZERO_GRAD = "#bdbdbd"
_NO_GRAD = "#f7f7f7"
_HEAT = ((0.0, (0xFF, 0xF7, 0xF2)), (0.5, (0xFC, 0xB4, 0x98)), (1.0, (0xEE, 0x5A, 0x4F)))
_DECADES = 8.0  # the gradient colour scale spans at most this many powers of ten


# ---------------------------------------------------------------- keeping gradients for the picture
_KeptTable = dict[int, tuple[Tensor | None, tuple[Any, ...]]]  # id(node) -> (its tensor, its original inputs)


@dataclass
class _Kept:
    table: _KeptTable
    alive: int


_kept: dict[int, _Kept] = {}
_tokens = itertools.count()


def _release(token: int) -> None:
    entry = _kept.get(token)
    if entry is not None:
        entry.alive -= 1
        if entry.alive <= 0:
            del _kept[token]


def retain_grads(*roots: Tensor) -> None:
    """Keep every intermediate gradient (and value) of the graphs of ``roots`` for drawing.

    Call it before ``backward()``: each non-leaf tensor gets ``retain_grad()``, and the tensors are kept
    alive (together with the graph's links, which ``backward()`` would otherwise free) for as long as
    the roots live, so ``draw_graph(root, show_grad=True)`` can show and shade every gradient::

        tg.viz.retain_grads(loss)
        loss.backward()
        tg.draw_graph(loss, params=params, show_grad=True, show_data=True)

    This holds every intermediate array in memory: use it for inspection, not in a training loop.
    """
    _check_roots(roots, "retain_grads")
    table: _KeptTable = {}
    stack = [r for r in roots if r.node is not None]
    while stack:
        t = stack.pop()
        node = t.node
        if id(node) in table:
            continue
        if node.freed:
            raise RuntimeError(
                f"retain_grads: the graph through '{node.op.name}' was already freed by backward(); "
                "call retain_grads(root) before backward()"
            )
        t.retain_grad()
        table[id(node)] = (t, node.inputs)
        stack.extend(p for p in node.inputs if isinstance(p, Tensor) and p.node is not None)
    # The roots themselves are held weakly, so the kept tensors go when the last root does.
    held = {id(p) for _, inputs in table.values() for p in inputs}
    tops = [r for r in dict.fromkeys(roots) if r.node is not None and id(r) not in held]
    if not tops:  # only leaves: nothing to keep
        return
    for r in tops:
        table[id(r.node)] = (None, r.node.inputs)
    token = next(_tokens)
    _kept[token] = _Kept(table, len(tops))
    for r in tops:
        weakref.finalize(r, _release, token)


def _kept_table() -> _KeptTable:
    merged: _KeptTable = {}
    for entry in _kept.values():
        for k, v in entry.table.items():
            if k not in merged or merged[k][0] is None:
                merged[k] = v
    return merged


# ---------------------------------------------------------------- text helpers
def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _num(x: float, digits: int = 3) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    return f"{x:.{digits}g}"


def _shape_text(shape: tuple[int, ...], dtype: Any) -> str:
    dims = "scalar" if len(shape) == 0 else "\u00d7".join(str(n) for n in shape)
    return f"{dims} {np.dtype(dtype).name}"


def _stats(a: np.ndarray, digits: int = 3) -> str:
    """The value of a one-element array, else mean, std and range (finite values only)."""
    if a.size == 0:
        return "empty"
    if a.size == 1:
        return f"= {_num(a.item(), digits)}"
    if a.dtype == np.bool_:
        return f"{a.mean():.0%} true"
    finite = np.isfinite(a) if a.dtype.kind == "f" else np.ones(a.shape, dtype=bool)
    bad = a.size - int(finite.sum())
    v = a[finite].astype(np.float64) if bad else a.astype(np.float64, copy=False)
    mean, std, lo, hi = (_num(s, digits) for s in (v.mean(), v.std(), v.min(), v.max())) if v.size else ("",) * 4
    text = f"\u03bc {mean}  \u03c3 {std}  [{lo}, {hi}]" if v.size else ""
    return text + (f"  {bad} NaN/inf" if bad else "")


def _mean_abs(g: np.ndarray) -> float:
    return float(np.abs(g.astype(np.float64, copy=False)).mean()) if g.size else 0.0


def _fmt_value(v: Any, limit: int = 40) -> str:
    if isinstance(v, np.ndarray):
        return f"<{v.dtype.name} {v.shape}>" if v.size > 6 else str(v.tolist())
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):g}"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
        return np.dtype(v).name
    if isinstance(v, tuple):
        inner = ", ".join(_fmt_value(x, limit) for x in v)
        text = f"({inner},)" if len(v) == 1 else f"({inner})"
    elif isinstance(v, list):
        text = "[" + ", ".join(_fmt_value(x, limit) for x in v) + "]"
    else:
        text = str(v)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


_GEOMETRY = {"stride", "padding", "dilation", "kernel_size", "output_padding"}
_DEFAULTS = {"dilation": 1, "groups": 1, "output_padding": 0}  # left out of labels when they hold


def _compact(value: Any) -> Any:
    """(2, 2) -> 2 and ((1, 1), (0, 0)) -> (1, 0): per-axis sizes written once when they agree."""
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) and len(v) == 2 and v[0] == v[1]
                                                  for v in value):
        value = tuple(v[0] for v in value)
    if isinstance(value, tuple) and value and all(v == value[0] for v in value) and not isinstance(value[0], tuple):
        value = value[0]
    return value


def format_attr(name: str, value: Any) -> str | None:
    """``name=value`` for a label; False flags and default geometry are left out, True flags are named."""
    if value is False:
        return None
    if value is True:
        return name
    if name == "index" and isinstance(value, tuple):
        text = format_index(value)
        return f"index={text if len(text) <= 40 else text[:39] + chr(0x2026)}"
    if name in _GEOMETRY or name in _DEFAULTS:
        value = _compact(value)
        if name in _DEFAULTS and value == _DEFAULTS[name]:
            return None
    return f"{name}={_fmt_value(value)}"


def _wrap_items(items: Sequence[str], width: int = 34) -> list[str]:
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 2 + len(item) <= width:
            lines[-1] += ", " + item
        else:
            lines.append(item)
    return lines


def _small(lines: Iterable[str], color: str = "#555555", size: int = 9) -> list[str]:
    return [f'<FONT POINT-SIZE="{size}" COLOR="{color}">{_esc(s)}</FONT>' for s in lines]


def _html(lines: Sequence[str]) -> str:
    return "<" + "<BR/>".join(lines) + ">"


# ---------------------------------------------------------------- the walk
@dataclass
class _Box:
    """One drawn node."""

    kind: str
    obj: Any = None  # the Tensor (or Ghost) it stands for
    scope: tuple[str, ...] = ()
    inputs: list[tuple[Any, str]] = field(default_factory=list)  # (key of an input box, input name)
    consts: list[str] = field(default_factory=list)  # folded one-element constants: "b = 64"
    title: str = ""


def _key(obj: Any) -> tuple[str, int]:
    return ("op", id(obj.node)) if obj.node is not None else ("leaf", id(obj))


def _check_roots(roots: Sequence[Any], who: str) -> None:
    if not roots:
        raise ValueError(f"{who}: give at least one Tensor to draw from")
    for i, r in enumerate(roots):
        if not isinstance(r, Tensor):
            raise TypeError(f"{who}: argument {i} must be a Tensor, got {type(r).__name__}")


def _param_names(params: Any) -> dict[int, str]:
    """id(tensor) -> dotted name, from a dict, a module's named_parameters() or a nested structure."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters") and callable(params.named_parameters):
        pairs = params.named_parameters()
        pairs = list(pairs.items() if isinstance(pairs, dict) else pairs)
    elif isinstance(params, Tensor):
        pairs = [(params.name or "parameter", params)]
    elif isinstance(params, (dict, list, tuple)):
        pairs = tree_flatten(params)[0]
    else:
        raise TypeError(
            "draw_graph: params must be a dict of name -> Tensor, an object with named_parameters(), or a "
            f"nested dict/list of Tensors; got {type(params).__name__}"
        )
    names: dict[int, str] = {}
    for name, t in pairs:
        if isinstance(t, Tensor):
            names.setdefault(id(t), str(name))
    return names


class _Walk:
    """The boxes reachable from some roots, producers before consumers."""

    def __init__(self, names: dict[int, str], kept: _KeptTable,
                 stop: set[int] | None = None, op_kind: str = "op") -> None:
        self.names, self.kept, self.stop, self.op_kind = names, kept, stop or set(), op_kind
        self.boxes: dict[Any, _Box] = {}
        self.order: list[Any] = []

    def _foldable(self, obj: Any) -> bool:
        return (obj.node is None and not obj.requires_grad and int(np.prod(obj.shape)) == 1
                and obj.name is None and id(obj) not in self.names)

    def run(self, roots: Sequence[Any]) -> None:
        stack: list[tuple[Any, bool]] = [(r, False) for r in reversed(roots)]
        while stack:
            obj, done = stack.pop()
            key = _key(obj)
            if done:
                self.order.append(key)
                continue
            if key in self.boxes:
                box = self.boxes[key]
                if isinstance(box.obj, Ghost) and isinstance(obj, Tensor):
                    box.obj = obj  # prefer the real tensor: it has values and gradients
                continue
            node = obj.node
            if node is None:
                self.boxes[key] = _Box("param" if obj.requires_grad else "data", obj)
                self.order.append(key)
                continue
            if id(node) in self.stop:
                self.boxes[key] = _Box("forward", obj)
                self.order.append(key)
                continue
            kept_tensor, inputs = self.kept.get(id(node), (None, node.inputs))
            box = _Box(self.op_kind, kept_tensor if kept_tensor is not None and isinstance(obj, Ghost) else obj,
                       node.scope)
            self.boxes[key] = box
            stack.append((obj, True))
            names = node.op.input_names
            for inp, name in zip(inputs, names):
                if self._foldable(inp):
                    value = "const" if inp.data is None else _fmt_value(np.asarray(inp.data).reshape(()).item())
                    box.consts.append(f"{name} = {value}")
                else:
                    box.inputs.append((_key(inp), name))
            for inp in reversed(inputs):
                if self._foldable(inp):
                    continue
                seen = self.boxes.get(_key(inp))
                if seen is None:
                    stack.append((inp, False))
                elif isinstance(seen.obj, Ghost) and isinstance(inp, Tensor):
                    seen.obj = inp


# ---------------------------------------------------------------- collapse
def _patterns(collapse: str | Sequence[str] | None) -> list[tuple[str, ...]]:
    if collapse is None:
        return []
    items = [collapse] if isinstance(collapse, str) else list(collapse)
    pats: list[tuple[str, ...]] = []
    for item in items:
        if not isinstance(item, str) or not item:
            raise TypeError(f"draw_graph: collapse takes scope names (strings), got {item!r}")
        for p in ((item,), tuple(item.split("/")), tuple(item.split("."))):
            if p not in pats:
                pats.append(p)
    return pats


def _fold_of(scope: tuple[str, ...], pats: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The shortest prefix of ``scope`` that ends with one of the patterns (the scope to fold into)."""
    for j in range(1, len(scope) + 1):
        for p in pats:
            if len(p) <= j and scope[j - len(p):j] == p:
                return scope[:j]
    return None


def _common_prefix(scopes: list[tuple[str, ...]]) -> tuple[str, ...]:
    if not scopes:
        return ()
    first = scopes[0]
    n = len(first)
    for s in scopes[1:]:
        n = min(n, len(s))
        while n and s[:n] != first[:n]:
            n -= 1
    return first[:n]


def heat_color(t: float) -> str:
    t = min(max(t, 0.0), 1.0)
    for (t0, c0), (t1, c1) in zip(_HEAT, _HEAT[1:]):
        if t <= t1:
            u = (t - t0) / (t1 - t0)
            return "#" + "".join(f"{round(a + (b - a) * u):02x}" for a, b in zip(c0, c1))
    return "#" + "".join(f"{c:02x}" for c in _HEAT[-1][1])


# ---------------------------------------------------------------- the drawing
def draw_graph(
    *roots: Tensor,
    params: Any = None,
    show_shapes: bool = True,
    show_attrs: bool = True,
    show_data: bool = False,
    show_grad: bool = False,
    backward: bool = False,
    collapse: str | Sequence[str] | None = None,
    max_nodes: int | None = None,
    rankdir: str = "TB",
) -> GraphDrawing:
    """Draw the computation graph that produced ``roots`` as a ``graphviz.Digraph``.

    - ``params``: names for leaves, as a dict ``{name: Tensor}``, an object with ``named_parameters()``
      (an ``nn`` module) or a nested dict/list of Tensors (as passed to ``tg.grad``; dotted paths).
      Leaves not named there use ``Tensor.name``.
    - ``show_shapes`` / ``show_attrs``: shape and dtype of every tensor; op attributes (stride, axis, index).
    - ``show_data``: each tensor's value (one element) or mean, std and [min, max].
    - ``show_grad``: the same for gradients, and tensors shaded by mean |grad| on a log scale (pale to
      red; grey: all zero). Parameters have ``.grad`` after ``backward()``; intermediate tensors only
      if :func:`retain_grads` (or ``retain_grad()``) was called on them before ``backward()``.
    - ``backward=True``: draw the backward graph that ``backward(create_graph=True)`` recorded: the
      graphs of the gradients of the leaves (parameters) of ``roots``, made of the ops' VJPs. Values of
      the forward pass that the VJPs read are drawn as boxes, not expanded.
    - ``collapse``: a scope name or a list of them (``"block1"``, nested as ``"net/block1"``); every scope
      whose path ends with one is folded into one box with its op and parameter counts.
    - ``max_nodes``: raise ValueError instead of drawing more boxes than this.
    - ``rankdir``: ``"TB"`` (top to bottom), ``"LR"``, ``"BT"`` or ``"RL"``.

    See the module docstring for the legend. ``.source`` gives the DOT text; ``.render(path,
    format="svg"|"png"|"pdf")`` and Jupyter's inline display need Graphviz's ``dot`` program.
    """
    _check_roots(roots, "draw_graph")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"draw_graph: rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"draw_graph: max_nodes must be a positive int or None, got {max_nodes!r}")
    names = _param_names(params)
    boxes, order = _collect(tuple(dict.fromkeys(roots)), names, _kept_table(), backward)
    fold = _fold(boxes, order, collapse)

    def where(key: Any) -> Any:
        return ("fold", fold[key]) if key in fold else key

    drawn: list[Any] = list(dict.fromkeys(where(k) for k in order))
    if max_nodes is not None and len(drawn) > max_nodes:
        _too_many(boxes, order, fold, len(drawn), max_nodes)

    grads: dict[Any, np.ndarray | None] = {}
    notes: list[str] = []
    lo = hi = 0.0
    if show_grad:
        grads, lo, hi, notes = _gradient_scale(boxes, order, fold)
    if (show_data or show_grad) and any(isinstance(boxes[k].obj, Ghost) for k in order):
        notes.append("some values were freed by backward(): call tg.viz.retain_grads(root) before backward() "
                     "to keep them")

    graph = GraphDrawing(
        name="tinygrad_cnn",
        graph_attr={"rankdir": rankdir, "fontname": _FONT, "fontsize": "10", "nodesep": "0.25",
                    "ranksep": "0.3", "bgcolor": "white", "pad": "0.15", "newrank": "true",
                    **({"label": _esc("\n".join(notes)), "labelloc": "b", "labeljust": "l",
                        "fontcolor": "#555555"} if notes else {})},
        node_attr={"shape": "box", "fontname": _FONT, "fontsize": "11", "margin": "0.1,0.04",
                   "height": "0.3", "penwidth": "1.2"},
        edge_attr={"color": "#606060", "arrowsize": "0.6", "penwidth": "1.1"},
    )
    ids = {key: f"n{i}" for i, key in enumerate(drawn)}
    # Layout: the ops on the main path share a group (dot keeps their arrows straight); the leaves of a
    # scope are ranked below the value entering it (invisible arrows), so that scopes stack.
    anchors, side = _anchors(boxes, order)
    main = {where(k) for k in order if not side[k] and boxes[k].kind != "data"}

    # Boxes, grouped by scope.
    placed: dict[tuple[str, ...], list[tuple[str, dict[str, str]]]] = {}
    members: dict[tuple[str, ...], list[Any]] = {}
    for key in order:
        if key in fold:
            members.setdefault(fold[key], []).append(key)
    for dkey in drawn:
        if dkey[0] == "fold":
            scope, attrs = dkey[1][:-1], _folded_attrs(dkey[1], members[dkey[1]], boxes, order, show_shapes)
        else:
            box = boxes[dkey]
            scope = box.scope
            attrs = _box_attrs(box, names, show_shapes, show_attrs, show_data, show_grad, grads.get(dkey),
                               dkey in grads, lo, hi, backward)
        if dkey in main:
            attrs["group"] = "main"
        placed.setdefault(scope, []).append((ids[dkey], attrs))
    _emit_scope(graph, (), placed, 0)

    # Arrows: one per input of each op (those into and out of a folded scope once each).
    seen: set[tuple[str, str]] = set()
    for key in order:
        dst, box = where(key), boxes[key]
        for src_key, name in box.inputs:
            src = where(src_key)
            a, b = ids[src], ids[dst]
            if src == dst or ((src[0] == "fold" or dst[0] == "fold") and (a, b) in seen):
                continue
            seen.add((a, b))
            src_obj = boxes[src_key].obj
            attrs = {}
            if boxes[src_key].kind in ("op", "vjp") and box.kind in ("op", "vjp"):
                attrs["weight"] = "4"  # keep the chain of ops straight; leaves join from the side
            if not src_obj.requires_grad:
                attrs.update(style="dashed", color="#9a9a9a")
            if name and dst[0] != "fold":
                attrs["tooltip"] = f"{name}: {_shape_text(src_obj.shape, src_obj.dtype)}"
            graph.edge(a, b, **attrs)
    for a_key, leaf_key in anchors:
        a, b = where(a_key), where(leaf_key)
        if a != b and b[0] != "fold":
            graph.edge(ids[a], ids[b], style="invis")
    return graph


def _collect(roots: tuple[Tensor, ...], names: dict[int, str], kept: _KeptTable,
             backward: bool) -> tuple[dict[Any, _Box], list[Any]]:
    """The boxes to draw (forward graph, or backward graph of the parameters' gradients), in topological
    order, ending with one output box per root; leaves placed in their consumers' innermost common scope."""
    if backward:
        fwd = _Walk(names, kept)
        fwd.run(roots)
        leaves = [fwd.boxes[k].obj for k in fwd.order if fwd.boxes[k].kind == "param"]
        graphed = [(leaf, leaf.grad) for leaf in leaves
                   if isinstance(leaf, Tensor) and leaf.grad is not None and leaf.grad.node is not None]
        if not graphed:
            with_grad = sum(isinstance(leaf, Tensor) and leaf.grad is not None for leaf in leaves)
            raise ValueError(
                f"draw_graph(backward=True): none of the {len(leaves)} parameter(s) of this graph has a gradient "
                f"with a recorded graph ({with_grad} have plain gradients). Call loss.backward(create_graph=True) "
                "(or tg.gradients(..., create_graph=True)) before drawing the backward graph; a gradient that "
                "depends on no parameter (as for a loss linear in them) records no graph"
            )
        forward_nodes = {id(fwd.boxes[k].obj.node) for k in fwd.order if fwd.boxes[k].kind == "op"}
        walk = _Walk(names, kept, stop=forward_nodes, op_kind="vjp")
        walk.run([g for _, g in graphed])
        outputs = [(g, "grad", "grad of " + _leaf_name(leaf, names, "parameter")) for leaf, g in graphed]
    else:
        walk = _Walk(names, kept)
        walk.run(roots)
        outputs = [(r, "output", r.name or names.get(id(r)) or ("output" if len(roots) == 1 else f"output {i}"))
                   for i, r in enumerate(roots)]
    boxes, order = walk.boxes, walk.order
    for i, (obj, kind, title) in enumerate(outputs):
        boxes[("out", i)] = _Box(kind, obj, (), [(_key(obj), "")], title=title)
        order.append(("out", i))
    consumers: dict[Any, list[tuple[str, ...]]] = {}
    for key in order:
        for src, _ in boxes[key].inputs:
            consumers.setdefault(src, []).append(boxes[key].scope)
    for key in order:
        if boxes[key].kind in ("param", "data", "forward"):
            boxes[key].scope = _common_prefix(consumers.get(key, []))
    return boxes, order


def _fold(boxes: dict[Any, _Box], order: list[Any], collapse: str | Sequence[str] | None) -> dict[Any, Any]:
    """box key -> the scope it is folded into; the inputs of a folded scope move beside its box."""
    pats = _patterns(collapse)
    fold: dict[Any, tuple[str, ...]] = {}
    if not pats:
        return fold
    for key in order:
        box = boxes[key]
        target = None if box.kind in ("output", "grad") else _fold_of(box.scope, pats)
        if target is None:
            continue
        if box.kind in ("data", "forward"):
            box.scope = target[:-1]
        else:
            fold[key] = target
    if not fold:
        scopes = sorted({"/".join(b.scope) for b in boxes.values() if b.scope})
        raise ValueError(
            f"draw_graph: collapse={collapse!r} matches no scope of this graph; its scopes are "
            f"{', '.join(scopes) if scopes else 'none (use `with tg.scope(name):` to make some)'}"
        )
    return fold


def _too_many(boxes: dict[Any, _Box], order: list[Any], fold: dict[Any, Any], n: int, max_nodes: int) -> None:
    tops: dict[str, int] = {}
    for key in order:
        if boxes[key].scope and key not in fold:
            tops[boxes[key].scope[0]] = tops.get(boxes[key].scope[0], 0) + 1
    hint = (f"fold scopes with collapse=, e.g. collapse={sorted(tops, key=tops.get, reverse=True)[:3]!r} "
            f"(boxes per top-level scope: {', '.join(f'{k}: {v}' for k, v in tops.items())})"
            if tops else "wrap parts of the model in `with tg.scope(name):` and fold them with collapse=name")
    raise ValueError(
        f"draw_graph: the graph has {n} nodes, more than max_nodes={max_nodes}; {hint}, "
        "draw a smaller part of the model, or raise max_nodes"
    )


def _gradient_scale(boxes: dict[Any, _Box], order: list[Any], fold: dict[Any, Any]
                    ) -> tuple[dict[Any, np.ndarray | None], float, float, list[str]]:
    """Each shaded box's gradient (None: not kept), the log10 range of mean |grad|, and caption notes."""
    grads: dict[Any, np.ndarray | None] = {}
    for key in order:
        box = boxes[key]
        if box.kind in ("param", "op", "vjp", "forward") and key not in fold:
            g = getattr(box.obj, "grad", None)
            grads[key] = None if g is None else np.asarray(g.data)
    means = (_mean_abs(g) for g in grads.values() if g is not None)
    logs = [float(np.log10(m)) for m in means if m > 0 and np.isfinite(m)]
    notes, lo, hi = [], 0.0, 0.0
    if logs:
        hi = max(logs)
        lo = max(min(logs), hi - _DECADES)
        notes.append(f"fill: mean |grad| on a log scale, pale = {10 ** lo:.1e} to red = {10 ** hi:.1e}; "
                     "grey = all-zero gradient")
    if any(g is None for k, g in grads.items() if boxes[k].kind in ("op", "vjp")):
        notes.append("intermediate gradients not kept: call tg.viz.retain_grads(root) before backward()")
    return grads, lo, hi, notes


def _anchors(boxes: dict[Any, _Box], order: list[Any]) -> tuple[list[tuple[Any, Any]], dict[Any, bool]]:
    """Invisible edges that rank each leaf of a scope below the value entering that scope, so that
    consecutive scopes stack instead of standing side by side.

    A parameter feeds a "side" chain of ops (``w -> permute``) that joins the main path at some op; a
    constant joins it directly. From the first op (in topological order) where the leaf joins, the main
    path is followed back to the first box outside the leaf's scope, an ancestor of that op: anchoring
    the leaf below it can never close a cycle."""
    side: dict[Any, bool] = {}
    sources: dict[Any, list[Any]] = {}  # side box -> the side leaves it is computed from
    first: dict[Any, Any] = {}  # leaf -> the first main-path op it joins
    for key in order:
        box = boxes[key]
        if box.kind in ("param", "forward"):
            side[key], sources[key] = True, [key]
            continue
        if box.kind not in ("op", "vjp"):
            side[key] = False
            continue
        side[key] = bool(box.inputs) and all(side[src] for src, _ in box.inputs)
        if side[key]:
            sources[key] = list(dict.fromkeys(leaf for src, _ in box.inputs for leaf in sources[src]))
            continue
        for src, _ in box.inputs:
            leaves = sources[src] if side[src] else [src] if boxes[src].kind == "data" else []
            for leaf in leaves:
                first.setdefault(leaf, key)
    def main_input(key: Any, skip: Any = None) -> Any:
        return next((src for src, _ in boxes[key].inputs if not side[src] and src != skip), None)

    entry: dict[tuple[Any, tuple[str, ...]], Any] = {}  # (box, scope) -> the main-path box entering scope

    def entering(key: Any, scope: tuple[str, ...]) -> Any:
        path = []
        while key is not None and boxes[key].scope[:len(scope)] == scope and (key, scope) not in entry:
            path.append(key)
            key = main_input(key) if boxes[key].kind in ("op", "vjp") else None
        found = entry.get((key, scope), key) if key is not None else None
        for k in path:
            entry[(k, scope)] = found
        return found

    out = []
    for leaf, op in first.items():
        scope = boxes[leaf].scope
        main = main_input(op, skip=leaf)
        anchor = entering(main, scope) if main is not None and scope else None
        if anchor is not None:
            out.append((anchor, leaf))
    return list(dict.fromkeys(out)), side


def _leaf_name(obj: Any, names: dict[int, str], default: str) -> str:
    return names.get(id(obj)) or obj.name or default


def _box_attrs(box: _Box, names: dict[int, str], show_shapes: bool, show_attrs: bool, show_data: bool,
               show_grad: bool, grad: np.ndarray | None, shaded: bool, lo: float, hi: float,
               backward: bool) -> dict[str, str]:
    obj = box.obj
    attrs = dict(_STYLE[box.kind])
    lines: list[str] = []
    tooltip = ""
    if box.kind in ("op", "vjp"):
        node = obj.node
        lines.append(f"<B>{_esc(node.op.name)}</B>")
        items = [s for s in (format_attr(k, v) for k, v in node.attrs.items()) if s] if show_attrs else []
        lines += _small(_wrap_items(items + box.consts))
        tooltip = node.op.formula or node.op.name
    elif box.kind in ("param", "data"):
        default = "parameter" if box.kind == "param" else "constant" if backward else "data"
        title = _leaf_name(obj, names, default)
        lines.append(f"<B>{_esc(title)}</B>")
        tooltip = f"{title}: {'a parameter (requires grad)' if box.kind == 'param' else 'needs no gradient'}"
    elif box.kind == "forward":
        lines.append(f'<FONT COLOR="#555555">forward </FONT><B>{_esc(obj.node.op.name)}</B>')
        tooltip = "a value of the forward pass, read by the backward pass"
    else:  # output, grad
        lines.append(f"<B>{_esc(box.title)}</B>")
        tooltip = box.title
    if show_shapes:
        lines += _small([_shape_text(obj.shape, obj.dtype)], "#333333")
    data = getattr(obj, "data", None)
    if show_data and data is not None:
        lines += _small([_stats(np.asarray(data))], "#1f3f6f")
    if show_grad and shaded:
        if grad is None:
            lines += _small(["grad not kept"], "#888888")
            attrs["fillcolor"] = _NO_GRAD
        else:
            m = _mean_abs(grad)
            zeros = float(np.mean(grad == 0)) if grad.size else 0.0
            lines += _small(["grad " + _stats(grad, 2)], "#4a1410")
            if grad.size > 1:
                lines += _small([f"|grad| {_num(m, 2)}" + (f"  {zeros:.0%} zero" if zeros > 0 else "")], "#4a1410")
            if m == 0:
                attrs["fillcolor"] = _ZERO_GRAD
            elif np.isfinite(m):
                attrs["fillcolor"] = heat_color(1.0 if hi <= lo else (np.log10(m) - lo) / (hi - lo))
    attrs["label"] = _html(lines)
    attrs["tooltip"] = tooltip
    return attrs


def _folded_attrs(group: tuple[str, ...], members: list[Any], boxes: dict[Any, _Box], order: list[Any],
                  show_shapes: bool) -> dict[str, str]:
    n_ops = sum(boxes[k].kind in ("op", "vjp") for k in members)
    params = [boxes[k].obj for k in members if boxes[k].kind == "param"]
    n_values = sum(int(np.prod(p.shape)) for p in params)
    inside = set(members)
    leaving = list(dict.fromkeys(src for k in order if k not in inside
                                 for src, _ in boxes[k].inputs if src in inside))
    count = f"{n_ops} op{'s' * (n_ops != 1)}"
    if params:
        tensors = f"{len(params)} tensor{'s' * (len(params) != 1)}"
        count += f" \u00b7 {n_values:,} parameter{'s' * (n_values != 1)} ({tensors})"
    lines = [f"<B>{_esc(group[-1])}</B>", *_small([count])]
    if show_shapes and len(leaving) == 1:
        out = boxes[leaving[0]].obj
        lines += _small([_shape_text(out.shape, out.dtype)], "#333333")
    attrs = dict(_STYLE["folded"])
    attrs.update(label=_html(lines), tooltip=f"scope {'/'.join(group)} (folded)")
    return attrs


def _emit_scope(graph: graphviz.Digraph, path: tuple[str, ...],
                placed: dict[tuple[str, ...], list[tuple[str, dict[str, str]]]], depth: int) -> None:
    """Write the nodes of scope ``path`` and, as nested clusters, of the scopes below it."""
    for node_id, attrs in placed.get(path, []):
        graph.node(node_id, **attrs)
    n = len(path)
    children = list(dict.fromkeys(s[:n + 1] for s in placed if len(s) > n and s[:n] == path))
    for child in children:
        with graph.subgraph(name="cluster_" + "/".join(child)) as sub:
            sub.attr(label=f"<<B>{_esc(child[-1])}</B>>", style="rounded,filled", color="#a6a6a6",
                     fillcolor=_CLUSTER_FILL[depth % 2], fontname=_FONT, fontsize="11", fontcolor="#333333",
                     labeljust="l", labelloc="t", penwidth="1")
            _emit_scope(sub, child, placed, depth + 1)

