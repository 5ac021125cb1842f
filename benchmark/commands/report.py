"""``bench report``: render a suite's paper tables and figures from what MLflow holds."""

from __future__ import annotations

from pathlib import Path

import typer

from benchmark.commands.common import METRICS_HELP, PLUGIN_HELP, TRACKING_HELP, load_plugins, parse_metrics, user_errors


def report(
    suite: str = typer.Option(
        ...,
        "--suite",
        "-s",
        help="Built-in suite (table1, table2, table3, all; components, fusion, extended) or a path to a suite .toml.",
    ),
    features: list[Path] = typer.Option(
        [],
        "--features",
        "-f",
        help="The feature store the runs used, a folder or a built-in name (synthetic-ve8, synthetic-ekman6); its "
        "name is the experiment; only runs on its exact content count. Repeatable: several datasets give one "
        "combined table.",
    ),
    experiment: str | None = typer.Option(
        None, "--experiment", "-e", help="MLflow experiment (= the store's name) to read, without opening the store."
    ),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (default: reports/<dataset>/<suite>/)."),
    plugin: list[str] = typer.Option([], "--plugin", help=PLUGIN_HELP),
    rope: float = typer.Option(
        1.0,
        "--rope",
        help="Region of practical equivalence of the Bayesian comparison with the reference row, in accuracy points "
        "(±ROPE).",
    ),
    metrics: str = typer.Option("accuracy", "--metrics", help=METRICS_HELP),
) -> None:
    """Write table.md, table.tex, table.csv, figures (PNG) and index.html for a suite's runs."""
    with user_errors():
        from benchmark.params import ParamError, check_float
        from benchmark.report.render import render_report
        from benchmark.suite import load_suite
        from benchmark.uri_check import check_tracking_uri

        tracking_uri = check_tracking_uri(tracking_uri, read_only=True)
        load_plugins(plugin, load_suite(suite))  # the rows' models: their kind decides the precision column
        check_float("--rope", rope, low=0.0)
        shown = parse_metrics(metrics)

        if features and experiment is not None:
            raise ParamError("give either --features or --experiment, not both")
        if len(features) > 1:
            from benchmark.commands.common import store_for
            from benchmark.report import datasets
            from benchmark.suite import load_suite as load
            from features.store import open_store

            stores = [open_store(store_for(f)) for f in features]
            folders = {
                s.name: render_report(
                    suite,
                    s.name,
                    tracking_uri,
                    (out / s.name) if out else None,
                    dataset_fingerprint=s.fingerprint,
                    rope=rope,
                    metrics=shown,
                    first=i == 0,
                )
                for i, s in enumerate(stores)
            }
            loaded = load(suite)
            combined = out or datasets.combined_folder(list(folders), loaded.name)
            long = datasets.write(loaded.title, folders, combined)
            from rich.console import Console

            datasets.print_table(loaded.title, long, Console())
            typer.echo(
                f"report written to {combined}/ (open {combined / 'index.html'}; each dataset's report is linked "
                "from it)"
            )
            return
        fingerprint = None
        if features:
            from benchmark.commands.common import store_for
            from features.store import open_store

            store = open_store(store_for(features[0]))
            experiment, fingerprint = store.name, store.fingerprint
        elif experiment is None:
            from features.synthetic import synthetic_name

            experiment = synthetic_name()
        folder = render_report(
            suite, experiment, tracking_uri, out, dataset_fingerprint=fingerprint, rope=rope, metrics=shown
        )
        typer.echo(f"report written to {folder}/ (open {folder / 'index.html'})")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
