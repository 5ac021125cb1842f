"""``bench tune --evaluate``: the best setting under the full test protocol, beside the paper's Table 3.

The setting becomes a one-row suite run by the harness (:func:`benchmark.runner.run_suite`), so its
split runs are ordinary ``bench run`` runs: fingerprinted, reused if already trained (for example by
``bench run --suite table3``), and logged under a parent run of their own. The table shows the
paper's Table 3 number for the same alpha, and the paper's own choice (alpha = 4, picked on test
accuracy) as a reported row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmark.suite import Suite, SuiteRow, load_suite
from benchmark.tuning.space import TARGET_MODEL, SearchParam
from features.format import PAPER_MODALITIES

PAPER_DEFAULT_ALPHA = 4


def paper_alpha(alpha: int) -> float | None:
    for row in load_suite("table3").rows:
        if row.params.get("alpha") == alpha:
            return row.paper
    return None


def evaluation_suite(
    study_name: str,
    space: Mapping[str, SearchParam],
    best: Mapping[str, Any],
    model: str = "proposed",
    modalities: tuple[str, ...] = PAPER_MODALITIES,
) -> tuple[Suite, dict[str, Any]]:
    """(one-row suite, training overrides) for the best setting; the paper's Table 3 beside it for ``proposed`` only."""
    model_params = {k: v for k, v in best.items() if space[k].target == TARGET_MODEL}
    train_params = {k: v for k, v in best.items() if space[k].target != TARGET_MODEL}
    alpha = int(model_params.get("alpha", PAPER_DEFAULT_ALPHA))
    label = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in best.items())
    if model != "proposed":
        rows = [
            SuiteRow(
                name=f"tuned {model}: {label}",
                model=model,
                modalities=modalities,
                params=model_params,
                table=f"tune-{study_name}",
            )
        ]
        title = f"Best setting of study {study_name} ({model}) under the test protocol"
        return Suite(name=f"tune-{study_name}", title=title, rows=tuple(rows), layout="custom"), train_params
    rows = [
        SuiteRow(
            name=f"tuned: {label}",
            model=model,
            modalities=modalities,
            params=model_params,
            paper=paper_alpha(alpha),
            table=f"tune-{study_name}",
        ),
        SuiteRow(
            name=f"paper's choice alpha={PAPER_DEFAULT_ALPHA} (picked on test accuracy)",
            model=None,
            modalities=modalities,
            paper=paper_alpha(PAPER_DEFAULT_ALPHA),
            reported=True,
            table=f"tune-{study_name}",
        ),
    ]
    title = f"Best setting of study {study_name} under the test protocol (paper column: Table 3 at alpha={alpha})"
    return Suite(name=f"tune-{study_name}", title=title, rows=tuple(rows), layout="custom"), train_params


def evaluate_best(
    *,
    study_name: str,
    space,
    best: Mapping[str, Any],
    store,
    profile,
    n_splits: int | None,
    train_overrides: Mapping[str, Any],
    tracking_uri: str | None,
    device: str,
    console=None,
    precision: str = "auto",
    model: str = "proposed",
    plugins: tuple[str, ...] = (),
    protocol=None,
):
    """The best setting over the protocol's splits (``protocol``: the store's by default; ``n_splits``
    overrides its count as ``--eval-splits`` does)."""
    from benchmark.console import Progress, print_summary
    from benchmark.executors import make_executor
    from benchmark.protocol import resolve_protocol
    from benchmark.runner import run_suite
    from benchmark.tuning.objective import tune_modalities

    suite, train_params = evaluation_suite(study_name, space, best, model, tune_modalities(model, store))
    overrides = {**{k: v for k, v in train_overrides.items() if v is not None}, **train_params}
    splits = (protocol or resolve_protocol(store)).with_count(n_splits).splits(store)
    summary = run_suite(
        suite,
        store,
        profile,
        splits,
        executor=make_executor("local"),
        train_overrides=overrides,
        uri=tracking_uri,
        device=device,
        precision=precision,
        plugins=plugins,
        progress=Progress(console, epochs=int(overrides.get("epochs") or profile.train.get("epochs", 0))),
    )
    print_summary(summary, console)
    return summary
