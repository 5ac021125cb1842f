"""A suite row's parent run: found or created, opened, closed with the row's aggregates, or abandoned.

The runner says *when* (:mod:`benchmark.runner`); this says *what* goes into MLflow. The one
find-or-create of a run by kind and fingerprint (:func:`find_or_create`) serves ``bench run``'s parents
and ``bench tune --nested``'s runs alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from benchmark import tracking
from benchmark.config import stable_hash
from benchmark.tracking import curves as curve_runs
from benchmark.tracking import description, inputs, views
from benchmark.tracking.tags import TAG

if TYPE_CHECKING:
    from mlflow.entities import Run
    from mlflow.tracking import MlflowClient

    from benchmark.config import RunConfig
    from benchmark.splits import Split
    from benchmark.suite import Suite, SuiteRow
    from features.store import FeatureStore


class PlannedRow(Protocol):
    """What :func:`row_parent` reads of a planned row (a ``benchmark.planning.PlannedRow``)."""

    @property
    def row(self) -> SuiteRow: ...

    @property
    def config(self) -> RunConfig: ...

    @property
    def parent_fingerprint(self) -> str: ...

    @property
    def n_parameters(self) -> int: ...

    @property
    def code_fingerprint(self) -> str: ...

    @property
    def precision_choice(self) -> str: ...


def setting_key(dataset_fingerprint: str, split_source: str, profile: str, params: Mapping[str, str]) -> str:
    """What makes rows comparable: dataset, split protocol, profile and training parameters (the flat
    ``train.*`` params). A suite's view and the report both show the parents of one setting."""
    train = sorted((k, str(v)) for k, v in params.items() if k.startswith("train."))
    return stable_hash([dataset_fingerprint, split_source.split("/")[0], profile, train])[:16]


def setting_of(config: RunConfig, store: FeatureStore, split_source: str) -> str:
    """The setting of a row about to run."""
    return setting_key(store.fingerprint, split_source, config.profile, config.flat())


def setting_of_run(run: Run) -> str:
    """The setting of a parent run as MLflow holds it (the report's choice of runs)."""
    tags = run.data.tags
    return setting_key(
        tags.get(f"{TAG}dataset_fingerprint", ""),
        tags.get(f"{TAG}split_source", ""),
        tags.get(f"{TAG}profile", ""),
        run.data.params,
    )


def open_parent(
    client: MlflowClient,
    run_id: str,
    suite: Suite,
    row: SuiteRow,
    config: RunConfig,
    store: FeatureStore,
    split_source: str,
) -> str:
    """Row order, setting and the paper's number (a fraction) as tags, the store as dataset input.
    Also run on parents found from earlier runs, so older stores gain them. Returns the setting."""
    setting = setting_of(config, store, split_source)
    tags = {
        curve_runs.ROW_ORDER_TAG: curve_runs.row_order(list(suite.rows).index(row)),
        curve_runs.SETTING_TAG: setting,
    }
    paper = curve_runs.paper_fraction(row.paper)
    if paper is not None:
        tags[curve_runs.PAPER_TAG] = str(paper)
    tracking.set_tags(client, run_id, tags)
    inputs.log_store_input(client, run_id, store)
    return setting


def close_parent(client: MlflowClient, run_id: str, row: SuiteRow, split_run_ids: Sequence[str]) -> int:
    """Per-epoch mean/std curves over the row's finished splits and the paper's number as metrics.

    Returns the step at which the row's aggregates must be logged so that they are the latest values:
    the last epoch of the curves, or a later step already used on this run.
    """
    import time

    # the real close time: the end time is moved to make Duration the row's own (see end_time)
    tracking.set_tags(client, run_id, {curve_runs.CLOSED_AT_TAG: int(time.time() * 1000)})
    curves = curve_runs.epoch_curves(client, list(split_run_ids)) if split_run_ids else {}
    curve_runs.log_epoch_curves(client, run_id, curves)
    paper = curve_runs.paper_fraction(row.paper)
    if paper is not None:
        tracking.log_metrics(client, run_id, {curve_runs.PAPER_METRIC: paper})
    earlier = max((m.step for m in client.get_metric_history(run_id, "test_acc_mean")), default=0)
    return max(curve_runs.last_step(curves), earlier)


