"""One contract, every registered model (as timm tests every model it registers)."""

import pytest
import torch

from baselines import build_model, get_model, list_models
from baselines.contract import BATCH, CHECK_NAMES, CHECKS, FRAMES, N_CLASSES, make_case
from baselines.contract import SMALL_DIMS as DIMS
from baselines.nextvlad import NeXtVLAD
from benchmark.params import ParamError

# The model's own small sizes (registered as check_params): a new model needs no edit here.
SMALL = {name: dict(get_model(name).check_params) for name in list_models()}


def make(name):
    return build_model(name, DIMS, N_CLASSES, SMALL.get(name, {}))


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = {m: torch.randn(BATCH, FRAMES, d, generator=g) for m, d in DIMS.items()}
    y = torch.arange(BATCH) % N_CLASSES
    return x, y


@pytest.mark.parametrize("check", CHECKS, ids=lambda fn: CHECK_NAMES[fn.__name__].replace(" ", "-"))
@pytest.mark.parametrize("name", list_models())
def test_contract(name, check):
    """The checks of ``bench check-model``, over every registered model (skipped where they do not apply)."""
    result = check(make_case(name))
    if result.passed is None:
        pytest.skip(result.reason)
    assert result.passed, result.reason


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


COMPONENTS = [
    {"encoder": False},
    {"nextvlad": False},
    {"se": False},
    {"encoder": False, "nextvlad": False, "se": False},
]


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
