"""The registry of searchable parameters and the ``--values`` syntax."""

from __future__ import annotations

import pytest

from benchmark.params import ParamError
from benchmark.tuning.space import build_space, grid, searchable, split_values
from benchmark.tuning.study import use_grid


def test_every_issue_parameter_is_registered_with_a_documented_space():
    space = searchable("proposed")
    assert {"alpha", "lr", "dropout", "groups", "expansion", "heads", "batch_size"} <= set(space)
    assert space["alpha"].choices == (2, 4, 8, 16)
    assert space["lr"].log and not space["lr"].categorical
    assert all(p.doc for p in space.values())


def test_alpha_alone_is_a_grid_and_several_parameters_use_tpe():
    assert use_grid(build_space(["alpha"]))
    assert not use_grid(build_space(["alpha", "heads"]))
    assert not use_grid(build_space(["lr"]))
    assert grid(build_space(["alpha"])) == {"alpha": [2, 4, 8, 16]}


def test_values_override_a_list_or_a_range():
    space = build_space(["alpha"], ["2,8"])
    assert space["alpha"].choices == (2, 8)
    space = build_space(["lr", "alpha"], ["lr=1e-4:1e-2", "alpha=4,16"])
    assert (space["lr"].low, space["lr"].high, space["lr"].log) == (1e-4, 1e-2, True)
    assert space["alpha"].choices == (4, 16)
    lr_as_list = build_space(["lr"], ["0.001,0.01"])["lr"]
    assert lr_as_list.categorical and lr_as_list.choices == (0.001, 0.01)
    model, train = split_values(space, {"lr": 0.001, "alpha": 4})
    assert model == {"alpha": 4} and train == {"lr": 0.001}


@pytest.mark.parametrize(
    ("names", "values", "message"),
    [
        (["alpha"], ["2,x"], "'x' is not a number"),
        (["alpha"], ["2.5,4"], "takes integers"),
        (["alpha"], ["0,4"], "must be >= 1"),
        (["alpha"], ["2,2"], "listed twice"),
        (["alpha"], [""], "empty"),
        (["lr"], ["1e-2:1e-4"], "LOW must be smaller"),
        (["lr"], ["0:1e-2"], "must be > 0"),
        (["lr"], ["1:2:3"], "LOW:HIGH"),
        (["dropout"], ["0.1,1.5"], "must be <= 0.95"),
        (["alpha", "lr"], ["2,4"], "NAME=VALUES"),
        (["alpha"], ["heads=2,4"], "not one of the searched"),
        (["alpha"], ["alpha=2", "alpha=4"], "given twice"),
        (["colour"], [], "not searchable"),
        (["alpha", "alpha"], [], "twice"),
        ([], [], "at least one --param"),
    ],
)
def test_bad_values_are_param_errors(names, values, message):
    with pytest.raises(ParamError, match=message):
        build_space(names, values)


def test_grid_needs_lists():
    with pytest.raises(ParamError, match="range"):
        use_grid(build_space(["lr"]), "grid")
