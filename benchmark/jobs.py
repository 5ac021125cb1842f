"""One job = one (configuration, split) training run, logged as one MLflow child run.

A job carries everything it needs as plain data, so any executor (in-process, worker processes,
a Dask cluster) can run it: it opens the store, trains, and logs to the tracking URI itself.
"""

from __future__ import annotations

import io
import traceback
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from benchmark import claims, tracking
from benchmark.tracking_views.inputs import log_store_input
from benchmark.config import RunConfig, stable_hash
from benchmark.splits import Split
from benchmark.params import resolve_device
from benchmark.training import EpochRecord, NonFiniteLoss, SplitResult, run_seed, train_split

T = tracking.TAG


def split_run_fingerprint(config: RunConfig, split_digest: str, dataset_fingerprint: str) -> str:
    """``bench.fingerprint`` of a split run: what it computes (config, split content, dataset). A FINISHED
    run with it is reused by ``bench run`` and by nested tuning's retraining alike."""
    return stable_hash([config.fingerprint, split_digest, dataset_fingerprint])


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
    force: bool = False  # train even where a FINISHED run of the fingerprint exists

    @property
    def run_name(self) -> str:
        return f"{self.row} / split {self.split.index}"


@dataclass(frozen=True)
class JobOutcome:
    fingerprint: str
    row: str
    split: int
    status: str  # FINISHED | FAILED | CLAIMED (stepped aside: another process trains it)
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


def _start_run(client, job: SplitJob, store, device: str, engine: str = "plain") -> str:
    """The split's child run with its tags (the same for every engine, plus which engine and precision)."""
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
        f"{T}engine": engine,
        f"{T}precision": job.config.train.precision,
        **tracking.environment_tags(device),
        **tracking.owner_tags(),
        **claims.claim_tags(),
    }
    return client.create_run(job.experiment_id, run_name=job.run_name, tags=tags).info.run_id


def _describe_run(client, run_id: str, job: SplitJob, store, device: str) -> None:
    sizes = {"n_train": len(job.split.train), "n_test": len(job.split.test)}  # for the corrected test, without artifacts
    tracking.log_params(client, run_id, {**job.config.flat(), "split": job.split.index, "device": device, **sizes})
    tracking.log_json_artifact(client, run_id, "split.json", job.split.ids(store.ids))
    log_store_input(client, run_id, store)  # the runs table's Dataset column


def _epoch_logger(client, run_id: str, on_epoch: Callable[[EpochRecord], None] | None) -> Callable[[EpochRecord], None]:
    def log_epoch(record: EpochRecord) -> None:
        tracking.log_metrics(
            client, run_id, {"train_loss": record.train_loss, "test_acc": record.test_acc, "epoch_seconds": record.seconds}, step=record.epoch
        )
        claims.heartbeat(client, run_id)
        if on_epoch:
            on_epoch(record)

    return log_epoch


def _finish_run(client, run_id: str, job: SplitJob, store, result: SplitResult) -> JobOutcome:
    tracking.log_metrics(
        client,
        run_id,
        {
            "test_acc_best_epoch": result.test_acc_best_epoch,
            "best_epoch": result.best_epoch,
            "seconds_per_epoch": _mean_seconds(result),
        },
        step=job.config.train.epochs,
    )
    tracking.log_text_artifact(client, run_id, "predictions.csv", _predictions_csv(store, job.split.test, result.predictions))
    client.set_terminated(run_id, "FINISHED")
    return JobOutcome(job.fingerprint, job.row, job.split.index, "FINISHED", run_id, result.test_acc, result.test_acc_best_epoch)


def _mean_seconds(result: SplitResult) -> float:
    """Mean training seconds per epoch over the run's epochs (NaN for an estimator, which has none)."""
    seconds = [r.seconds for r in result.history if np.isfinite(r.seconds)]
    return float(np.mean(seconds)) if seconds else float("nan")


def _error(client, run_id: str, job: SplitJob, exc: Exception) -> JobOutcome:
    reason = f"{type(exc).__name__}: {exc}"
    tracking.log_text_artifact(client, run_id, "traceback.txt", "".join(traceback.format_exception(exc)))
    return _fail(client, run_id, job, reason)


def _killed(client, run_ids: Sequence[str]) -> None:
    for run_id in run_ids:
        client.set_tag(run_id, f"{T}failure_reason", "interrupted")
        client.set_terminated(run_id, "KILLED")


