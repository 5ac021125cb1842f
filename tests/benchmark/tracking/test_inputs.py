"""The feature store logged as a run's MLflow dataset input, also when processes race to log it."""

from __future__ import annotations

import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from benchmark.tracking.inputs import log_store_input
from features.store import open_store


class LosesTheRaceOnce(MlflowClient):
    """A client whose first ``log_inputs`` fails as the loser of MLflow's check-then-insert race does."""

    def __init__(self, tracking_uri: str, failures: int = 1) -> None:
        super().__init__(tracking_uri)
        self.failures = failures
        self.calls = 0

    def log_inputs(self, run_id, datasets=None, models=None):  # type: ignore[override]
        self.calls += 1
        if self.calls <= self.failures:
            raise MlflowException("(sqlite3.IntegrityError) UNIQUE constraint failed: datasets.experiment_id")
        return super().log_inputs(run_id, datasets=datasets, models=models)


def _run(client: MlflowClient) -> str:
    experiment = client.create_experiment("inputs")
    return client.create_run(experiment).info.run_id


def _logged_names(client: MlflowClient, run_id: str) -> list[str]:
    return [d.dataset.name for d in client.get_run(run_id).inputs.dataset_inputs]


def test_the_loser_of_the_insert_race_still_links_the_store_to_its_run(tiny_store, tracking_uri):
    client = LosesTheRaceOnce(tracking_uri)
    run_id = _run(client)
    store = open_store(tiny_store)
    log_store_input(client, run_id, store)
    assert client.calls == 2
    assert _logged_names(client, run_id) == [store.name]


def test_logging_twice_to_one_run_keeps_one_input(tiny_store, tracking_uri):
    client = MlflowClient(tracking_uri)
    run_id = _run(client)
    store = open_store(tiny_store)
    log_store_input(client, run_id, store)
    log_store_input(client, run_id, store)
    assert _logged_names(client, run_id) == [store.name]


def test_a_failure_that_persists_is_raised(tiny_store, tracking_uri):
    client = LosesTheRaceOnce(tracking_uri, failures=2)
    run_id = _run(client)
    with pytest.raises(MlflowException, match="UNIQUE"):
        log_store_input(client, run_id, open_store(tiny_store))
    assert _logged_names(client, run_id) == []
