"""The runner's calls: what to add when a parent run is opened and closed, and once a suite is done.

Kept apart from :mod:`benchmark.runner` so that the runner only says *when*; this says *what*.
"""

from __future__ import annotations

from typing import Sequence

from benchmark import tracking
from benchmark.config import stable_hash
from benchmark.tracking_views import description, inputs, parents, views

T = tracking.TAG


def setting_of(config, store, split_source: str) -> str:
    """What makes rows comparable (as the report's choice of runs): dataset, split protocol, profile and
    training parameters. A suite's view shows the parents of its latest setting."""
    train = sorted((k, v) for k, v in config.flat().items() if k.startswith("train."))
    return stable_hash([store.fingerprint, split_source.split("/")[0], config.profile, train])[:16]


def open_parent(client, run_id: str, suite, row, config, store, split_source: str) -> str:
    """Row order, setting and the paper's number (a fraction) as tags, the store as dataset input.
    Also run on parents found from earlier runs, so older stores gain them. Returns the setting."""
    setting = setting_of(config, store, split_source)
    tags = {parents.ROW_ORDER_TAG: parents.row_order(list(suite.rows).index(row)), parents.SETTING_TAG: setting}
    paper = parents.paper_fraction(row.paper)
    if paper is not None:
        tags[parents.PAPER_TAG] = str(paper)
    tracking.set_tags(client, run_id, tags)
    inputs.log_store_input(client, run_id, store)
    return setting


def close_parent(client, run_id: str, row, split_run_ids: Sequence[str]) -> int:
    """Per-epoch mean/std curves over the row's finished splits and the paper's number as metrics.

    Returns the step at which the row's aggregates must be logged so that they are the latest values:
    the last epoch of the curves, or a later step already used on this run.
    """
    import time

    # the real close time: the end time is moved to make Duration the row's own (see end_time)
    tracking.set_tags(client, run_id, {parents.CLOSED_AT_TAG: int(time.time() * 1000)})
    curves = parents.epoch_curves(client, list(split_run_ids)) if split_run_ids else {}
    parents.log_epoch_curves(client, run_id, curves)
    paper = parents.paper_fraction(row.paper)
    if paper is not None:
        tracking.log_metrics(client, run_id, {parents.PAPER_METRIC: paper})
    earlier = max((m.step for m in client.get_metric_history(run_id, "test_acc_mean")), default=0)
    return max(parents.last_step(curves), earlier)


def end_time(client, run_id: str, split_run_ids: Sequence[str]) -> int | None:
    """The parent's end time for its own duration (see :func:`parents.parent_end_time`)."""
    start = client.get_run(run_id).info.start_time
    children = [client.get_run(r) for r in split_run_ids]
    return parents.parent_end_time(start, children) if start else None


def finish_suite(client, experiment_id: str, suite, store, settings: dict[str, str], flat_configs: list[dict]) -> str | None:
    """Save the suite's table view (its latest setting) and refresh the experiment's description."""
    if not settings:
        return None
    setting = next(iter(settings.values()))
    key = views.save_suite_view(client, experiment_id, suite.name, suite.title, setting, views.differing_params(flat_configs))
    description.describe_experiment(client, experiment_id, store)
    return key
