"""Graph drawings: the boxes, arrows, labels and clusters that draw_graph produces, and real SVG renders."""

from __future__ import annotations

import gc
import re
import shutil
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.functional as F
from tinygrad_cnn import viz
from tinygrad_cnn.core.tensor import Ghost
from tinygrad_cnn.viz import GraphvizNotFoundError, draw_graph, retain_grads

NODE = re.compile(r"^\s*(n\d+) \[(.*)\]$")
EDGE = re.compile(r"^\s*(n\d+) -> (n\d+)(?: \[(.*)\])?$")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's `dot` program is not installed (apt-get install graphviz)")


# ---------------------------------------------------------------- reading a drawing back
def nodes(g: graphviz.Digraph) -> dict[str, str]:
    """node id -> its attribute text."""
    out = {}
    for line in g.source.splitlines():
        m = NODE.match(line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def edges(g: graphviz.Digraph) -> list[tuple[str, str, str]]:
    """The visible edges (layout-only invisible ones left out), as (tail, head, attributes)."""
    out = []
    for line in g.source.splitlines():
        m = EDGE.match(line)
        if m and "style=invis" not in (m.group(3) or ""):
            out.append((m.group(1), m.group(2), m.group(3) or ""))
    return out


def text(attrs: str) -> str:
    """The label of a node as plain text, lines joined by ' | '."""
    label = re.search(r"label=<(.*?)>(?= \w+=|$)", attrs).group(1)
    label = label.replace("<BR/>", " | ")
    label = re.sub(r"<[^>]+>", "", label)
    return label.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def labels(g: graphviz.Digraph) -> dict[str, str]:
    return {k: text(v) for k, v in nodes(g).items()}


def find(g: graphviz.Digraph, first_line: str) -> list[str]:
    """Ids of the boxes whose label starts with ``first_line``."""
    return [k for k, t in labels(g).items() if t.split(" | ")[0] == first_line]


def attr(attrs: str, name: str) -> str | None:
    m = re.search(rf'(?:^| ){name}=("(?:[^"\\]|\\.)*"|[^ \]]+)', attrs)
    return None if m is None else m.group(1).strip('"')


def param(*shape: int, seed: int = 0, name: str | None = None, scale: float = 1.0) -> tg.Tensor:
    data = np.random.default_rng(seed).standard_normal(shape) * scale
    return tg.Tensor(data.astype(np.float32), requires_grad=True, name=name)


def data(*shape: int, seed: int = 1, name: str | None = None) -> tg.Tensor:
    return tg.Tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32), name=name)


# ---------------------------------------------------------------- small expressions: exact structure
def test_small_expression_exact_boxes_and_arrows():
    a, b, c = param(2, 3, seed=0), param(2, 3, seed=1), param(2, 3, seed=2)
    loss = (a * b + c).sum()
    g = draw_graph(loss, params={"a": a, "b": b, "c": c})
    lab = labels(g)
    # 3 parameters, 3 ops (mul, add, sum), 1 output
    assert len(lab) == 7
    assert sorted(t.split(" | ")[0] for t in lab.values()) == ["a", "add", "b", "c", "mul", "output", "sum"]
    ids = {t.split(" | ")[0]: k for k, t in lab.items()}
    assert sorted((s, d) for s, d, _ in edges(g)) == sorted([
        (ids["a"], ids["mul"]), (ids["b"], ids["mul"]), (ids["mul"], ids["add"]), (ids["c"], ids["add"]),
        (ids["add"], ids["sum"]), (ids["sum"], ids["output"])])
    assert lab[ids["mul"]] == "mul | 2×3 float32"
    assert lab[ids["sum"]] == "sum | axis=None | scalar float32"
    assert lab[ids["a"]] == "a | 2×3 float32"
    # parameters, ops and the output have distinct styles
    fills = {name: attr(nodes(g)[ids[name]], "fillcolor") for name in ("a", "mul", "output")}
    assert len(set(fills.values())) == 3


