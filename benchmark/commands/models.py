"""``bench models``: the registered models, their parameter counts and NeXtVLAD output widths."""

from __future__ import annotations

import typer


def models(
    classes: int = typer.Option(8, help="Number of classes for the parameter count."),
    profile: str = typer.Option("paper", help="Profile whose model overrides apply ('paper' = the paper's dims)."),
) -> None:
    """List registered models with parameter counts at the paper's dims (visual 768, audio 128, skeleton 99)."""
    from rich.console import Console
    from rich.table import Table

    from baselines import build_model, get_model, list_models
    from benchmark.config import get_profile
    from features.store import PAPER_DIMS

    chosen = get_profile(profile)
    table = Table(title=f"Registered models (profile {chosen.name}, dims {PAPER_DIMS}, {classes} classes)", title_justify="left")
    for column in ("model", "kind", "parameters", "NeXtVLAD output widths (lambda*N*K/G)", "description"):
        table.add_column(column)
    for name in list_models():
        entry = get_model(name)
        params = dict(chosen.model_overrides.get(name, {}))
        model = build_model(name, PAPER_DIMS, classes, params)
        if entry.kind == "torch":
            count = sum(p.numel() for p in model.parameters() if p.requires_grad)
            widths = _vlad_widths(model)
        else:
            count, widths = model.n_parameters(), "—"
        table.add_row(name, entry.kind, f"{count:,}", widths, entry.description)
        for label, switches in entry.variants.items():
            variant = build_model(name, PAPER_DIMS, classes, {**params, **switches})
            count = sum(p.numel() for p in variant.parameters() if p.requires_grad)
            table.add_row(f"  {name} {label}", entry.kind, f"{count:,}", _vlad_widths(variant) or "—", "variant of " + name)
    Console().print(table)


def _vlad_widths(model) -> str:
    """``visual 2*768*4/8=768`` per NeXtVLAD: expansion * input width * clusters / groups."""
    from baselines.nextvlad import NeXtVLAD
    from benchmark.config import MODALITIES

    parts = []
    for name, module in model.named_modules():
        if isinstance(module, NeXtVLAD):
            label = next((part for part in name.split(".") if part in MODALITIES), name)
            n = module.expand.in_features
            lam = module.expand.out_features // n
            parts.append(f"{label} {lam}*{n}*{module.clusters}/{module.groups}={module.output_dim}")
    return ", ".join(parts)


def register(app: typer.Typer) -> None:
    app.command("models")(models)
