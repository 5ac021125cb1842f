"""One contract, every registered model (as timm tests every model it registers)."""

import numpy as np
import pytest
import torch

from baselines import build_model, get_model, list_models
from baselines.nextvlad import NeXtVLAD
from benchmark.params import ParamError

DIMS = {"visual": 32, "audio": 16, "skeleton": 12}
SMALL = {
    "proposed": {"proj_dims": {"visual": 16, "audio": 16, "skeleton": 16}, "ff_dim": 32, "mlp_hidden": 16, "dropout": 0.0, "mlp_dropout": 0.0},
    "nextvlad": {"proj_dims": {"visual": 16, "audio": 16, "skeleton": 16}, "hidden": 32, "dropout": 0.0},
    "linear_probe": {"C": 100.0},
}
N_CLASSES, BATCH, FRAMES = 3, 12, 6


def make(name):
    return build_model(name, DIMS, N_CLASSES, SMALL.get(name, {}))


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = {m: torch.randn(BATCH, FRAMES, d, generator=g) for m, d in DIMS.items()}
    y = torch.arange(BATCH) % N_CLASSES
    return x, y


def outputs(name, model, x, y=None):
    if get_model(name).kind == "torch":
        model.eval()
        with torch.no_grad():
            return model(x).numpy()
    numpy_x = {m: v.numpy() for m, v in x.items()}
    if y is not None:
        model.fit(numpy_x, y.numpy())
    return model.predict_proba(numpy_x)


@pytest.mark.parametrize("name", list_models())
def test_output_shape(name):
    x, y = batch()
    assert outputs(name, make(name), x, y).shape == (BATCH, N_CLASSES)


@pytest.mark.parametrize("name", [n for n in list_models() if get_model(n).kind == "torch"])
def test_gradients_reach_every_trainable_parameter(name):
    model = make(name)
    model.train()
    x, y = batch()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    dead = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)]
    assert not dead, dead


@pytest.mark.parametrize("name", list_models())
def test_tiny_batch_can_be_overfitted(name):
    torch.manual_seed(0)
    model = make(name)
    x, y = batch()
    if get_model(name).kind == "torch":
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        model.train()
        for _ in range(150):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    predictions = outputs(name, model, x, y).argmax(axis=1)
    assert (predictions == y.numpy()).all()


@pytest.mark.parametrize("name", [n for n in list_models() if get_model(n).permutation_invariant(SMALL.get(n, {}))])
def test_frame_order_does_not_change_output(name):
    model = make(name)
    x, y = batch()
    before = outputs(name, model, x, y)
    perm = torch.randperm(FRAMES, generator=torch.Generator().manual_seed(1))
    shuffled = {m: v[:, perm] for m, v in x.items()}
    after = outputs(name, model, shuffled)  # estimator: same fitted model, no refit
    np.testing.assert_allclose(before, after, rtol=1e-4, atol=1e-5)


def test_positional_encoding_makes_order_matter():
    params = {**SMALL["proposed"], "positional": "sinusoidal"}
    assert not get_model("proposed").permutation_invariant(params)
    model = build_model("proposed", DIMS, N_CLASSES, params).eval()
    x, _ = batch()
    with torch.no_grad():
        assert not torch.allclose(model(x), model({m: v.flip(1) for m, v in x.items()}))


@pytest.mark.parametrize("dim,clusters,groups,expansion", [(768, 4, 8, 2), (128, 16, 8, 2), (128, 2, 4, 3)])
def test_nextvlad_output_width_is_lambda_n_k_over_g(dim, clusters, groups, expansion):
    vlad = NeXtVLAD(dim, clusters=clusters, groups=groups, expansion=expansion).eval()
    out = vlad(torch.randn(3, 5, dim))
    assert vlad.output_dim == expansion * dim * clusters // groups == out.shape[1]


def test_nextvlad_mask_removes_missing_frames():
    vlad = NeXtVLAD(16, clusters=4, groups=4).eval()
    x = torch.randn(2, 6, 16)
    mask = torch.tensor([[True] * 3 + [False] * 3] * 2)
    noisy = x.clone()
    noisy[:, 3:] = torch.randn(2, 3, 16) * 100
    torch.testing.assert_close(vlad(x, mask), vlad(noisy, mask))


def test_nextvlad_rejects_indivisible_groups():
    with pytest.raises(ParamError, match="divisible by groups"):
        NeXtVLAD(99, groups=8, expansion=2)


def test_unknown_model_parameter_is_an_error():
    with pytest.raises(ParamError, match="has no parameter 'alpah'"):
        build_model("proposed", DIMS, N_CLASSES, {"alpah": 4})


def test_masked_video_without_any_frame_gives_finite_output():
    model = make("proposed").eval()
    x, _ = batch()
    masks = {"skeleton": torch.zeros(BATCH, FRAMES, dtype=torch.bool)}
    with torch.no_grad():
        assert torch.isfinite(model(x, masks)).all()