def run_split_job(job: SplitJob, on_epoch: Callable[[EpochRecord], None] | None = None) -> JobOutcome:
    """Train one split and log it; NaN losses and errors end as a FAILED run with the reason."""
    from benchmark.data import load_modalities

    store = _store(job.store_path)
    device = resolve_device(job.device)
    client = tracking.client(job.tracking_uri)
    if claims.taken(client, job.experiment_id, job.fingerprint, ignore_finished=job.force):
        return _claimed(job)
    run_id = _start_run(client, job, store, device)
    try:
        if not claims.claim(client, job.experiment_id, job.fingerprint, run_id, ignore_finished=job.force):
            return _claimed(job)
        _describe_run(client, run_id, job, store, device)
        data = load_modalities(store, job.config.modalities, job.config.train.frames)
        result = train_split(
            job.config,
            data,
            store.labels,
            job.split.train,
            job.split.test,
            len(store.classes),
            seed=run_seed(job.config, job.split.index),
            device=device,
            on_epoch=_epoch_logger(client, run_id, on_epoch),
        )
        return _finish_run(client, run_id, job, store, result)
    except NonFiniteLoss as exc:
        return _fail(client, run_id, job, str(exc))
    except (KeyboardInterrupt, SystemExit):
        _killed(client, [run_id])
        raise
    except Exception as exc:  # the suite goes on; the reason is on the run and in the table
        return _error(client, run_id, job, exc)


def run_config_jobs(
    jobs: Sequence[SplitJob],
    on_epoch: Callable[[SplitJob, EpochRecord], None] | None = None,
    *,
    compile: bool = False,
) -> list[JobOutcome]:
    """Train the splits of one configuration together (vectorised engine), logged exactly as
    :func:`run_split_job` logs each: one child run per split, per-epoch metrics, FAILED per split."""
    from benchmark.data import load_modalities
    from benchmark.engine.train import SplitTask, train_splits

    if not jobs:
        return []
    first = jobs[0]
    if any(j.config.fingerprint != first.config.fingerprint or j.store_path != first.store_path for j in jobs):
        raise ValueError("run_config_jobs trains the splits of one configuration on one store")
    store = _store(first.store_path)
    device = resolve_device(first.device)
    client = tracking.client(first.tracking_uri)
    free = [not claims.taken(client, job.experiment_id, job.fingerprint, ignore_finished=job.force) for job in jobs]
    stepped_aside = [job for job, f in zip(jobs, free) if not f]
    jobs = [job for job, f in zip(jobs, free) if f]
    run_ids = [_start_run(client, job, store, device, "vectorised") for job in jobs]
    won = [claims.claim(client, job.experiment_id, job.fingerprint, run_id, ignore_finished=job.force) for job, run_id in zip(jobs, run_ids)]
    stepped_aside += [job for job, w in zip(jobs, won) if not w]
    jobs, run_ids = [j for j, w in zip(jobs, won) if w], [r for r, w in zip(run_ids, won) if w]
    if not jobs:
        return [_claimed(job) for job in stepped_aside]
    loggers = [_epoch_logger(client, run_id, (lambda r, job=job: on_epoch(job, r)) if on_epoch else None) for job, run_id in zip(jobs, run_ids)]
    try:
        for job, run_id in zip(jobs, run_ids):
            _describe_run(client, run_id, job, store, device)
        data = load_modalities(store, first.config.modalities, first.config.train.frames)
        results = train_splits(
            first.config,
            data,
            store.labels,
            [SplitTask(j.split.train, j.split.test, run_seed(j.config, j.split.index)) for j in jobs],
            len(store.classes),
            device=device,
            on_epoch=lambda i, record: loggers[i](record),
            compile=compile,
        )
    except (KeyboardInterrupt, SystemExit):
        _killed(client, run_ids)
        raise
    except Exception as exc:  # every split of the group fails with the reason; the suite goes on
        return [_error(client, run_id, job, exc) for job, run_id in zip(jobs, run_ids)] + [_claimed(job) for job in stepped_aside]
    return [_claimed(job) for job in stepped_aside] + [
        _fail(client, run_id, job, str(result)) if isinstance(result, NonFiniteLoss) else _finish_run(client, run_id, job, store, result)
        for job, run_id, result in zip(jobs, run_ids, results)
    ]


def _claimed(job: SplitJob) -> JobOutcome:
    return JobOutcome(job.fingerprint, job.row, job.split.index, claims.CLAIMED, "", reason="trained by another process")


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
