"""A split's child run: created with its tags, described, logged epoch by epoch, and ended.

Called by :mod:`benchmark.jobs` for every engine, so a split run looks the same whoever trained it.
``job`` is a :class:`benchmark.jobs.SplitJob` (plain data; not imported here, so this package does not
depend on the jobs that use it).
"""

from __future__ import annotations

import io
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import numpy as np

from benchmark import tracking
from benchmark.tracking import claims
from benchmark.tracking.inputs import log_store_input
from benchmark.tracking.tags import TAG

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from benchmark.config import RunConfig
    from benchmark.splits import Split
    from features.store import FeatureStore


class SplitJob(Protocol):
    """What this module reads of a split's job (a ``benchmark.jobs.SplitJob``)."""

    @property
    def experiment_id(self) -> str: ...

    @property
    def parent_run_id(self) -> str: ...

    @property
    def suite(self) -> str: ...

    @property
    def row(self) -> str: ...

    @property
    def run_name(self) -> str: ...

    @property
    def config(self) -> RunConfig: ...

    @property
    def split(self) -> Split: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def run_key(self) -> str: ...

    @property
    def code_fingerprint(self) -> str: ...

    @property
    def dataset_fingerprint(self) -> str: ...

    @property
    def keep_model(self) -> str: ...


class EpochRecord(Protocol):
    """One epoch of a split's training (a ``benchmark.training.EpochRecord``)."""

    @property
    def epoch(self) -> int: ...

    @property
    def train_loss(self) -> float: ...

    @property
    def test_acc(self) -> float: ...

    @property
    def seconds(self) -> float: ...


Record = TypeVar("Record", bound=EpochRecord)


class SplitResult(Protocol):
    """What :func:`finish` reads of a split's training result (a ``benchmark.training.SplitResult``)."""

    @property
    def test_acc_best_epoch(self) -> float: ...

    @property
    def best_epoch(self) -> int: ...

    @property
    def predictions(self) -> np.ndarray: ...

    @property
    def history(self) -> Sequence[EpochRecord]: ...


class Kept(Protocol):
    """What a split run keeps (a ``benchmark.kept.Kept``)."""

    @property
    def metrics(self) -> Mapping[str, float]: ...  # MLflow metric name -> value

    @property
    def scores_csv(self) -> str | None: ...

    @property
    def model_files(self) -> Sequence[Path]: ...


def start(client: MlflowClient, job: SplitJob, store: FeatureStore, device: str, engine: str = "plain") -> str:
    """The split's child run with its tags (the same for every engine, plus which engine and precision)."""
    tags = {
        "mlflow.parentRunId": job.parent_run_id,
        f"{TAG}kind": tracking.SPLIT,
        f"{TAG}suite": job.suite,
        f"{TAG}row": job.row,
        f"{TAG}split": str(job.split.index),
        f"{TAG}split_source": job.split.source,
        f"{TAG}fingerprint": job.fingerprint,
        f"{TAG}run_key": job.run_key,
        f"{TAG}code_fingerprint": job.code_fingerprint,
        f"{TAG}config_fingerprint": job.config.fingerprint,
        f"{TAG}dataset_fingerprint": job.dataset_fingerprint,
        f"{TAG}dataset": store.name,
        f"{TAG}profile": job.config.profile,
        f"{TAG}model": job.config.model,
        f"{TAG}engine": engine,
        f"{TAG}precision": job.config.train.precision,
        **tracking.environment_tags(device),
        **tracking.owner_tags(),
        **claims.claim_tags(),
    }
    return client.create_run(job.experiment_id, run_name=job.run_name, tags=tags).info.run_id


def describe(client: MlflowClient, run_id: str, job: SplitJob, store: FeatureStore, device: str) -> None:
    """Params (the flat config, split, split sizes, device), the split's ids, the code identity, the store as input."""
    sizes = {
        "n_train": len(job.split.train),
        "n_test": len(job.split.test),
    }  # for the corrected test, without artifacts
    tracking.log_params(client, run_id, {**job.config.flat(), "split": job.split.index, "device": device, **sizes})
    tracking.log_json_artifact(client, run_id, "split.json", job.split.ids(store.ids))
    log_code(client, run_id, job.config.model)
    log_store_input(client, run_id, store)  # the runs table's Dataset column


