"""Searchable parameters of ``bench tune`` and their default spaces.

Each parameter says where it goes (a parameter of the tuned model, declared by the model where it
registers, or a training setting) and what space it is searched over by default. ``--values`` replaces a default space:

- ``2,4,8`` (a list) makes the space categorical over exactly those values;
- ``1e-4:1e-2`` (``LOW:HIGH``) makes it a range, searched on the parameter's scale (log for ``lr``).

A study whose parameters are all categorical and which has one parameter is searched exhaustively
with a grid; anything else uses a seeded TPE sampler (see :mod:`benchmark.tuning.study`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from benchmark.params import ParamError

TARGET_MODEL, TARGET_TRAIN = "model", "train"  # where a searched parameter goes


@dataclass(frozen=True)
class SearchParam:
    """One searchable parameter. ``choices`` set: categorical; else the range ``low``..``high``."""

    name: str
    target: str  # TARGET_MODEL (a parameter of the tuned model) or TARGET_TRAIN (a training setting)
    type: type  # int or float
    doc: str
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    minimum: float | None = None  # the smallest valid value (inclusive unless open_minimum)
    maximum: float | None = None  # the largest valid value (inclusive)
    open_minimum: bool = False

    @property
    def categorical(self) -> bool:
        return self.choices is not None

    def describe(self) -> str:
        if self.categorical:
            return "{" + ", ".join(map(str, self.choices or ())) + "}"
        return f"[{self.low:g}, {self.high:g}]" + (" log" if self.log else "")

    def suggest(self, trial) -> Any:
        """Ask an Optuna trial for a value from this space."""
        if self.categorical:
            return trial.suggest_categorical(self.name, list(self.choices or ()))
        assert self.low is not None and self.high is not None  # a range has both ends
        if self.type is int:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.log)

    def distribution(self):
        """The Optuna distribution of this space (for building trials in tests and reports)."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.categorical:
            return CategoricalDistribution(list(self.choices))
        if self.type is int:
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return FloatDistribution(float(self.low), float(self.high), log=self.log)


#: Training settings, searchable for every model.
TRAINING_PARAMS: dict[str, SearchParam] = {
    p.name: p
    for p in (
        SearchParam(
            "lr",
            TARGET_TRAIN,
            float,
            "Adam learning rate",
            low=1e-5,
            high=1e-2,
            log=True,
            minimum=0.0,
            open_minimum=True,
        ),
        SearchParam("batch_size", TARGET_TRAIN, int, "mini-batch size", choices=(8, 16, 32, 64), minimum=2),
    )
}

DEFAULT_MODEL = "proposed"


def model_params(model: str) -> dict[str, SearchParam]:
    """The model's own searchable parameters, as it declared them where it registered (``search_space``)."""
    from baselines import get_model

    entry = get_model(model)
    out = {}
    for name, spec in entry.search_space.items():
        spec = dict(spec)
        kind = spec.pop("type", float)
        if kind not in (int, float):
            raise ParamError(f"model {model!r}: search_space[{name!r}] type must be int or float, got {kind!r}")
        if name not in entry.defaults:
            raise ParamError(f"model {model!r}: search_space names {name!r}, which is not one of its parameters")
        choices = spec.pop("choices", None)
        try:
            out[name] = SearchParam(
                name,
                TARGET_MODEL,
                kind,
                spec.pop("doc", f"{model} parameter {name}"),
                choices=tuple(choices) if choices is not None else None,
                **spec,
            )
        except TypeError as exc:
            raise ParamError(f"model {model!r}: search_space[{name!r}]: {exc}") from None
    return out


def searchable(model: str = DEFAULT_MODEL) -> dict[str, SearchParam]:
    """What ``bench tune --model NAME --param P`` accepts: the model's parameters, then training settings."""
    return {**model_params(model), **TRAINING_PARAMS}


def get_param(name: str, model: str = DEFAULT_MODEL) -> SearchParam:
    params = searchable(model)
    if name not in params:
        raise ParamError(
            f"--param {name!r} is not searchable for model {model!r}; searchable parameters: {', '.join(params)}"
        )
    return params[name]


