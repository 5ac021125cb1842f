"""Artifact folders beside a local SQLite store, made without ever making the store's own folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from benchmark import sqlite

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient


def make_local_artifact_folder(mlflow_client: MlflowClient, run_id: str, folder: str) -> Path | None:
    """Create a run's artifact folder beside a local SQLite store one level at a time, never the store's
    own folder: MLflow's local artifact writer creates every missing parent, so a tracking folder moved
    away mid-run would come back half-made (artifacts, no database). A missing store is a storage fault.
    Returns the folder where it guards it (a local store's own artifacts), else None."""
    from benchmark import faults

    db = sqlite.database_path(mlflow_client._tracking_client.tracking_uri)
    if db is None:
        return None
    anchor = Path(db).absolute().parent
    if not Path(db).exists():
        raise faults.StorageFault(db, faults.VANISHED)
    uri = mlflow_client.get_run(run_id).info.artifact_uri or ""
    if not uri.startswith("file:"):
        return None
    from urllib.parse import unquote, urlparse

    target = Path(unquote(urlparse(uri).path)) / folder
    try:
        below = target.relative_to(anchor)
    except ValueError:  # artifacts kept elsewhere: not ours to guard
        return None
    level = anchor
    try:
        for part in below.parts:
            level = level / part
            level.mkdir(exist_ok=True)
    except FileNotFoundError as exc:  # the store's folder vanished since the check above
        raise faults.StorageFault(db, faults.VANISHED) from exc
    return target


def put_artifact(mlflow_client: MlflowClient, run_id: str, path: Path, folder: str = "") -> None:
    """Log one file under ``folder``. Beside a local SQLite store the file is copied into the folder made level by
    level, never through MLflow's local writer, which makes every missing parent: a store folder that vanishes
    between the check and the copy is then a storage fault, not a half-made folder."""
    import shutil

    from benchmark import faults

    target = make_local_artifact_folder(mlflow_client, run_id, folder)
    if target is None:
        mlflow_client.log_artifact(run_id, str(path), artifact_path=folder or None)
        return
    try:
        shutil.copyfile(path, target / Path(path).name)
    except FileNotFoundError as exc:
        raise faults.StorageFault(
            str(sqlite.database_path(mlflow_client._tracking_client.tracking_uri)), faults.VANISHED
        ) from exc
