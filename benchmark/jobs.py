"""One job = one (configuration, split) training run, logged as one MLflow child run.

A job carries everything it needs as plain data, so any executor (in-process, worker processes,
a Dask cluster) can run it: it opens the store, trains, and logs to the tracking URI itself.
"""

from __future__ import annotations

import io
import traceback
from dataclasses import dataclass
from typing import Callable

import numpy as np

from benchmark import tracking
from benchmark.config import RunConfig
from benchmark.splits import Split
from benchmark.training import EpochRecord, NonFiniteLoss, resolve_device, run_seed, train_split

T = tracking.TAG


@dataclass(frozen=True)
class SplitJob:
    store_path: str
    tracking_uri: str
    experiment_id: str
    parent_run_id: str
    suite: str
    row: str
    config: RunConfig
    split: Split
    fingerprint: str
    dataset_fingerprint: str
    device: str = "auto"

    @property
    def run_name(self) -> str:
        return f"{self.row} / split {self.split.index}"


@dataclass(frozen=True)
class JobOutcome:
    fingerprint: str
    row: str
    split: int
    status: str  # FINISHED | FAILED
    run_id: str
    test_acc: float = float("nan")
    test_acc_best_epoch: float = float("nan")
    reason: str = ""


_STORES: dict[str, object] = {}


def _store(path: str):
    from features.store import open_store

    if path not in _STORES:
        _STORES[path] = open_store(path)
    return _STORES[path]


def run_split_job(job: SplitJob, on_epoch: Callable[[EpochRecord], None] | None = None) -> JobOutcome:
    """Train one split and log it; NaN losses and errors end as a FAILED run with the reason."""
    from benchmark.data import load_modalities

    store = _store(job.store_path)
    device = resolve_device(job.device)
    client = tracking.client(job.tracking_uri)
    tags = {
        "mlflow.parentRunId": job.parent_run_id,
        f"{T}kind": tracking.SPLIT,
        f"{T}suite": job.suite,
        f"{T}row": job.row,
        f"{T}split": str(job.split.index),
        f"{T}split_source": job.split.source,
        f"{T}fingerprint": job.fingerprint,
        f"{T}config_fingerprint": job.config.fingerprint,
        f"{T}dataset_fingerprint": job.dataset_fingerprint,
        f"{T}dataset": store.name,
        f"{T}profile": job.config.profile,
        f"{T}model": job.config.model,
        **tracking.environment_tags(device),
        **tracking.owner_tags(),
    }
    run = client.create_run(job.experiment_id, run_name=job.run_name, tags=tags)
    run_id = run.info.run_id
    try:
        tracking.log_params(client, run_id, {**job.config.flat(), "split": job.split.index, "device": device})
        tracking.log_json_artifact(client, run_id, "split.json", job.split.ids(store.ids))
        data = load_modalities(store, job.config.modalities, job.config.train.frames)

        def log_epoch(record: EpochRecord) -> None:
            tracking.log_metrics(client, run_id, {"train_loss": record.train_loss, "test_acc": record.test_acc}, step=record.epoch)
            if on_epoch:
                on_epoch(record)

        result = train_split(
            job.config,
            data,
            store.labels,
            job.split.train,
            job.split.test,
            len(store.classes),
            seed=run_seed(job.config, job.split.index),
            device=device,
            on_epoch=log_epoch,
        )
        tracking.log_metrics(
            client,
            run_id,
            {"test_acc_best_epoch": result.test_acc_best_epoch, "best_epoch": result.best_epoch},
            step=job.config.train.epochs,
        )
        tracking.log_text_artifact(client, run_id, "predictions.csv", _predictions_csv(store, job.split.test, result.predictions))
        client.set_terminated(run_id, "FINISHED")
        return JobOutcome(job.fingerprint, job.row, job.split.index, "FINISHED", run_id, result.test_acc, result.test_acc_best_epoch)
    except NonFiniteLoss as exc:
        return _fail(client, run_id, job, str(exc))
    except (KeyboardInterrupt, SystemExit):
        client.set_tag(run_id, f"{T}failure_reason", "interrupted")
        client.set_terminated(run_id, "KILLED")
        raise
    except Exception as exc:  # the suite goes on; the reason is on the run and in the table
        reason = f"{type(exc).__name__}: {exc}"
        tracking.log_text_artifact(client, run_id, "traceback.txt", traceback.format_exc())
        return _fail(client, run_id, job, reason)


def _fail(client, run_id: str, job: SplitJob, reason: str) -> JobOutcome:
    client.set_tag(run_id, f"{T}failure_reason", reason[:5000])
    client.set_terminated(run_id, "FAILED")
    return JobOutcome(job.fingerprint, job.row, job.split.index, "FAILED", run_id, reason=reason)


def _predictions_csv(store, test: np.ndarray, predictions: np.ndarray) -> str:
    classes = store.classes
    buffer = io.StringIO()
    buffer.write("id,label,prediction\n")
    labels = store.labels
    for pos, pred in zip(test, predictions):
        buffer.write(f"{store.ids[pos]},{classes[labels[pos]]},{classes[int(pred)]}\n")
    return buffer.getvalue()
