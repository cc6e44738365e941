"""One table of Tensor methods: tinygrad_cnn/methods.py lists every method with the function it calls, the
class body declares the same names for editors and type checkers, and nothing else attaches methods."""

from __future__ import annotations

import ast
from pathlib import Path

import tinygrad_cnn  # noqa: F401  (attaches the table)
from tinygrad_cnn.core.tensor import Tensor
from tinygrad_cnn.methods import METHODS

PACKAGE = Path(tinygrad_cnn.__file__).resolve().parent


def declared_for_type_checkers() -> set[str]:
    tree = ast.parse((PACKAGE / "core" / "tensor.py").read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    block = next(n for n in cls.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    return {n.name for n in block.body if isinstance(n, ast.FunctionDef)}


def test_the_table_and_the_declarations_list_the_same_methods() -> None:
    declared = declared_for_type_checkers()
    assert declared == set(METHODS), (f"in the table only: {sorted(set(METHODS) - declared)}; "
                                      f"declared only: {sorted(declared - set(METHODS))}")


def test_every_method_of_the_table_is_the_function_it_names() -> None:
    for name, fn in METHODS.items():
        assert Tensor.__dict__[name] is fn, name


def test_no_other_module_attaches_methods_to_tensor() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "methods.py" or path.relative_to(PACKAGE) == Path("core/registry.py"):
            continue  # the table itself, and the public tensor_method decorator offered to users' own ops
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "setattr" and node.args and \
                    ast.unparse(node.args[0]) == "Tensor":
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} setattr(Tensor, ...)")
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and ast.unparse(t.value) == "Tensor"
                                                    for t in node.targets):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} Tensor.x = ...")
            if isinstance(node, ast.FunctionDef) and any("tensor_method" in ast.unparse(d) for d in node.decorator_list):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} @tensor_method")
    assert not offenders, "\n".join(offenders)


def test_a_method_is_the_function_with_the_tensor_first() -> None:
    import numpy as np

    import tinygrad_cnn.functional as F

    x = Tensor(np.array([[-1.0, 2.0], [3.0, -4.0]]))
    np.testing.assert_array_equal(x.relu().data, F.relu(x).data)
    np.testing.assert_array_equal((2 - x).data, (2 - x.data))
    np.testing.assert_array_equal(x.T.data, x.data.T)
