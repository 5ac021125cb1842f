"""``bench models``: what is registered: models (parameter counts, NeXtVLAD output widths), metrics and
test-time corruptions (built-in, plugins, installed entry points)."""

from __future__ import annotations

import typer

from benchmark.commands.common import PLUGIN_HELP, load_plugins, user_errors


def models(
    classes: int = typer.Option(8, help="Number of classes for the parameter count."),
    profile: str = typer.Option("paper", help="Profile whose model overrides apply ('paper' = the paper's dims)."),
    plugin: list[str] = typer.Option([], "--plugin", help=PLUGIN_HELP),
) -> None:
    """List registered models (built-in, plugins, installed ver_bench.models entry points) with parameter
    counts at the paper's dims (visual 768, audio 128, skeleton 99), then the registered metrics and
    test-time corruptions."""
    with user_errors():
        _models(classes, profile, plugin)


def _models(classes: int, profile: str, plugin: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    from baselines import build_model, get_model, list_models
    from benchmark.config import get_profile
    from features.store import PAPER_DIMS

    load_plugins(plugin)
    chosen = get_profile(profile)
    table = Table(
        title=f"Registered models (profile {chosen.name}, dims {PAPER_DIMS}, {classes} classes)", title_justify="left"
    )
    for column in ("model", "kind", "parameters", "NeXtVLAD output widths (lambda*N*K/G)", "from", "description"):
        table.add_column(column)
    for name in list_models():
        entry = get_model(name)
        params = dict(chosen.model_overrides.get(name, {}))
        dims = {m: d for m, d in PAPER_DIMS.items() if entry.modalities is None or m in entry.modalities}
        try:
            model = build_model(name, dims, classes, params)
        except Exception as exc:
            table.add_row(
                name,
                entry.kind,
                "—",
                "—",
                entry.origin,
                f"does not build at the paper's dims: {type(exc).__name__}: {exc}",
            )
            continue
        if entry.kind == "torch":
            count = sum(p.numel() for p in model.parameters() if p.requires_grad)
            widths = _vlad_widths(model)
        else:
            count = model.n_parameters() if hasattr(model, "n_parameters") else 0
            widths = "—"
        table.add_row(name, entry.kind, f"{count:,}", widths, entry.origin, entry.description)
        for label, switches in entry.variants.items():
            variant = build_model(name, dims, classes, {**params, **switches})
            count = sum(p.numel() for p in variant.parameters() if p.requires_grad)
            table.add_row(
                f"  {name} {label}",
                entry.kind,
                f"{count:,}",
                _vlad_widths(variant) or "—",
                entry.origin,
                "variant of " + name,
            )
    console = Console()
    console.print(table)
    _metrics_and_corruptions(console)


def _metrics_and_corruptions(console) -> None:
    """What ``--metrics`` (run, report) and ``--corruption`` (evaluate) accept, plugins' included."""
    from rich.table import Table

    from benchmark.evaluation.corruptions import get_corruption, list_corruptions
    from benchmark.metrics import get_metric, list_metrics

    metrics = Table(title="Registered metrics (bench run / report --metrics)", title_justify="left")
    for column in ("metric", "better", "unit", "description"):
        metrics.add_column(column)
    for name in list_metrics():
        metric = get_metric(name)
        metrics.add_row(
            name, "higher" if metric.direction == "max" else "lower", metric.unit or "—", metric.description
        )
    console.print(metrics)
    corruptions = Table(title="Test-time corruptions (bench evaluate --corruption)", title_justify="left")
    for column in ("corruption", "levels", "per modality", "description"):
        corruptions.add_column(column)
    for name in list_corruptions():
        corruption = get_corruption(name)
        levels = ", ".join(f"{level:g}" for level in corruption.levels)
        corruptions.add_row(name, levels, "yes" if corruption.per_modality else "no", corruption.description)
    console.print(corruptions)


def _vlad_widths(model) -> str:
    """``visual 2*768*4/8=768`` per NeXtVLAD: expansion * input width * clusters / groups."""
    from baselines.nextvlad import NeXtVLAD
    from features.format import PAPER_MODALITIES

    parts = []
    for name, module in model.named_modules():
        if isinstance(module, NeXtVLAD):
            label = next((part for part in name.split(".") if part in PAPER_MODALITIES), name)
            n = module.expand.in_features
            lam = module.expand.out_features // n
            parts.append(f"{label} {lam}*{n}*{module.clusters}/{module.groups}={module.output_dim}")
    return ", ".join(parts)


def register(app: typer.Typer) -> None:
    app.command("models")(models)
