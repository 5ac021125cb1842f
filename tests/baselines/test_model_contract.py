"""One contract, every registered model (as timm tests every model it registers)."""

import numpy as np
import pytest
import torch

from baselines import build_model, get_model, list_models
from baselines.nextvlad import NeXtVLAD
from benchmark.params import ParamError

DIMS = {"visual": 32, "audio": 16, "skeleton": 12}
BRANCHES_SMALL = {"proj_dims": {"visual": 16, "audio": 16, "skeleton": 16}, "ff_dim": 32, "mlp_hidden": 16, "dropout": 0.0, "mlp_dropout": 0.0}
SMALL = {
    "proposed": BRANCHES_SMALL,
    "fusion_late": BRANCHES_SMALL,
    "fusion_tfn": {**BRANCHES_SMALL, "tfn_dim": 4},
    "fusion_lmf": {**BRANCHES_SMALL, "rank": 2, "fusion_dim": 16},
    "fusion_gmu": {**BRANCHES_SMALL, "fusion_dim": 16},
    "fusion_crossmodal": BRANCHES_SMALL,
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


TORCH_MODELS = [n for n in list_models() if get_model(n).kind == "torch"]


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_masked_frames_do_not_reach_the_output(name):
    """Noise in masked frames changes nothing, also for a video whose modality has no valid frame."""
    model = make(name).eval()
    x, _ = batch()
    masks = {m: torch.ones(BATCH, FRAMES, dtype=torch.bool) for m in DIMS}
    masks["visual"][:, 4:] = False
    masks["audio"][:3] = False  # three videos without audio at all
    noisy = {m: v.clone() for m, v in x.items()}
    noisy["visual"][:, 4:] = 100 * torch.randn(BATCH, 2, DIMS["visual"])
    noisy["audio"][:3] = 100 * torch.randn(3, FRAMES, DIMS["audio"])
    with torch.no_grad():
        torch.testing.assert_close(model(x, masks), model(noisy, masks))


COMPONENTS = [{"encoder": False}, {"nextvlad": False}, {"se": False}, {"encoder": False, "nextvlad": False, "se": False}]


@pytest.mark.parametrize("switches", COMPONENTS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
def test_component_switches_keep_the_contract(switches):
    params = {**SMALL["proposed"], **switches}
    model = build_model("proposed", DIMS, N_CLASSES, params)
    x, y = batch()
    model.train()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    full = build_model("proposed", DIMS, N_CLASSES, SMALL["proposed"])
    assert sum(p.numel() for p in model.parameters()) < sum(p.numel() for p in full.parameters())
    model.eval()
    masks = {"visual": torch.ones(BATCH, FRAMES, dtype=torch.bool)}
    masks["visual"][:, 3:] = False
    noisy = {**x, "visual": torch.cat([x["visual"][:, :3], 50 * torch.randn(BATCH, 3, DIMS["visual"])], dim=1)}
    with torch.no_grad():
        torch.testing.assert_close(model(x, masks), model(noisy, masks))


@pytest.mark.parametrize("switches", COMPONENTS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
def test_component_switches_remove_their_modules(switches):
    model = build_model("proposed", DIMS, N_CLASSES, {**SMALL["proposed"], **switches})
    kinds = {type(m).__name__ for m in model.modules()}
    assert ("TransformerEncoderLayer" in kinds) == switches.get("encoder", True)
    assert ("NeXtVLAD" in kinds) == switches.get("nextvlad", True)
    assert ("SEFusion" in kinds) == switches.get("se", True)


def test_component_switch_must_be_a_boolean():
    with pytest.raises(ParamError, match="se must be true or false"):
        build_model("proposed", DIMS, N_CLASSES, {"se": "no"})


@pytest.mark.parametrize("modalities", [["visual"], ["audio", "skeleton"]])
@pytest.mark.parametrize("name", [n for n in TORCH_MODELS if n.startswith("fusion_")])
def test_fusion_models_take_fewer_modalities(name, modalities):
    model = build_model(name, {m: DIMS[m] for m in modalities}, N_CLASSES, SMALL[name]).eval()
    x, _ = batch()
    with torch.no_grad():
        assert model({m: x[m] for m in modalities}).shape == (BATCH, N_CLASSES)


def test_tfn_fuses_the_outer_product_of_one_extended_vectors():
    model = build_model("fusion_tfn", DIMS, N_CLASSES, SMALL["fusion_tfn"])
    assert model.classifier[0].in_features == (4 + 1) ** 3


def test_late_fusion_outputs_mean_log_probabilities():
    model = build_model("fusion_late", DIMS, N_CLASSES, SMALL["fusion_late"]).eval()
    x, _ = batch()
    with torch.no_grad():
        out = model(x)
    # a mean of log-probabilities: each row's probabilities sum to at most 1 (Jensen), not exactly 1
    assert (out.exp().sum(dim=1) <= 1 + 1e-5).all()
