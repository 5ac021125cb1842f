"""MLflow logging of a study: one parent run per study, one nested child run per trial.

Written here rather than with optuna-integration's MLflowCallback (deprecated), and with the same
client helpers and tag prefix as ``bench run`` (:mod:`benchmark.tracking`):

- parent: ``bench.kind = study``, ``bench.study``, ``bench.storage`` (password hidden),
  ``bench.params`` (searched names), ``bench.sampler``, ``bench.dataset_fingerprint``,
  ``bench.profile``; metrics ``best_val_acc``, ``n_complete``, ``n_pruned``, ``n_failed``; tags
  ``bench.best.<param>``; FINISHED once the study has nothing left to run;
- child: ``bench.kind = trial``, ``bench.study``, ``bench.trial`` (the Optuna trial number),
  ``bench.state`` (running, complete, pruned, failed, skipped, killed), ``mlflow.parentRunId``;
  params: the trial's values and the flattened resolved config; metrics ``val_acc_split_<k>`` and
  ``train_loss_split_<k>`` per epoch (step = epoch), ``val_acc`` (the mean so far reported to Optuna,
  step = k * epochs + epoch), ``val_acc_mean`` / ``val_acc_std`` / ``n_splits`` at the end.

The parent's run id is kept in the study's user attributes (one per tracking URI), written by the
process that created the study, so processes that join later log under the same parent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from benchmark import tracking
from benchmark.config import RunConfig, stable_hash
from benchmark.tracking.tags import TAG

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial


class OpenedStudy(Protocol):
    """What :meth:`StudyLogger.open_parent` reads of an opened study (a ``benchmark.tuning.study.OpenedStudy``)."""

    @property
    def study(self) -> optuna.Study: ...

    @property
    def created(self) -> bool: ...  # this process created it (and so records the MLflow parent)


class EpochRecord(Protocol):
    """One epoch of a split's training (a ``benchmark.training.EpochRecord``)."""

    @property
    def epoch(self) -> int: ...

    @property
    def train_loss(self) -> float: ...

    @property
    def test_acc(self) -> float: ...


class Ledger(Protocol):
    """What :meth:`StudyLogger.close_parent` reads of a study's ledger (a ``benchmark.tuning.bookkeeping.Ledger``)."""

    @property
    def done(self) -> Sequence[FrozenTrial]: ...


STATES = {"complete": "FINISHED", "pruned": "FINISHED", "failed": "FAILED", "skipped": "KILLED", "killed": "KILLED"}


