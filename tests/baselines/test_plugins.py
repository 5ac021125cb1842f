"""Plugins: the ways in, idempotent loading, and bad plugins as one-line input errors (exit 2, nothing logged)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from baselines import get_model, list_models
from baselines.plugins import PluginError, load_plugin, load_plugins, resolve_spec
from benchmark.cli import app
from benchmark.suite import load_suite

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gru_attention"

BAD = {
    "missing.py": (None, "does not exist"),
    "fails.py": (
        "import math\nraise RuntimeError('boom in the user code')\n",
        "failed to import: RuntimeError: boom in the user code",
    ),
    "nothing.py": ("VALUE = 1\n", "registers no model, metric or corruption"),
    "shadow.py": (
        "from baselines.registry import register_model\n@register_model('proposed')\ndef build(dims, n_classes):\n   "
        " return None\n",
        "'proposed' is already registered (built-in)",
    ),
    "signature.py": (
        "from baselines.registry import register_model\n@register_model('odd', defaults={'width': 3})\ndef "
        "build(features):\n    return None\n",
        "does not fit build(dims, n_classes, **params)",
    ),
}


def write_bad(folder: Path, name: str) -> Path:
    source, _ = BAD[name]
    path = folder / name
    if source is not None:
        path.write_text(source)
    return path


@pytest.mark.parametrize("name", list(BAD))
def test_bad_plugin_is_one_line_exit_2_and_nothing_logged(name, tmp_path, tiny_store, plugin_sandbox):
    plugin = write_bad(tmp_path, name)
    suite = tmp_path / "s.toml"
    suite.write_text('name = "s"\n[[rows]]\nname = "a"\nmodel = "proposed"\n')
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--suite",
            str(suite),
            "-f",
            str(tiny_store),
            "--n-splits",
            "2",
            "--epochs",
            "1",
            "--plugin",
            str(plugin),
        ],
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: plugin ") and str(plugin) in lines[0], result.output
    assert BAD[name][1] in lines[0]
    assert not (tmp_path / "mlruns" / "mlflow.db").exists()
    assert "odd" not in list_models() and get_model("proposed").origin == "built-in"


def test_unknown_module_plugin_is_an_input_error(plugin_sandbox):
    with pytest.raises(PluginError, match="no_such_plugin_module does not exist"):
        load_plugins(["no_such_plugin_module"])


def test_loading_twice_loads_once_and_an_edited_file_loads_again(tmp_path, plugin_sandbox):
    path = tmp_path / "user_models.py"
    shutil.copy(FIXTURES / "user_models.py", path)
    first = load_plugin(resolve_spec(str(path)))
    assert set(first.models) == {"user_mean_mlp", "user_dead_parameter", "user_mask_leak"}
    assert load_plugin(resolve_spec(str(path))) is first
    assert get_model("user_mean_mlp").origin == str(path)
    path.write_text(path.read_text().replace("SCALE = 1.0", "SCALE = 3.0"))
    again = load_plugin(resolve_spec(str(path)))
    assert again is not first
    import sys

    assert sys.modules[again.module].SCALE == 3.0


def test_module_plugin_by_name(tmp_path, monkeypatch, plugin_sandbox):
    package = tmp_path / "my_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    shutil.copy(FIXTURES / "user_models.py", package / "models.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin = load_plugins(["my_pkg.models"])[0]
    assert plugin.module == "my_pkg.models" and "user_mean_mlp" in plugin.models


def test_suite_plugins_are_relative_to_the_suite_file_and_unknown_keys_are_errors(tmp_path):
    (tmp_path / "sub").mkdir()
    suite = tmp_path / "sub" / "mine.toml"
    suite.write_text('plugins = ["models.py", "some_pkg.models"]\n[[rows]]\nname = "a"\nmodel = "x"\n')
    assert load_suite(str(suite)).plugins == (str((tmp_path / "sub" / "models.py").resolve()), "some_pkg.models")
    suite.write_text('imports = ["models.py"]\n[[rows]]\nname = "a"\nmodel = "x"\n')
    with pytest.raises(Exception, match=r"unknown top-level key.*imports"):
        load_suite(str(suite))


def test_builtin_models_refuse_a_modality_they_do_not_model():
    from baselines.registry import check_modalities
    from benchmark.params import ParamError

    with pytest.raises(
        ParamError, match="model 'proposed' models only visual, audio, skeleton; it has no branch for modality 'face'"
    ):
        check_modalities("proposed", ["visual", "face"])
    check_modalities("linear_probe", ["visual", "face"])  # pooled features: any modality


def test_the_example_plugin_passes_check_model(plugin_sandbox):
    result = CliRunner().invoke(app, ["check-model", "gru_attention", "--plugin", str(EXAMPLE / "gru_attention.py")])
    assert result.exit_code == 0, result.output
    assert "every applicable check passed" in result.output
