"""Shared fixtures: tiny synthetic stores and an isolated MLflow database per test."""

from __future__ import annotations

import os
from pathlib import Path

if os.environ.get("PYTEST_XDIST_WORKER"):  # `pytest -n 2` on 2 cores: one torch thread per worker, not two each
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest

from features.synthetic import make_synthetic_store

TINY_COUNTS = {"Anger": 9, "Joy": 9, "Fear": 12}
TINY_DIMS = {"visual": 24, "audio": 16, "skeleton": 12}


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Every test gets its own cache and working directory, so nothing leaks into ~/.cache or mlruns/."""
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    from benchmark import faults

    faults.watch(None)  # the store an earlier in-process `bench` watched is not this test's


@pytest.fixture
def tiny_store(tmp_path) -> Path:
    return make_synthetic_store(tmp_path / "tiny", counts=TINY_COUNTS, dims=TINY_DIMS, frames=12, seed=3)


@pytest.fixture
def tiny_ekman_store(tmp_path) -> Path:
    """A tiny store shaped like Ekman-6: six classes of 10 videos, one official split declared in meta.json."""
    counts = {c: 10 for c in ("anger", "disgust", "fear", "joy", "sadness", "surprise")}
    return make_synthetic_store(
        tmp_path / "tiny-ekman6", counts=counts, dims=TINY_DIMS, frames=12, seed=3, dataset="ekman6"
    )


@pytest.fixture
def tracking_uri(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"


@pytest.fixture(scope="session")
def ve8_store(tmp_path_factory) -> Path:
    """The full-size default synthetic store, generated once per test session."""
    return make_synthetic_store(tmp_path_factory.mktemp("ve8") / "store")


@pytest.fixture
def plugin_sandbox():
    """Models and plugins registered during the test are gone afterwards (the registry is process-wide)."""
    from baselines import plugins, registry

    models, loaded, done = dict(registry._REGISTRY), dict(plugins._LOADED), set(plugins._ENTRY_POINTS_DONE)
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(models)
    plugins._LOADED.clear()
    plugins._LOADED.update(loaded)
    plugins._ENTRY_POINTS_DONE.clear()
    plugins._ENTRY_POINTS_DONE.update(done)


@pytest.fixture
def sqlite_uri(tmp_path):
    """``sqlite_uri("name")``: a fresh SQLite tracking URI in the test's folder (several per test when needed)."""
    return lambda name="mlflow": f"sqlite:///{tmp_path / name / 'mlflow.db'}"
