"""The package's layers: every import points down a layer (or stays inside its own folder), and nothing outside
``core/`` reaches for another module's private names. Read from the source with ``ast``; nothing is imported."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tinygrad_cnn"

# The floors, bottom up. A unit is a top-level module or folder of the package.
LAYERS = {
    "core": 0,
    "ops": 1,
    "functional": 2, "memory": 2,
    "nn": 3, "optim": 3,
    "data": 4,
    "models": 5,
    "train": 6, "viz": 6,
    "methods": 7, "cli": 7,
    "__init__": 8, "__main__": 8,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def is_package(module: str) -> bool:
    return (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists()


def is_module(module: str) -> bool:
    return is_package(module) or (PACKAGE.parent / (module.replace(".", "/") + ".py")).exists()


def imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, target module, names imported from it) for every import of the package in ``path``."""
    me = module_name(path)
    base = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names if a.name.split(".")[0] == "tinygrad_cnn"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                pkg = base.split(".")
                pkg = pkg[: len(pkg) - (node.level - 1)]
                target = ".".join(pkg + ([node.module] if node.module else []))
            elif (node.module or "").split(".")[0] == "tinygrad_cnn":
                target = node.module
            else:
                continue
            names = [a.name for a in node.names]
            modules = [n for n in names if is_module(f"{target}.{n}")]
            found += [(node.lineno, f"{target}.{n}", []) for n in modules]
            rest = [n for n in names if n not in modules]
            if rest:
                found.append((node.lineno, target, rest))
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_unit_has_a_floor() -> None:
    units = {unit(module_name(p)) for p in SOURCES}
    assert units <= set(LAYERS), f"modules without a layer: {sorted(units - set(LAYERS))}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_and_use_no_private_names(path: Path) -> None:
    me = module_name(path)
    mine = unit(me)
    problems = []
    for line, target, names in imports(path):
        theirs = unit(target)
        if theirs != mine and LAYERS[theirs] >= LAYERS[mine]:
            problems.append(f"line {line}: {me} ({mine}, floor {LAYERS[mine]}) imports {target} "
                            f"({theirs}, floor {LAYERS[theirs]})")
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        if private and target != me and not (mine == "core" and theirs == "core") and not (
                names == ["__all__"] or private == [n for n in names if n.startswith("_")] and target.startswith(me)):
            problems.append(f"line {line}: {me} imports private {private} from {target}")
    tree = ast.parse(path.read_text())
    aliases = set()  # names bound to modules of the package: their private attributes are off limits
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            pkg = (me if path.name == "__init__.py" else me.rsplit(".", 1)[0]).split(".")
            target = ".".join(pkg[: len(pkg) - (node.level - 1)] + ([node.module] if node.module else []))
            aliases |= {a.asname or a.name for a in node.names if is_module(f"{target}.{a.name}")}
        elif isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name.startswith("tinygrad_cnn")}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__") and mine != "core"):
            problems.append(f"line {node.lineno}: {me} reads {node.value.id}.{node.attr}, another module's private name")
    assert not problems, "\n".join(problems)


def test_the_checker_catches_an_upward_import(tmp_path: Path) -> None:
    bad = PACKAGE / "ops" / "_layer_probe.py"
    bad.write_text("from ..nn import Linear\nfrom .conv import _private_thing\nfrom . import conv\nconv._local\n")
    try:
        with pytest.raises(AssertionError, match=r"imports tinygrad_cnn\.nn.*\n.*private.*\n.*conv\._local"):
            test_imports_point_down_and_use_no_private_names(bad)
    finally:
        bad.unlink()


def test_importing_the_package_loads_the_engine_ops_functional_and_the_method_table_only() -> None:
    code = ("import sys, tinygrad_cnn as tg; "
            "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('tinygrad_cnn.')}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['core', 'functional', 'methods', 'ops']"
    code = "import tinygrad_cnn as tg; print(tg.nn.Linear.__name__, tg.optim.lr_scheduler.StepLR.__name__, tg.draw_graph.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["Linear", "StepLR", "draw_graph"]


@pytest.mark.parametrize("path", [p for p in SOURCES if p.name != "__main__.py"], ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_says_what_it_exports(path: Path) -> None:
    """Each module has an ``__all__`` (a literal list), and every name in it is defined or imported there."""
    tree = ast.parse(path.read_text())
    exported = [n for n in tree.body if isinstance(n, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets)]
    assert exported, f"{module_name(path)} has no __all__"
    import importlib

    module = importlib.import_module(module_name(path))
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module_name(path)}.__all__ names what it does not have: {missing}"


def test_nothing_outside_core_reaches_into_the_tensors_private_fields() -> None:
    """``Tensor.wrap`` and ``t.node`` are the public ways in; ``_make``, ``_node``, ``_vc``, ... stay the engine's."""
    import re

    pattern = re.compile(r"Tensor\._[a-z]|\._(node|vc|requires_grad|grad|retains_grad)\b")
    found = [f"{p.relative_to(PACKAGE)}:{i}: {line.strip()}" for p in SOURCES if "core" not in p.relative_to(PACKAGE).parts
             for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not found, "\n".join(found)
