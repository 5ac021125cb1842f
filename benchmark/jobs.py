"""One job = one (configuration, split) training run, logged as one MLflow child run.

A job carries everything it needs as plain data, so any executor (in-process, worker processes,
a Dask cluster) can run it: it opens the store, trains, and logs to the tracking URI itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from benchmark import faults, tracking
from benchmark.config import RunConfig, stable_hash
from benchmark.params import resolve_device
from benchmark.splits import Split
from benchmark.tracking import claims, split_runs
from benchmark.training import EpochRecord, NonFiniteLoss, SplitResult, run_seed, train_split


def split_run_key(config: RunConfig, split_digest: str, dataset_fingerprint: str) -> str:
    """``bench.run_key``: the (config, split content, dataset) a run computes, whatever the code.

    Runs made before the code identity was part of the fingerprint carry this value as their
    ``bench.fingerprint``; runs with the same key but another code identity are stale, never reused."""
    return stable_hash([config.fingerprint, split_digest, dataset_fingerprint])


def split_run_fingerprint(config: RunConfig, split_digest: str, dataset_fingerprint: str) -> str:
    """``bench.fingerprint`` of a split run: what it computes (config, split content, dataset) and the
    code that computes it (:mod:`benchmark.code_identity`). A FINISHED run with it is reused by
    ``bench run`` and by nested tuning's retraining alike."""
    from benchmark.code_identity import code_fingerprint

    return stable_hash([split_run_key(config, split_digest, dataset_fingerprint), code_fingerprint(config.model)])


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
    plugins: tuple[str, ...] = ()  # plugin specs a worker loads before it builds the model
    code_fingerprint: str = ""  # the code identity the coordinator computed; a worker with other code refuses
    run_key: str = ""  # ``bench.run_key``: the fingerprint without the code identity
    keep_model: str = "float16"  # the kept weights' dtype (:mod:`benchmark.checkpoints`), or "none" (scores only)

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
    metrics: dict = field(default_factory=dict)  # the registered metrics of its test scores (MLflow names)


_STORES: dict[str, object] = {}


def cached_store(path: str):
    """The store at ``path``, opened (and validated, fingerprinted) once per process: workers run many jobs."""
    from features.store import open_store

    if path not in _STORES:
        _STORES[path] = open_store(path)
    return _STORES[path]


def prepare_worker(job: SplitJob) -> None:
    """In any process: load the job's plugins, then refuse to train if this process's code is not the code
    the coordinator fingerprinted (a Dask worker on another machine with another checkout)."""
    from baselines.plugins import load_plugins
    from benchmark.code_identity import code_fingerprint

    load_plugins(job.plugins)
    if job.code_fingerprint and code_fingerprint(job.config.model) != job.code_fingerprint:
        raise CodeMismatch(
            f"this worker's code for {job.config.model!r} has identity {code_fingerprint(job.config.model)}, "
            f"the run was planned with {job.code_fingerprint}: install the same code on every worker"
        )


class CodeMismatch(RuntimeError):
    """A worker's model or training code differs from the coordinator's."""


