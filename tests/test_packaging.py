"""A wheel install works outside the checkout, and an installed plugin distribution's models appear
without --plugin (entry point group ``ver_bench.models``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_PACKAGE = ROOT / "tests" / "fixtures" / "plugin_package"


def run(command: list[str], cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(map(str, command))}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    """A new venv with the project installed from its wheel; the heavy dependencies (torch, MLflow) come
    from this environment through a path entry, so nothing is downloaded and the project is not visible
    from the checkout or the editable install."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    for item in ("baselines", "benchmark", "features", "pyproject.toml", "README.md"):
        (shutil.copytree if (ROOT / item).is_dir() else shutil.copy)(
            ROOT / item, source / item if (ROOT / item).is_dir() else source
        )
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp / "dist"),
            str(source),
        ],
        tmp,
    )
    wheel = next((tmp / "dist").glob("ver_bench-*.whl"))
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp)
    python = venv / "bin" / "python"
    site = Path(
        run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp).stdout.strip()
    )
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], tmp)
    return venv


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MLFLOW_TRACKING_URI")}
    return {**env, "COLUMNS": "200"}


def test_wheel_install_runs_bench_outside_the_checkout(fresh_venv, tiny_store, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = run(
        [str(fresh_venv / "bin" / "python"), "-c", "import benchmark; print(benchmark.__file__)"], outside, clean_env()
    )
    assert str(fresh_venv) in where.stdout, where.stdout  # the wheel's copy, not the checkout
    result = run(
        [
            str(fresh_venv / "bin" / "bench"),
            "run",
            "--suite",
            "table2",
            "-f",
            str(tiny_store),
            "--n-splits",
            "2",
            "--epochs",
            "1",
        ],
        outside,
        clean_env(),
    )
    assert "trained 8 split runs" in result.stdout, result.stdout
    assert (outside / "reports").is_dir() and (outside / "mlruns" / "mlflow.db").is_file()


def test_installed_plugin_distribution_is_listed_and_trains_without_plugin_option(fresh_venv, tiny_store, tmp_path):
    package = tmp_path / "plugin_package"
    shutil.copytree(PLUGIN_PACKAGE, package)
    python = str(fresh_venv / "bin" / "python")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(package),
        ],
        tmp_path,
    )
    run(
        [python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(next((tmp_path / "dist").glob("*.whl")))],
        tmp_path,
    )
    listed = run([str(fresh_venv / "bin" / "bench"), "models"], tmp_path, clean_env())
    assert "pkg_mean_pool" in listed.stdout and "ver_bench_demo_plugin.models" in listed.stdout
    suite = tmp_path / "pkg.toml"
    suite.write_text('name = "pkg"\n[[rows]]\nname = "from a package"\nmodel = "pkg_mean_pool"\n')
    result = run(
        [
            str(fresh_venv / "bin" / "bench"),
            "run",
            "--suite",
            str(suite),
            "-f",
            str(tiny_store),
            "--n-splits",
            "2",
            "--epochs",
            "1",
            "--no-report",
        ],
        tmp_path,
        clean_env(),
    )
    assert "trained 2 split runs" in result.stdout, result.stdout
