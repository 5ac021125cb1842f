"""Read a suite's parent and split runs from MLflow, through ``MlflowClient`` only.

Which runs make the report: parents tagged ``bench.kind = parent`` and ``bench.suite = <suite>``
(one per row and *setting*). A setting is what makes numbers comparable across rows: dataset
fingerprint, split protocol, profile and training parameters. The most recently touched parent fixes
the setting, and every row takes its latest parent in that setting, so a quick ``--epochs 2`` try
never mixes with a full run. A row's split runs are found by ``bench.config_fingerprint``,
``bench.dataset_fingerprint`` and ``bench.code_fingerprint`` (maybe trained under another suite's row), splits
``0 .. bench.n_expected_splits - 1``; per split the latest FINISHED run counts, else the latest other
run is kept to say why the split is missing. Split sizes (for the corrected test): ``n_train`` / ``n_test`` params,
else ``split.json``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from benchmark import sqlite, tracking
from benchmark.params import ParamError
from benchmark.report.run_artifacts import class_names, correct_predictions, reference_predictions, split_sizes
from benchmark.statistics import significance
from benchmark.suite import Suite, SuiteRow, sections
from benchmark.tracking.parents import setting_of_run
from benchmark.tracking.tags import TAG

CURVES = ("test_acc", "train_loss")


@dataclass
class SplitRecord:
    split: int
    run_id: str
    status: str
    test_acc: float = math.nan
    test_acc_best_epoch: float = math.nan
    seconds_per_epoch: float = math.nan  # training wall seconds per epoch (``seconds_per_epoch`` metric)
    reason: str = ""
    commit: str = ""
    n_train: int = 0  # training and test part sizes (0: unknown)
    n_test: int = 0
    curves: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    correct: dict[str, bool] | None = None  # test video id -> predicted right (single-split datasets: McNemar's test)

    @property
    def finished(self) -> bool:
        return self.status == "FINISHED" and math.isfinite(self.test_acc)


@dataclass
class RowRuns:
    """One suite row as MLflow holds it; ``parent_id`` is None for reported-only or never-run rows."""

    row: SuiteRow
    parent_id: str | None = None
    parent_status: str = ""
    n_expected: int = 0
    splits: dict[int, SplitRecord] = field(default_factory=dict)
    ceiling: float = math.nan  # best reachable accuracy (parent metric test_acc_ceiling), synthetic stores only
    n_parameters: int | None = None  # the parent's ``bench.n_parameters`` tag (absent on older runs)
    design: str = ""  # which design the splits form (significance.SUBSAMPLING, ...), for the test's correction

    @property
    def finished(self) -> list[SplitRecord]:
        return [self.splits[k] for k in sorted(self.splits) if self.splits[k].finished]

    @property
    def problems(self) -> list[str]:
        """Why expected splits are missing: never started, FAILED (reason), KILLED, RUNNING."""
        if self.parent_id is None:
            return [] if self.row.reported else ["no run of this row yet"]
        out, never = [], []
        for k in range(self.n_expected):
            record = self.splits.get(k)
            if record is None:
                never.append(k)
            elif not record.finished:
                out.append(f"split {k}: {record.status}" + (f" ({record.reason})" if record.reason else ""))
        if never:
            out.append(f"{_ranges(never)}: no run")
        return out


def _ranges(splits: list[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``splits 1-3, 7``."""
    parts: list[str] = []
    start = splits[0]
    for prev, k in zip(splits, [*splits[1:], -1]):
        if k != prev + 1:
            parts.append(f"{start}-{prev}" if prev > start else f"{start}")
            start = k
    return ("split " if len(splits) == 1 else "splits ") + ", ".join(parts)


@dataclass
class Header:
    """What every output states about where its numbers come from."""

    suite: str
    title: str
    dataset: str
    tracking_uri: str
    dataset_fingerprints: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    precisions: list[str] = field(default_factory=list)  # of the torch rows (runs from before the tag: fp32)
    split_sources: list[str] = field(default_factory=list)
    n_splits: int = 0
    commits: list[str] = field(default_factory=list)
    synthetic: bool = False
    random_extractors: list[str] = field(default_factory=list)
    date: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    notes: list[str] = field(default_factory=list)
    rope: float = 1.0  # region of practical equivalence of the Bayesian test, in accuracy points


@dataclass
class Collected:
    suite: Suite
    header: Header
    rows: list[RowRuns]
    classes: list[str]
    predictions: dict[str, Any]  # section (table) name -> DataFrame(split, id, label, prediction) of its reference row

    def rows_of(self, table: str) -> list[RowRuns]:
        return [r for r in self.rows if r.row.table == table]