def run_split_job(job: SplitJob, on_epoch: Callable[[EpochRecord], None] | None = None) -> JobOutcome:
    """Train one split and log it; NaN losses and errors end as a FAILED run with the reason."""
    from benchmark.data import load_modalities

    store = cached_store(job.store_path)
    device = resolve_device(job.device)
    client = tracking.client(job.tracking_uri, create=False)  # opened (and created) by the command
    try:
        prepare_worker(job)
    except Exception as exc:
        return JobOutcome(
            job.fingerprint, job.row, job.split.index, "FAILED", "", reason=f"{type(exc).__name__}: {exc}"
        )
    if claims.taken(client, job.experiment_id, job.fingerprint, ignore_finished=job.force):
        return _claimed(job)
    run_id = split_runs.start(client, job, store, device)
    try:
        if not claims.claim(client, job.experiment_id, job.fingerprint, run_id, ignore_finished=job.force):
            return _claimed(job)
        split_runs.describe(client, run_id, job, store, device)
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
            on_epoch=split_runs.epoch_logger(client, run_id, on_epoch),
        )
        return _finished(client, run_id, job, store, result)
    except NonFiniteLoss as exc:
        return _fail(client, run_id, job, str(exc))
    except (KeyboardInterrupt, SystemExit):
        split_runs.kill(client, [run_id])
        raise
    except Exception as exc:  # the suite goes on; the reason is on the run and in the table
        if faults.stops_command(exc):  # a full disk or vanished store: every split would fail; stop with one line
            raise
        return _errored(client, run_id, job, exc)


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
    store = cached_store(first.store_path)
    device = resolve_device(first.device)
    client = tracking.client(first.tracking_uri, create=False)  # opened (and created) by the command
    prepare_worker(first)
    free = [not claims.taken(client, job.experiment_id, job.fingerprint, ignore_finished=job.force) for job in jobs]
    stepped_aside = [job for job, f in zip(jobs, free) if not f]
    jobs = [job for job, f in zip(jobs, free) if f]
    run_ids = [split_runs.start(client, job, store, device, "vectorised") for job in jobs]
    won = [
        claims.claim(client, job.experiment_id, job.fingerprint, run_id, ignore_finished=job.force)
        for job, run_id in zip(jobs, run_ids)
    ]
    stepped_aside += [job for job, w in zip(jobs, won) if not w]
    jobs, run_ids = [j for j, w in zip(jobs, won) if w], [r for r, w in zip(run_ids, won) if w]
    if not jobs:
        return [_claimed(job) for job in stepped_aside]
    loggers = [
        split_runs.epoch_logger(client, run_id, partial(on_epoch, job) if on_epoch else None)
        for job, run_id in zip(jobs, run_ids)
    ]
    try:
        for job, run_id in zip(jobs, run_ids):
            split_runs.describe(client, run_id, job, store, device)
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
        split_runs.kill(client, run_ids)
        raise
    except Exception as exc:  # every split of the group fails with the reason; the suite goes on
        if faults.stops_command(exc):
            raise
        return [_errored(client, run_id, job, exc) for job, run_id in zip(jobs, run_ids)] + [
            _claimed(job) for job in stepped_aside
        ]
    return [_claimed(job) for job in stepped_aside] + [
        _fail(client, run_id, job, str(result))
        if isinstance(result, NonFiniteLoss)
        else _finished(client, run_id, job, store, result)
        for job, run_id, result in zip(jobs, run_ids, results)
    ]


def _claimed(job: SplitJob) -> JobOutcome:
    return JobOutcome(
        job.fingerprint, job.row, job.split.index, claims.CLAIMED, "", reason="trained by another process"
    )


def _finished(client, run_id: str, job: SplitJob, store, result: SplitResult) -> JobOutcome:
    import tempfile
    from pathlib import Path

    from benchmark.kept import kept_outputs

    with tempfile.TemporaryDirectory() as tmp:
        kept = kept_outputs(job, store, result, Path(tmp))
        split_runs.finish(client, run_id, job, store, result, kept)
    return JobOutcome(
        job.fingerprint,
        job.row,
        job.split.index,
        "FINISHED",
        run_id,
        result.test_acc,
        result.test_acc_best_epoch,
        metrics=kept.metrics,
    )


def _errored(client, run_id: str, job: SplitJob, exc: Exception) -> JobOutcome:
    reason = split_runs.error(client, run_id, exc)
    return JobOutcome(job.fingerprint, job.row, job.split.index, "FAILED", run_id, reason=reason)


def _fail(client, run_id: str, job: SplitJob, reason: str) -> JobOutcome:
    split_runs.fail(client, run_id, reason)
    return JobOutcome(job.fingerprint, job.row, job.split.index, "FAILED", run_id, reason=reason)
