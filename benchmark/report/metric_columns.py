"""The registered metrics as columns of the report: each computed from every finished split run's kept
``scores.csv`` (so a metric added in a plugin fills every row with nothing trained), written back to the
split runs (``test_<name>``) and to the rows' parents (``test_<name>_mean``, ``test_<name>_std``) where
missing or changed, and summarised per row: ``<name>`` and ``<name>_std`` in the table's unit (percent
for fractions), with the corrected comparison against the reference row for percentage metrics."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from benchmark import checkpoints, metrics, tracking
from benchmark.kept import mlflow_name
from benchmark.report.collect import Collected
from benchmark.statistics import significance as sig
from benchmark.statistics.rows import summarize
from benchmark.suite import sections


def split_metrics(client, collected: Collected) -> dict[str, dict[str, float]]:
    """run id -> {metric: value} for every finished split run that kept its scores (others: absent)."""
    out: dict[str, dict[str, float]] = {}
    if not collected.classes:
        return out
    with tempfile.TemporaryDirectory() as tmp:
        for row in collected.rows:
            for record in row.finished:
                try:
                    path = Path(client.download_artifacts(record.run_id, "scores.csv", tmp))
                except Exception:  # runs made before scores were kept: no metric beyond accuracy
                    continue
                labels, scores, _ = checkpoints.read_scores(path, collected.classes)
                out[record.run_id] = metrics.compute(labels, scores)
                path.unlink()
    return out


def write_back(client, collected: Collected, values: dict[str, dict[str, float]], frame) -> None:
    """Missing or changed metrics onto the split runs, the rows' means onto their parents (fractions, like test_acc)."""
    for row in collected.rows:
        for record in row.finished:
            run_values = values.get(record.run_id)
            if not run_values:
                continue
            logged = client.get_run(record.run_id).data.metrics
            fresh = {
                mlflow_name(k): v
                for k, v in run_values.items()
                if k != "accuracy"
                and math.isfinite(v)
                and not math.isclose(logged.get(mlflow_name(k), math.nan), v, rel_tol=1e-9)
            }
            if fresh:
                tracking.log_metrics(client, record.run_id, fresh)
        if row.parent_id:
            record = frame[(frame["table"] == row.row.table) & (frame["row"] == row.row.name)]
            if record.empty:
                continue
            means = {}
            for name in metrics.list_metrics():
                if name == "accuracy" or name not in record:
                    continue
                scale = metrics.get_metric(name).scale()
                mean, std = float(record[name].iloc[0]), float(record[f"{name}_std"].iloc[0])
                if math.isfinite(mean):
                    means[f"{mlflow_name(name)}_mean"] = mean / scale
                if math.isfinite(std):
                    means[f"{mlflow_name(name)}_std"] = std / scale
            if means:
                tracking.log_metrics(client, row.parent_id, means)


def add_columns(frame, collected: Collected, values: dict[str, dict[str, float]], rope: float = sig.DEFAULT_ROPE):
    """``frame`` (the stats table) with ``<name>``, ``<name>_std``, ``<name>_n`` and for % metrics ``<name>_diff``,
    ``<name>_p_value`` (corrected resampled t-test against the section's reference row) per registered metric."""
    frame = frame.copy()
    names = [n for n in metrics.list_metrics() if n != "accuracy"]
    per_row: dict[tuple[str, str], dict[str, dict[int, float]]] = {}
    for row in collected.rows:
        split_values: dict[str, dict[int, float]] = {n: {} for n in names}
        for record in row.finished:
            for n in names:
                v = values.get(record.run_id, {}).get(n, math.nan)
                if math.isfinite(v):
                    split_values[n][record.split] = v
        per_row[(row.row.table, row.row.name)] = split_values
    references = {part.name: part.reference for part in sections(collected.suite)}
    sizes = {s.split: (s.n_train, s.n_test) for r in collected.rows for s in r.finished if s.n_train and s.n_test}
    for n in names:
        metric = metrics.get_metric(n)
        scale = metric.scale()
        columns: dict[str, list[float]] = {n: [], f"{n}_std": [], f"{n}_n": [], f"{n}_diff": [], f"{n}_p_value": []}
        for record in frame.to_dict("records"):
            by_split = per_row.get((record["table"], record["row"]), {}).get(n, {})
            summary = summarize(by_split.values(), scale)
            columns[n].append(summary.mean)
            columns[f"{n}_std"].append(summary.std)
            columns[f"{n}_n"].append(summary.n)
            diff = p = math.nan
            reference = references.get(record["table"])
            ref_values = per_row.get((record["table"], reference), {}).get(n, {}) if reference else {}
            shared = sorted(set(by_split) & set(ref_values))
            if metric.unit == "%" and record["row"] != reference and len(shared) >= 2:
                comparison = sig.compare(
                    by_split, ref_values, sig.size_ratio(sizes, shared), rope, record.get("design") or sig.SUBSAMPLING
                )
                diff, p = comparison.diff, comparison.p_value
            columns[f"{n}_diff"].append(diff)
            columns[f"{n}_p_value"].append(p)
        for column, data in columns.items():
            frame[column] = data
    return frame


def metric_columns() -> list[str]:
    """The CSV columns the registered metrics add, in registration order."""
    return [
        c
        for n in metrics.list_metrics()
        if n != "accuracy"
        for c in (n, f"{n}_std", f"{n}_n", f"{n}_diff", f"{n}_p_value")
    ]