class StudyLogger:
    def __init__(self, uri: str | None, experiment_name: str, study_name: str) -> None:
        self.uri = tracking.tracking_uri(uri)
        self.client = tracking.client(self.uri)
        self.experiment = tracking.experiment_id(self.client, experiment_name)
        self.study_name = study_name
        self.parent_run_id: str | None = None
        self.device = "cpu"
        self.trial_tags: dict[str, Any] = {}  # extra tags on every trial run (a nested search's outer split)

    @property
    def _attr(self) -> str:
        return f"mlflow_parent_{stable_hash(self.uri)[:10]}"

    def open_parent(
        self, opened: OpenedStudy, tags: Mapping[str, Any], params: Mapping[str, Any], wait_s: float = 30.0
    ) -> str:
        """The study's parent run: the one its creator recorded, else found by tags, else a new one."""
        study = opened.study
        self.close_killed_trials()
        run_id = study.user_attrs.get(self._attr)
        if run_id is None and not opened.created:
            run_id = wait_for_attr(study, self._attr, wait_s)
        if run_id is not None and not self._exists(run_id):
            run_id = None
        if run_id is None:
            found = tracking.search_all(
                self.client,
                [self.experiment],
                f"tags.`{TAG}kind` = '{tracking.TUNE_STUDY}' and tags.`{TAG}study` = '{self.study_name}'",
            )
            found = [r for r in found if r.data.tags.get(f"{TAG}storage") == tags.get(f"{TAG}storage")]
            if found:
                run_id = min(found, key=lambda r: (r.info.start_time, r.info.run_id)).info.run_id
        if run_id is None:
            tags = {
                k: str(v) for k, v in {**tags, **tracking.environment_tags(self.device)}.items()
            }  # a server (REST) wants strings
            run = self.client.create_run(self.experiment, run_name=f"tune / {self.study_name}", tags=tags)
            run_id = run.info.run_id
            tracking.log_params(self.client, run_id, params)
            study.set_user_attr(self._attr, run_id)
        elif self.client.get_run(run_id).info.status != "RUNNING":
            self.client.update_run(run_id, status="RUNNING")
        self.parent_run_id = run_id
        return run_id

    def close_killed_trials(self) -> None:
        """Trial runs of killed processes on this host: KILLED, with ``bench.state = killed``."""
        tracking.close_orphans(self.client, self.experiment)
        for run in tracking.search_all(
            self.client,
            [self.experiment],
            f"tags.`{TAG}kind` = '{tracking.TUNE_TRIAL}' and "
            f"tags.`{TAG}state` = 'running' and attributes.status = 'KILLED'",
        ):
            tracking.set_tags(self.client, run.info.run_id, {f"{TAG}state": "killed"})

    def _exists(self, run_id: str) -> bool:
        try:
            run = self.client.get_run(run_id)
        except Exception:
            return False
        return run.info.lifecycle_stage == "active"

    def start_trial(self, trial: optuna.Trial, values: Mapping[str, Any], config: RunConfig) -> str:
        label = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        tags = {
            "mlflow.parentRunId": self.parent_run_id,
            f"{TAG}kind": tracking.TUNE_TRIAL,
            f"{TAG}study": self.study_name,
            f"{TAG}trial": trial.number,
            f"{TAG}state": "running",
            f"{TAG}profile": config.profile,
            f"{TAG}config_fingerprint": config.fingerprint,
            **self.trial_tags,
            **tracking.owner_tags(),
            **tracking.environment_tags(self.device),
        }
        run = self.client.create_run(
            self.experiment,
            run_name=f"{self.study_name} / trial {trial.number} ({label})",
            tags={k: str(v) for k, v in tags.items()},
        )
        tracking.log_params(
            self.client, run.info.run_id, {**{f"tune.{k}": v for k, v in values.items()}, **config.flat()}
        )
        trial.set_user_attr("mlflow_run_id", run.info.run_id)
        return run.info.run_id

    def log_epoch(self, run_id: str, split: int, record: EpochRecord, running: float, step: int) -> None:
        tracking.log_metrics(
            self.client,
            run_id,
            {f"val_acc_split_{split}": record.test_acc, f"train_loss_split_{split}": record.train_loss},
            step=record.epoch,
        )
        tracking.log_metrics(self.client, run_id, {"val_acc": running}, step=step)

    def end_trial(
        self, run_id: str, state: str, finished: list[float], mean: float, std: float, reason: str = ""
    ) -> None:
        tracking.log_metrics(self.client, run_id, {"val_acc_mean": mean, "val_acc_std": std, "n_splits": len(finished)})
        tags: dict[str, Any] = {f"{TAG}state": state}
        if reason:
            tags[f"{TAG}failure_reason" if state == "failed" else f"{TAG}reason"] = reason[:5000]
        tracking.set_tags(self.client, run_id, tags)
        self.client.set_terminated(run_id, STATES[state])

    def close_parent(self, book: Ledger, best: FrozenTrial | None, finished: bool) -> None:
        """Summary metrics on the parent; FINISHED once the study has nothing left to run."""
        if self.parent_run_id is None:
            return
        states = [t.state.name for t in book.done]
        metrics = {
            "n_complete": states.count("COMPLETE"),
            "n_pruned": states.count("PRUNED"),
            "n_failed": states.count("FAIL"),
            "best_val_acc": best.value if best is not None else math.nan,
        }
        tracking.log_metrics(self.client, self.parent_run_id, metrics)
        if best is not None:
            tags = {f"{TAG}best.{k}": v for k, v in best.params.items()}
            tags[f"{TAG}best.trial"] = best.number
            tracking.set_tags(self.client, self.parent_run_id, tags)
        if finished:
            self.client.set_terminated(self.parent_run_id, "FINISHED")


def wait_for_attr(study: optuna.Study, key: str, wait_s: float) -> Any:
    """A study attribute another process sets (its parent run id), waited for up to ``wait_s`` seconds; None if it
    never came (a user attribute holds any JSON value)."""
    deadline = time.monotonic() + wait_s
    while True:
        value = study.user_attrs.get(key)
        if value is not None or time.monotonic() >= deadline:
            return value
        time.sleep(0.25)