def log_code(client: MlflowClient, run_id: str, model: str) -> None:
    """``code/identity.json`` (each covered module's file and hash) and, for a plugin's model, its source files."""
    from benchmark.code_identity import code_identity

    identity = code_identity(model)
    tracking.log_text_artifact(client, run_id, "code/identity.json", identity.to_json())
    project = ("baselines.", "benchmark.", "features.")
    for name, (file, _) in identity.modules.items():
        if not name.startswith(project):
            tracking.log_text_artifact(
                client, run_id, f"code/{Path(file).name}", Path(file).read_text(encoding="utf-8")
            )


def epoch_logger(
    client: MlflowClient, run_id: str, on_epoch: Callable[[Record], None] | None
) -> Callable[[Record], None]:
    def log_epoch(record: Record) -> None:
        tracking.log_metrics(
            client,
            run_id,
            {"train_loss": record.train_loss, "test_acc": record.test_acc, "epoch_seconds": record.seconds},
            step=record.epoch,
        )
        claims.heartbeat(client, run_id)
        if on_epoch:
            on_epoch(record)

    return log_epoch


def finish(
    client: MlflowClient, run_id: str, job: SplitJob, store: FeatureStore, result: SplitResult, kept: Kept | None = None
) -> None:
    """Final metrics (and the registered metrics of the test scores), the test predictions, what the run keeps
    (``kept``: a :class:`benchmark.kept.Kept`: ``scores.csv``, ``model/``), FINISHED."""
    tracking.log_metrics(
        client,
        run_id,
        {
            "test_acc_best_epoch": result.test_acc_best_epoch,
            "best_epoch": result.best_epoch,
            "seconds_per_epoch": mean_seconds(result),
            **(kept.metrics if kept else {}),
        },
        step=job.config.train.epochs,
    )
    tracking.log_text_artifact(
        client, run_id, "predictions.csv", predictions_csv(store, job.split.test, result.predictions)
    )
    if kept and kept.scores_csv is not None:
        tracking.log_text_artifact(client, run_id, "scores.csv", kept.scores_csv)
    if kept and kept.model_files:
        tracking.log_file_artifacts(client, run_id, "model", kept.model_files)
        client.set_tag(run_id, f"{TAG}kept_model", job.keep_model)
    client.set_terminated(run_id, "FINISHED")


def mean_seconds(result: SplitResult) -> float:
    """Mean training seconds per epoch over the run's epochs (NaN for an estimator, which has none)."""
    seconds = [r.seconds for r in result.history if np.isfinite(r.seconds)]
    return float(np.mean(seconds)) if seconds else float("nan")


def error(client: MlflowClient, run_id: str, exc: Exception) -> str:
    """An unexpected error: its traceback as an artifact, the run FAILED; returns the reason."""
    reason = f"{type(exc).__name__}: {exc}"
    tracking.log_text_artifact(client, run_id, "traceback.txt", "".join(traceback.format_exception(exc)))
    fail(client, run_id, reason)
    return reason


def kill(client: MlflowClient, run_ids: Sequence[str]) -> None:
    """Interrupted (Ctrl-C, SystemExit): KILLED with the reason."""
    for run_id in run_ids:
        client.set_tag(run_id, f"{TAG}failure_reason", "interrupted")
        client.set_terminated(run_id, "KILLED")


def fail(client: MlflowClient, run_id: str, reason: str) -> None:
    client.set_tag(run_id, f"{TAG}failure_reason", reason[:5000])
    client.set_terminated(run_id, "FAILED")


def predictions_csv(store: FeatureStore, test: np.ndarray, predictions: np.ndarray) -> str:
    classes = store.classes
    buffer = io.StringIO()
    buffer.write("id,label,prediction\n")
    labels = store.labels
    for pos, pred in zip(test, predictions):
        buffer.write(f"{store.ids[pos]},{classes[labels[pos]]},{classes[int(pred)]}\n")
    return buffer.getvalue()
