"""``bench evaluate``'s results in the report: ``robustness.csv`` (one line per row, corruption, modality and
level: mean test accuracy over splits in %, its std and n), one figure per corruption (accuracy against
level, one line per row), ``robustness.md`` (per row and modality: clean and missing-modality accuracy beside
the row trained without that modality, MultiBench's relative and effective robustness under noise, and the
corrected comparison of the missing-modality accuracy with the reference row), and each row's cost columns.

Relative robustness (MultiBench, Liang et al. 2021): the area under the accuracy-vs-level curve, clean
point included, over equally spaced levels on [0, 1] (so it reads as a mean accuracy in %). Effective
robustness: the mean over levels of the row's accuracy minus the reference row's curve shifted to the row's
clean accuracy (MultiBench uses late fusion as that baseline; here it is the section's reference row), in
points: above 0, the row loses less than the reference does."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from benchmark.report.collect import Collected
from benchmark.statistics import significance as sig
from benchmark.suite import sections
from benchmark.tracking.tags import TAG

COST = ("mflop_per_video", "inference_ms_batch1", "inference_ms_batch64", "peak_memory_mb")
CSV_COLUMNS = ["table", "row", "corruption", "modality", "level", "accuracy", "accuracy_std", "n"]


def evaluations(client, collected: Collected, experiment_id: str):
    """One record per FINISHED evaluation of the rows' finished split runs (a DataFrame; empty if none)."""
    import pandas as pd

    from benchmark.tracking import evaluations

    owner = {s.run_id: (r.row.table, r.row.name, s.split) for r in collected.rows for s in r.finished}
    records = []
    for run in evaluations.of_split_runs(client, experiment_id, set(owner), current=_current):
        tags, values = run.data.tags, run.data.metrics
        table, row, split = owner[tags[f"{TAG}split_run_id"]]
        records.append(
            {
                "table": table,
                "row": row,
                "split": split,
                "corruption": tags.get(f"{TAG}corruption", ""),
                "modality": tags.get(f"{TAG}modality", ""),
                "level": float(tags.get(f"{TAG}level", "nan")),
                "accuracy": values.get("test_acc", math.nan),
                **{k: values.get(k, math.nan) for k in COST},
            }
        )
    return pd.DataFrame.from_records(
        records, columns=["table", "row", "split", "corruption", "modality", "level", "accuracy", *COST]
    )


def _current(run) -> bool:
    """Made by today's evaluation code and, for a registered corruption, today's corruption code."""
    from benchmark.evaluation import corruptions
    from benchmark.evaluation.evaluate import EVALUATION_VERSION

    tags = run.data.tags
    if tags.get(f"{TAG}evaluation_version", "1") != str(EVALUATION_VERSION):
        return False
    name = tags.get(f"{TAG}corruption", "")
    return (
        name not in corruptions.list_corruptions()
        or tags.get(f"{TAG}corruption_version") == corruptions.get_corruption(name).version
    )


def curves(evals):
    """``robustness.csv``'s frame: mean accuracy (%) over splits per (row, corruption, modality, level)."""
    grouped = evals.assign(accuracy=100.0 * evals["accuracy"]).groupby(
        ["table", "row", "corruption", "modality", "level"], sort=False
    )
    out = grouped["accuracy"].agg(["mean", "std", "count"]).reset_index()
    return out.rename(columns={"mean": "accuracy", "std": "accuracy_std", "count": "n"})[CSV_COLUMNS]


def cost_columns(frame, evals):
    """``frame`` with the rows' mean cost (the clean evaluations that measured it) as columns."""
    frame = frame.copy()
    clean = evals[evals["corruption"] == "clean"] if len(evals) else evals
    for column in COST:
        means = clean.groupby(["table", "row"])[column].mean() if len(clean) else {}
        frame[column] = [
            float(means.get((t, r), math.nan)) if len(clean) else math.nan for t, r in zip(frame["table"], frame["row"])
        ]
    return frame