def end_time(client: MlflowClient, run_id: str, split_run_ids: Sequence[str]) -> int | None:
    """The parent's end time for its own duration (see :func:`curve_runs.parent_end_time`)."""
    start = client.get_run(run_id).info.start_time
    children = [client.get_run(r) for r in split_run_ids]
    return curve_runs.parent_end_time(start, children) if start else None


def finish_suite(
    client: MlflowClient,
    experiment_id: str,
    suite: Suite,
    store: FeatureStore,
    settings: dict[str, str],
    flat_configs: list[dict[str, str]],
) -> str | None:
    """Save the suite's table view (its latest setting) and refresh the experiment's description."""
    if not settings:
        return None
    setting = next(iter(settings.values()))
    key = views.save_suite_view(
        client, experiment_id, suite.name, suite.title, setting, views.differing_params(flat_configs)
    )
    description.describe_experiment(client, experiment_id, store)
    return key


def find_or_create(
    client: MlflowClient,
    experiment: str,
    kind: str,
    fingerprint: str,
    run_name: str,
    tags: Mapping[str, Any],
    params: Mapping[str, Any] | None = None,
    *,
    found_tags: Mapping[str, Any] | None = None,
    reopen: Callable[[Run], bool] = lambda run: True,
) -> Run:
    """The run of ``kind`` with ``fingerprint`` (any status), set RUNNING where ``reopen(run)``, with
    ``found_tags`` refreshed; else a new one with ``tags`` and ``params``. Processes that started together
    may each have created one: all keep the oldest (start time, then run id) and delete their own."""
    query = f"tags.`{TAG}kind` = '{kind}' and tags.`{TAG}fingerprint` = '{fingerprint}'"
    existing = tracking.search_all(client, [experiment], query)
    if existing:
        run = min(existing, key=_age)
        if found_tags:
            tracking.set_tags(client, run.info.run_id, found_tags)
        if reopen(run):
            client.update_run(run.info.run_id, status="RUNNING")
        return client.get_run(run.info.run_id)
    all_tags = {**tags, f"{TAG}kind": kind, f"{TAG}fingerprint": fingerprint}
    mine = client.create_run(
        experiment, run_name=run_name, tags={k: str(v) for k, v in all_tags.items()}
    ).info.run_id  # a server takes strings only
    if params:
        tracking.log_params(client, mine, params)
    oldest = min(tracking.search_all(client, [experiment], query), key=_age, default=None)
    if oldest is not None and oldest.info.run_id != mine:
        tracking.discard_run(client, mine)
        return client.get_run(oldest.info.run_id)
    return client.get_run(mine)


def _age(run: Run) -> tuple[int, str]:
    return (run.info.start_time or 0, run.info.run_id)