def test_tensor_used_twice_is_drawn_once_with_two_arrows():
    x = param(4, name="x")
    g = draw_graph((x * x).sum())
    assert len(nodes(g)) == 4  # x, mul, sum, output
    (x_id,) = find(g, "x")
    (mul_id,) = find(g, "mul")
    assert [(s, d) for s, d, _ in edges(g)].count((x_id, mul_id)) == 2


def test_one_element_constants_are_written_inside_the_op():
    x = param(3, name="x")
    g = draw_graph((1.0 - x * 2.0).sum())
    lab = labels(g)
    assert len(lab) == 5  # x, mul, sub, sum, output: no boxes for the constants
    (mul_id,) = find(g, "mul")
    (sub_id,) = find(g, "sub")
    assert "b = 2" in lab[mul_id]  # named as the op's VJP names its inputs
    assert "a = 1" in lab[sub_id]
    assert len(edges(g)) == 4


def test_data_leaves_are_dashed_and_arrows_from_them_too():
    x, w = data(5, 3, name="x"), param(3, 2, name="w")
    g = draw_graph((x @ w).sum())
    (x_id,) = find(g, "x")
    (w_id,) = find(g, "w")
    assert "dashed" in attr(nodes(g)[x_id], "style") and "dashed" not in attr(nodes(g)[w_id], "style")
    styles = {s: a for s, _, a in edges(g)}
    assert "style=dashed" in styles[x_id] and "style=dashed" not in styles[w_id]
    unnamed = draw_graph((data(5, 3) @ w).sum())
    assert len(find(unnamed, "data")) == 1


def test_names_come_from_params_then_tensor_name():
    w = param(3, name="given")
    v = param(3, name="other")
    g = draw_graph((w * v).sum(), params={"renamed": w})
    assert find(g, "renamed") and find(g, "other") and not find(g, "given")
    assert find(draw_graph(param(3).sum()), "parameter")


def test_params_as_nested_structure_list_and_module():
    p = {"fc1": {"w": param(3, 2), "b": param(2)}, "heads": [param(2, seed=3)]}
    loss = ((data(4, 3) @ p["fc1"]["w"] + p["fc1"]["b"]) * p["heads"][0]).sum()
    g = draw_graph(loss, params=p)
    for name in ("fc1.w", "fc1.b", "heads[0]"):
        assert len(find(g, name)) == 1

    class Module:
        def __init__(self):
            self.w = param(3)

        def named_parameters(self):
            yield "layer.weight", self.w

    m = Module()
    assert find(draw_graph(m.w.sum(), params=m), "layer.weight")
    with pytest.raises(TypeError, match="params must be"):
        draw_graph(m.w.sum(), params=3)


def test_op_attributes_are_readable():
    x = param(3, 4, name="x")
    y = x.sum(axis=1, keepdims=True).reshape(3) + x[:, 1:3].sum(axis=1) + (x ** 3).max(axis=1)
    lab = labels(draw_graph(y.sum()))
    text_all = "\n".join(lab.values())
    assert "axis=(1,), keepdims" in text_all
    assert "shape=(3,)" in text_all
    assert "index=[:, 1:3]" in text_all
    assert "exponent=3" in text_all
    assert "keepdims=False" not in text_all and "keepdims=True" not in text_all
    plain = labels(draw_graph(y.sum(), show_attrs=False, show_shapes=False))
    assert all("=" not in t and "float32" not in t for t in plain.values())
    # HTML-like labels stay well-formed even for indices written with angle brackets
    fancy = draw_graph(x[np.arange(3), np.array([0, 1, 2, 3, 0, 1, 2])[:3]].sum())
    assert "index=[[0, 1, 2], [0, 1, 2]]" in "\n".join(labels(fancy).values())
    many = draw_graph(x[np.arange(3).repeat(3)].sum())
    assert "&lt;int64 (9,)&gt;" in many.source


