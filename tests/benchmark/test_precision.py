"""``--precision auto|fp32|bf16``: the choice, fp32 unchanged bit for bit, bf16 kept apart in MLflow."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mlflow.tracking import MlflowClient

import benchmark.precision as precision_module
import benchmark.training as training
from benchmark.config import get_profile, resolve_config, stable_hash
from benchmark.data import load_modalities
from benchmark.params import ParamError
from benchmark.precision import (
    at_precision,
    choose_precision,
    gains_from_bf16,
    mflops_per_frame,
    native_bf16,
    with_precision,
)
from benchmark.splits import random_splits
from benchmark.training import NonFiniteLoss, run_seed, train_split
from features.store import PAPER_DIMS, open_store
from tests.benchmark.test_run import bench, children

FULL = ["visual", "audio", "skeleton"]


def config_of(profile: str, modalities=FULL, model: str = "proposed", **train):
    return resolve_config(
        model=model, modalities=list(modalities), row_params=None, profile=get_profile(profile), train_overrides=train
    )


# --- the choice -------------------------------------------------------------------------------


def test_auto_takes_bf16_only_with_native_bf16_and_a_model_wide_enough(monkeypatch):
    paper, quick = config_of("paper"), config_of("quick")
    assert gains_from_bf16(paper, PAPER_DIMS) and gains_from_bf16(config_of("paper", ["audio", "skeleton"]), PAPER_DIMS)
    assert not gains_from_bf16(quick, PAPER_DIMS)  # 128-wide branches: bf16 gains nothing there
    assert mflops_per_frame(paper, PAPER_DIMS) > mflops_per_frame(config_of("paper", ["audio", "skeleton"]), PAPER_DIMS)
    monkeypatch.setattr(precision_module, "native_bf16", lambda device: True)
    assert choose_precision("auto", "cpu", paper, PAPER_DIMS) == "bf16"
    assert choose_precision("auto", "cpu", quick, PAPER_DIMS) == "fp32"
    monkeypatch.setattr(precision_module, "native_bf16", lambda device: False)
    assert choose_precision("auto", "cpu", paper, PAPER_DIMS) == "fp32"
    assert choose_precision("bf16", "cpu", quick, PAPER_DIMS) == "bf16"  # asked for: given, even where slow
    assert choose_precision("fp32", "cuda", paper, PAPER_DIMS) == "fp32"
    with pytest.raises(ParamError, match="precision must be one of"):
        choose_precision("fp16", "cpu", paper, PAPER_DIMS)


def test_estimators_have_no_precision(monkeypatch):
    monkeypatch.setattr(precision_module, "native_bf16", lambda device: True)
    probe = config_of("paper", model="linear_probe")
    assert with_precision(probe, "auto", "cpu", PAPER_DIMS).train.precision == "fp32"
    assert with_precision(probe, "bf16", "cpu", PAPER_DIMS).train.precision == "fp32"


def test_native_bf16_reads_torch_and_the_cpu_flags(monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    assert native_bf16("cpu")
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")  # torch not using AVX-512 kernels
    assert not native_bf16("cpu")
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    monkeypatch.setattr(precision_module, "cpu_flags", lambda: frozenset({"avx512f"}))
    assert not native_bf16("cpu")
    monkeypatch.setattr(precision_module, "cpu_flags", lambda: frozenset({"amx_bf16"}))
    assert native_bf16("cpu")


# --- fp32 is what it was ----------------------------------------------------------------------


def test_fp32_configs_keep_their_fingerprints_and_params_bf16_ones_get_new_ones():
    # fingerprints of these configs on main before precision existed (commit 6a7db82)
    quick, paper = config_of("quick"), config_of("paper")
    assert quick.fingerprint == "69099aa8a23dde8a" and paper.fingerprint == "6ba524958e98a8a5"
    assert "train.precision" not in quick.flat()
    bf16 = at_precision(quick, "bf16")
    assert bf16.fingerprint not in {
        quick.fingerprint,
        stable_hash({k: v for k, v in quick.to_dict().items() if k != "profile"}),
    }
    assert bf16.flat()["train.precision"] == "bf16"


def _old_train_step(model, optimizer, inputs, masks, targets, *, epoch: int, precision: str = "fp32"):
    """``benchmark.training.train_step`` as it was before ``--precision`` (commit 841a458), verbatim."""
    loss = F.cross_entropy(model(inputs, masks), targets)
    if not torch.isfinite(loss):
        raise NonFiniteLoss(f"training loss became {loss.item()} at epoch {epoch}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def _old_predict(model, batch, positions, size: int = 256, precision: str = "fp32") -> np.ndarray:
    """``benchmark.training._predict`` before ``--precision`` (commit 841a458), verbatim."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(positions), size):
            x, m, _ = batch(positions[start : start + size])
            out.append(model(x, m).argmax(dim=1).cpu())
    return torch.cat(out).numpy()


