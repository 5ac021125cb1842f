"""The engine's parts: on-the-fly standardisation, per-split Adam, per-split BatchNorm, engine policy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines import build_model
from benchmark.config import TrainConfig
from benchmark.data import ModalityData, standardize
from benchmark.engine.batches import DeviceData, epoch_order
from benchmark.engine.optim import adam
from benchmark.engine.policy import check_engine, choose_engine
from benchmark.engine.stacked import StackedModel, build_models
from benchmark.executors import make_executor
from benchmark.params import ParamError


def test_batches_are_standardised_per_split_exactly_as_standardize_does():
    rng = np.random.default_rng(0)
    data = {
        "visual": ModalityData(rng.normal(3.0, 2.0, (12, 5, 4)).astype(np.float32), None),
        "skeleton": ModalityData(rng.normal(size=(12, 5, 3)).astype(np.float32), rng.random((12, 5)) < 0.7),
    }
    trains = [np.arange(0, 8), np.arange(4, 12)]
    resident = DeviceData(data, np.arange(12) % 3, "cpu")
    idx = torch.tensor([[0, 5, 11], [2, 3, 9]])
    inputs, masks, targets = resident.batch(idx, resident.standardizer(trains))
    for k, train in enumerate(trains):
        expected = standardize(data, train)
        for m in data:
            assert torch.equal(inputs[m][k], torch.from_numpy(expected[m].features[idx[k].numpy()]))
        assert torch.equal(masks["skeleton"][k], torch.from_numpy(data["skeleton"].mask[idx[k].numpy()]))
    assert targets.tolist() == [[0, 2, 2], [2, 0, 0]]


def test_each_split_shuffles_with_its_own_generator_like_the_plain_loop():
    positions = torch.arange(10, 20).repeat(2, 1)
    order = epoch_order(positions, [torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)])
    assert order[0].tolist() == (positions[0][torch.randperm(10, generator=torch.Generator().manual_seed(1))]).tolist()
    assert order[0].tolist() != order[1].tolist()
    assert sorted(order[1].tolist()) == list(range(10, 20))


def test_adam_over_stacked_parameters_is_one_adam_per_split_bit_for_bit():
    train = TrainConfig(epochs=1, batch_size=2, lr=1e-2, frames=None, weight_decay=1e-3)
    g = torch.Generator().manual_seed(0)
    stacked = torch.randn(3, 4, 5, generator=g).requires_grad_()
    singles = [stacked[k].detach().clone().requires_grad_() for k in range(3)]
    together, apart = adam([stacked], train), [adam([p], train) for p in singles]
    for _ in range(5):
        grads = torch.randn(3, 4, 5, generator=g) * torch.logspace(-8, 0, 5)  # tiny gradients too
        stacked.grad = grads.clone()
        together.step()
        for k, (p, opt) in enumerate(zip(singles, apart)):
            p.grad = grads[k].clone()
            opt.step()
    for k, p in enumerate(singles):
        assert torch.equal(stacked[k].detach(), p.detach())


def test_batchnorm_statistics_stay_per_split():
    dims = {"audio": 8}
    params = {"ff_dim": 16, "mlp_hidden": 8, "dropout": 0.0, "mlp_dropout": 0.0, "fusion_dim": 16}
    models = build_models("proposed", dims, 3, params, [1, 2])
    copies = [build_model("proposed", dims, 3, params) for _ in range(2)]
    for copy, model in zip(copies, models):
        copy.load_state_dict(model.state_dict())
    stacked = StackedModel(models).train()
    x = torch.randn(2, 6, 5, 8)
    stacked({"audio": x}, {})
    for k, copy in enumerate(copies):
        copy.train()({"audio": x[k]}, {})
        state = stacked.state_dict(k)
        for name, buffer in copy.named_buffers():
            if "running" in name:
                torch.testing.assert_close(state[name], buffer, rtol=1e-5, atol=1e-6)
    assert not torch.equal(
        stacked.buffers["fusion.squeeze.1.running_mean"][0], stacked.buffers["fusion.squeeze.1.running_mean"][1]
    )


@pytest.mark.parametrize(
    "engine, device, kind, n, precision, expected",
    [
        ("auto", "cuda", "torch", 10, "fp32", "vectorised"),
        ("auto", "cuda", "torch", 10, "bf16", "plain"),  # the engine's bf16 backward failed on an H200
        ("auto", "cpu", "torch", 10, "fp32", "plain"),
        ("vectorised", "cpu", "torch", 2, "fp32", "vectorised"),
        ("vectorised", "cuda", "torch", 10, "bf16", "vectorised"),  # asked for: as asked
        ("vectorised", "cuda", "estimator", 10, "fp32", "plain"),
        ("vectorised", "cuda", "torch", 1, "fp32", "plain"),
        ("plain", "cuda", "torch", 10, "fp32", "plain"),
    ],
)
def test_engine_policy(engine, device, kind, n, precision, expected):
    assert choose_engine(engine, device, model_kind=kind, n_splits=n, precision=precision) == expected


def test_engine_options_that_cannot_apply_are_input_errors():
    with pytest.raises(ParamError, match="--executor local"):
        make_executor("processes", engine="vectorised")
    with pytest.raises(ParamError, match="--compile"):
        check_engine("plain", "local", compile=True)
    with pytest.raises(ParamError, match="engine"):
        check_engine("fast")
    assert make_executor("processes", engine="auto").name == "processes"


def test_a_bf16_engine_step_keeps_every_softmax_in_fp32():
    """The engine's first bf16 step failed on an H200 in a softmax backward: under vmap the attention's
    softmax got bf16 scores, which CUDA's autocast makes bf16-in, fp32-out. On the CPU the same step
    shows it as a softmax with bf16 input."""
    from torch.utils._python_dispatch import TorchDispatchMode

    from benchmark.perf.loops import PerfSetup
    from benchmark.perf.measure import prepare

    softmaxes = {
        torch.ops.aten._softmax.default,
        torch.ops.aten._safe_softmax.default,
        torch.ops.aten._log_softmax.default,
    }
    inputs = []

    class Watch(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func in softmaxes:
                inputs.append(args[0].dtype)
            return func(*args, **(kwargs or {}))

    problem = prepare(
        PerfSetup(
            "cpu",
            splits=2,
            steps=1,
            warmup=0,
            repeats=1,
            profile="quick",
            videos=120,
            frames=4,
            dims={"visual": 24, "audio": 16, "skeleton": 12},
        )
    )
    loop = problem.loop("vectorised", "bf16")
    with Watch():
        loop.run_steps(1)
    assert inputs and set(inputs) == {torch.float32}, inputs