def test_geometry_attributes_are_compacted():
    assert viz.graph.format_attr("stride", (2, 2)) == "stride=2"
    assert viz.graph.format_attr("padding", ((2, 2), (2, 2))) == "padding=2"
    assert viz.graph.format_attr("padding", ((1, 1), (0, 0))) == "padding=(1, 0)"
    assert viz.graph.format_attr("padding", ((1, 2), (0, 0))) == "padding=((1, 2), (0, 0))"
    assert viz.graph.format_attr("dilation", (1, 1)) is None and viz.graph.format_attr("groups", 1) is None
    assert viz.graph.format_attr("groups", 2) == "groups=2"
    assert viz.graph.format_attr("shape", (2, 2)) == "shape=(2, 2)"  # only geometry is compacted
    assert viz.graph.format_attr("dtype", np.dtype(np.float64)) == "dtype=float64"


def test_show_data_gives_values_and_statistics():
    x = tg.Tensor(np.array([1.0, 2.0, 3.0, 6.0], np.float32), requires_grad=True, name="x")
    g = draw_graph(x.sum(), show_data=True)
    (x_id,) = find(g, "x")
    assert "μ 3  σ 1.87  [1, 6]" in labels(g)[x_id]
    assert "= 12" in labels(g)[find(g, "output")[0]]
    assert "μ" not in "".join(labels(draw_graph(x.sum())).values())


# ---------------------------------------------------------------- gradients
def mlp_with_dead_unit():
    x = data(6, 3, name="x")
    w1 = tg.Tensor(np.array([[1.0, -1.0], [0.5, -0.5], [0.2, -0.2]], np.float32), requires_grad=True, name="w1")
    b1 = tg.Tensor(np.array([5.0, -50.0], np.float32), requires_grad=True, name="b1")  # unit 2 is dead
    w2 = param(2, 1, seed=4, name="w2", scale=0.1)
    h = (x @ w1 + b1).relu()
    return (h @ w2).tanh().sum(), (w1, b1, w2)


def test_show_grad_shades_by_magnitude_and_shows_dead_units():
    loss, (w1, b1, w2) = mlp_with_dead_unit()
    retain_grads(loss)
    loss.backward()
    g = draw_graph(loss, show_grad=True)
    lab, nd = labels(g), nodes(g)
    (relu_id,) = find(g, "relu")
    (add_id,) = find(g, "add")
    assert "50% zero" in lab[add_id]  # half the pre-activations get no gradient back: the dead unit
    assert "grad μ" in lab[relu_id] and "|grad|" in lab[relu_id]
    fills = {k: attr(v, "fillcolor") for k, v in nd.items()}
    # the largest mean |grad| is full red; smaller ones are paler
    means = {k: float(re.search(r"\|grad\| ([0-9.e+-]+)", t).group(1)) for k, t in lab.items() if "|grad|" in t}
    top = max(means, key=means.get)
    assert fills[top] == viz.graph.heat_color(1.0)
    low = min(means, key=means.get)
    assert fills[low] != fills[top]
    assert "log scale" in g.source
    # an all-zero gradient is grey
    dead = tg.Tensor(-np.ones(3, np.float32), requires_grad=True, name="dead")
    loss2 = (dead.relu() + param(3, name="alive")).sum()
    loss2.backward()
    g2 = draw_graph(loss2, show_grad=True)
    assert attr(nodes(g2)[find(g2, "dead")[0]], "fillcolor") == viz.graph._ZERO_GRAD
    assert attr(nodes(g2)[find(g2, "alive")[0]], "fillcolor") == viz.graph.heat_color(1.0)


def test_show_grad_without_kept_gradients_says_how_to_keep_them():
    loss, _ = mlp_with_dead_unit()
    loss.backward()
    g = draw_graph(loss, show_grad=True)
    assert "grad not kept" in labels(g)[find(g, "relu")[0]]
    assert "retain_grads" in g.source
    assert "grad μ" in labels(g)[find(g, "w1")[0]]  # parameters always have theirs


