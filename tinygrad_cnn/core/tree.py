"""Parameter structures: flatten a dict/list/tuple of leaves (with their paths) and rebuild it.

``tree_flatten({"a": x, "b": [y, z]})`` gives ``[("a", x), ("b[0]", y), ("b[1]", z)]`` and a function that
builds the same structure from a new list of leaves. Transforms, optimizers and graph drawings use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def tree_flatten(tree: Any, path: str = "") -> tuple[list[tuple[str, Any]], Callable[[list[Any]], Any]]:
    """Leaves of a dict/list/tuple structure (with their paths) and a function rebuilding it."""
    if isinstance(tree, dict):
        keys = list(tree)
        parts = [tree_flatten(tree[k], f"{path}.{k}" if path else str(k)) for k in keys]
        sizes = [len(p[0]) for p in parts]

        def build_dict(leaves: list[Any]) -> Any:
            out, i = {}, 0
            for k, (_, rebuild), n in zip(keys, parts, sizes):
                out[k] = rebuild(leaves[i:i + n])
                i += n
            return out if type(tree) is dict else type(tree)(out)

        return [leaf for p in parts for leaf in p[0]], build_dict
    if isinstance(tree, (list, tuple)):
        parts = [tree_flatten(v, f"{path}[{i}]") for i, v in enumerate(tree)]
        sizes = [len(p[0]) for p in parts]

        def build_seq(leaves: list[Any]) -> Any:
            out, i = [], 0
            for (_, rebuild), n in zip(parts, sizes):
                out.append(rebuild(leaves[i:i + n]))
                i += n
            if isinstance(tree, tuple):
                return type(tree)(*out) if hasattr(tree, "_fields") else tuple(out)
            return out

        return [leaf for p in parts for leaf in p[0]], build_seq
    return [(path, tree)], lambda leaves: leaves[0]


__all__ = ["tree_flatten"]
