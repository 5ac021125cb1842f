"""Issue 7: two ``bench tune`` workers joining one study on a real PostgreSQL finish a grid between them."""

from __future__ import annotations

import optuna
import pytest

from tests.benchmark.tuning.test_tune_command import check_grid_done_once, start, trial_runs, tune_args
from tests.services import postgres


@pytest.mark.slow
def test_two_workers_on_a_postgresql_study_finish_the_grid(tiny_store, tracking_uri, tmp_path):
    pytest.importorskip("psycopg", reason="pip install 'ver-bench[distributed]' for PostgreSQL")
    with postgres(databases=("optuna",)) as server:
        storage = f"{server}/optuna"  # postgresql://bench:bench@127.0.0.1:PORT/optuna, as in the docs
        logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
        workers = [start(tune_args(tiny_store, tracking_uri, "--storage", storage), tmp_path, log) for log in logs]
        for worker in workers:
            assert worker.wait(timeout=500) == 0, "\n".join(log.read_text()[-3000:] for log in logs)
        study = optuna.load_study(study_name="grid", storage=storage)
        check_grid_done_once(study)
        assert not (tmp_path / "mlruns" / "optuna.db").exists()  # nothing went to the default SQLite storage
    parents, trials = trial_runs(tracking_uri)
    assert len(parents) == 1 and parents[0].data.tags["bench.storage"].startswith("postgresql://bench:***@")
    assert sum(r.info.status == "FINISHED" for r in trials) == 4
    assert sum(int(log.read_text().split("ran ")[1].split()[0]) for log in logs) == 4