def test_retain_grads_keeps_the_whole_graph_through_backward():
    loss, _ = mlp_with_dead_unit()
    before = draw_graph(loss)
    existing = set(viz.graph._kept)
    retain_grads(loss)
    ours = set(viz.graph._kept) - existing
    loss.backward()
    after = draw_graph(loss, show_data=True, show_grad=True)
    assert len(nodes(after)) == len(nodes(before)) and len(edges(after)) == len(edges(before))
    assert "grad not kept" not in after.source and "freed" not in after.source
    assert "μ" in labels(after)[find(after, "x")[0]]  # the input's values are kept too
    # the kept tensors go with the root
    assert len(ours) == 1 and ours <= set(viz.graph._kept)
    del loss, before, after
    gc.collect()
    assert not ours & set(viz.graph._kept)
    with pytest.raises(RuntimeError, match="before backward"):
        loss2, _ = mlp_with_dead_unit()
        loss2.backward()
        retain_grads(loss2)


def test_graph_freed_by_backward_still_draws_from_ghosts():
    x, w = data(4, 3, name="x"), param(3, 2, name="w")
    loss = ((x @ w).relu() * 3.0).sum()
    before = draw_graph(loss)
    loss.backward()  # frees the graph: inputs become Ghost records
    assert any(isinstance(i, Ghost) for i in loss._node.inputs)
    after = draw_graph(loss)
    assert len(edges(after)) == len(edges(before))
    expected = {k: v.replace("b = 3", "b = const") for k, v in labels(before).items()}  # the value is freed
    assert labels(after) == expected
    noted = draw_graph(loss, show_data=True)
    assert "freed by backward()" in noted.source


# ---------------------------------------------------------------- the backward graph
def test_backward_graph_draws_the_vjp_ops():
    x, w = data(4, 3, name="x"), param(3, 2, name="w")
    loss = (x @ w).tanh().square().mean()
    loss.backward(create_graph=True)
    g = draw_graph(loss, params={"w": w}, backward=True)
    lab = labels(g)
    firsts = [t.split(" | ")[0] for t in lab.values()]
    assert firsts.count("grad of w") == 1
    assert "forward tanh" in firsts  # the VJP of tanh reads its output, drawn but not expanded
    assert firsts.count("matmul") == 1  # dW = X^T G, with X^T a constant (X needs no gradient)
    assert "sub | a = 1 | 4×2 float32" in lab.values()  # tanh's VJP: g * (1 - y^2)
    (out_id,) = find(g, "grad of w")
    assert lab[out_id] == "grad of w | 3×2 float32"
    assert attr(nodes(g)[find(g, "matmul")[0]], "fillcolor") == viz.graph._STYLE["vjp"]["fillcolor"]
    # 2 constants (X^T, the mean's broadcast seed), tanh's output, mul x 4, add, sub, matmul, the gradient
    assert len(lab) == 11 and len(edges(g)) == 14
    assert "tanh" not in firsts and "sum" not in firsts  # the forward ops are not drawn again


def test_backward_graph_needs_create_graph():
    w = param(3, name="w")
    loss = (w * w).sum()
    loss.backward()
    with pytest.raises(ValueError, match=r"create_graph=True"):
        draw_graph(loss, backward=True)


# ---------------------------------------------------------------- scopes, collapse, max_nodes
def scoped_mlp():
    params = {f"fc{i}": {"w": param(4, 4, seed=i, scale=0.5), "b": param(4, seed=10 + i)} for i in (1, 2, 3)}
    x = data(2, 4, name="x")
    h = x
    with tg.scope("net"):
        for i in (1, 2, 3):
            with tg.scope(f"fc{i}"):
                h = F.linear(h, params[f"fc{i}"]["w"], params[f"fc{i}"]["b"]).relu()
    with tg.scope("loss"):
        loss = h.square().mean()
    return loss, params


def test_scopes_become_nested_clusters_holding_their_parameters():
    loss, params = scoped_mlp()
    g = draw_graph(loss, params=params)
    src = g.source
    for name in ("cluster_net", '"cluster_net/fc1"', '"cluster_net/fc2"', '"cluster_net/fc3"', "cluster_loss"):
        assert f"subgraph {name} {{" in src
    # fc2's weight is declared inside fc2's cluster, the output outside every cluster
    block = src.split('subgraph "cluster_net/fc2" {')[1].split("}")[0]
    assert re.search(r"<B>fc2\.w</B>", block) and "<B>fc1.w</B>" not in block
    (out_id,) = find(g, "output")
    assert re.search(rf"^\t{out_id} \[", src, re.M)  # top level: one tab of indentation
    # 3 x (w, permute, matmul, b, add, relu) + x + loss (mul, sum, div) + output
    assert len(nodes(g)) == 3 * 6 + 1 + 3 + 1