def _train(tiny_store, precision: str):
    store = open_store(tiny_store)
    config = at_precision(config_of("quick", frames=6, epochs=3, batch_size=8), precision)
    split = random_splits(store.labels, store.fingerprint, 1)[0]
    data = load_modalities(store, config.modalities, config.train.frames)
    return train_split(config, data, store.labels, split.train, split.test, 3, seed=run_seed(config, 0))


def test_fp32_trains_bit_for_bit_as_before(tiny_store, monkeypatch):
    now = _train(tiny_store, "fp32")
    monkeypatch.setattr(training, "train_step", _old_train_step)
    monkeypatch.setattr(
        training, "_predict", lambda *a, **k: (_old_predict(*a, **k), None)
    )  # today's returns scores too
    before = _train(tiny_store, "fp32")
    assert [r.train_loss for r in now.history] == [r.train_loss for r in before.history]  # exact, not approx
    assert [r.test_acc for r in now.history] == [r.test_acc for r in before.history]
    assert np.array_equal(now.predictions, before.predictions)


def test_bf16_is_autocast_only_weights_optimiser_state_and_loss_stay_fp32(tiny_store):
    store = open_store(tiny_store)
    config = at_precision(config_of("quick", frames=6), "bf16")
    model, optimizer = training.build_trainable(config, {m: store.dims[m] for m in FULL}, 3, "cpu")
    x = {m: torch.randn(4, 6, store.dims[m]) for m in FULL}
    loss = training.train_step(model, optimizer, x, {}, torch.tensor([0, 1, 2, 0]), epoch=1, precision="bf16")
    assert loss.dtype == torch.float32
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(
        t.dtype == torch.float32 for state in optimizer.state.values() for t in state.values() if t.is_floating_point()
    )
    fp32 = _train(tiny_store, "fp32")
    bf16 = _train(tiny_store, "bf16")
    assert [r.train_loss for r in bf16.history] != [r.train_loss for r in fp32.history]  # it really ran in bf16
    np.testing.assert_allclose([r.train_loss for r in bf16.history], [r.train_loss for r in fp32.history], rtol=0.05)


def test_the_engine_trains_in_the_configs_precision(tiny_store):
    from benchmark.engine.train import SplitTask, train_splits

    store = open_store(tiny_store)
    splits = random_splits(store.labels, store.fingerprint, 2)
    results = {}
    for p in ("fp32", "bf16"):
        config = at_precision(config_of("quick", frames=6, epochs=2, batch_size=32), p)
        data = load_modalities(store, config.modalities, config.train.frames)
        tasks = [SplitTask(s.train, s.test, run_seed(config, s.index)) for s in splits]
        results[p] = train_splits(config, data, store.labels, tasks, 3)
    for fp32, bf16 in zip(results["fp32"], results["bf16"]):
        losses32, losses16 = [r.train_loss for r in fp32.history], [r.train_loss for r in bf16.history]
        assert losses16 != losses32
        np.testing.assert_allclose(losses16, losses32, rtol=0.05)


# --- bench run: bf16 runs are kept apart --------------------------------------------------------


def run(store, suite_file, uri, *extra):
    return bench(
        "run",
        "--suite",
        str(suite_file),
        "--features",
        str(store),
        "--n-splits",
        "2",
        "--epochs",
        "1",
        "--frames",
        "6",
        "--tracking-uri",
        uri,
        "--no-report",
        *extra,
    )


