"""The feature store as an MLflow dataset input, so the runs table's Dataset column names the data."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from mlflow.entities import DatasetInput, RunInputs
    from mlflow.tracking import MlflowClient

    from features.store import FeatureStore

SOURCE_TYPE = "local"
CONTEXT = "training"
_DIGEST_CHARS = 36  # MLflow's SQL schema keeps dataset digests to 36 characters


def store_dataset_input(store: FeatureStore) -> DatasetInput:
    """``DatasetInput`` of a feature store: its name, fingerprint (as digest) and path (as source)."""
    from mlflow.entities import Dataset, DatasetInput, InputTag

    dataset = Dataset(
        name=store.name,
        digest=store.fingerprint[:_DIGEST_CHARS],
        source_type=SOURCE_TYPE,
        source=json.dumps({"uri": str(store.path)}),
        schema=json.dumps({"modalities": {m: int(d) for m, d in store.dims.items()}, "classes": list(store.classes)}),
        profile=json.dumps({"videos": len(store), "frames": int(store.frames), "synthetic": bool(store.synthetic)}),
    )
    return DatasetInput(dataset, tags=[InputTag("mlflow.data.context", CONTEXT)])


def log_store_input(client: MlflowClient, run_id: str, store: FeatureStore) -> None:
    """Log the store as the run's dataset input. Idempotent, also when several processes log it at once:
    MLflow checks whether the experiment has the dataset, then inserts it, so the loser of that race gets
    a UNIQUE constraint error. Either its input is there already (a shared parent run), or one retry finds
    the winner's dataset row and only links it to this run."""
    from mlflow.exceptions import MlflowException

    dataset_input = store_dataset_input(store)
    try:
        client.log_inputs(run_id, datasets=[dataset_input])
    except MlflowException:
        if _has_input(client, run_id, dataset_input):
            return
        client.log_inputs(run_id, datasets=[dataset_input])


def _has_input(client: MlflowClient, run_id: str, dataset_input: DatasetInput) -> bool:
    logged = cast("RunInputs", client.get_run(run_id).inputs).dataset_inputs  # a stored run has its inputs
    wanted = dataset_input.dataset
    return any(d.dataset.digest == wanted.digest and d.dataset.name == wanted.name for d in logged)
