"""Synthetic generator version 4: each modality resolves confusions the other two cannot, and the
store knows its best reachable accuracy.

Generative model (per modality m with dim D, video v of class c, frame t):

    x[m, v, t] = s_m * p[m, g_m(c)] + b[m, v] + e[m, v, t]

- ``g_m`` merges classes into groups: every modality merges the class pairs of ``UNIQUE_PAIRS`` that
  belong to the other two, so each pair is indistinguishable in two modalities and separable only in
  the third (visual: Joy/Surprise, audio: Sadness/Trust, skeleton: Disgust/Fear); every other class
  pair is separable in all three (shared information);
- ``p[m, k]``: a random unit vector per group (near-orthogonal in the paper's dims);
- ``s_m``: ``SIGNAL_STRENGTH``, visual strongest, so removing visual costs the most;
- ``b[m, v] ~ N(0, NUISANCE^2 I)``: a per-video latent offset shared by all its frames;
- ``e[m, v, t] ~ N(0, FRAME_NOISE^2 I)``: frame noise;
- ``NO_PERSON_RATE`` of the videos have no skeleton and ``SILENT_RATE`` no audio (zeros, mask false),
  independent of the class.

Given the class, the frame mean is Gaussian, ``N(s_m p[m, g_m(c)], (NUISANCE^2 + FRAME_NOISE^2 / T) I)``,
and it is a sufficient statistic: the frames' deviations from their mean do not depend on the class.
So the Bayes accuracy is the same whether a model sees all T frames or the means of equal segments
(the quick profile's 10 segments of 10 frames): ``meta.json`` records it per modality subset
(``features.oracle``, Monte Carlo on ``CEILING_SAMPLES`` fresh videos with the store's class priors).
The frames carry no sub-patterns, so the NeXtVLAD cluster count has no effect built in (docs/guide/feature-store.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from features.oracle import GaussianModality, bayes_ceilings
from features.store import array_file, mask_file, write_index, write_meta

VERSION = 4
#: The class pair only this modality separates (VideoEmotion-8 names).
UNIQUE_PAIRS: dict[str, tuple[str, str]] = {
    "visual": ("Joy", "Surprise"),
    "audio": ("Sadness", "Trust"),
    "skeleton": ("Disgust", "Fear"),
}
SIGNAL_STRENGTH: dict[str, float] = {"visual": 4.0, "audio": 2.5, "skeleton": 2.5}
NUISANCE = 1.0
FRAME_NOISE = 2.0
NO_PERSON_RATE = 0.15
SILENT_RATE = 0.10
MISSING_RATE: dict[str, float] = {"skeleton": NO_PERSON_RATE, "audio": SILENT_RATE}
CEILING_SAMPLES = 200_000
PARAMETER_STREAM, CEILING_STREAM = 1, 2  # random streams next to the data's (seed)


def unique_pairs(classes: list[str], modalities: list[str]) -> dict[str, tuple[str, str]]:
    """``UNIQUE_PAIRS`` where the store has those classes; otherwise consecutive classes in order,
    one pair per modality (so any class list and any modalities get the same structure)."""
    if all(m in UNIQUE_PAIRS and set(UNIQUE_PAIRS[m]) <= set(classes) for m in modalities):
        return {m: UNIQUE_PAIRS[m] for m in modalities}
    pairs = [(classes[i], classes[i + 1]) for i in range(0, len(classes) - 1, 2)]
    return {m: pair for m, pair in zip(modalities, pairs)}


def class_groups(classes: list[str], modality: str, pairs: dict[str, tuple[str, str]]) -> np.ndarray:
    """Group index per class in ``modality``: the pairs unique to the other modalities share a group."""
    group = {c: i for i, c in enumerate(classes)}
    for other, (a, b) in pairs.items():
        if other != modality:
            group[b] = group[a]
    _, dense = np.unique([group[c] for c in classes], return_inverse=True)
    return dense


def generator_model(
    classes: list[str], dims: dict[str, int], frames: int, seed: int, pairs: dict[str, tuple[str, str]] | None = None
) -> dict[str, GaussianModality]:
    """The generator's parameters per modality, as the oracle sees them: the frame mean's class means,
    its noise and the missing rate. Drawn from their own random stream, so they can be rebuilt without
    generating the data. ``pairs``: the class pair each modality alone separates (default
    :func:`unique_pairs`)."""
    rng = np.random.default_rng([seed, PARAMETER_STREAM])
    pairs = pairs or unique_pairs(classes, list(dims))
    model = {}
    for modality, dim in dims.items():
        groups = class_groups(classes, modality, pairs)
        prototypes = rng.standard_normal((groups.max() + 1, dim))
        # float64 normalisation, then float32: the same bytes under numpy 1.x and 2.x
        prototypes = (prototypes / np.linalg.norm(prototypes, axis=1, keepdims=True)).astype(np.float32)
        model[modality] = GaussianModality(
            class_means=(SIGNAL_STRENGTH.get(modality, 2.0) * prototypes[groups]).astype(np.float64),
            noise_std=float(np.sqrt(NUISANCE**2 + FRAME_NOISE**2 / frames)),
            missing_rate=MISSING_RATE.get(modality, 0.0),
        )
    return model


def write_v4(
    out: Path,
    *,
    name: str,
    seed: int,
    frames: int,
    counts: dict[str, int],
    dims: dict[str, int],
    dtype: str,
    pairs: dict[str, tuple[str, str]] | None = None,
    extra_meta: dict | None = None,
) -> Path:
    """Write a v4 store (with its ceilings in meta.json) to ``out``; deterministic in its arguments.
    ``pairs`` and ``extra_meta`` (more meta.json keys, e.g. a protocol) are for other dataset shapes;
    left out, the bytes are v4's as released."""
    rng = np.random.default_rng(seed)
    classes = list(counts)
    labels = np.repeat(np.arange(len(classes)), [counts[c] for c in classes])
    n = len(labels)
    ids, per_class = [], {c: 0 for c in classes}
    for label in labels:
        per_class[classes[label]] += 1
        ids.append(f"{classes[label]}/synthetic_{per_class[classes[label]]:04d}")
    missing = {m: rng.random(n) < rate for m, rate in MISSING_RATE.items() if m in dims}
    pairs = pairs or unique_pairs(classes, list(dims))
    model = generator_model(classes, dims, frames, seed, pairs)

    modality_info = {}
    for modality, dim in dims.items():
        class_means = model[modality].class_means.astype(np.float32)  # [C, D]
        array = np.lib.format.open_memmap(out / array_file(modality), mode="w+", dtype=dtype, shape=(n, frames, dim))
        for lo in range(0, n, 128):
            hi = min(n, lo + 128)
            chunk = FRAME_NOISE * rng.standard_normal((hi - lo, frames, dim), dtype=np.float32)
            chunk += NUISANCE * rng.standard_normal((hi - lo, 1, dim), dtype=np.float32)
            chunk += class_means[labels[lo:hi]][:, None, :]
            if modality in missing:
                chunk[missing[modality][lo:hi]] = 0.0
            array[lo:hi] = chunk
        array.flush()
        del array
        if modality in missing:
            np.save(out / mask_file(modality), np.repeat(~missing[modality][:, None], frames, axis=1))
        modality_info[modality] = {
            "dim": dim,
            "extractor": "synthetic",
            "weights": "none (synthetic generator)",
            "signal_strength": SIGNAL_STRENGTH.get(modality, 2.0),
            "separates_only_here": list(pairs.get(modality, ())),
            "missing_rate": MISSING_RATE.get(modality, 0.0),
        }
    priors = np.bincount(labels, minlength=len(classes)) / n
    ceilings = bayes_ceilings(model, priors, samples=CEILING_SAMPLES, rng=np.random.default_rng([seed, CEILING_STREAM]))
    write_index(out, ids, [classes[i] for i in labels])
    write_meta(
        out,
        name=name,
        classes=classes,
        frames=frames,
        modalities=modality_info,
        extra={
            "synthetic": True,
            "generator": {
                "module": __name__,
                "version": VERSION,
                "seed": seed,
                "nuisance_std": NUISANCE,
                "frame_noise_std": FRAME_NOISE,
            },
            "ceiling": {
                "method": (
                    "Bayes rule with the generator's parameters on the frame mean (a sufficient statistic, so "
                    "the same for all T frames or any equal-segment means), Monte Carlo on fresh videos"
                ),
                "samples": CEILING_SAMPLES,
                "priors": "the store's class proportions",
                "subsets": ceilings,
            },
            "sampling": "synthetic; no video",
            "warning": "Synthetic data: its numbers say nothing about real videos.",
            **dict(extra_meta or {}),
        },
    )
    return out
