"""Resolved run configurations: profile + suite row + command-line overrides, and their fingerprints.

A :class:`RunConfig` holds everything that changes what a training run computes, and nothing else
(no display names, no paper numbers), so the same configuration reached from two suites has the same
fingerprint and is trained once.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

from benchmark.params import ParamError, check_choice, check_float, check_int
from features.format import PAPER_MODALITIES


@dataclass(frozen=True)
class TrainConfig:
    epochs: int
    batch_size: int
    lr: float
    frames: int | None
    optimizer: str = "adam"
    weight_decay: float = 0.0
    standardize: bool = True
    seed: int = 0
    precision: str = "fp32"  # resolved (fp32 | bf16); ``auto`` is resolved by benchmark.precision

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, low=1)
        check_int("batch_size", self.batch_size, low=2)
        check_float("lr", self.lr, low=0.0, open_low=True)
        if self.frames is not None:
            check_int("frames", self.frames, low=1)
        check_choice("optimizer", self.optimizer, ["adam"])
        check_float("weight_decay", self.weight_decay, low=0.0)
        check_int("seed", self.seed, low=0)
        check_choice("precision", self.precision, ["fp32", "bf16"])

    def to_dict(self) -> dict[str, Any]:
        """The fields; ``precision`` only where it is not fp32, so fp32 runs keep the fingerprints,
        params and report settings they had before precision was a setting (and are reused)."""
        out = asdict(self)
        if out["precision"] == "fp32":
            del out["precision"]
        return out


@dataclass(frozen=True)
class RunConfig:
    model: str
    modalities: tuple[str, ...]
    params: Mapping[str, Any]
    train: TrainConfig
    profile: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "modalities": list(self.modalities),
            "params": dict(self.params),
            "train": self.train.to_dict(),
            "profile": self.profile,
        }

    @property
    def fingerprint(self) -> str:
        """Hash of what the run computes (the profile's name is a label, not part of it)."""
        payload = {k: v for k, v in self.to_dict().items() if k != "profile"}
        return stable_hash(payload)

    def flat(self) -> dict[str, str]:
        """Flattened for MLflow params: ``model``, ``params.alpha``, ``train.lr`` ..."""
        return flatten(self.to_dict())


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    train: Mapping[str, Any]
    model_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def load_profiles() -> dict[str, Profile]:
    data = tomllib.loads(resources.files("benchmark").joinpath("profiles.toml").read_text())
    profiles = {}
    for name, body in data.items():
        body = dict(body)
        profiles[name] = Profile(
            name=name,
            description=" ".join(str(body.pop("description", "")).split()),
            model_overrides=body.pop("model", {}),
            train=body,
        )
    return profiles


def get_profile(name: str) -> Profile:
    profiles = load_profiles()
    check_choice("profile", name, list(profiles))
    return profiles[name]


def resolve_config(
    *,
    model: str,
    modalities: list[str],
    row_params: Mapping[str, Any] | None,
    profile: Profile,
    train_overrides: Mapping[str, Any] | None = None,
) -> RunConfig:
    """Model defaults <- profile's model overrides <- the row's params; profile training <- CLI."""
    from baselines import resolve_params

    ordered = order_modalities(modalities)
    merged = dict(profile.model_overrides.get(model, {}))
    for key, value in (row_params or {}).items():
        if isinstance(merged.get(key), Mapping) and isinstance(value, Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    params = resolve_params(model, merged)
    train_values = {**profile.train, **{k: v for k, v in (train_overrides or {}).items() if v is not None}}
    try:
        train = TrainConfig(**train_values)
    except TypeError as exc:
        raise ParamError(f"profile {profile.name!r}: {exc}") from None
    return RunConfig(model=model, modalities=ordered, params=params, train=train, profile=profile.name)


def order_modalities(modalities: Any) -> tuple[str, ...]:
    """The paper's modalities in their order, then any other modality name in the order given.

    Whether the store has them and the model can take them is checked where both are known (the runner).
    """
    if isinstance(modalities, str) or not isinstance(modalities, (list, tuple)) or not modalities:
        raise ParamError(f"modalities must be a non-empty list of names, got {modalities!r}")
    names = list(modalities)
    bad = [m for m in names if not isinstance(m, str) or not m]
    if bad:
        raise ParamError(f"modalities must be names (strings), got {bad[0]!r}")
    if len(set(names)) != len(names):
        raise ParamError(f"modalities list a name twice: {names!r}")
    return tuple(m for m in PAPER_MODALITIES if m in names) + tuple(m for m in names if m not in PAPER_MODALITIES)


def stable_hash(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(value, Mapping):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}{key}."))
        return out
    if isinstance(value, (list, tuple)):
        return {prefix[:-1]: ",".join(map(str, value))}
    return {prefix[:-1]: str(value)}
