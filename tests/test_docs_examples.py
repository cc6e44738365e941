"""The convolution, pooling, activation and resizing pages stay true: their worked examples run as doctests, and the
1-D numbers they derive by hand are re-derived here from the formulas on the page."""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs" / "ops"


@pytest.mark.parametrize("page", ["conv.md", "pooling.md", "activations.md", "resize.md", "normalization.md"])
def test_page_examples_run(page):
    result = doctest.testfile(str(DOCS / page), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 10 and result.failed == 0


def test_conv_worked_example_from_the_formulas():
    x, w = np.array([1.0, 2, 3, 4, 5]), np.array([1.0, 0, -1])
    for s, expect_y, expect_dx, expect_dw in (
        (1, [-2, -2, -2], [1, 1, 0, -1, -1], [6, 9, 12]),
        (2, [-2, -2], [1, 0, 0, 0, -1], [4, 6, 8]),
    ):
        n_out = (len(x) - (len(w) - 1) - 1) // s + 1  # floor((n + 2p - d(k-1) - 1)/s) + 1
        y = [sum(x[t * s + i] * w[i] for i in range(3)) for t in range(n_out)]
        g = np.ones(n_out)
        dilated = np.zeros(s * (n_out - 1) + 1)
        dilated[::s] = g  # the stride dilates dL/dy ...
        dx = np.convolve(dilated, w)[: len(x)]  # ... whose full convolution with w (= correlation with flip(w))
        dx = np.pad(dx, (0, len(x) - len(dx)))
        dw = [sum(g[t] * x[t * s + i] for t in range(n_out)) for i in range(3)]  # x correlated with g
        assert y == expect_y and dx.tolist() == expect_dx and dw == expect_dw


def test_pooling_worked_example_from_the_rules():
    x, g = np.array([1.0, 3, 2, 5, 4, 4]), np.array([10.0, 20, 30])
    windows = x.reshape(3, 2)
    first_max = windows.argmax(axis=1)  # numpy's argmax also takes the first maximum
    dx_max = np.zeros(6)
    dx_max[np.arange(3) * 2 + first_max] = g
    dx_avg = np.repeat(g / 2, 2)
    assert windows.max(1).tolist() == [3, 5, 4] and dx_max.tolist() == [0, 10, 0, 20, 30, 0]
    assert windows.mean(1).tolist() == [2, 3.5, 4] and dx_avg.tolist() == [5, 5, 10, 10, 15, 15]