def _curve(frame, table: str, row: str, corruption: str, modality: str, clean: float) -> tuple[np.ndarray, np.ndarray]:
    part = frame[
        (frame["table"] == table)
        & (frame["row"] == row)
        & (frame["corruption"] == corruption)
        & (frame["modality"] == modality)
    ]
    part = part.sort_values("level")
    return np.concatenate([[0.0], part["level"].to_numpy()]), np.concatenate([[clean], part["accuracy"].to_numpy()])


def relative_robustness(accuracies: np.ndarray) -> float:
    """Area under the curve over equally spaced levels on [0, 1] (clean point first)."""
    if len(accuracies) < 2 or not np.isfinite(accuracies).all():
        return math.nan
    from scipy.integrate import trapezoid

    return float(trapezoid(accuracies, np.linspace(0.0, 1.0, len(accuracies))))


def effective_robustness(row: np.ndarray, reference: np.ndarray) -> float:
    if len(row) != len(reference) or len(row) < 2 or not (np.isfinite(row).all() and np.isfinite(reference).all()):
        return math.nan
    return float(np.mean(row - (reference + row[0] - reference[0])))


def summary_table(collected: Collected, evals, frame) -> list[dict]:
    """One record per (row, modality): the figures of ``robustness.md``."""
    out: list[dict] = []
    if not len(evals):
        return out
    curve = curves(evals)
    clean = curve[curve["corruption"] == "clean"].set_index(["table", "row"])["accuracy"]
    per_split = evals.assign(accuracy=evals["accuracy"])
    modalities = sorted(m for m in evals["modality"].unique() if m)
    for part in sections(collected.suite):
        reference = part.reference
        rows = [r for r in collected.rows_of(part.name) if r.finished]
        for r in rows:
            name = r.row.name
            if (part.name, name) not in clean.index:
                continue
            for m in modalities:
                record = {"table": part.name, "row": name, "modality": m, "clean": float(clean[(part.name, name)])}
                missing = curve[
                    (curve["table"] == part.name)
                    & (curve["row"] == name)
                    & (curve["corruption"] == "missing")
                    & (curve["modality"] == m)
                ]
                record["missing"] = float(missing["accuracy"].iloc[0]) if len(missing) else math.nan
                without = [
                    o for o in collected.rows_of(part.name) if set(o.row.modalities) == set(r.row.modalities) - {m}
                ]
                trained = (
                    list(frame[(frame["table"] == part.name) & (frame["row"] == without[0].row.name)]["mean"])
                    if without
                    else []
                )
                record["trained_without"] = float(trained[0]) if trained else math.nan
                _, accs = _curve(curve, part.name, name, "noise", m, record["clean"])
                record["relative_robustness"] = relative_robustness(accs)
                record["effective_robustness"] = math.nan
                record["p_missing_vs_reference"] = math.nan
                if reference and name != reference and (part.name, reference) in clean.index:
                    _, ref_accs = _curve(curve, part.name, reference, "noise", m, float(clean[(part.name, reference)]))
                    record["effective_robustness"] = effective_robustness(accs, ref_accs)
                    mine = _split_values(per_split, part.name, name, "missing", m)
                    theirs = _split_values(per_split, part.name, reference, "missing", m)
                    sizes = {s.split: (s.n_train, s.n_test) for s in r.finished if s.n_train and s.n_test}
                    shared = sorted(set(mine) & set(theirs))
                    if len(shared) >= 2:
                        record["p_missing_vs_reference"] = sig.compare(
                            mine, theirs, sig.size_ratio(sizes, shared), design=r.design or sig.SUBSAMPLING
                        ).p_value
                out.append(record)
    return out


def _split_values(evals, table: str, row: str, corruption: str, modality: str) -> dict[int, float]:
    part = evals[
        (evals["table"] == table)
        & (evals["row"] == row)
        & (evals["corruption"] == corruption)
        & (evals["modality"] == modality)
    ]
    return dict(zip(part["split"].astype(int), part["accuracy"].astype(float)))


