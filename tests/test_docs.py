"""The docs stay true: their examples run, and the op table matches the registry."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.core.registry import op_table

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("page", ["engine.md"])
def test_doc_examples_run(page):
    before = set(tg.REGISTRY)
    try:
        result = doctest.testfile(str(DOCS / page), module_relative=False, optionflags=doctest.ELLIPSIS)
    finally:
        for name in set(tg.REGISTRY) - before:  # ops registered by the examples
            del tg.REGISTRY[name]
    assert result.attempted > 0 and result.failed == 0


def test_op_table_is_current():
    text = (DOCS / "ops" / "index.md").read_text()
    assert op_table() in text, "docs/ops/index.md is stale: run python docs/update_op_table.py"
