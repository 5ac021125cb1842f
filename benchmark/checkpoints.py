"""What a split run keeps of its trained model, in formats that load without running arbitrary code.

A kept model is three artifacts of the split run under ``model/``:

- ``config.json`` (``bench-model/1``): the model name, its resolved params, input dims, classes,
  modalities, frames, standardisation, the plugin specs and the code identity it was trained with;
  enough to rebuild the model from the run alone (:func:`rebuild`);
- ``weights.safetensors`` for a torch model (its ``state_dict``, float16 by default: see docs/guide/evaluation.md's
  "Kept models" for the measured effect), or ``estimator.skops`` for a scikit-learn estimator model
  (its ``pipeline`` attribute where it has one, else the whole object), loaded with skops' trusted
  types plus the types of the model's own registered code.

The test videos' class probabilities go beside them as ``scores.csv`` (:func:`scores_csv`).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "bench-model/1"
DTYPES = ("float16", "float32")
CONFIG, WEIGHTS, ESTIMATOR = "config.json", "weights.safetensors", "estimator.skops"


@dataclass(frozen=True)
class ModelSpec:
    """What rebuilds a kept model: ``config.json`` as data."""

    model: str
    params: dict
    dims: dict[str, int]
    n_classes: int
    modalities: list[str]
    frames: int | None
    standardize: bool
    plugins: list[str]
    code_fingerprint: str
    kind: str  # torch | estimator
    dtype: str  # of the kept weights (torch)
    precision: str = "fp32"  # the autocast the run trained and predicted under

    def to_json(self) -> str:
        return json.dumps(
            {"format": FORMAT, **self.__dict__}, indent=2, default=str
        )  # key order kept: dims order is input order

    @classmethod
    def from_json(cls, text: str) -> ModelSpec:
        raw = json.loads(text)
        if raw.pop("format", None) != FORMAT:
            raise ValueError(f"not a {FORMAT} model config")
        return cls(**raw)


def spec_of(
    config: Any, dims: Mapping[str, int], n_classes: int, plugins, code_fingerprint: str, kind: str, dtype: str
) -> ModelSpec:
    """``config`` is a :class:`benchmark.config.RunConfig`."""
    return ModelSpec(
        config.model,
        dict(config.params),
        dict(dims),
        n_classes,
        list(config.modalities),
        config.train.frames,
        bool(config.train.standardize),
        list(plugins),
        code_fingerprint,
        kind,
        dtype,
        config.train.precision,
    )


def save(model: Any, spec: ModelSpec, folder: Path) -> list[Path]:
    """Write ``config.json`` and the weights into ``folder``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG).write_text(spec.to_json(), encoding="utf-8")
    if spec.kind == "torch":
        import torch
        from safetensors.torch import save_file

        dtype = getattr(torch, spec.dtype)
        state = {
            k: (v.to(dtype) if v.is_floating_point() else v).contiguous().cpu() for k, v in model.state_dict().items()
        }
        save_file(state, str(folder / WEIGHTS), metadata={"format": FORMAT, "model": spec.model})
        return [folder / CONFIG, folder / WEIGHTS]
    import skops.io as sio

    sio.dump(getattr(model, "pipeline", model), folder / ESTIMATOR)
    return [folder / CONFIG, folder / ESTIMATOR]


def rebuild(folder: Path) -> tuple[Any, ModelSpec]:
    """The kept model in ``folder`` (as :func:`save` wrote it), in eval mode with float32 weights.

    The caller loads the spec's plugins first (the model's builder must be registered)."""
    from baselines import build_model

    spec = ModelSpec.from_json((folder / CONFIG).read_text(encoding="utf-8"))
    dims = {
        m: int(spec.dims[m]) for m in spec.modalities
    }  # the model's inputs in training order (it concatenates by it)
    model = build_model(spec.model, dims, spec.n_classes, spec.params)
    if spec.kind == "torch":
        from safetensors.torch import load_file

        state = load_file(str(folder / WEIGHTS))
        reference = model.state_dict()
        model.load_state_dict({k: v.to(reference[k].dtype) for k, v in state.items()})
        return model.eval(), spec
    import skops.io as sio

    path = folder / ESTIMATOR
    trusted = [t for t in sio.get_untrusted_types(file=path) if _own_type(t, spec.model)]
    state = sio.load(path, trusted=trusted)
    if hasattr(model, "pipeline"):
        model.pipeline = state
        return model, spec
    return state, spec


def _own_type(type_name: str, model: str) -> bool:
    """Types of the model's own registered code (already trusted: it ran to train the model), or scikit-learn's."""
    from baselines.registry import get_model

    modules = tuple(get_model(model).code_modules)
    return type_name.startswith(("sklearn.", "numpy.")) or any(type_name.startswith(m + ".") for m in modules)


def scores_csv(ids: list[str], labels: list[str], classes: list[str], scores: np.ndarray) -> str:
    """``id,label,<class>...``: one row per test video, its class probabilities (6 significant digits)."""
    import pandas as pd

    frame = pd.DataFrame(np.asarray(scores, dtype=np.float64), columns=list(classes))
    frame.insert(0, "label", labels)
    frame.insert(0, "id", ids)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.6g")
    return buffer.getvalue()


def read_scores(path: Path, classes: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(label indices, scores ``[n, C]``, ids) of a ``scores.csv``."""
    import pandas as pd

    frame = pd.read_csv(path, dtype={"id": str, "label": str}, keep_default_na=False)
    index = {c: i for i, c in enumerate(classes)}
    labels = np.array([index[c] for c in frame["label"]], dtype=np.int64)
    return labels, frame[list(classes)].to_numpy(dtype=np.float64), frame["id"].tolist()
