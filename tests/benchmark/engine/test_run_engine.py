"""``bench run --engine vectorised`` logs what ``--engine plain`` logs, and ``bench perf`` ends in JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from tests.benchmark.test_run import bench, children

SUITE = """
name = "tiny"
[[rows]]
name = "full"
model = "proposed"
modalities = ["visual", "audio", "skeleton"]
params = { dropout = 0.0, mlp_dropout = 0.0 }
[[rows]]
name = "probe"
model = "linear_probe"
modalities = ["visual", "audio", "skeleton"]
"""


def run_with(engine: str, store, suite: Path, uri: str, *extra: str):
    result = bench(
        "run",
        "--suite",
        str(suite),
        "--features",
        str(store),
        "--n-splits",
        "2",
        "--epochs",
        "2",
        "--frames",
        "6",
        "--tracking-uri",
        uri,
        "--engine",
        engine,
        *extra,
    )
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("synthetic-ve8-seed3").experiment_id
    return result, client, experiment


def by_key(runs):
    return {(r.data.tags["bench.row"], r.data.tags["bench.split"]): r for r in runs}


def test_vectorised_run_logs_one_child_per_split_like_the_plain_engine(tiny_store, tmp_path):
    suite = tmp_path / "tiny.toml"
    suite.write_text(SUITE)
    plain_result, plain_client, plain_exp = run_with("plain", tiny_store, suite, f"sqlite:///{tmp_path / 'plain.db'}")
    result, client, experiment = run_with("vectorised", tiny_store, suite, f"sqlite:///{tmp_path / 'vec.db'}")
    assert plain_result.exit_code == 0 and result.exit_code == 0, result.output
    assert "trained 4 split runs" in result.output
    plain, vectorised = (
        by_key(children(plain_client, plain_exp, "FINISHED")),
        by_key(children(client, experiment, "FINISHED")),
    )
    assert sorted(vectorised) == sorted(plain) == [("full", "0"), ("full", "1"), ("probe", "0"), ("probe", "1")]
    for key, run in vectorised.items():
        reference = plain[key]
        assert run.info.run_name == reference.info.run_name
        assert run.data.params == reference.data.params
        volatile = {"mlflow.runName", "mlflow.parentRunId", "mlflow.user", "bench.engine", "bench.heartbeat"}
        assert {k: v for k, v in run.data.tags.items() if k not in volatile} == {
            k: v for k, v in reference.data.tags.items() if k not in volatile
        }
        assert run.data.tags["bench.engine"] == ("vectorised" if key[0] == "full" else "plain")
        assert run.data.metrics["test_acc"] == pytest.approx(
            reference.data.metrics["test_acc"], abs=0.1 + 1e-9
        )  # one test video of 10
        for name in ("train_loss", "test_acc"):
            mine = sorted(client.get_metric_history(run.info.run_id, name), key=lambda m: m.step)
            theirs = sorted(plain_client.get_metric_history(reference.info.run_id, name), key=lambda m: m.step)
            assert [m.step for m in mine] == [m.step for m in theirs]
        if key[0] == "full":
            assert [m.step for m in mine] == [1, 2]
            losses = [
                m.value for m in sorted(client.get_metric_history(run.info.run_id, "train_loss"), key=lambda m: m.step)
            ]
            expected = [
                m.value
                for m in sorted(
                    plain_client.get_metric_history(reference.info.run_id, "train_loss"), key=lambda m: m.step
                )
            ]
            np.testing.assert_allclose(losses, expected, rtol=1e-4, atol=1e-6)
        for artifact in ("split.json", "predictions.csv"):
            assert Path(client.download_artifacts(run.info.run_id, artifact)).read_text() != ""
        split = json.loads(Path(client.download_artifacts(run.info.run_id, "split.json")).read_text())
        assert split == json.loads(
            Path(plain_client.download_artifacts(reference.info.run_id, "split.json")).read_text()
        )

    again, _, _ = run_with("vectorised", tiny_store, suite, f"sqlite:///{tmp_path / 'vec.db'}")
    assert "trained 0 split runs, reused 4" in again.output


def test_vectorised_nan_loss_fails_the_splits_and_the_suite_goes_on(tiny_store, tmp_path):
    suite = tmp_path / "tiny.toml"
    suite.write_text(SUITE)
    result, client, experiment = run_with(
        "vectorised", tiny_store, suite, f"sqlite:///{tmp_path / 'nan.db'}", "--lr", "1e30"
    )
    assert result.exit_code == 1
    failed = children(client, experiment, "FAILED")
    assert sorted(r.data.tags["bench.split"] for r in failed) == ["0", "1"]
    assert all(
        "loss became" in r.data.tags["bench.failure_reason"] and r.data.tags["bench.row"] == "full" for r in failed
    )
    assert len(children(client, experiment, "FINISHED")) == 2  # the probe


PERF_SMALL = (
    "perf",
    "--device",
    "cpu",
    "--small",
    "--profile",
    "quick",
    "--splits",
    "2",
    "--steps",
    "1",
    "--warmup",
    "0",
    "--repeats",
    "1",
    "--videos",
    "120",
    "--frames",
    "4",
)


@pytest.mark.parametrize("native", [True, False], ids=["native-bf16", "emulated-bf16"])
def test_perf_prints_json_last(tmp_path, monkeypatch, native):
    import benchmark.perf.measure as perf

    monkeypatch.setattr(perf, "native_bf16", lambda device: native)
    monkeypatch.setenv("COLUMNS", "200")  # the table on one line per loop
    result = bench(*PERF_SMALL)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    for key in (
        "device",
        "reference_samples_per_s",
        "engine_samples_per_s",
        "speedup",
        "projected_all_paper_s",
        "projected_all_paper_hours",
    ):
        assert key in figures, key
    assert figures["engine"] == "plain"  # auto on the CPU
    # the picked loop at both precisions where bf16 is native, the other loop at the chosen one (tiny dims: fp32)
    timed = {"reference", "plain fp32", "vectorised fp32"} | ({"plain bf16"} if native else set())
    assert figures["precision"] == "fp32" and set(figures["rates"]) == timed
    assert figures["fp32_samples_per_s"] == figures["engine_samples_per_s"]
    assert (
        (figures["bf16_samples_per_s"] > 0)
        if native
        else (figures["bf16_samples_per_s"] is None and "plain bf16 not timed" in result.output)
    )
    assert "plain fp32 <- projected" in result.output and "% of matmul peak" in result.output
    assert figures["speedup"] == pytest.approx(
        figures["engine_samples_per_s"] / figures["reference_samples_per_s"], rel=1e-2
    )
    assert figures["projected_all_paper_s"] > 0 and figures["vectorised_samples_per_s"] > 0
    # efficiency: achieved FLOP/s = samples/s x FLOPs per sample, as a share of the measured matmul rate
    assert set(figures["loops"]) == timed and figures["train_gflops_per_sample"] > 0
    for _name, loop in figures["loops"].items():
        peak = figures["matmul_tflops"][loop["precision"]]
        assert loop["tflops"] == pytest.approx(
            loop["samples_per_s"] * figures["train_gflops_per_sample"] / 1e3, rel=0.01
        )
        assert loop["pct_of_matmul_peak"] == pytest.approx(
            100 * loop["samples_per_s"] * figures["train_gflops_per_sample"] / 1e3 / peak, rel=0.05, abs=0.01
        )
        assert loop["peak_memory_mib"] > 0


def test_perf_projects_the_precision_asked_for(tmp_path):
    result = bench(*PERF_SMALL, "--precision", "bf16")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["precision"] == "bf16" and set(figures["rates"]) == {
        "reference",
        "plain fp32",
        "plain bf16",
        "vectorised bf16",
    }
    assert figures["engine_samples_per_s"] == figures["bf16_samples_per_s"]
    assert figures["speedup"] == pytest.approx(
        figures["bf16_samples_per_s"] / figures["reference_samples_per_s"], rel=1e-2
    )


def test_perf_with_fewer_videos_than_a_batch_is_an_input_error():
    result = bench("perf", "--device", "cpu", "--small", "--profile", "quick", "--videos", "30", "--steps", "1")
    assert result.exit_code == 2 and "fewer than one batch" in result.output


def test_an_engine_error_fails_every_split_of_the_group_with_the_reason(tiny_store, tmp_path, monkeypatch):
    import benchmark.engine.train

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(benchmark.engine.train, "train_splits", broken)
    suite = tmp_path / "tiny.toml"
    suite.write_text(SUITE)
    result, client, experiment = run_with("vectorised", tiny_store, suite, f"sqlite:///{tmp_path / 'err.db'}")
    assert result.exit_code == 1
    failed = children(client, experiment, "FAILED")
    assert sorted(r.data.tags["bench.split"] for r in failed) == ["0", "1"]
    assert all(r.data.tags["bench.failure_reason"] == "RuntimeError: boom" for r in failed)
    assert "boom" in Path(client.download_artifacts(failed[0].info.run_id, "traceback.txt")).read_text()