def build_space(names: Iterable[str], values: Iterable[str] = (), model: str = DEFAULT_MODEL) -> dict[str, SearchParam]:
    """The chosen parameters with their ``--values`` overrides applied, in the order given."""
    names = list(names)
    if not names:
        raise ParamError(f"give at least one --param (searchable for {model!r}: " + ", ".join(searchable(model)) + ")")
    if len(set(names)) != len(names):
        raise ParamError(f"--param lists a parameter twice: {names!r}")
    space = {name: get_param(name, model) for name in names}
    for name, spec in parse_values(values, names).items():
        space[name] = override(space[name], spec)
    return space


def parse_values(values: Iterable[str], names: list[str]) -> dict[str, str]:
    """``--values NAME=SPEC`` (or just ``SPEC`` when one parameter is searched) by parameter name."""
    out: dict[str, str] = {}
    for item in values:
        item = item.strip()
        head, sep, rest = item.partition("=")
        if sep:
            name, spec = head.strip(), rest.strip()
            if name not in names:
                raise ParamError(f"--values {item!r}: {name!r} is not one of the searched --param ({', '.join(names)})")
        elif len(names) == 1:
            name, spec = names[0], item
        else:
            raise ParamError(f"--values {item!r}: with several --param write NAME=VALUES, e.g. {names[0]}=...")
        if name in out:
            raise ParamError(f"--values given twice for {name!r}")
        out[name] = spec
    return out


def override(param: SearchParam, spec: str) -> SearchParam:
    """A copy of ``param`` whose space is ``spec`` (``a,b,c`` or ``LOW:HIGH``)."""
    where = f"--values {param.name}={spec!r}"
    if not spec:
        raise ParamError(f"{where}: empty; write a list (2,4,8) or a range LOW:HIGH")
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 2:
            raise ParamError(f"{where}: a range is LOW:HIGH")
        low, high = (_number(param, p, where) for p in parts)
        if not low < high:
            raise ParamError(f"{where}: LOW must be smaller than HIGH")
        if param.log and low <= 0:
            raise ParamError(f"{where}: {param.name} is searched on a log scale, so LOW must be > 0")
        return replace(param, choices=None, low=low, high=high)
    choices = tuple(_number(param, p, where) for p in spec.split(","))
    if len(set(choices)) != len(choices):
        raise ParamError(f"{where}: a value is listed twice")
    return replace(param, choices=choices, low=None, high=None)


def _number(param: SearchParam, text: str, where: str):
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        raise ParamError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ParamError(f"{where}: {text!r} is not a finite number")
    if param.type is int:
        if value != int(value):
            raise ParamError(f"{where}: {param.name} takes integers, got {text!r}")
        value = int(value)
    if param.minimum is not None and (value < param.minimum or (param.open_minimum and value <= param.minimum)):
        bound = ">" if param.open_minimum else ">="
        raise ParamError(f"{where}: {param.name} must be {bound} {param.minimum:g}, got {text!r}")
    if param.maximum is not None and value > param.maximum:
        raise ParamError(f"{where}: {param.name} must be <= {param.maximum:g}, got {text!r}")
    return value


def split_values(space: Mapping[str, SearchParam], values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A trial's values as (model parameters, training overrides)."""
    model = {k: v for k, v in values.items() if space[k].target == TARGET_MODEL}
    train = {k: v for k, v in values.items() if space[k].target == TARGET_TRAIN}
    return model, train


def grid(space: Mapping[str, SearchParam]) -> dict[str, list[Any]]:
    """The grid of an all-categorical space (for Optuna's GridSampler)."""
    if not all(p.categorical for p in space.values()):
        ranged = [p.name for p in space.values() if not p.categorical]
        raise ParamError(f"a grid needs categorical spaces; {ranged[0]!r} is a range (give it a list with --values)")
    return {name: list(p.choices or ()) for name, p in space.items()}


def to_payload(space: Mapping[str, SearchParam]) -> dict[str, Any]:
    """JSON-able description of the space (part of the study's settings)."""
    return {
        name: ({"choices": list(p.choices or ())} if p.categorical else {"low": p.low, "high": p.high, "log": p.log})
        for name, p in space.items()
    }
