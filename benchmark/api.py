"""The Python API, for notebooks: run a suite and get its table as a pandas DataFrame.

``run`` does what ``bench run`` does (the same validation, reuse of finished runs, MLflow logging and
code identities) and returns the rows of ``table.csv`` (``bench report``'s statistics)::

    from benchmark.api import run
    table = run({"name": "mine", "reference": "Ours", "plugins": ["my_models.py"],
                 "rows": [{"name": "Ours", "model": "proposed"}, {"name": "Mine", "model": "mine"}]},
                features="stores/tiny", n_splits=3, epochs=2)
    table[["row", "mean", "std", "n_splits", "p_value"]]
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["load", "run"]


def load(suite: str | Path | Mapping[str, Any] | Any, plugins: Sequence[str] = ()):
    """A :class:`~benchmark.suite.Suite` from a built-in name, a file, a mapping or a Suite; its plugins and
    ``plugins`` loaded."""
    from baselines.plugins import load_plugins
    from benchmark.suite import Suite, load_suite, suite_from_mapping

    if isinstance(suite, Suite):
        loaded = suite
    elif isinstance(suite, Mapping):
        loaded = suite_from_mapping(suite)
    else:
        loaded = load_suite(str(suite))
    load_plugins(list(plugins))
    load_plugins(loaded.plugins)
    return loaded


def run(
    suite: str | Path | Mapping[str, Any] | Any,
    *,
    features: str | Path | None = None,
    profile: str = "quick",
    n_splits: int | None = None,
    split_files: str | Path | None = None,
    tracking_uri: str | None = None,
    plugins: Sequence[str] = (),
    executor: str = "local",
    jobs: int | None = None,
    device: str = "auto",
    precision: str = "auto",
    force: bool = False,
    progress: bool = True,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    frames: int | None = None,
    seed: int | None = None,
):
    """Train the suite's rows over the splits (reusing finished runs) and return the table as a DataFrame.

    One record per row in suite order, with the columns of ``bench report``'s ``table.csv``
    (mean and std are in percent). ``suite``: a built-in name, a path to a .toml file, a mapping with
    a suite file's keys (plugin paths relative to the working folder), or a Suite. ``features``: a store
    folder or a built-in store's name (``synthetic-ve8``, the default; ``synthetic-ekman6``). The splits
    are the store's protocol (:func:`benchmark.protocol.resolve_protocol`); ``n_splits`` and
    ``split_files`` override it as ``--n-splits`` and ``--split-files`` do.
    """
    from rich.console import Console

    from baselines.plugins import resolve_spec
    from benchmark.config import get_profile
    from benchmark.console import Progress
    from benchmark.executors import make_executor
    from benchmark.params import DEVICES, check_choice, resolve_device
    from benchmark.precision import check_precision
    from benchmark.protocol import protocol_splits
    from benchmark.report.collect import collect
    from benchmark.report.render import statistics
    from benchmark.runner import run_suite
    from benchmark.uri_check import check_tracking_uri
    from features.store import open_store

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    check_choice("device", device, DEVICES)
    resolve_device(device)
    check_precision(precision)
    tracking_uri = check_tracking_uri(tracking_uri)
    loaded = load(suite, plugins)
    specs = tuple(dict.fromkeys([resolve_spec(p) for p in plugins] + list(loaded.plugins)))
    chosen = get_profile(profile)
    from features.synthetic import store_path

    store = open_store(store_path(features))
    protocol, splits = protocol_splits(store, n_splits=n_splits, split_files=split_files)
    overrides = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "frames": frames, "seed": seed}
    console = Console(quiet=not progress)
    summary = run_suite(
        loaded,
        store,
        chosen,
        splits,
        executor=make_executor(executor, jobs=jobs),
        train_overrides=overrides,
        uri=tracking_uri,
        device=device,
        force=force,
        precision=precision,
        plugins=specs,
        progress=Progress(console, epochs=epochs or int(chosen.train.get("epochs", 0))) if progress else None,
        on_notice=console.print,
    )
    collected = collect(
        loaded,
        store.name,
        tracking_uri,
        dataset_fingerprint=store.fingerprint,
        parent_run_ids=[r.parent_run_id for r in summary.rows if r.parent_run_id],
    )
    frame = statistics(collected)
    frame.attrs.update(
        {
            "trained": summary.trained,
            "reused": summary.reused,
            "failed": summary.failed,
            "experiment_id": summary.experiment_id,
            "dataset": store.name,
            "protocol": protocol.describe(len(splits)),
        }
    )
    return frame
