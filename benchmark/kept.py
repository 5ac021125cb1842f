"""What a finished split run keeps beyond its accuracy: test scores, the registered metrics of them, and
the trained model (:mod:`benchmark.checkpoints`). Computed here, outside the code identity, so adding a
metric or changing how a model is kept never retrains anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmark import checkpoints, metrics


@dataclass
class Kept:
    metrics: dict[str, float] = field(default_factory=dict)  # MLflow metric names (:func:`mlflow_name`) -> value
    scores_csv: str | None = None
    model_files: list[Path] = field(default_factory=list)


def mlflow_name(metric: str) -> str:
    """A registered metric's MLflow name on split runs: ``test_acc`` for accuracy (as ever), ``test_<name>`` else."""
    return "test_acc" if metric == "accuracy" else f"test_{metric}"


def metric_values(labels, scores) -> dict[str, float]:
    """Every registered metric but accuracy (the run's ``test_acc`` is the argmax of its logits), by MLflow name."""
    return {
        mlflow_name(k): v
        for k, v in metrics.compute(labels, scores, [m for m in metrics.list_metrics() if m != "accuracy"]).items()
    }


def kept_outputs(job: Any, store: Any, result: Any, folder: Path) -> Kept:
    """``job``: a :class:`benchmark.jobs.SplitJob`; ``result``: its :class:`benchmark.training.SplitResult`."""
    kept = Kept()
    if result.scores is None:
        return kept
    test = job.split.test
    labels = store.labels[test]
    kept.metrics = metric_values(labels, result.scores)
    kept.scores_csv = checkpoints.scores_csv(
        [store.ids[i] for i in test], [store.classes[i] for i in labels], list(store.classes), result.scores
    )
    if job.keep_model != "none" and result.model is not None:
        from baselines import get_model

        dims = {m: int(store.arrays[m].shape[-1]) for m in job.config.modalities}
        kind = get_model(job.config.model).kind
        spec = checkpoints.spec_of(
            job.config, dims, len(store.classes), job.plugins, job.code_fingerprint, kind, job.keep_model
        )
        kept.model_files = checkpoints.save(result.model, spec, folder / "model")
    return kept
