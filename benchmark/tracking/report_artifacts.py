"""The rendered report as artifacts of the parent runs that produced it (``report/`` in each)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

ARTIFACT_DIR = "report"


def log_report(client: MlflowClient, run_ids: Iterable[str], folder: Path) -> None:
    """Copy every file of the report folder into ``report/`` of each run (tables, figures, index.html)."""
    from benchmark.tracking.local_artifacts import make_local_artifact_folder

    for run_id in run_ids:
        make_local_artifact_folder(client, run_id, ARTIFACT_DIR)
        client.log_artifacts(run_id, str(folder), ARTIFACT_DIR)
