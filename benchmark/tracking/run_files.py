"""A run's artifact files: JSON, text and files written by the caller, each under an optional folder; the
folder beside a local SQLite store is made without ever re-creating a vanished store (:mod:`.local_artifacts`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmark.tracking.local_artifacts import put_artifact

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient


def log_json_artifact(mlflow_client: MlflowClient, run_id: str, name: str, payload: Any) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(json.dumps(payload, indent=1))
        put_artifact(mlflow_client, run_id, path)


def log_text_artifact(mlflow_client: MlflowClient, run_id: str, name: str, text: str) -> None:
    """``name`` may hold a folder (``code/identity.json``): the artifact goes under it."""
    import tempfile

    folder, _, base = name.rpartition("/")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / base
        path.write_text(text)
        put_artifact(mlflow_client, run_id, path, folder)


def log_file_artifacts(mlflow_client: MlflowClient, run_id: str, folder: str, files: Iterable[Path]) -> None:
    """Files (written by the caller) as artifacts under ``folder`` of the run."""
    for path in files:
        put_artifact(mlflow_client, run_id, path, folder)
