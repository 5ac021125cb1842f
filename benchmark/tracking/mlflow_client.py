"""The MLflow client helpers: a client for a tracking URI, the experiment per dataset, searching, logging
in batches, environment and owner tags, orphaned runs.

The layout they serve is a contract that reports, tuning and outside tools read (docs/architecture.md,
"Contracts"; docs/guide/tracking.md); the tag names are in :mod:`benchmark.tracking.tags`:

- experiment = the store's ``name``; one parent run per suite row, one child run per split;
- tags ``bench.suite``, ``bench.row``, ``bench.split`` (children), ``bench.fingerprint``,
  ``bench.run_key``, ``bench.dataset_fingerprint``, ``bench.config_fingerprint``,
  ``bench.code_fingerprint``, ``bench.kind`` (parent, split, evaluation, study, trial, nested,
  nested_split), plus the git commit, package versions and device;
- child metrics ``train_loss`` and ``test_acc`` per epoch (step = epoch), ``test_acc`` final (its
  last step), ``test_acc_best_epoch`` (optimistic); parent metrics ``test_acc_mean``,
  ``test_acc_std``, ``n_splits``.

A child whose ``bench.fingerprint`` (config, split content, dataset and code identity) already FINISHED is
reused; one with the same ``bench.run_key`` but other code is trained again.
A run that never trained and could not be deleted (an EDIT user on a server with auth) is KILLED and
tagged ``bench.discarded = true``.
Accuracy is a fraction (0..1) in every metric and tag. What the MLflow UI shows on top of this
(parent curves, the paper's number, row order, views, description) is in the rest of :mod:`benchmark.tracking`.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmark import sqlite
from benchmark.tracking.retry import patient
from benchmark.tracking.tags import SPLIT, TAG

if TYPE_CHECKING:
    from mlflow.entities import Run
    from mlflow.tracking import MlflowClient

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"
_PARAMS_PER_BATCH = 100


def tracking_uri(uri: str | None = None) -> str:
    """``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else the local SQLite store."""
    return sqlite.absolute(uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI)


def client(uri: str | None = None, *, create: bool = True) -> MlflowClient:
    """An MLflow client; its construction opens the store (creating the tables on first use).

    ``create=False`` for a split job of a command that already opened the store: a local SQLite
    database that is gone by then vanished under the command (a storage fault), and creating a fresh
    one (with its folder) in its place would leave a half-made store and train into it. For a server, the client is a
    :class:`~benchmark.tracking.retry.PatientClient` standing in for the ``MlflowClient`` (same methods)."""
    import logging

    from mlflow.tracking import MlflowClient

    # MLflow logs every database error with its traceback, then raises it; the command says it in one line
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    if not create:
        from benchmark import faults

        db = sqlite.database_path(uri)
        if db is not None and not db.exists():
            raise faults.StorageFault(db, faults.VANISHED)
        if db is not None:
            return MlflowClient(tracking_uri=uri)
    uri = tracking_uri(uri)
    if uri.startswith(sqlite.URI_FILENAME):  # read-only: MLflow would create a folder named "file:" in the cwd
        import contextlib
        import tempfile

        with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
            return MlflowClient(tracking_uri=uri)
    with sqlite.creation_lock(uri):
        sqlite.create_atomically(uri, _create_tables)
        return patient(MlflowClient(tracking_uri=uri), uri)  # a server that stops answering is waited for


def _create_tables(uri: str) -> None:
    import logging

    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    quiet = [logging.getLogger(name) for name in ("mlflow.store.db.utils", "alembic.runtime.migration")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:  # "Creating initial MLflow database tables...": noise, and not one line on a fault
        logger.setLevel(logging.WARNING)
    try:
        SqlAlchemyStore(uri, str(Path(str(sqlite.database_path(uri))).parent / "artifacts")).engine.dispose()
    finally:
        for logger, level in zip(quiet, levels):
            logger.setLevel(level)


def experiment_id(mlflow_client: MlflowClient, name: str) -> str:
    """The experiment for a dataset, created on first use (artifacts beside a local SQLite store)."""
    experiment = mlflow_client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            mlflow_client.restore_experiment(experiment.experiment_id)
        return experiment.experiment_id
    uri = mlflow_client._tracking_client.tracking_uri
    artifact_location = None
    db = sqlite.database_path(uri)
    if db is not None:
        artifact_location = (db.resolve().parent / "artifacts").as_uri()
    try:
        return mlflow_client.create_experiment(name, artifact_location=artifact_location)
    except Exception:  # created concurrently by another worker
        experiment = mlflow_client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


def search_all(mlflow_client: MlflowClient, experiment_ids: list[str], filter_string: str) -> list[Run]:
    """Every run matching the filter (pages through results)."""
    runs: list[Run] = []
    token: str | None = None
    while True:
        page = mlflow_client.search_runs(experiment_ids, filter_string, max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def discard_run(mlflow_client: MlflowClient, run_id: str) -> None:
    """End a run that never trained as KILLED and delete it; on a server with auth an EDIT user may
    not delete, so the run stays, KILLED and tagged ``bench.discarded`` (readers skip it)."""
    mlflow_client.set_terminated(run_id, "KILLED")
    try:
        mlflow_client.delete_run(run_id)
    except Exception as exc:
        if getattr(exc, "error_code", None) != "PERMISSION_DENIED":
            raise
        mlflow_client.set_tag(run_id, f"{TAG}discarded", "true")


def log_params(mlflow_client: MlflowClient, run_id: str, params: Mapping[str, Any]) -> None:
    from mlflow.entities import Param

    items = [Param(k, str(v)[:6000]) for k, v in params.items()]
    for start in range(0, len(items), _PARAMS_PER_BATCH):
        mlflow_client.log_batch(run_id, params=items[start : start + _PARAMS_PER_BATCH])


def log_metrics(mlflow_client: MlflowClient, run_id: str, metrics: Mapping[str, float | None], step: int = 0) -> None:
    """The finite values at ``step``, in one batch (None, NaN and infinities are skipped)."""
    import math
    import time

    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    items = [Metric(k, float(v), now, step) for k, v in metrics.items() if v is not None and math.isfinite(float(v))]
    if items:
        mlflow_client.log_batch(run_id, metrics=items)


def set_tags(mlflow_client: MlflowClient, run_id: str, tags: Mapping[str, Any]) -> None:
    from mlflow.entities import RunTag

    mlflow_client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])


@lru_cache(maxsize=1)
def environment_tags(device: str = "cpu") -> dict[str, str]:
    """Git commit, package versions and device: what a reader needs to reproduce a number."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("ver-bench", "torch", "numpy", "scikit-learn", "mlflow", "optuna"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    tags = {
        "mlflow.source.git.commit": git_commit(),
        f"{TAG}versions": json.dumps(versions, sort_keys=True),
        f"{TAG}python": platform.python_version(),
        f"{TAG}device": device_name(device),
    }
    return tags


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        import torch

        return f"cuda:{torch.cuda.get_device_name(0)}"
    return f"cpu:{platform.processor() or platform.machine()} x{os.cpu_count()}"


