"""MLflow runs of a nested evaluation (``bench tune --nested``), with the tag prefix of ``bench run``:

- parent: ``bench.kind = nested``, ``bench.fingerprint`` (what the evaluation computes, not its
  number of outer splits), ``bench.study`` (the studies' base name), ``bench.params``,
  ``bench.dataset_fingerprint``, ``bench.profile``, ``bench.split_source``, ``bench.inner_splits``,
  ``bench.n_expected_splits``, ``bench.chosen`` (JSON: outer split -> chosen values); params
  ``train.*`` (the training settings not searched), ``space.<name>``, ``inner_splits``,
  ``target_trials``; metrics ``test_acc_mean``, ``test_acc_std`` (ddof = 1), ``n_splits``;
- one child per outer split k: ``bench.kind = nested_split``, ``bench.split`` = ``bench.outer_split``
  = k, ``bench.study`` (the inner study), ``bench.split_run`` (the split run that scored the test
  part) and ``bench.split_run_reused``; params ``chosen.<name>``; metrics ``inner_val_acc`` (the
  chosen trial's mean validation accuracy), ``test_acc``, and the study summary of
  :class:`~benchmark.tracking.studies.StudyLogger` (``best_val_acc``, ``n_complete`` ...);
- the inner trials: today's trial runs (``bench.kind = trial``), children of their outer split's run,
  tagged ``bench.outer_split`` and ``bench.nested`` (the parent's run id).

Parent and children are found by fingerprint (any status) before being created, so a rerun after
``kill -9`` continues the same runs: one child per outer split.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from benchmark import tracking
from benchmark.tracking.studies import OpenedStudy, StudyLogger
from benchmark.tracking.tags import TAG

if TYPE_CHECKING:
    from mlflow.entities import Run
    from mlflow.tracking import MlflowClient

    from benchmark.config import Profile
    from features.store import FeatureStore


class NestedSpec(Protocol):
    """What :func:`parent_tags` reads of a nested evaluation's spec (a ``benchmark.tuning.nested_spec.NestedSpec``)."""

    @property
    def space(self) -> Mapping[str, object]: ...  # searched name -> its search parameter

    @property
    def profile(self) -> Profile: ...

    @property
    def model(self) -> str: ...

    @property
    def inner_splits(self) -> int: ...

    @property
    def device(self) -> str: ...


def find_or_create(
    client: MlflowClient,
    experiment: str,
    kind: str,
    fingerprint: str,
    run_name: str,
    tags: Mapping[str, Any],
    params: Mapping[str, Any],
) -> Run:
    """The run of ``kind`` with ``fingerprint`` (the oldest if a race made two), else a new one; RUNNING
    unless it is a finished outer split (a rerun reads it and trains nothing)."""
    from benchmark.tracking.parents import find_or_create as find_or_create_run

    return find_or_create_run(
        client,
        experiment,
        kind,
        fingerprint,
        run_name,
        tags,
        params,
        reopen=lambda run: run.info.status != "RUNNING" and not _finished_child(run, kind),
    )


def _finished_child(run: Run, kind: str) -> bool:
    """A finished outer split stays FINISHED (a rerun reads it and trains nothing)."""
    return kind == tracking.NESTED_SPLIT and is_done(run)


def is_done(run: Run) -> bool:
    return run.info.status == "FINISHED" and "test_acc" in run.data.metrics


class OuterSplitLogger(StudyLogger):
    """Logs an inner study's trials under the outer split's child run (created by the coordinator)."""

    def __init__(
        self, uri: str | None, experiment_name: str, study_name: str, run_id: str, trial_tags: Mapping[str, Any]
    ) -> None:
        super().__init__(uri, experiment_name, study_name)
        self.parent_run_id = self.outer_run_id = run_id
        self.trial_tags = dict(trial_tags)

    def open_parent(
        self, opened: OpenedStudy, tags: Mapping[str, Any], params: Mapping[str, Any], wait_s: float = 30.0
    ) -> str:
        self.close_killed_trials()
        tracking.set_tags(
            self.client,
            self.outer_run_id,
            {f"{TAG}study": self.study_name, f"{TAG}storage": tags.get(f"{TAG}storage", "")},
        )
        if self.client.get_run(self.outer_run_id).info.status != "RUNNING":
            self.client.update_run(self.outer_run_id, status="RUNNING")
        return self.outer_run_id


