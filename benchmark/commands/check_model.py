"""``bench check-model NAME``: the model contract, run on any registered model (plugins included)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from benchmark.commands.common import PLUGIN_HELP, load_plugins, user_errors


def check_model(
    name: str = typer.Argument(..., help="A registered model (bench models lists them; --plugin adds yours)."),
    plugin: list[str] = typer.Option([], "--plugin", help=PLUGIN_HELP),
    features: Path | None = typer.Option(
        None, "--features", "-f", help="Check at this store's dims and modalities (default: small dims)."
    ),
    params: str | None = typer.Option(
        None, "--params", help="Model parameter overrides as JSON, e.g. '{\"hidden\": 64}'."
    ),
    full_size: bool = typer.Option(
        False, "--full-size", help="Use the model's defaults, not its registered small check_params."
    ),
) -> None:
    """Run the model contract (the checks every built-in passes) and print pass/fail with reasons.

    Exit code 0 only when every applicable check passes, 1 when one fails, 2 for bad input.
    """
    with user_errors():
        from rich.console import Console
        from rich.table import Table

        from baselines.contract import default_dims, make_case, run_checks
        from baselines.registry import check_modalities, get_model
        from benchmark.params import ParamError

        load_plugins(plugin)
        entry = get_model(name)
        overrides = _params(params)
        if features is not None:
            from features.store import open_store

            store = open_store(features)
            dims = dict(store.dims)
            if entry.modalities is not None:
                dims = {m: d for m, d in dims.items() if m in entry.modalities}
                if not dims:
                    raise ParamError(
                        f"model {name!r} models {', '.join(entry.modalities)}; the store {features} has none of them"
                    )
            check_modalities(name, list(dims))
            where = f"the dims of {features}"
        else:
            dims = default_dims(name)
            where = "small dims"
        case = make_case(name, dims, overrides, small=not full_size)
        results = run_checks(case)
        console = Console()
        table = Table(
            title=f"bench check-model {name} ({entry.kind}, {entry.origin}) at {where} {dims}", title_justify="left"
        )
        for column in ("check", "result", "reason"):
            table.add_column(column)
        for r in results:
            mark = "[green]pass" if r.passed else "[dim]skipped" if r.passed is None else "[red]FAIL"
            table.add_row(r.check, mark, r.reason)
        console.print(table)
        failed = [r.check for r in results if r.passed is False]
        if failed:
            console.print(f"[red]{len(failed)} check(s) failed: {', '.join(failed)}")
            raise typer.Exit(1)
        console.print(f"[green]{name}: every applicable check passed")


def _params(text: str | None) -> dict:
    from benchmark.params import ParamError

    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParamError(f"--params is not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise ParamError("--params must be a JSON object of parameter names to values")
    return value


def register(app: typer.Typer) -> None:
    app.command("check-model")(check_model)
