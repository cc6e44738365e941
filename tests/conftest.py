"""Shared test set-up: hypothesis profiles, the optional torch oracle, the data directory."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Bounded example counts keep the whole suite well inside CI's budget on two cores.
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=15, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def torch():
    """PyTorch, the oracle; tests using it skip cleanly where it is not installed."""
    t = pytest.importorskip("torch")
    t.set_num_threads(2)
    return t


def data_dir() -> Path | None:
    """Where the real MNIST / Fashion-MNIST IDX files are: $TINYGRAD_CNN_DATA or ../shared/data."""
    env = os.environ.get("TINYGRAD_CNN_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[1].parent / "shared" / "data")
    return next((p for p in candidates if (p / "mnist").is_dir()), None)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
