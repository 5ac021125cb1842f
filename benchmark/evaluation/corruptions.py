"""Test-time corruptions by registration. A corruption transforms a split's test inputs
(``features {m: [n, T, D]}``, ``masks {m: [n, T]}``) at a level, for one modality or for the whole video.

Built in: ``clean``; ``missing`` (all frames of one modality masked and zeroed, as a video without that
stream); ``noise`` (Gaussian noise on one modality's valid frames at ``level`` times its per-dimension
std on the split's training part); ``frame_drop`` (frames dropped at random in every modality at once,
``level`` = the fraction kept, at least one frame). The random draws are seeded by the split, the
corruption, the modality and the level only, so every row sees the same noise.

A plugin file registers its own with :func:`register_corruption`; its function's code is part of the key
of its evaluations, so a changed corruption is evaluated again.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from baselines.registry import note_extension
from benchmark.params import ParamError


@dataclass
class TestInputs:
    """A split's test inputs as the model sees them (standardised where its config says), and the training
    part's per-dimension std of each modality (the unit of ``noise``)."""

    features: dict[str, np.ndarray]
    masks: dict[str, np.ndarray]
    train_std: dict[str, np.ndarray]

    def copy(self) -> TestInputs:
        return TestInputs(
            {m: x.copy() for m, x in self.features.items()},
            {m: k.copy() for m, k in self.masks.items()},
            self.train_std,
        )


CorruptionFn = Callable[[TestInputs, str | None, float, np.random.Generator], TestInputs]


@dataclass(frozen=True)
class Corruption:
    name: str
    function: CorruptionFn
    levels: tuple[float, ...]
    per_modality: bool
    clean_level: float  # the level at which the inputs are unchanged (the curve's first point)
    description: str = ""

    @property
    def version(self) -> str:
        """A hash of the function's code as Python parses it (with its registration; comments, docstrings and
        formatting left out, as in the code identity): part of every evaluation key of this corruption."""
        return _code_version(self.function)


@functools.cache
def _code_version(function: CorruptionFn) -> str:
    """Parsed once per process: a report asks for it once per evaluation run."""
    from benchmark.code_identity import normalised_statements

    try:
        source = "\n".join(normalised_statements(textwrap.dedent(inspect.getsource(function))))
    except (OSError, TypeError, SyntaxError):
        source = repr(function)
    return hashlib.sha256(source.encode()).hexdigest()[:12]


_CORRUPTIONS: dict[str, Corruption] = {}


def register_corruption(
    name: str, *, levels: tuple[float, ...], per_modality: bool, clean_level: float = 0.0, description: str = ""
):
    """Decorator: ``function(inputs, modality, level, rng) -> inputs`` (return a changed copy, never edit in place)."""

    def decorate(function: CorruptionFn) -> CorruptionFn:
        _CORRUPTIONS[name] = Corruption(
            name, function, tuple(float(v) for v in levels), per_modality, float(clean_level), description
        )
        note_extension("corruption", name)
        return function

    return decorate


def list_corruptions() -> list[str]:
    return list(_CORRUPTIONS)


def get_corruption(name: str) -> Corruption:
    try:
        return _CORRUPTIONS[name]
    except KeyError:
        raise ParamError(f"unknown corruption {name!r}; registered: {', '.join(_CORRUPTIONS)}") from None


def seed_of(split_digest: str, corruption: str, modality: str | None, level: float) -> int:
    """The same noise for every row of a split (and another for each modality and level)."""
    return int(hashlib.sha256(f"{split_digest}:{corruption}:{modality}:{level!r}".encode()).hexdigest()[:8], 16)


def full_masks(features: Mapping[str, np.ndarray], masks: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {m: masks[m].copy() if m in masks else np.ones(x.shape[:2], dtype=bool) for m, x in features.items()}


@register_corruption("clean", levels=(0.0,), per_modality=False, description="the test split as it is")
def clean(inputs: TestInputs, modality: str | None, level: float, rng: np.random.Generator) -> TestInputs:
    return inputs


@register_corruption(
    "missing", levels=(1.0,), per_modality=True, description="1 = every frame of the modality masked (no such stream)"
)
def missing(inputs: TestInputs, modality: str | None, level: float, rng: np.random.Generator) -> TestInputs:
    assert modality is not None  # per_modality: called once per modality
    out = inputs.copy()
    out.features[modality] = np.zeros_like(out.features[modality])
    out.masks[modality] = np.zeros_like(out.masks[modality])
    return out


@register_corruption(
    "noise",
    levels=(0.25, 0.5, 1.0, 2.0),
    per_modality=True,
    description="Gaussian noise of level x the modality's training std on its valid frames",
)
def noise(inputs: TestInputs, modality: str | None, level: float, rng: np.random.Generator) -> TestInputs:
    assert modality is not None  # per_modality: called once per modality
    out = inputs.copy()
    x = out.features[modality]
    drawn = rng.standard_normal(x.shape).astype(np.float32) * (level * inputs.train_std[modality]).astype(np.float32)
    out.features[modality] = x + drawn * out.masks[modality][..., None]
    return out


@register_corruption(
    "frame_drop",
    levels=(0.75, 0.5, 0.25),
    per_modality=False,
    clean_level=1.0,
    description="fraction of frames kept (dropped at random in every modality at once)",
)
def frame_drop(inputs: TestInputs, modality: str | None, level: float, rng: np.random.Generator) -> TestInputs:
    out = inputs.copy()
    n, frames = next(iter(out.masks.values())).shape
    keep = max(1, int(round(level * frames)))
    kept = np.zeros((n, frames), dtype=bool)
    for i in range(n):
        kept[i, rng.choice(frames, size=keep, replace=False)] = True
    for m in out.masks:
        out.masks[m] = out.masks[m] & kept
        out.features[m] = out.features[m] * out.masks[m][..., None]
    return out


@dataclass(frozen=True)
class Instance:
    """One evaluation of a kept model: a corruption at a level, on one modality or the whole video."""

    corruption: str
    modality: str | None
    level: float

    @property
    def label(self) -> str:
        return (
            f"{self.corruption}"
            + (f"/{self.modality}" if self.modality else "")
            + (f"@{self.level:g}" if self.corruption != "clean" else "")
        )


def instances(modalities: list[str], names: list[str] | None = None) -> list[Instance]:
    """Every (corruption, modality, level) of the registered corruptions (or ``names``) for a model's modalities."""
    out = []
    for name in names or list_corruptions():
        c = get_corruption(name)
        for modality in modalities if c.per_modality else [None]:
            out += [Instance(name, modality, level) for level in c.levels]
    return out
