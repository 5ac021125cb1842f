"""Write a small MLflow database by hand, following the tag contract of ``benchmark.tracking``.

Faster than training and exact: each split's accuracy is chosen by the test. ``None`` leaves a split
without a run; a string makes it a FAILED run with that reason. Split k's sizes (``sizes(k)`` ->
(n_train, n_test)) go on its run as the ``n_train`` / ``n_test`` params, or, with
``sizes_in="split.json"``, only as the lengths of a ``split.json`` artifact (runs older than the params), or,
with ``sizes_in="none"``, nowhere (hand-made runs, or runs whose artifacts are gone).
"""

from __future__ import annotations

import json

from mlflow.tracking import MlflowClient

from benchmark import tracking
from benchmark.suite import Suite

CLASSES = ["Anger", "Joy", "Fear"]
DATASET_FP = "d" * 32


def predictions_csv(acc: float, n: int = 12) -> str:
    """Test predictions with the given accuracy: the first round(acc*n) right, the rest wrong."""
    right = round(acc * n)
    lines = ["id,label,prediction"]
    for i in range(n):
        label = CLASSES[i % len(CLASSES)]
        prediction = label if i < right else CLASSES[(i + 1) % len(CLASSES)]
        lines.append(f"{label}/v{i},{label},{prediction}")
    return "\n".join(lines) + "\n"


def default_sizes(k: int) -> tuple[int, int]:
    """Split sizes that differ a little from split to split, so a test can tell which ones were used."""
    return 20 + k, 10


def log_suite(
    uri: str,
    suite: Suite,
    accs: dict[str, list],
    *,
    experiment: str = "fake-ds",
    synthetic: bool = True,
    random_extractors: str = "",
    epochs: int = 3,
    profile: str = "quick",
    ceilings: dict[str, float] | None = None,
    sizes=default_sizes,
    sizes_in: str = "params",
) -> dict[str, str]:
    """Parents and children for each row in ``accs`` (row name -> per-split accuracy); returns parent ids."""
    client = MlflowClient(uri)
    exp = tracking.experiment_id(client, experiment)
    parents = {}
    for row in suite.rows:
        if row.name not in accs:
            continue
        values = accs[row.name]
        config = f"cfg-{row.name}"
        parent = client.create_run(
            exp,
            run_name=f"{suite.name} / {row.name}",
            tags={
                "bench.kind": "parent",
                "bench.suite": suite.name,
                "bench.table": row.table,
                "bench.row": row.name,
                "bench.fingerprint": f"parent-{row.table}-{row.name}",
                "bench.config_fingerprint": config,
                "bench.dataset_fingerprint": DATASET_FP,
                "bench.dataset": experiment,
                "bench.synthetic": str(synthetic).lower(),
                "bench.random_extractors": random_extractors,
                "bench.classes": json.dumps(CLASSES),
                "bench.profile": profile,
                "bench.split_source": "random-stratified-2/3",
                "mlflow.source.git.commit": "abc123",
            },
        ).info.run_id
        tracking.log_params(client, parent, {"model": "proposed", "train.epochs": epochs})
        if ceilings and row.name in ceilings:
            tracking.log_metrics(client, parent, {"test_acc_ceiling": ceilings[row.name], "test_acc_ceiling_se": 0.001})
        for k, acc in enumerate(values):
            if acc is None:
                continue
            child = client.create_run(
                exp,
                run_name=f"{row.name} / split {k}",
                tags={
                    "mlflow.parentRunId": parent,
                    "bench.kind": "split",
                    "bench.suite": suite.name,
                    "bench.row": row.name,
                    "bench.split": str(k),
                    "bench.split_source": "random-stratified-2/3",
                    "bench.fingerprint": f"child-{config}-{k}",
                    "bench.config_fingerprint": config,
                    "bench.dataset_fingerprint": DATASET_FP,
                    "mlflow.source.git.commit": "abc123",
                },
            ).info.run_id
            if isinstance(acc, str):
                client.set_tag(child, "bench.failure_reason", acc)
                client.set_terminated(child, "FAILED")
                continue
            n_train, n_test = sizes(k)
            if sizes_in == "params":
                tracking.log_params(client, child, {"n_train": n_train, "n_test": n_test})
            elif sizes_in == "split.json":
                tracking.log_json_artifact(
                    client,
                    child,
                    "split.json",
                    {"train": [f"tr{i}" for i in range(n_train)], "test": [f"te{i}" for i in range(n_test)]},
                )
            curve = [acc * (e + 1) / epochs for e in range(epochs - 1)] + [acc]
            curve[0] = max(curve[0], acc + 0.02)  # best epoch is optimistic by 2 points
            for epoch, value in enumerate(curve, start=1):
                tracking.log_metrics(client, child, {"test_acc": value, "train_loss": 2.0 / epoch}, step=epoch)
            tracking.log_metrics(client, child, {"test_acc_best_epoch": max(curve), "best_epoch": 1}, step=epochs)
            tracking.log_text_artifact(client, child, "predictions.csv", predictions_csv(acc))
            client.set_terminated(child, "FINISHED")
        client.set_tag(parent, "bench.n_expected_splits", str(len(values)))
        client.set_terminated(parent, "FINISHED" if all(isinstance(a, float) for a in values) else "FAILED")
        parents[row.name] = parent
    return parents
