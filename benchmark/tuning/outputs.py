"""What a finished (or partial) study leaves in ``reports/<dataset>/tune-<study>/``:

- ``best.json``: the best trial's setting and its validation accuracy (mean ± std over the splits);
- ``trials.csv`` and ``trials.md``: every counted trial (skipped duplicates and killed attempts left
  out) with its state, values and validation accuracy mean ± std over the tuning splits;
- ``objective.png``: validation accuracy against each searched parameter (error bars: std over
  splits; pruned trials hollow).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.tuning.vocabulary import VAL_MEAN, VAL_SPLITS, VAL_STD

STATE_NAMES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running", "WAITING": "waiting"}


@dataclass
class TuneReport:
    directory: Path
    table: pd.DataFrame
    best: dict[str, Any] | None


def report_dir(dataset: str, study: str, root: Path = Path("reports")) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._+=-]+", "_", study)
    return root / re.sub(r"[^A-Za-z0-9._+=-]+", "_", dataset) / f"tune-{safe}"


def trials_table(book, space: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for t in sorted(book.done + book.active, key=lambda t: t.number):
        splits = list(t.user_attrs.get(VAL_SPLITS) or [])
        mean = t.user_attrs.get(VAL_MEAN)
        std = t.user_attrs.get(VAL_STD)
        row = {"trial": t.number, "state": STATE_NAMES.get(t.state.name, t.state.name.lower())}
        row.update({name: t.params.get(name) for name in space})
        row.update(
            {
                "val_acc_mean": mean if mean is not None else math.nan,
                "val_acc_std": std if std is not None else math.nan,
                "n_splits": len(splits),
                "val_acc_splits": " ".join(f"{a:.4f}" for a in splits),
            }
        )
        rows.append(row)
    return pd.DataFrame(
        rows, columns=["trial", "state", *space, "val_acc_mean", "val_acc_std", "n_splits", "val_acc_splits"]
    )


def best_setting(study) -> dict[str, Any] | None:
    from optuna.trial import TrialState

    complete = [
        t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if not t.user_attrs.get("skipped")
    ]
    if not complete:
        return None
    from benchmark.tuning.search import best_key

    best = max(complete, key=best_key)
    return {
        "trial": best.number,
        "params": dict(best.params),
        "val_acc_mean": best.value,
        "val_acc_std": best.user_attrs.get(VAL_STD),
        "val_acc_splits": best.user_attrs.get(VAL_SPLITS),
    }


def pct(value: Any) -> str:
    return (
        "—"
        if value is None or not isinstance(value, (int, float)) or not math.isfinite(value)
        else f"{100 * value:.1f}"
    )


def markdown(table: pd.DataFrame, space: Mapping[str, Any], title: str, notes: list[str]) -> str:
    header = ["trial", "state", *space, "val acc % (mean ± std)", "splits"]
    lines = [f"# {title}", "", *notes, "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, r in table.iterrows():
        values = [_fmt(r[name]) for name in space]
        acc = f"{pct(r.val_acc_mean)} ± {pct(r.val_acc_std)}"
        lines.append("| " + " | ".join([str(r.trial), r.state, *values, acc, str(r.n_splits)]) + " |")
    return "\n".join(lines) + "\n"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if math.isfinite(value) else "—"
    return "—" if value is None else str(value)


def plot(table: pd.DataFrame, space: Mapping[str, Any], path: Path, title: str, warning: str | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(space)
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    shown = table[table.val_acc_mean.notna()]
    for ax, name in zip(axes[0], names):
        param = space[name]
        for state, style in (("complete", {"fmt": "o"}), ("pruned", {"fmt": "o", "mfc": "none"})):
            part = shown[shown.state == state]
            if part.empty:
                continue
            x = part[name].astype(float)
            ax.errorbar(
                x, 100 * part.val_acc_mean, yerr=100 * part.val_acc_std.fillna(0.0), capsize=3, label=state, **style
            )
        if param.categorical:
            ax.set_xscale("log", base=2) if all(float(c) > 0 for c in param.choices) and param.type is int else None
            ax.set_xticks([float(c) for c in param.choices])
            ax.set_xticklabels([str(c) for c in param.choices])
        elif param.log:
            ax.set_xscale("log")
        ax.set_xlabel(name)
        ax.set_ylabel("validation accuracy %")
        ax.grid(alpha=0.3)
    axes[0][0].legend(loc="best", fontsize="small")
    if warning:  # a plot copied out of the folder keeps the warning with it
        fig.suptitle(f"{title}\n{warning}", fontsize="medium", color="#b2182b", fontweight="bold")
    else:
        fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(
    study, book, space: Mapping[str, Any], dataset: str, title: str, notes: list[str], root: Path = Path("reports")
) -> TuneReport:
    directory = report_dir(dataset, study.study_name, root)
    directory.mkdir(parents=True, exist_ok=True)
    table = trials_table(book, space)
    best = best_setting(study)
    table.to_csv(directory / "trials.csv", index=False)
    (directory / "trials.md").write_text(markdown(table, space, title, notes))
    (directory / "best.json").write_text(
        json.dumps({"study": study.study_name, "best": best, "notes": notes}, indent=1, default=str)
    )
    synthetic = any(note.startswith("Synthetic data") for note in notes)
    plot(table, space, directory / "objective.png", title, "SYNTHETIC DATA: NOT REAL RESULTS" if synthetic else None)
    return TuneReport(directory, table, best)