@lru_cache(maxsize=1)
def git_commit() -> str:
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        commit = out.stdout.strip()
        if out.returncode != 0 or not commit:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return commit + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def owner_tags() -> dict[str, str]:
    """Who runs a child: lets a later run tell a crashed run (dead process) from a live one."""
    return {f"{TAG}host": socket.gethostname(), f"{TAG}pid": str(os.getpid())}


def process_gone(host: Any, pid: Any) -> bool:
    """True when ``pid`` on ``host`` is this host's and that process no longer exists (killed with -9,
    power loss ...); False where it cannot tell (another host, no pid, not allowed to signal it)."""
    if host != socket.gethostname():
        return False
    try:
        pid = int(pid)
    except (TypeError, ValueError):
        return False
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def is_orphan(run: Run) -> bool:
    """A RUNNING run of this host whose process is gone, or that never recorded one."""
    tags = run.data.tags
    if tags.get(f"{TAG}host") != socket.gethostname():
        return False
    if tags.get(f"{TAG}pid", "0") == "0":
        return True
    return process_gone(tags[f"{TAG}host"], tags[f"{TAG}pid"])


def all_finished_split_runs(mlflow_client: MlflowClient, experiment: str) -> list[Run]:
    """Every FINISHED child run of the experiment (one search; callers derive what they need from it)."""
    return search_all(mlflow_client, [experiment], f"tags.`{TAG}kind` = '{SPLIT}' and attributes.status = 'FINISHED'")


def finished_split_runs(
    mlflow_client: MlflowClient,
    experiment: str,
    fingerprints: Iterable[str] | None = None,
    runs: list[Run] | None = None,
) -> dict[str, Run]:
    """FINISHED child runs by ``bench.fingerprint`` (optionally only those fingerprints; ``runs``: an earlier
    search's result)."""
    wanted = set(fingerprints) if fingerprints is not None else None
    runs = all_finished_split_runs(mlflow_client, experiment) if runs is None else runs
    found: dict[str, Run] = {}
    for run in runs:
        fp = run.data.tags.get(f"{TAG}fingerprint")
        if fp and (wanted is None or fp in wanted):
            found.setdefault(fp, run)
    return found


def close_orphans(mlflow_client: MlflowClient, experiment: str) -> int:
    """Mark this host's RUNNING runs whose process died as KILLED; returns how many."""
    runs = search_all(mlflow_client, [experiment], "attributes.status = 'RUNNING'")
    closed = 0
    for run in runs:
        if is_orphan(run):
            mlflow_client.set_tag(run.info.run_id, f"{TAG}failure_reason", "process died before the run ended")
            mlflow_client.set_terminated(run.info.run_id, "KILLED")
            closed += 1
    return closed