def test_collapse_folds_a_scope_into_one_box():
    loss, params = scoped_mlp()
    full = draw_graph(loss, params=params)
    g = draw_graph(loss, params=params, collapse="fc2")
    lab = labels(g)
    (fold_id,) = find(g, "fc2")
    assert lab[fold_id] == "fc2 | 4 ops · 20 parameters (2 tensors) | 2×4 float32"
    assert attr(nodes(g)[fold_id], "shape") == "box3d"
    assert len(lab) == len(labels(full)) - 6 + 1
    assert len(edges(g)) == len(edges(full)) - 5  # the 5 arrows inside vanish; the ones in and out stay
    ins = [s for s, d, _ in edges(g) if d == fold_id]
    outs = [d for s, d, _ in edges(g) if s == fold_id]
    assert len(ins) == 1 and len(outs) == 1
    assert "cluster_net/fc2" not in g.source
    # nested paths, several scopes, and an outer scope folding everything inside it
    assert find(draw_graph(loss, params=params, collapse="net/fc2"), "fc2")
    both = draw_graph(loss, params=params, collapse=["fc1", "loss"])
    assert find(both, "fc1") and find(both, "loss") and find(both, "output")
    outer = draw_graph(loss, params=params, collapse="net")
    assert labels(outer)[find(outer, "net")[0]].startswith("net | 12 ops · 60 parameters (6 tensors)")
    assert find(outer, "x")  # the input stays visible beside the folded box
    assert len(nodes(outer)) == 1 + 1 + 3 + 1  # x, net, mul/sum/div, output
    with pytest.raises(ValueError, match=r"matches no scope.*loss, net/fc1, net/fc2, net/fc3"):
        draw_graph(loss, params=params, collapse="fc9")


def test_max_nodes_refuses_unreadable_drawings():
    loss, params = scoped_mlp()
    n = len(nodes(draw_graph(loss, params=params)))
    assert len(nodes(draw_graph(loss, params=params, max_nodes=n))) == n
    with pytest.raises(ValueError, match=rf"has {n} nodes, more than max_nodes=10.*collapse="):
        draw_graph(loss, params=params, max_nodes=10)
    assert len(nodes(draw_graph(loss, params=params, collapse="net", max_nodes=10))) <= 10
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(loss, max_nodes=0)


def test_arguments_are_checked():
    w = param(2)
    with pytest.raises(ValueError, match="at least one Tensor"):
        draw_graph()
    with pytest.raises(TypeError, match="must be a Tensor"):
        draw_graph(np.ones(2))
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(w, rankdir="sideways")
    assert "rankdir=LR" in draw_graph(w.sum(), rankdir="LR").source


def test_several_roots_and_the_tensor_method():
    w = param(3, name="w")
    a, b = w.sum(), (w * w).sum()
    g = draw_graph(a, b)
    assert len(find(g, "output 0")) == 1 and len(find(g, "output 1")) == 1 and len(find(g, "w")) == 1
    assert b.draw(show_data=True).source == draw_graph(b, show_data=True).source
    if not hasattr(tg, "draw_graph"):
        pytest.skip("tinygrad_cnn does not export draw_graph at the top level yet")
    assert tg.draw_graph is draw_graph


def test_deep_graphs_need_no_recursion():
    x = param(2, name="x")
    h = x
    for _ in range(3000):
        h = h * 1.0001
    g = draw_graph(h.sum())
    assert len(nodes(g)) == 3000 + 3


