"""The code identity: comments, docstrings, formatting and pure moves change nothing; a change of what is
computed changes the identity of exactly the models it touches; a golden record ties identities to numbers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from baselines import get_model, list_models
from benchmark.code_identity import code_fingerprint, code_identity, normalised_statements

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden" / "code_identity.json"
PROBE = ["proposed", "fusion_lmf", "fusion_tfn", "nextvlad", "linear_probe"]


def test_normalisation_ignores_comments_docstrings_formatting_and_imports():
    a = 'import os\n"""doc"""\ndef f(x):\n    """why"""\n    # a comment\n    from math import e\n    return x + 1\n'
    b = "from os import path\n\n\ndef f( x ):\n    return (x\n            + 1)  # other comment\n"
    assert normalised_statements(a) == normalised_statements(b)
    assert normalised_statements(a) != normalised_statements(a.replace("x + 1", "x + 2"))


def test_identity_covers_the_model_and_the_training_loop_not_the_tracking():
    modules = set(code_identity("fusion_lmf").modules)
    assert {
        "baselines.fusion.lmf",
        "baselines.fusion.base",
        "baselines.proposed",
        "baselines.nextvlad",
        "benchmark.training",
        "benchmark.engine.train",
    } <= modules
    assert not modules & {
        "benchmark.tracking",
        "benchmark.runner",
        "benchmark.config",
        "baselines.registry",
        "baselines.fusion.tfn",
    }


def _identities(tree: Path) -> dict[str, str]:
    code = (
        "import json, baselines; from benchmark.code_identity import code_fingerprint; "
        f"print(json.dumps({{m: code_fingerprint(m) for m in {PROBE!r}}}))"
    )
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _copy(tmp_path: Path, name: str) -> Path:
    tree = tmp_path / name
    for package in ("baselines", "benchmark", "features"):
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tree


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_edits_in_a_copy_of_the_project(tmp_path):
    """One subprocess per copy of the packages, so each sees only its own source."""
    base = _identities(_copy(tmp_path, "base"))
    assert base == {m: code_fingerprint(m) for m in PROBE}  # a copy elsewhere: the same identities (paths do not count)

    cosmetic = _copy(tmp_path, "cosmetic")  # comments, a docstring, formatting
    _edit(
        cosmetic / "baselines/fusion/lmf.py",
        "    factor[:, -1, :] = 1.0\n",
        "    # the constant's row\n    factor[:, -1, :] = (\n        1.0\n    )\n",
    )
    _edit(
        cosmetic / "baselines/fusion/lmf.py",
        '"""W_m^(i) for every rank i',
        '"""The low-rank factors W_m^(i) for every rank i',
    )
    assert _identities(cosmetic) == base

    moved = _copy(tmp_path, "moved")  # a pure move: masked_mean to another covered module, imported back
    branches = (moved / "baselines/branches.py").read_text()
    start = branches.index("def masked_mean(")
    end = branches.index("\ndef ", start + 1)
    function = branches[start:end]
    (moved / "baselines/branches.py").write_text(
        branches[:start] + branches[end + 1 :] + "\nfrom baselines.nextvlad import masked_mean  # noqa: E402\n"
    )
    (moved / "baselines/nextvlad.py").write_text((moved / "baselines/nextvlad.py").read_text() + "\n\n" + function)
    assert _identities(moved) == base

    computed = _copy(tmp_path, "computed")  # LMF's initialisation changes: only LMF runs go stale
    _edit(computed / "baselines/fusion/lmf.py", "factor[:, -1, :] = 1.0", "factor[:, -1, :] = 0.5")
    changed = _identities(computed)
    assert changed["fusion_lmf"] != base["fusion_lmf"]
    assert {m: changed[m] for m in PROBE if m != "fusion_lmf"} == {m: base[m] for m in PROBE if m != "fusion_lmf"}

    loop = _copy(tmp_path, "loop")  # the training loop: every model
    _edit(
        loop / "benchmark/training.py",
        "class NonFiniteLoss(RuntimeError):",
        "LOOP_VERSION = 2\n\n\nclass NonFiniteLoss(RuntimeError):",
    )
    assert all(v != base[m] for m, v in _identities(loop).items())


def _tiny_numbers(model: str, store) -> list[float]:
    """Two epochs of the model at small sizes on the tiny store (fp32): its losses and test accuracy."""
    from benchmark.config import get_profile, resolve_config
    from benchmark.data import load_modalities
    from benchmark.splits import random_splits
    from benchmark.training import run_seed, train_split

    entry = get_model(model)
    config = resolve_config(
        model=model,
        modalities=["visual", "audio", "skeleton"],
        row_params=entry.check_params,
        profile=get_profile("quick"),
        train_overrides={"epochs": 2, "frames": 6, "precision": "fp32"},
    )
    split = random_splits(store.labels, store.fingerprint, 1, store.classes)[0]
    data = load_modalities(store, config.modalities, config.train.frames)
    result = train_split(
        config, data, store.labels, split.train, split.test, len(store.classes), seed=run_seed(config, 0), device="cpu"
    )
    return [float(r.train_loss) for r in result.history if np.isfinite(r.train_loss)] + [float(result.test_acc)]


BUILTINS = [m for m in list_models() if get_model(m).origin == "built-in"]


def test_golden_identities_move_with_the_numbers(tiny_store):
    """A golden record per built-in model: (code identity, numbers of a tiny training run).

    Numbers changed with the same identity: the rule missed a change of what is computed (users' runs
    would be served stale). Identity changed: a change of what runs compute, or a refactor the rule does not
    absorb; either way users' runs of that model train again. Say so in CHANGELOG.md, then record it with
    ``BENCH_UPDATE_GOLDEN=1 pytest tests/benchmark/test_code_identity.py``.
    """
    from features.store import open_store

    store = open_store(tiny_store)
    current = {m: {"code": code_fingerprint(m), "numbers": _tiny_numbers(m, store)} for m in BUILTINS}
    if os.environ.get("BENCH_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    golden = json.loads(GOLDEN.read_text())
    problems = []
    for model, now in current.items():
        if model not in golden:
            problems.append(f"{model}: not in the golden record (a new model: record it)")
            continue
        was = golden[model]
        same_numbers = len(now["numbers"]) == len(was["numbers"]) and np.allclose(
            now["numbers"], was["numbers"], rtol=1e-4, atol=1e-6
        )
        if not same_numbers and now["code"] == was["code"]:
            problems.append(f"{model}: numbers changed but the code identity did not: the rule misses this change")
        elif now["code"] != was["code"]:
            what = "numbers changed too" if not same_numbers else "same numbers"
            problems.append(
                f"{model}: code identity {was['code']} -> {now['code']} ({what}): users' runs of it train again"
            )
    assert not problems, "\n".join(problems)
