"""``bench evaluate``'s MLflow runs: one child run of a split run per (corruption, modality, level), tagged
``bench.kind = evaluation`` and keyed by ``bench.eval_key`` (the split run, the corruption and its code,
the level); a FINISHED run with the key is reused. Metrics: every registered metric of the corrupted test
scores (fractions, like ``test_acc``), and on the clean evaluation the row's cost measurements."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from benchmark import tracking
from benchmark.tracking.tags import TAG

if TYPE_CHECKING:
    from mlflow.entities import Run
    from mlflow.tracking import MlflowClient


def finished(client: MlflowClient, experiment: str) -> dict[str, Run]:
    """eval_key -> its latest FINISHED evaluation run."""
    runs = tracking.search_all(
        client, [experiment], f"tags.`{TAG}kind` = '{tracking.EVALUATION}' and attributes.status = 'FINISHED'"
    )
    out: dict[str, Run] = {}
    for run in sorted(runs, key=lambda r: r.info.start_time or 0):
        out[run.data.tags.get(f"{TAG}eval_key", "")] = run
    return out


def of_split_runs(
    client: MlflowClient, experiment: str, split_run_ids: set[str], current: Callable[[Run], object] | None = None
) -> list[Run]:
    """One FINISHED evaluation per (split run, corruption, modality, level) of these split runs: the latest of those
    ``current(run)`` accepts (made by today's evaluation and corruption code), else the latest; keys of older code
    never mix into a mean with today's."""
    best: dict[tuple[str, ...], tuple[tuple[bool, int], Run]] = {}
    for run in finished(client, experiment).values():
        tags = run.data.tags
        if tags.get(f"{TAG}split_run_id") not in split_run_ids:
            continue
        key = tuple(tags.get(f"{TAG}{k}", "") for k in ("split_run_id", "corruption", "modality", "level"))
        rank = (bool(current(run)) if current else True, run.info.start_time or 0)
        if key not in best or rank > best[key][0]:
            best[key] = (rank, run)
    return [run for _, run in best.values()]


def log(
    client: MlflowClient,
    experiment: str,
    split_run: Run,
    key: str,
    tags: Mapping[str, str],
    metrics: Mapping[str, float],
    scores_csv: str | None,
) -> str:
    """One evaluation, created and ended in one go (a kill between leaves a RUNNING run that nothing reads)."""
    split_tags = split_run.data.tags
    all_tags = {
        "mlflow.parentRunId": split_run.info.run_id,
        f"{TAG}kind": tracking.EVALUATION,
        f"{TAG}eval_key": key,
        f"{TAG}split_run_id": split_run.info.run_id,
        **{
            f"{TAG}{k}": split_tags.get(f"{TAG}{k}", "")
            for k in ("suite", "row", "split", "model", "dataset_fingerprint", "config_fingerprint")
        },
        **{f"{TAG}{k}": v for k, v in tags.items()},
        **tracking.owner_tags(),
    }
    name = f"{split_tags.get(f'{TAG}row', '')} / split {split_tags.get(f'{TAG}split', '')} / {tags.get('instance', '')}"
    run_id = client.create_run(experiment, run_name=name, tags=all_tags).info.run_id
    tracking.log_metrics(client, run_id, metrics)
    if scores_csv is not None:
        tracking.log_text_artifact(client, run_id, "scores.csv", scores_csv)
    client.set_terminated(run_id, "FINISHED")
    return run_id
