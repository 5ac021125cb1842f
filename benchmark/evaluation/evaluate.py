"""One evaluation job: a kept model (a split run's ``model/``) on its test split, clean and under each
corruption instance it was given; each logged as an evaluation run (:mod:`benchmark.tracking.evaluations`).

A job is plain data, so the executors of ``bench run`` run it too (``make_executor(fn=run_evaluation_job)``).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark import checkpoints, tracking
from benchmark.config import stable_hash
from benchmark.evaluation import corruptions as cr
from benchmark.kept import mlflow_name

#: How a corrupted test split is fed to the model; part of every key. 2: the cost measurement no longer moves
#: BatchNorm statistics before the corruptions of the same split run are evaluated (version 1 did).
EVALUATION_VERSION = 2
PREDICT_BATCH = 256  # the plain loop's evaluation batch: the clean evaluation reproduces its numbers


@dataclass(frozen=True)
class SplitRef:
    index: int


@dataclass(frozen=True)
class EvaluationJob:
    store_path: str
    tracking_uri: str
    experiment_id: str
    split_run_id: str
    row: str
    split: SplitRef
    instances: tuple[cr.Instance, ...]
    keys: tuple[str, ...]
    plugins: tuple[str, ...] = ()
    measure_cost: bool = True

    @property
    def fingerprint(self) -> str:  # what the executors call a job's identity
        return self.split_run_id


def eval_key(split_run_id: str, instance: cr.Instance) -> str:
    version = cr.get_corruption(instance.corruption).version
    return stable_hash(
        [split_run_id, instance.corruption, instance.modality or "", repr(instance.level), version, EVALUATION_VERSION]
    )


def run_evaluation_job(job: EvaluationJob, on_epoch: Any = None) -> Any:
    """Evaluate and log every instance of ``job``; a failure is one FAILED outcome with the reason."""
    from baselines.plugins import load_plugins
    from benchmark.jobs import JobOutcome

    try:
        load_plugins(job.plugins)
        client = tracking.client(job.tracking_uri, create=False)
        split_run = client.get_run(job.split_run_id)
        with tempfile.TemporaryDirectory() as tmp:
            model_dir = Path(client.download_artifacts(job.split_run_id, "model", tmp))
            ids = json.loads(Path(client.download_artifacts(job.split_run_id, "split.json", tmp)).read_text())
            model, spec = checkpoints.rebuild(model_dir)
        evaluate_model(client, job, split_run, model, spec, ids)
    except Exception as exc:
        from benchmark import faults

        if faults.stops_command(exc):
            raise
        return JobOutcome(
            job.fingerprint, job.row, job.split.index, "FAILED", job.split_run_id, reason=f"{type(exc).__name__}: {exc}"
        )
    return JobOutcome(job.fingerprint, job.row, job.split.index, "FINISHED", job.split_run_id)


def test_inputs(store: Any, spec: checkpoints.ModelSpec, ids: dict) -> tuple[cr.TestInputs, np.ndarray, np.ndarray]:
    """Every store modality's test inputs as the model's training fed them, the test labels and positions."""
    from benchmark.data import load_modalities, standardize, train_statistics

    position = {v: i for i, v in enumerate(store.ids)}
    train = np.array([position[v] for v in ids["train"]], dtype=np.int64)
    test = np.array([position[v] for v in ids["test"]], dtype=np.int64)
    data = load_modalities(store, list(store.modalities), spec.frames)
    if spec.standardize:
        data = standardize(data, train)
    features = {m: d.features[test] for m, d in data.items()}
    masks = cr.full_masks(features, {m: d.mask[test] for m, d in data.items() if d.mask is not None})
    std = {m: train_statistics(d, train)[1] for m, d in data.items()}
    return cr.TestInputs(features, masks, std), store.labels[test], test


def predict(model: Any, spec: checkpoints.ModelSpec, inputs: cr.TestInputs) -> np.ndarray:
    """Class probabilities ``[n, C]`` of the model's own modalities (a mask only where a frame is missing)."""
    features = {m: inputs.features[m] for m in spec.modalities}
    masks = {m: inputs.masks[m] for m in spec.modalities if not inputs.masks[m].all()}
    if spec.kind != "torch":
        return np.asarray(model.predict_proba(features, masks), dtype=np.float64)
    import torch

    from benchmark.precision import autocast

    n = len(next(iter(features.values())))
    out = []
    with torch.no_grad(), autocast(spec.precision, torch.device("cpu")):
        for start in range(0, n, PREDICT_BATCH):
            x = {
                m: torch.from_numpy(np.ascontiguousarray(v[start : start + PREDICT_BATCH])) for m, v in features.items()
            }
            k = {m: torch.from_numpy(np.ascontiguousarray(v[start : start + PREDICT_BATCH])) for m, v in masks.items()}
            out.append(torch.softmax(model(x, k).float(), dim=1))
    return torch.cat(out).numpy().astype(np.float64)


def evaluate_model(
    client, job: EvaluationJob, split_run: Any, model: Any, spec: checkpoints.ModelSpec, ids: dict
) -> None:
    from benchmark import metrics
    from benchmark.jobs import cached_store

    store = cached_store(job.store_path)
    inputs, labels, test = test_inputs(store, spec, ids)
    digest = stable_hash(sorted(ids["test"]))
    for instance, key in zip(job.instances, job.keys):
        corruption = cr.get_corruption(instance.corruption)
        rng = np.random.default_rng(cr.seed_of(digest, instance.corruption, instance.modality, instance.level))
        scores = predict(model, spec, corruption.function(inputs, instance.modality, instance.level, rng))
        values = {mlflow_name(k): v for k, v in metrics.compute(labels, scores).items()}
        tags = {
            "instance": instance.label,
            "corruption": instance.corruption,
            "modality": instance.modality or "",
            "level": f"{instance.level:g}",
            "corruption_version": corruption.version,
            "evaluation_version": str(EVALUATION_VERSION),
            "uses_modality": str(instance.modality is None or instance.modality in spec.modalities).lower(),
        }
        if instance.corruption == "clean" and job.measure_cost:
            from benchmark.evaluation.cost import measure

            own = {m: inputs.features[m] for m in spec.modalities}
            values.update(measure(model, own, {m: inputs.masks[m] for m in spec.modalities}))
        scores_text = checkpoints.scores_csv(
            [store.ids[i] for i in test], [store.classes[i] for i in labels], list(store.classes), scores
        )
        from benchmark.tracking import evaluations

        evaluations.log(client, job.experiment_id, split_run, key, tags, values, scores_text)
