"""What ``bench run`` leaves in MLflow for the UI: parents that carry their row, views, description."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from benchmark.tracking import curves as parents
from benchmark.tracking import views
from tests.benchmark.test_run import bench

SUITE = """
name = "mini"
title = "Mini ablation"
reference = "full"
[[rows]]
name = "w/o visual"
model = "proposed"
modalities = ["audio", "skeleton"]
paper = 37.4
[[rows]]
name = "full"
model = "proposed"
modalities = ["visual", "audio", "skeleton"]
paper = 43.2
"""
EPOCHS = 2


def _run(start, end):
    return SimpleNamespace(info=SimpleNamespace(start_time=start, end_time=end))


def test_busy_time_adds_sequential_runs_and_counts_overlaps_once():
    assert parents.busy_ms([_run(0, 10), _run(10, 30), _run(100, 110)]) == 40  # the gap 30..100 is not counted
    assert parents.busy_ms([_run(0, 10), _run(5, 12)]) == 12
    assert parents.busy_ms([_run(0, None)]) is None


def test_view_state_has_what_the_ui_reads():
    state = views.view_state(
        "table2",
        "abc",
        views.differing_params(
            [{"model": "p", "modalities": "a,b", "train.lr": "1"}, {"model": "p", "modalities": "a", "train.lr": "1"}]
        ),
    )
    assert (
        state["searchFilter"]
        == "tags.`bench.kind` = 'parent' and tags.`bench.suite` = 'table2' and tags.`bench.setting` = 'abc'"
    )
    assert state["orderByKey"] == "tags.`bench.row_order`" and state["orderByAsc"] is True
    assert state["selectedColumns"][:4] == [
        "metrics.`test_acc_mean`",
        "metrics.`test_acc_std`",
        "metrics.`n_splits`",
        "metrics.`test_acc_paper`",
    ]
    assert "params.`modalities`" in state["selectedColumns"] and "params.`train.lr`" not in state["selectedColumns"]
    envelope = json.loads(views.envelope("table2: title", state))
    assert envelope["name"] == "table2: title" and json.loads(envelope["state"]) == state
    assert views.view_key("my suite/1") == "bench-my_suite_1"


@pytest.fixture(scope="module")
def mini_run(tmp_path_factory):
    from features.synthetic import make_synthetic_store
    from tests.conftest import TINY_COUNTS, TINY_DIMS

    tmp = tmp_path_factory.mktemp("views")
    store = make_synthetic_store(tmp / "tiny", counts=TINY_COUNTS, dims=TINY_DIMS, frames=12, seed=3)
    suite = tmp / "mini.toml"
    suite.write_text(SUITE)
    uri = f"sqlite:///{tmp / 'mlruns' / 'mlflow.db'}"
    result = bench(
        "run",
        "--suite",
        str(suite),
        "--features",
        str(store),
        "--n-splits",
        "2",
        "--epochs",
        str(EPOCHS),
        "--tracking-uri",
        uri,
        "--report",
    )
    assert result.exit_code == 0, result.output
    client = MlflowClient(uri)
    return client, client.get_experiment_by_name("synthetic-ve8-seed3")


def test_parents_carry_their_row_in_one_unit(mini_run):
    client, experiment = mini_run
    runs = client.search_runs(
        [experiment.experiment_id], "tags.`bench.kind` = 'parent'", order_by=["tags.`bench.row_order` ASC"]
    )
    assert [r.data.tags["bench.row"] for r in runs] == ["w/o visual", "full"]
    assert [r.data.tags["bench.row_order"] for r in runs] == ["000", "001"]
    for parent, paper in zip(runs, (0.374, 0.432)):
        children = client.search_runs([experiment.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
        accs = [c.data.metrics["test_acc"] for c in children]
        metrics = parent.data.metrics
        assert len(accs) == 2 and metrics["test_acc_mean"] == pytest.approx(np.mean(accs))  # a fraction, as test_acc
        assert metrics["test_acc_std"] == pytest.approx(np.std(accs, ddof=1))
        assert metrics["test_acc_paper"] == pytest.approx(paper) and parent.data.tags["bench.paper"] == str(paper)
        for key in ("test_acc_mean", "train_loss_mean", "train_loss_std"):
            assert {m.step for m in client.get_metric_history(parent.info.run_id, key)} == set(range(1, EPOCHS + 1)), (
                key
            )
        # the parent's duration is its own: no longer than the time its split runs took
        own = sum(c.info.end_time - c.info.start_time for c in children)
        assert 0 < parent.info.end_time - parent.info.start_time <= own + 1
        assert int(parent.data.tags["bench.closed_at"]) >= max(c.info.end_time for c in children)
        inputs = parent.inputs.dataset_inputs
        assert [(i.dataset.name, i.dataset.digest) for i in inputs] == [
            ("synthetic-ve8-seed3", parent.data.tags["bench.dataset_fingerprint"])
        ]
        assert json.loads(inputs[0].dataset.source)["uri"].endswith("tiny")
        assert all(c.inputs.dataset_inputs for c in children)
        artifacts = {a.path for a in client.list_artifacts(parent.info.run_id, "report")}
        assert {"report/table.csv", "report/table.meta.json", "report/accuracy.pdf", "report/index.html"} <= artifacts


def test_the_experiment_describes_itself_and_holds_the_suite_view(mini_run):
    client, experiment = mini_run
    tags = experiment.tags
    note = tags["mlflow.note.content"]
    assert "SYNTHETIC DATA" in note and "fraction" in note and "viewStateShareKey=bench-mini" in note
    assert tags["mlflow.experimentKind"] == "custom_model_development"
    envelope = json.loads(tags["mlflow.sharedViewState.bench-mini"])
    state = json.loads(envelope["state"])
    parents_shown = client.search_runs(
        [experiment.experiment_id], state["searchFilter"], order_by=["tags.`bench.row_order` ASC"]
    )
    assert [r.data.tags["bench.row"] for r in parents_shown] == ["w/o visual", "full"]
    assert "params.`modalities`" in state["selectedColumns"]
    assert views.suite_views(experiment) == [("mini", "bench-mini")]


def test_the_report_takes_a_parents_close_time_not_its_moved_end_time():
    from benchmark.report.collect import touched

    closed = SimpleNamespace(
        data=SimpleNamespace(tags={"bench.closed_at": "500"}), info=SimpleNamespace(start_time=50, end_time=100)
    )
    older = SimpleNamespace(data=SimpleNamespace(tags={}), info=SimpleNamespace(start_time=200, end_time=300))
    assert max([older, closed], key=touched) is closed