def row_parent(
    client: MlflowClient,
    experiment: str,
    suite: Suite,
    planned: PlannedRow,
    store: FeatureStore,
    splits: Sequence[Split],
) -> str:
    """The suite row's parent run (``planned``: a :class:`benchmark.planning.PlannedRow`): found by its
    fingerprint (any status), else created with the row's tags and the flattened config as params."""
    row, config = planned.row, planned.config
    tags = {
        f"{TAG}suite": suite.name,
        f"{TAG}table": row.table,
        f"{TAG}row": row.name,
        f"{TAG}config_fingerprint": config.fingerprint,
        f"{TAG}code_fingerprint": planned.code_fingerprint,
        f"{TAG}dataset_fingerprint": store.fingerprint,
        f"{TAG}dataset": store.name,
        f"{TAG}synthetic": str(store.synthetic).lower(),
        f"{TAG}random_extractors": ",".join(store.random_extractors),
        f"{TAG}classes": json.dumps(store.classes),
        f"{TAG}profile": config.profile,
        f"{TAG}model": config.model,
        f"{TAG}modalities": ",".join(config.modalities),
        f"{TAG}precision": config.train.precision,
        f"{TAG}precision_choice": planned.precision_choice,
        f"{TAG}split_source": splits[0].source if splits else "",
        f"{TAG}n_parameters": str(planned.n_parameters),
        f"{TAG}n_expected_splits": str(len(splits)),
        **tracking.environment_tags("cpu"),
        **tracking.owner_tags(),  # a parent whose process died is closed as an orphan, not left RUNNING
    }
    if row.paper is not None:
        tags[f"{TAG}paper"] = str(row.paper)
    found = {
        f"{TAG}n_expected_splits": len(splits),
        f"{TAG}n_parameters": planned.n_parameters,
        f"{TAG}precision_choice": planned.precision_choice,
        **tracking.owner_tags(),
    }
    run = find_or_create(
        client,
        experiment,
        tracking.PARENT,
        planned.parent_fingerprint,
        f"{suite.name} / {row.name}",
        tags,
        config.flat(),
        found_tags=found,
    )
    return run.info.run_id


def close_row(
    client: MlflowClient,
    run_id: str,
    row: SuiteRow,
    split_run_ids: Sequence[str],
    accuracies: Sequence[float],
    best_epoch: Sequence[float],
    n_expected: int,
    ceiling: Mapping[str, float] | None,
    reused_from: set[str],
    metric_values: Mapping[str, Sequence[float]] | None = None,
) -> None:
    """The row's aggregates (mean, sample std, n, best-epoch mean, ceiling; ``<metric>_mean`` / ``_std`` of every
    registered metric in ``metric_values``, MLflow name -> per-split values), its curves, and FINISHED when
    every expected split finished, else FAILED; its end time makes Duration its own (see :func:`end_time`)."""
    from benchmark.statistics.rows import summarize

    step = close_parent(client, run_id, row, split_run_ids)  # curves first: the cell is the latest value
    accuracy = summarize(accuracies)
    n = len(accuracies)
    values = {
        "test_acc_mean": accuracy.mean,
        "test_acc_std": accuracy.std,
        "n_splits": n,
        "test_acc_best_epoch_mean": summarize(best_epoch).mean,
    }
    for name, per_split in (metric_values or {}).items():
        summary = summarize(per_split)
        values.update({f"{name}_mean": summary.mean, f"{name}_std": summary.std})
    tracking.log_metrics(client, run_id, values, step=step)
    if ceiling:
        tracking.log_metrics(
            client, run_id, {"test_acc_ceiling": ceiling["accuracy"], "test_acc_ceiling_se": ceiling["se"]}
        )
    tags: dict[str, Any] = {f"{TAG}n_expected_splits": n_expected}
    if reused_from:
        tags[f"{TAG}reused_children_from"] = ",".join(sorted(reused_from))
    tracking.set_tags(client, run_id, tags)
    status = "FINISHED" if n == n_expected else "FAILED"
    client.set_terminated(run_id, status, end_time=end_time(client, run_id, split_run_ids))


def abandon(client: MlflowClient, run_ids: Sequence[str], exc: BaseException) -> None:
    """A ``bench run`` that stops early ends its parents FAILED (an error) or KILLED (interrupted), never RUNNING."""
    status = "KILLED" if isinstance(exc, (KeyboardInterrupt, SystemExit)) else "FAILED"
    for run_id in run_ids:
        try:
            client.set_tag(run_id, f"{TAG}failure_reason", f"{type(exc).__name__}: {exc}"[:5000] or "interrupted")
            client.set_terminated(run_id, status)
        except Exception:
            pass
