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


ROOT = DOCS.parent


def _bash_lines(text):
    import re

    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        yield from (line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def test_benchmark_page_commands_are_real():
    """Every command in docs/benchmarks.md's bash blocks runs a script in benchmarks/ with options it accepts
    (checked with --help, which parses the options given before it and runs nothing)."""
    import shlex
    import subprocess
    import sys

    lines = list(_bash_lines((DOCS / "benchmarks.md").read_text()))
    assert lines
    for line in lines:
        argv = shlex.split(line, comments=True)
        if argv[0] == "env":  # only the documented unpinning of OpenBLAS's kernels
            i = 1
            while argv[i] == "-u":
                assert argv[i + 1] in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"), line
                i += 2
            argv = argv[i:]
        assert argv[0] == "python" and argv[1].startswith("benchmarks/") and (ROOT / argv[1]).is_file(), line
        out = subprocess.run([sys.executable, *argv[1:], "--help"], cwd=ROOT, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, (line, out.stderr)
        for opt in (a for a in argv[2:] if a.startswith("--")):
            assert opt in out.stdout, (line, opt)


def test_benchmark_page_links_resolve():
    import re

    def slug(heading):
        return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")

    def anchors(path):
        return {slug(h) for h in re.findall(r"^#+ (.*)$", path.read_text(), flags=re.M)}

    page = DOCS / "benchmarks.md"
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if "://" in target:
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file) if file else page
        assert path.is_file(), target
        if anchor:
            assert anchor in anchors(path), target
