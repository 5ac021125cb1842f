"""Artifact folders beside a local SQLite store, made without ever making the store's own folder."""

from __future__ import annotations

from pathlib import Path


def make_local_artifact_folder(mlflow_client, run_id: str, folder: str) -> None:
    """Create a run's artifact folder beside a local SQLite store one level at a time, never the store's
    own folder: MLflow's local artifact writer creates every missing parent, so a tracking folder moved
    away mid-run would come back half-made (artifacts, no database). A missing store is a storage fault."""
    from benchmark import faults

    db = faults.sqlite_path(mlflow_client._tracking_client.tracking_uri)
    if db is None:
        return
    anchor = Path(db).absolute().parent
    if not Path(db).exists():
        raise faults.StorageFault(db, faults.VANISHED)
    uri = mlflow_client.get_run(run_id).info.artifact_uri or ""
    if not uri.startswith("file:"):
        return
    from urllib.parse import unquote, urlparse

    target = Path(unquote(urlparse(uri).path)) / folder
    try:
        below = target.relative_to(anchor)
    except ValueError:  # artifacts kept elsewhere: not ours to guard
        return
    level = anchor
    try:
        for part in below.parts:
            level = level / part
            level.mkdir(exist_ok=True)
    except FileNotFoundError as exc:  # the store's folder vanished since the check above
        raise faults.StorageFault(db, faults.VANISHED) from exc
