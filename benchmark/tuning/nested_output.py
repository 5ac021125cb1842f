"""The terminal table of ``bench tune --nested``: per outer split the chosen values, the inner
validation accuracy, the test accuracy and whether the split run was trained or reused; then the
nested mean ± std, the number Table 3's rows compare with."""

from __future__ import annotations

import math

import numpy as np
from rich.console import Console
from rich.table import Table

from benchmark.tracking.nested_runs import chosen_of, is_done
from benchmark.tracking.tags import TAG
from benchmark.tuning.nested import NestedSummary


def _pct(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{100 * value:.1f}"


def nested_table(summary: NestedSummary, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column, justify in (
        ("outer split", "right"),
        ("chosen", "left"),
        ("inner val acc %", "right"),
        ("test acc %", "right"),
        ("split run", "left"),
    ):
        table.add_column(column, justify="left" if justify == "left" else "right")
    for k in range(summary.n_splits):
        run = summary.children[k]
        metrics, tags = run.data.metrics, run.data.tags
        chosen = ", ".join(f"{name}={value}" for name, value in chosen_of(run).items()) or "—"
        if is_done(run):
            source = "reused" if tags.get(f"{TAG}split_run_reused") == "true" else "trained"
            table.add_row(
                str(k),
                chosen,
                _pct(metrics.get("inner_val_acc")),
                _pct(metrics["test_acc"]),
                f"{source} {tags.get(f'{TAG}split_run', '')[:12]}",
            )
        else:
            reason = tags.get(f"{TAG}failure_reason") or run.info.status
            table.add_row(str(k), chosen, _pct(metrics.get("inner_val_acc")), "—", f"[red]{reason}[/red]")
    return table


def print_nested(summary: NestedSummary, store, profile: str, console: Console | None = None) -> None:
    console = console or Console()
    title = f"Nested evaluation {summary.base_name}\n{store.name} ({store.fingerprint[:12]}), profile {profile}"
    console.print(nested_table(summary, title))
    accs = summary.accuracies
    if accs:
        std = f"{100 * np.std(accs, ddof=1):.1f}" if len(accs) > 1 else "n/a"
        console.print(
            f"[bold]chosen on validation (nested): {100 * np.mean(accs):.1f} ± {std} % test accuracy over "
            f"{len(accs)}/{summary.n_splits} "
            f"outer splits[/bold] (MLflow parent run {summary.parent_run_id}); compare with `bench report --suite "
            "table3`"
        )
        if summary.n_splits == 1:
            console.print(
                "[yellow]This number comes from one split (the protocol has one outer split, e.g. an official "
                "train/test list): it has no spread over splits; compare rows on that split's paired predictions."
            )
    console.print(
        f"this process ran {summary.trials_ran} inner trials and trained {summary.split_runs_trained} split runs "
        f"({summary.n_splits - len(summary.outcomes)} outer splits had finished before)"
    )
    for outcome in summary.failures:
        console.print(f"[red]outer split {outcome.split}: {outcome.reason}")
    if store.synthetic:
        console.print("[bold yellow]Synthetic data: these numbers say nothing about real videos.")
    if profile != "paper":
        console.print(f"[yellow]Profile '{profile}' is not the paper's protocol; use --profile paper for that.")
