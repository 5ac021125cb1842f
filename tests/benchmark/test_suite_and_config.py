import pytest

from benchmark.config import get_profile, resolve_config
from benchmark.params import ParamError
from benchmark.suite import builtin_suites, load_suite


def test_builtin_suites_match_the_paper():
    assert set(builtin_suites()) >= {"table1", "table2", "table3", "all"}
    table2 = load_suite("table2")
    assert {r.name: r.paper for r in table2.rows} == {
        "w/o visual branch": 37.4,
        "w/o audio branch": 39.9,
        "w/o skeleton branch": 38.5,
        "Ours": 43.2,
    }
    table1 = load_suite("table1")
    assert [r.name for r in table1.rows if r.reported] == ["SentiBank", "E-MDBM"]
    assert {r.params["alpha"] for r in load_suite("table3").rows} == {2, 4, 8, 16}
    assert len(load_suite("all").rows) == len(table1.rows) + len(table2.rows) + 4


def test_shared_row_has_one_configuration_across_suites():
    profile = get_profile("quick")
    configs = [
        resolve_config(model=r.model, modalities=list(r.modalities), row_params=r.params, profile=profile)
        for r in load_suite("all").runnable_rows
    ]
    assert len({c.fingerprint for c in configs}) == 9  # 3 ablations + 4 alphas (alpha 4 = Ours) + NeXtVLAD + probe


def test_paper_profile_is_the_papers_protocol():
    config = resolve_config(
        model="proposed", modalities=["visual", "audio", "skeleton"], row_params={}, profile=get_profile("paper")
    )
    assert (config.train.epochs, config.train.batch_size, config.train.lr, config.train.frames) == (100, 16, 1e-4, 100)
    assert config.params["alpha"] == 4 and config.params["groups"] == 8 and config.params["heads"] == 4


def test_fingerprint_follows_what_is_computed():
    profile = get_profile("quick")
    base = dict(model="proposed", modalities=["visual", "audio"], row_params={}, profile=profile)
    a = resolve_config(**base)
    assert resolve_config(**{**base, "modalities": ["audio", "visual"]}).fingerprint == a.fingerprint
    assert resolve_config(**base, train_overrides={"epochs": 3}).fingerprint != a.fingerprint
    assert resolve_config(**{**base, "row_params": {"alpha": 8}}).fingerprint != a.fingerprint


def test_user_suite_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\n[[rows]]\nname = "probe"\nmodel = "linear_probe"\nmodalities = ["audio"]\n')
    suite = load_suite(str(path))
    assert suite.name == "mine" and suite.rows[0].modalities == ("audio",)


@pytest.mark.parametrize(
    "text,message",
    [
        ('[[rows]]\nname = "x"\n', "needs a 'model'"),
        ('[[rows]]\nname = "x"\nmodel = "proposed"\nmodalitis = ["audio"]\n', "unknown key"),
        ("rows = 3", "at least one"),
        ("[[rows", "invalid TOML"),
    ],
)
def test_bad_suite_files_are_clear_errors(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ParamError, match=message):
        load_suite(str(path))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (
            {"modalities": []},
            "modalities must be a non-empty list",
        ),  # any name is allowed: the store and model check it
        ({"modalities": ["visual", "visual"]}, "modalities list a name twice"),
        ({"train_overrides": {"epochs": 0}}, "epochs must be >= 1"),
        ({"train_overrides": {"lr": -1.0}}, "lr must be > 0"),
        ({"row_params": {"alpha": 4.5}}, None),
    ],
)
def test_bad_parameters_are_declared_errors(kwargs, message):
    base = dict(model="proposed", modalities=["visual"], row_params={}, profile=get_profile("quick"))
    base.update(kwargs)
    if message is None:  # a bad model value is caught when the model is built
        from baselines import build_model

        config = resolve_config(**base)
        with pytest.raises(ParamError, match="clusters"):
            build_model("proposed", {"visual": 16}, 3, config.params)
        return
    with pytest.raises(ParamError, match=message):
        resolve_config(**base)


def test_components_and_fusion_suites_share_their_common_rows():
    components, fusion, extended = load_suite("components"), load_suite("fusion"), load_suite("extended")
    assert components.reference == "Ours (full model)" and fusion.reference == "SE fusion (ours)"
    assert components.costs and fusion.costs and not load_suite("table2").costs
    assert [p.name for p in extended.parts] == ["components", "fusion"]
    assert [p.name for p in load_suite("all").parts] == ["table1", "table2", "table3"]  # `all` stays the paper's
    assert {r.model for r in fusion.rows} == {
        "proposed",
        "fusion_late",
        "fusion_tfn",
        "fusion_lmf",
        "fusion_gmu",
        "fusion_crossmodal",
    }
    profile = get_profile("quick")
    fingerprints = {
        r.name: resolve_config(
            model=r.model, modalities=list(r.modalities), row_params=r.params, profile=profile
        ).fingerprint
        for r in extended.runnable_rows
    }
    assert len(set(fingerprints.values())) == 10  # 12 rows: full model and w/o SE = concatenation are trained once
    assert fingerprints["Ours (full model)"] == fingerprints["SE fusion (ours)"]
    assert fingerprints["w/o SE (concatenation into the MLP)"] == fingerprints["Concatenation + MLP"]


def test_quick_profile_gives_fusion_models_the_proposed_sizes():
    profile = get_profile("quick")
    proposed = resolve_config(model="proposed", modalities=["audio"], row_params={}, profile=profile).params
    for model in ("fusion_late", "fusion_tfn", "fusion_lmf", "fusion_gmu", "fusion_crossmodal"):
        params = resolve_config(model=model, modalities=["audio"], row_params={}, profile=profile).params
        assert {k: params[k] for k in ("proj_dims", "ff_dim", "mlp_hidden")} == {
            k: proposed[k] for k in ("proj_dims", "ff_dim", "mlp_hidden")
        }


def test_costs_must_be_a_boolean(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('costs = "yes"\n[[rows]]\nname = "x"\nmodel = "proposed"\n')
    with pytest.raises(ParamError, match="costs must be true or false"):
        load_suite(str(path))
