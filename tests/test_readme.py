"""The README's and the user guide's promises, checked: the numpy-only store example yields a store `bench run`
accepts, the quick start has two commands, the notebook example returns the table."""

import re
from pathlib import Path

from typer.testing import CliRunner

from benchmark.cli import app
from features import open_store

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FEATURE_STORE = ROOT / "docs" / "guide" / "feature-store.md"
OWN_MODEL = ROOT / "docs" / "guide" / "own-model.md"


def readme_store_example() -> str:
    text = FEATURE_STORE.read_text()
    match = re.search(r"<!-- store-example -->\s*```python\n(.*?)```", text, re.S)
    assert match, "docs/guide/feature-store.md lost its store example"
    return match.group(1)


def test_numpy_store_from_readme_is_accepted_by_bench_run(tmp_path):
    exec(compile(readme_store_example(), str(FEATURE_STORE), "exec"), {})
    store = open_store(tmp_path / "my_store")
    assert store.dims == {"visual": 768, "audio": 128, "skeleton": 99}
    suite = tmp_path / "one.toml"
    suite.write_text(
        'name = "one"\n[[rows]]\nname = "probe"\nmodel = "linear_probe"\nmodalities = ["visual", "audio", "skeleton"]\n'
    )
    result = CliRunner().invoke(
        app, ["run", "--suite", str(suite), "--features", str(tmp_path / "my_store"), "--n-splits", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "trained 2 split runs" in result.output
    assert (tmp_path / "mlruns" / "mlflow.db").exists()


def test_readme_quick_start_has_exactly_two_commands():
    section = README.read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == ["make demo", "make test"]


def test_api_example_from_readme_returns_the_table(tmp_path, tiny_store, plugin_sandbox, monkeypatch):
    """The guide's notebook example, run as written (its model file from the same page), on a tiny store."""
    import benchmark.api

    text = OWN_MODEL.read_text()
    model = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    (tmp_path / "my_models.py").write_text("\n".join(line[3:] for line in model.splitlines()))  # the list item's indent
    example = re.search(r"<!-- api-example -->\s*```python\n(.*?)```", text, re.S).group(1)
    real_run = benchmark.api.run
    monkeypatch.setattr(
        benchmark.api, "run", lambda suite, **kw: real_run(suite, features=tiny_store, progress=False, **kw)
    )
    namespace: dict = {}
    exec(compile(example, str(OWN_MODEL), "exec"), namespace)
    table = namespace["table"]
    assert list(table["row"]) == ["Ours", "Mine"] and (table["n_splits"] == 3).all()
    assert table.attrs["trained"] == 6