# ---------------------------------------------------------------- output
def test_missing_dot_program_gives_install_instructions(monkeypatch, tmp_path):
    g = draw_graph(param(2, name="w").sum())
    monkeypatch.setenv("PATH", str(tmp_path))  # no Graphviz programs on PATH
    assert "digraph" in g.source
    with pytest.raises(GraphvizNotFoundError, match=r"apt-get install graphviz.*brew install graphviz"):
        g.pipe(format="svg")
    with pytest.raises(graphviz.ExecutableNotFound, match="conda install graphviz"):
        g.render(tmp_path / "graph", format="png")
    with pytest.raises(GraphvizNotFoundError):
        g._repr_mimebundle_()  # Jupyter's display


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


@needs_dot
def test_render_to_svg(tmp_path):
    loss, params = scoped_mlp()
    out = draw_graph(loss, params=params, show_data=True).render(tmp_path / "mlp", format="svg", cleanup=True)
    assert draw_graph(loss)._repr_image_svg_xml().lstrip().startswith("<?xml")  # Jupyter's display
    texts = svg_texts(out)
    for expected in ("fc1.w", "fc3.b", "matmul", "relu", "permute", "axes=(1, 0)", "2×4 float32", "net", "fc2",
                     "output"):
        assert expected in texts, expected


# ---------------------------------------------------------------- a LeNet-sized CNN
def lenet_params(seed: int = 0) -> dict[str, tg.Tensor]:
    shapes = {"conv1.weight": (6, 1, 5, 5), "conv1.bias": (6,), "conv2.weight": (16, 6, 5, 5), "conv2.bias": (16,),
              "fc1.weight": (120, 256), "fc1.bias": (120,), "fc2.weight": (84, 120), "fc2.bias": (84,),
              "fc3.weight": (10, 84), "fc3.bias": (10,)}
    rng = np.random.default_rng(seed)
    return {k: tg.Tensor((rng.standard_normal(s) / np.sqrt(np.prod(s[1:]) if len(s) > 1 else 10)).astype(np.float32),
                         requires_grad=True) for k, s in shapes.items()}


def lenet(p: dict[str, tg.Tensor], x: tg.Tensor) -> tg.Tensor:
    with tg.scope("conv1"):
        h = F.max_pool2d(F.relu(F.conv2d(x, p["conv1.weight"], p["conv1.bias"])), 2)
    with tg.scope("conv2"):
        h = F.max_pool2d(F.relu(F.conv2d(h, p["conv2.weight"], p["conv2.bias"])), 2)
    h = F.flatten(h, 1)
    for name in ("fc1", "fc2"):
        with tg.scope(name):
            h = F.relu(F.linear(h, p[f"{name}.weight"], p[f"{name}.bias"]))
    with tg.scope("fc3"):
        return F.linear(h, p["fc3.weight"], p["fc3.bias"])


@pytest.fixture
def lenet_loss():
    if not (hasattr(F, "conv2d") and hasattr(F, "max_pool2d")):
        pytest.skip("F.conv2d / F.max_pool2d are not available")
    p = lenet_params()
    x = tg.Tensor(np.random.default_rng(1).standard_normal((2, 1, 28, 28)).astype(np.float32), name="images")
    logits = lenet(p, x)
    with tg.scope("loss"):
        loss = F.cross_entropy(logits, np.array([3, 7]))
    return loss, p