def test_bf16_split_runs_are_never_reused_for_fp32_requests(tiny_store, tmp_path, tracking_uri):
    suite = tmp_path / "one.toml"
    suite.write_text(
        'name = "one"\n[[rows]]\nname = "full"\nmodel = "proposed"\nmodalities = ["visual", "audio", "skeleton"]\n'
    )
    first = run(tiny_store, suite, tracking_uri, "--precision", "bf16")
    assert first.exit_code == 0, first.output
    assert "trained 2 split runs" in first.output and "precision bf16" in first.output
    fp32 = run(tiny_store, suite, tracking_uri, "--precision", "fp32")
    assert "trained 2 split runs, reused 0" in fp32.output and "precision fp32" in fp32.output
    auto = run(tiny_store, suite, tracking_uri)  # tiny dims: auto resolves to fp32 everywhere
    assert "trained 0 split runs, reused 2" in auto.output
    again = run(tiny_store, suite, tracking_uri, "--precision", "bf16")
    assert "trained 0 split runs, reused 2" in again.output

    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("synthetic-ve8-seed3").experiment_id
    runs = children(client, experiment, "FINISHED")
    assert sorted(r.data.tags["bench.precision"] for r in runs) == ["bf16", "bf16", "fp32", "fp32"]
    parents = client.search_runs([experiment], "tags.`bench.kind` = 'parent'")
    assert sorted(p.data.tags["bench.precision"] for p in parents) == ["bf16", "fp32"]  # one row per precision
    for parent in parents:
        mine = [r for r in runs if r.data.tags["mlflow.parentRunId"] == parent.info.run_id]
        assert {r.data.tags["bench.precision"] for r in mine} == {parent.data.tags["bench.precision"]}
        assert {r.data.tags["bench.config_fingerprint"] for r in mine} == {parent.data.tags["bench.config_fingerprint"]}


def test_the_report_header_names_the_precision(tiny_store, tmp_path, tracking_uri):
    suite = tmp_path / "one.toml"
    suite.write_text(
        'name = "one"\n[[rows]]\nname = "full"\nmodel = "proposed"\nmodalities = ["visual", "audio", "skeleton"]\n'
    )
    assert run(tiny_store, suite, tracking_uri, "--precision", "bf16").exit_code == 0
    from benchmark.report.collect import collect
    from benchmark.report.header import lines
    from benchmark.suite import load_suite

    collected = collect(load_suite(str(suite)), "synthetic-ve8-seed3", tracking_uri)
    assert ("Precision", "bf16") in lines(collected.header)
    assert all(s.finished for r in collected.rows for s in r.splits.values()) and collected.rows[0].n_expected == 2


def test_an_unknown_precision_is_an_input_error(tiny_store, tmp_path, tracking_uri):
    suite = tmp_path / "one.toml"
    suite.write_text('name = "one"\n[[rows]]\nname = "full"\nmodel = "proposed"\nmodalities = ["visual"]\n')
    result = run(tiny_store, suite, tracking_uri, "--precision", "fp16")
    assert result.exit_code == 2 and "precision must be one of 'auto', 'fp32', 'bf16', got 'fp16'" in result.output
    assert not (tmp_path / "mlruns").exists()


# --- bench tune: one precision per study --------------------------------------------------------


def test_a_study_trains_every_trial_at_one_precision_and_bf16_is_another_study(tiny_store):
    from benchmark.tuning.objective import TuneContext
    from benchmark.tuning.search import settings_of
    from benchmark.tuning.space import build_space

    store = open_store(tiny_store)
    space = build_space(["alpha"], [])
    contexts = {
        p: TuneContext(store, get_profile("quick"), space, [], {"frames": 6}, "cpu", None, p)
        for p in ("auto", "fp32", "bf16")
    }
    assert contexts["auto"].chosen_precision == "fp32"  # tiny dims
    assert {contexts["bf16"].config({"alpha": a}).train.precision for a in (2, 4, 16)} == {"bf16"}
    settings = {p: settings_of(store, get_profile("quick"), space, c, 3, True, True, 0) for p, c in contexts.items()}
    assert settings["auto"] == settings["fp32"] != settings["bf16"]