def collect(
    suite: Suite,
    experiment: str,
    uri: str | None = None,
    *,
    dataset_fingerprint: str | None = None,
    parent_run_ids: Sequence[str] | None = None,
) -> Collected:
    from benchmark.uri_check import shown

    resolved_uri = tracking.tracking_uri(uri)
    db = sqlite.writable_database(resolved_uri)
    if db is not None and not db.is_file():
        raise ParamError(
            f"no runs yet: there is no tracking database at {resolved_uri}; "
            f"run `bench run --suite {suite.name}` first (or pass --tracking-uri)"
        )
    client = tracking.client(resolved_uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None or exp.lifecycle_stage == "deleted":
        raise ParamError(
            f"no runs yet: experiment {experiment!r} does not exist at {shown(resolved_uri)}; "
            f"run `bench run --suite {suite.name}` first (or pass --experiment / --tracking-uri)"
        )
    parents = _chosen_parents(client, exp.experiment_id, suite, dataset_fingerprint, parent_run_ids)
    if not parents:
        where = f" for dataset {dataset_fingerprint[:12]}" if dataset_fingerprint else ""
        raise ParamError(
            f"no runs yet: experiment {experiment!r} at {shown(resolved_uri)} has no runs of suite "
            f"{suite.name!r}{where}; "
            f"run `bench run --suite {suite.name}` first"
        )
    rows: list[RowRuns] = []
    for row in suite.rows:
        parent = parents.get((row.table, row.name))
        if row.reported or parent is None:
            rows.append(RowRuns(row))
            continue
        rows.append(_row_runs(client, exp.experiment_id, row, parent))
    header = _header(suite, experiment, resolved_uri, list(parents.values()), rows)
    for r in rows:  # rows never run, or whose run has not finished a split yet: shown as 0/n, never as a gap
        if not r.row.reported and (
            r.parent_id is None or (r.parent_status == "RUNNING" and r.n_expected < header.n_splits)
        ):
            r.n_expected = header.n_splits
    classes = class_names(parents.values())
    predictions = {}
    for part in sections(suite):
        reference = next((r for r in rows if r.row.table == part.name and r.row.name == part.reference), None)
        if reference is not None and reference.finished:
            predictions[part.name] = reference_predictions(client, reference.finished)
    return Collected(suite, header, rows, classes, predictions)


def touched(run) -> int:
    closed = run.data.tags.get(f"{TAG}closed_at", "")  # a parent's end time is moved to show its own duration
    return int(closed) if closed.isdigit() else (run.info.end_time or run.info.start_time or 0)


def _chosen_parents(
    client, experiment_id: str, suite: Suite, dataset_fingerprint, parent_run_ids
) -> dict[tuple[str, str], Any]:
    if parent_run_ids:
        runs = [client.get_run(run_id) for run_id in parent_run_ids]
    else:
        name = suite.name.replace("'", "\\'")
        query = f"tags.`{TAG}kind` = '{tracking.PARENT}' and tags.`{TAG}suite` = '{name}'"
        if dataset_fingerprint:
            query += f" and tags.`{TAG}dataset_fingerprint` = '{dataset_fingerprint}'"
        runs = tracking.search_all(client, [experiment_id], query)
        if runs:
            setting = setting_of_run(max(runs, key=touched))
            runs = [r for r in runs if setting_of_run(r) == setting]
    chosen: dict[tuple[str, str], Any] = {}
    for run in sorted(runs, key=touched):  # the latest wins
        tags = run.data.tags
        chosen[(tags.get(f"{TAG}table") or tags.get(f"{TAG}suite", ""), tags.get(f"{TAG}row", ""))] = run
    return chosen


def _row_runs(client, experiment_id: str, row: SuiteRow, parent) -> RowRuns:
    tags = parent.data.tags
    source = tags.get(f"{TAG}split_source", "").split("/")[0]
    query = (
        f"tags.`{TAG}kind` = '{tracking.SPLIT}' and tags.`{TAG}config_fingerprint` = "
        f"'{tags.get(f'{TAG}config_fingerprint', '')}'"
        f" and tags.`{TAG}dataset_fingerprint` = '{tags.get(f'{TAG}dataset_fingerprint', '')}'"
    )
    code = tags.get(f"{TAG}code_fingerprint", "")  # a row never mixes code identities (absent on runs before them)
    children = [
        c
        for c in tracking.search_all(client, [experiment_id], query)
        if c.data.tags.get(f"{TAG}split_source", "").split("/")[0] == source
        and c.data.tags.get(f"{TAG}split", "").isdigit()
        and c.data.tags.get(f"{TAG}code_fingerprint", "") == code
    ]
    n_expected = tags.get(f"{TAG}n_expected_splits")
    if n_expected is not None and n_expected.isdigit():
        expected = int(n_expected)
    else:  # the parent's run is still in progress: expect what has been started
        expected = 1 + max((int(c.data.tags[f"{TAG}split"]) for c in children), default=-1)
    result = RowRuns(row, parent.info.run_id, parent.info.status, expected)
    result.ceiling = float(parent.data.metrics.get("test_acc_ceiling", math.nan))
    count = tags.get(f"{TAG}n_parameters", "")
    result.n_parameters = int(count) if count.isdigit() else None
    result.design = tags.get(f"{TAG}{significance.DESIGN_TAG}") or significance.design_from_source(source, expected)
    by_split: dict[int, list] = {}
    for child in children:
        k = int(child.data.tags[f"{TAG}split"])
        if k < expected:
            by_split.setdefault(k, []).append(child)
    for k, runs in by_split.items():
        finished = [r for r in runs if r.info.status == "FINISHED" and "test_acc" in r.data.metrics]
        run = max(finished or runs, key=touched)
        metrics = run.data.metrics
        record = SplitRecord(
            split=k,
            run_id=run.info.run_id,
            status=run.info.status,
            test_acc=float(metrics.get("test_acc", math.nan)),
            test_acc_best_epoch=float(metrics.get("test_acc_best_epoch", math.nan)),
            seconds_per_epoch=float(metrics.get("seconds_per_epoch", math.nan)),
            reason=run.data.tags.get(f"{TAG}failure_reason", ""),
            commit=run.data.tags.get("mlflow.source.git.commit", ""),
            **split_sizes(client, run),
        )
        if record.finished and result.design == significance.SINGLE:
            record.correct = correct_predictions(client, run.info.run_id)
        if record.finished:
            record.curves = {
                key: sorted((m.step, m.value) for m in client.get_metric_history(run.info.run_id, key))
                for key in CURVES
            }
        result.splits[k] = record
    return result


def _protocol(source: str) -> str:
    """``random-stratified-2/3`` as is; ``files:DIR/01`` as ``files:DIR`` (the protocol, not split 0)."""
    return source if source.startswith("random") else source.split("/")[0]


def _unique(values: Iterable[str]) -> list[str]:
    return sorted({v for v in values if v})


def _header(suite: Suite, experiment: str, uri: str, parents: list, rows: list[RowRuns]) -> Header:
    tags = [p.data.tags for p in parents]
    header = Header(
        suite=suite.name,
        title=suite.title,
        dataset=experiment,
        tracking_uri=uri,
        dataset_fingerprints=_unique(t.get(f"{TAG}dataset_fingerprint", "") for t in tags),
        profiles=_unique(t.get(f"{TAG}profile", "") for t in tags),
        precisions=_unique(t.get(f"{TAG}precision", "fp32") for t in tags if _trains_torch(t.get(f"{TAG}model", ""))),
        split_sources=_unique(_protocol(t.get(f"{TAG}split_source", "")) for t in tags),
        n_splits=max((r.n_expected for r in rows), default=0),
        # the code that computed the numbers: the finished split runs' commits (parents as a fallback)
        commits=_unique(s.commit for r in rows for s in r.finished)
        or _unique(t.get("mlflow.source.git.commit", "") for t in tags),
        synthetic=any(t.get(f"{TAG}synthetic", "").lower() == "true" for t in tags),
        random_extractors=_unique(m for t in tags for m in t.get(f"{TAG}random_extractors", "").split(",")),
    )
    if len(header.dataset_fingerprints) > 1 or len(header.profiles) > 1 or len(header.precisions) > 1:
        header.notes.append("rows come from different datasets, profiles or precisions: compare them with care")
    running = [r.row.name for r in rows if r.parent_status == "RUNNING"]
    if running:
        header.notes.append(f"still running when this report was made: {', '.join(running)}")
    return header


def _trains_torch(model: str) -> bool:
    """Whether a row's model is a torch model (estimators have no precision); unknown names count as torch."""
    from baselines import get_model

    try:
        return get_model(model).kind == "torch"
    except ParamError:
        return True