def test_lenet_forward_graph(lenet_loss):
    loss, p = lenet_loss
    g = draw_graph(loss, params=p)
    lab = labels(g)
    firsts = [t.split(" | ")[0] for t in lab.values()]
    # per conv layer: weight, bias, conv2d, reshape (bias), add, relu, max_pool2d = 7 boxes, 7 arrows;
    # flatten: 1 box; fc1, fc2: weight, bias, permute, matmul, add, relu = 6 (fc3 has no relu: 5);
    # the input; cross-entropy: 10 ops and the max it subtracts (a constant); the output
    assert len(lab) == 2 * 7 + 1 + 2 * 6 + 5 + 1 + 11 + 1
    # arrows: 2 x 7 (conv layers) + 1 (flatten) + 6 + 6 + 5 (fc) + 13 (cross-entropy) + 1 (output)
    assert len(edges(g)) == 2 * 7 + 1 + 2 * 6 + 5 + 13 + 1
    assert firsts.count("conv2d") == 2 and firsts.count("max_pool2d") == 2 and firsts.count("relu") == 4
    for name in p:
        assert firsts.count(name) == 1, name
    assert "images | 2×1×28×28 float32" in lab.values()
    conv1, conv2 = sorted((k for k, t in zip(lab, firsts) if t == "conv2d"), key=lambda k: int(k[1:]))
    assert lab[conv1] == "conv2d | stride=1, padding=0 | 2×6×24×24 float32"
    assert lab[conv2] == "conv2d | stride=1, padding=0 | 2×16×8×8 float32"
    pools = [t for t in lab.values() if t.startswith("max_pool2d")]
    assert sorted(pools) == ["max_pool2d | kernel_size=2, stride=2, padding=0 | 2×16×4×4 float32",
                             "max_pool2d | kernel_size=2, stride=2, padding=0 | 2×6×12×12 float32"]
    for scope in ("conv1", "conv2", "fc1", "fc2", "fc3", "loss"):
        assert f"subgraph cluster_{scope} {{" in g.source
    block = g.source.split("subgraph cluster_conv2 {")[1].split("}")[0]
    assert "<B>conv2.weight</B>" in block and "<B>conv2d</B>" in block and "<B>conv1.weight</B>" not in block


def test_lenet_collapsed_and_guarded(lenet_loss):
    loss, p = lenet_loss
    with pytest.raises(ValueError, match=r"has 45 nodes, more than max_nodes=20"):
        draw_graph(loss, params=p, max_nodes=20)
    g = draw_graph(loss, params=p, collapse=["conv1", "conv2", "loss"], max_nodes=24)
    lab = labels(g)
    assert lab[find(g, "conv1")[0]] == "conv1 | 5 ops · 156 parameters (2 tensors) | 2×6×12×12 float32"
    assert lab[find(g, "conv2")[0]] == "conv2 | 5 ops · 2,416 parameters (2 tensors) | 2×16×4×4 float32"
    assert lab[find(g, "loss")[0]] == "loss | 10 ops | scalar float32"
    # images, conv1, conv2, flatten, fc1 (6), fc2 (6), fc3 (5), the max constant, loss, output
    assert len(lab) == 1 + 1 + 1 + 1 + 6 + 6 + 5 + 1 + 1 + 1


def test_lenet_backward_graph_shows_transposed_convolution_and_pool_scatter(lenet_loss):
    loss, p = lenet_loss
    loss.backward(create_graph=True)
    g = draw_graph(loss, params=p, backward=True)
    firsts = [t.split(" | ")[0] for t in labels(g).values()]
    assert sorted(t for t in firsts if t.startswith("grad of ")) == sorted(f"grad of {n}" for n in p)
    assert firsts.count("conv_transpose2d") == 1  # only conv2 passes a gradient on to its input
    assert firsts.count("conv2d_weight_grad") == 2
    assert firsts.count("max_pool2d_scatter") == 2
    assert "conv2d" not in firsts and "max_pool2d" not in firsts  # forward ops are not drawn again


def test_lenet_gradients_are_all_kept_and_shaded(lenet_loss):
    loss, p = lenet_loss
    retain_grads(loss)
    loss.backward()
    g = draw_graph(loss, params=p, show_grad=True)
    assert "grad not kept" not in g.source
    fills = [attr(a, "fillcolor") for k, a in nodes(g).items() if re.search(r"\| grad [μ=]", labels(g)[k])]
    assert len(fills) == 10 + 32  # parameters and ops
    assert len(set(fills)) > 5


@needs_dot
def test_lenet_renders_to_svg(lenet_loss, tmp_path):
    loss, p = lenet_loss
    out = draw_graph(loss, params=p, show_data=True).render(tmp_path / "lenet", format="svg", cleanup=True)
    texts = svg_texts(out)
    for expected in ("conv2d", "max_pool2d", "conv1.weight", "fc3.bias", "stride=1, padding=0", "2×6×24×24 float32",
                     "conv1", "images", "loss"):
        assert expected in texts, expected