def markdown(records: list[dict]) -> str:
    lines = [
        "# Robustness at test time (bench evaluate)",
        "",
        "Accuracy in %, mean over splits. Missing: the modality's frames all masked at test time; trained without: the "
        "row trained without that modality (table2's question asked at training time). Relative robustness: area "
        "under the accuracy-vs-noise curve (MultiBench); effective: points kept beyond the reference row's curve "
        "shifted to this row's clean accuracy. p: corrected resampled t-test of the missing-modality accuracy "
        "against the reference row's.",
        "",
        "| Row | Modality | Clean | Missing | Trained without | Relative robustness | Effective robustness | p "
        "(missing vs ref) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in records:

        def f(v, d=1):
            return "—" if not math.isfinite(v) else f"{v:.{d}f}"

        p = r["p_missing_vs_reference"]
        lines.append(
            f"| {r['row']} | {r['modality']} | {f(r['clean'])} | {f(r['missing'])} | {f(r['trained_without'])} | "
            f"{f(r['relative_robustness'])} | {f(r['effective_robustness'], 2)} | "
            f"{'—' if not math.isfinite(p) else ('<0.001' if p < 0.001 else f'{p:.3f}')} |"
        )
    return "\n".join(lines) + "\n"


def draw_curves(curve, folder: Path) -> list[Path]:
    """One figure per corruption other than clean: accuracy against level, a panel per modality, a line per row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    clean = curve[curve["corruption"] == "clean"].set_index(["table", "row"])["accuracy"]
    from benchmark.evaluation import corruptions

    for corruption in [c for c in curve["corruption"].unique() if c != "clean"]:
        registered = corruptions.get_corruption(corruption) if corruption in corruptions.list_corruptions() else None
        part = curve[curve["corruption"] == corruption]
        panels = sorted(part["modality"].unique())
        fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False, sharey=True)
        for ax, modality in zip(axes[0], panels):
            for (table, row), group in part[part["modality"] == modality].groupby(["table", "row"], sort=False):
                group = group.sort_values("level")
                clean_level = registered.clean_level if registered else 0.0
                xs = np.concatenate([[clean_level], group["level"].to_numpy()])
                ys = np.concatenate([[clean.get((table, row), math.nan)], group["accuracy"].to_numpy()])
                order = np.argsort(xs)
                ax.plot(xs[order], ys[order], marker="o", label=row)
            ax.set_title(f"{corruption}: {modality}" if modality else corruption)
            ax.set_xlabel("level")
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel("test accuracy (%)")
        fig.supxlabel(
            f"level: {registered.description}" if registered and registered.description else "level", fontsize=9
        )
        axes[0][-1].legend(fontsize=7, loc="best")
        fig.tight_layout()
        path = folder / f"robustness_{corruption}.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    return written


def draw_pareto(frame, folder: Path) -> Path | None:
    """Accuracy against inference cost (ms per video at batch 64), the Pareto front marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = frame[np.isfinite(frame["mean"]) & np.isfinite(frame.get("inference_ms_batch64", np.nan))]
    if data.empty:
        return None
    cost, acc = data["inference_ms_batch64"].to_numpy(), data["mean"].to_numpy()
    front = [
        i
        for i in range(len(data))
        if not any(
            (cost[j] <= cost[i] and acc[j] >= acc[i]) and (cost[j] < cost[i] or acc[j] > acc[i])
            for j in range(len(data))
        )
    ]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(cost, acc, color="grey")
    for i, name in enumerate(data["row"]):
        ax.annotate(name, (cost[i], acc[i]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    order = sorted(front, key=lambda i: cost[i])
    ax.plot(cost[order], acc[order], color="C3", marker="o", label="Pareto front")
    ax.set_xlabel("inference ms per video (batch 64, this machine)")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = folder / "cost_pareto.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write(client, collected: Collected, experiment_id: str, frame, folder: Path):
    """robustness.csv / .md and the figures where evaluations exist; returns (frame with cost columns, written
    files)."""
    evals = evaluations(client, collected, experiment_id)
    frame = cost_columns(frame, evals)
    written: list[Path] = []
    if len(evals):
        curve = curves(evals)
        curve.round(4).to_csv(folder / "robustness.csv", index=False)
        (folder / "robustness.md").write_text(markdown(summary_table(collected, evals, frame)))
        written += draw_curves(curve, folder)
        pareto = draw_pareto(frame, folder)
        if pareto:
            written.append(pareto)
    return frame, written
