"""Rewrite the op table in docs/ops/index.md from the registry."""

from pathlib import Path

import tinygrad_cnn  # noqa: F401  (fills the registry)
from tinygrad_cnn.core.registry import op_table

START, END = "<!-- op-table:start -->\n", "<!-- op-table:end -->"
path = Path(__file__).parent / "ops" / "index.md"
text = path.read_text()
head, rest = text.split(START)
path.write_text(head + START + op_table() + END + rest.split(END, 1)[1])
print(f"wrote {path}")
