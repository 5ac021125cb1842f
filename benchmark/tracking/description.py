"""The experiment's description (``mlflow.note.content``, shown at the top of the experiment page):
which data the runs were trained on, a warning when the numbers mean nothing for real videos, how to
read the runs, and a link to each suite's table view."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchmark.tracking import curves, views

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from features.store import FeatureStore

NOTE_TAG = "mlflow.note.content"


def warnings(synthetic: bool, random_extractors: list[str]) -> list[str]:
    out = []
    if synthetic:
        out.append(
            "SYNTHETIC DATA: these runs were trained on a generated dataset; their numbers say nothing about real "
            "videos."
        )
    if random_extractors:
        out.append(
            f"RANDOMLY INITIALISED EXTRACTORS ({', '.join(random_extractors)}): the features carry no meaning, "
            "and neither do these numbers."
        )
    return out


def text(store: FeatureStore, experiment_id: str, suites: list[tuple[str, str]]) -> str:
    """Markdown: dataset and fingerprint, warnings, how to read the runs, one link per suite view."""
    lines = [
        f"**ver-bench runs on `{store.name}`** · fingerprint `{store.fingerprint}` · {len(store)} videos, "
        f"{len(store.classes)} classes ({', '.join(store.classes)}) · store `{store.path}`",
        "",
    ]
    lines += [f"> ⚠ **{w}**" for w in warnings(store.synthetic, list(store.random_extractors))]
    lines += [
        "",
        "**How to read the runs.** One parent run per suite row (`table2 / w/o audio branch`), one child run "
        "per split under it. A parent's `test_acc_mean` is the row's cell: test accuracy after the last epoch, "
        "mean over splits (`test_acc_std`: sample std, `n_splits`: splits finished). Accuracy is a "
        "**fraction (0..1)** everywhere in MLflow, the paper's number too "
        f"(`{curves.PAPER_METRIC}`; the reports show percent). Parents also carry the per-epoch mean and std "
        "over splits (`test_acc_mean`, `train_loss_mean` at step = epoch) and the rendered report as artifacts; "
        f"`{curves.ROW_ORDER_TAG}` is the row's position in its suite.",
        "",
        "**Suite tables** (parent runs of the latest setting, in the paper's row order):",
        "",
    ]
    lines += [f"- [{suite}]({views.view_path(experiment_id, key)})" for suite, key in suites]
    return "\n".join(lines) + "\n"


def describe_experiment(client: MlflowClient, experiment_id: str, store: FeatureStore) -> None:
    """Write the description, listing every suite view the experiment holds."""
    experiment = client.get_experiment(experiment_id)
    client.set_experiment_tag(experiment_id, NOTE_TAG, text(store, experiment_id, views.suite_views(experiment)))