def log_choice(
    client: MlflowClient, run_id: str, chosen: Mapping[str, Any], val_acc: float, val_std: float | None
) -> None:
    tracking.log_params(client, run_id, {f"chosen.{k}": v for k, v in chosen.items()})
    tracking.log_metrics(
        client, run_id, {"inner_val_acc": val_acc, "inner_val_acc_std": val_std if val_std is not None else math.nan}
    )


def finish_outer(client: MlflowClient, run_id: str, test_acc: float, split_run_id: str, reused: bool) -> None:
    tracking.log_metrics(client, run_id, {"test_acc": test_acc})
    tracking.set_tags(client, run_id, {f"{TAG}split_run": split_run_id, f"{TAG}split_run_reused": str(reused).lower()})
    client.set_terminated(run_id, "FINISHED")


def fail_outer(client: MlflowClient, run_id: str, reason: str) -> None:
    tracking.set_tags(client, run_id, {f"{TAG}failure_reason": reason[:5000]})
    client.set_terminated(run_id, "FAILED")


def chosen_of(run: Run) -> dict[str, str]:
    """The chosen values a child run holds (``chosen.<name>`` params), as logged (strings)."""
    return {k[len("chosen.") :]: v for k, v in run.data.params.items() if k.startswith("chosen.")}


def close_parent(
    client: MlflowClient, parent_id: str, children: Mapping[int, Run], n_expected: int
) -> tuple[list[float], dict[int, dict[str, str]]]:
    """Aggregate the finished children of splits ``0 .. n_expected - 1`` onto the parent; FINISHED when all are."""
    done = {k: run for k, run in children.items() if k < n_expected and is_done(run)}
    accs = [float(done[k].data.metrics["test_acc"]) for k in sorted(done)]
    chosen = {k: chosen_of(done[k]) for k in sorted(done)}
    tracking.log_metrics(
        client,
        parent_id,
        {
            "test_acc_mean": float(np.mean(accs)) if accs else math.nan,
            "test_acc_std": float(np.std(accs, ddof=1)) if len(accs) > 1 else math.nan,
            "n_splits": len(accs),
        },
    )
    tracking.set_tags(
        client,
        parent_id,
        {f"{TAG}n_expected_splits": n_expected, f"{TAG}chosen": json.dumps({str(k): v for k, v in chosen.items()})},
    )
    client.set_terminated(parent_id, "FINISHED" if len(done) == n_expected else "FAILED")
    return accs, chosen


def parent_tags(
    spec: NestedSpec,
    store: FeatureStore,
    name: str,
    modalities: Sequence[str],
    storage: str,
    split_source: str = "random-stratified-2/3",
) -> dict[str, Any]:
    """A nested evaluation's parent tags (``spec``: a :class:`benchmark.tuning.nested.NestedSpec`;
    ``storage``: the Optuna storage with any password redacted; ``split_source``: the outer splits' protocol)."""
    return {
        f"{TAG}study": name,
        f"{TAG}storage": storage,
        f"{TAG}params": ",".join(spec.space),
        f"{TAG}dataset": store.name,
        f"{TAG}dataset_fingerprint": store.fingerprint,
        f"{TAG}synthetic": str(store.synthetic).lower(),
        f"{TAG}random_extractors": ",".join(store.random_extractors),
        f"{TAG}profile": spec.profile.name,
        f"{TAG}model": spec.model,
        f"{TAG}modalities": ",".join(modalities),
        f"{TAG}split_source": split_source,
        f"{TAG}inner_splits": spec.inner_splits,
        **tracking.environment_tags(spec.device),
    }
