"""What the report reads from run artifacts and tags beyond metrics: class names and the reference row's predictions."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchmark.tracking.tags import TAG


def class_names(parents: Iterable) -> list[str]:
    """The store's classes, as the parents recorded them (``bench.classes``)."""

    for parent in parents:
        raw = parent.data.tags.get(f"{TAG}classes")
        if raw:
            try:
                return list(json.loads(raw))
            except ValueError:
                continue
    return []


def reference_predictions(client, records: Iterable):
    """The reference row's ``predictions.csv`` of every finished split, with a ``split`` column."""
    import pandas as pd

    frames = []
    with tempfile.TemporaryDirectory() as tmp:
        for record in records:
            try:
                path = client.download_artifacts(record.run_id, "predictions.csv", tmp)
            except Exception:  # an artifact store that cannot be reached: no confusion matrix, not a crash
                continue
            frame = pd.read_csv(Path(path), dtype=str, keep_default_na=False)
            frame.insert(0, "split", record.split)
            frames.append(frame)
            Path(path).unlink()
    if not frames:
        return None
    return pd.concat(frames, ignore_index=True)


def split_sizes(client, run) -> dict[str, Any]:
    """``n_train`` / ``n_test`` of a split run: its params, else the lengths in its ``split.json``."""
    params = run.data.params
    if params.get("n_train", "").isdigit() and params.get("n_test", "").isdigit():
        return {"n_train": int(params["n_train"]), "n_test": int(params["n_test"])}
    if run.info.status != "FINISHED":
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            ids = json.loads(Path(client.download_artifacts(run.info.run_id, "split.json", tmp)).read_text())
            return {"n_train": len(ids["train"]), "n_test": len(ids["test"])}
        except Exception:  # no artifact (hand-made runs) or a store that cannot be reached: sizes unknown
            return {}


def correct_predictions(client, run_id: str) -> dict[str, bool] | None:
    """{test video id: predicted right} from a split run's ``predictions.csv`` (None where it cannot be read)."""
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        try:
            frame = pd.read_csv(
                client.download_artifacts(run_id, "predictions.csv", tmp), dtype=str, keep_default_na=False
            )
        except Exception:  # no artifact or an unreachable store: no McNemar test for this row, said in its note
            return None
    return dict(zip(frame["id"], frame["label"] == frame["prediction"]))
