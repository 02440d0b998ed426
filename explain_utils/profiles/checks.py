"""What every profile shares: a notebook's parameters taken from its namespace, the profile's values
with the overrides on top, and the checks of folders and models that the studies have in common.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from explain_utils.common.checks import check_choice, check_int, check_output_dir
from explain_utils.common.names import PROFILES
from explain_utils.engine.models import PRESETS, PRETRAINED_NAMES, ModelSpec, resolve_model

Config = TypeVar("Config")

# fields of a config that are arguments of its builder, not values of a profile
_NOT_OVERRIDES = frozenset({"profile", "seed", "output_dir", "data_dir", "runs_dir", "results_dir"})


def check_profile(profile: Any) -> None:
    """Raise ValueError unless ``profile`` is a known profile name."""
    check_choice("profile", profile, PROFILES)


def from_notebook(build: Callable[..., Config], namespace: Mapping[str, Any]) -> Config:
    """``build`` called with a notebook's parameters, taken from ``namespace`` (its ``globals()``):
    the arguments ``build`` names and, where it takes ``**overrides``, the profile values of the
    config it returns. So a notebook builds its validated config in one call, and a parameter
    is written once, in the parameters cell."""
    signature = inspect.signature(build)
    names = {n for n, p in signature.parameters.items() if p.kind is not p.VAR_KEYWORD}
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        names |= override_names(typing.get_type_hints(build)["return"])
    return build(**{name: namespace[name] for name in names if name in namespace})


def override_names(config: type) -> set[str]:
    """The fields of a config class that a profile sets and a notebook may override."""
    known = {f.name for f in fields(config) if f.metadata.get("profile_value", True)}
    return known - _NOT_OVERRIDES


def profile_values(
    profile: str, table: dict[str, dict[str, Any]], config: type, kind: str, overrides: dict
) -> dict[str, Any]:
    """The profile's values with the non-None ``overrides`` on top; unknown names are an error."""
    check_profile(profile)
    known = override_names(config)
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown {kind} parameter(s) {sorted(unknown)}; allowed: {sorted(known)}")
    return with_lists_parsed(
        {**table[profile], **{k: v for k, v in overrides.items() if v is not None}}
    )


def with_lists_parsed(values: dict[str, Any]) -> dict[str, Any]:
    """Read list values given as text, e.g. papermill's ``-p seeds '[0, 1]'`` (which passes a string)."""
    parsed = {}
    for key, value in values.items():
        if isinstance(value, str) and value.strip().startswith("["):
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError as err:
                raise ValueError(f"{key}: cannot read {value!r} as a list ({err})") from err
        parsed[key] = value
    return parsed


def check_dirs(data_dir: str | Path, runs_dir: str | Path, results_dir: str | Path) -> Path:
    """Check that notebook 01's data exist and the output folders can be written; return data_dir."""
    data = Path(data_dir)
    if not (data / "listops" / "train.parquet").is_file():
        raise FileNotFoundError(
            f"data_dir: no data set at {str(data)!r} (expected {data}/listops/train.parquet); "
            "run notebooks/01_data_generation.ipynb with the same profile first"
        )
    check_output_dir("runs_dir", runs_dir)
    check_output_dir("results_dir", results_dir)
    return data


def check_model(name: str, model: Any) -> ModelSpec | None:
    """A preset, an existing checkpoint directory or a hub name (checked without the network).

    Returns what ``model`` names, or None for a hub name (loaded, and so checked, only where the
    hub can be reached).
    """
    if isinstance(model, str) and (
        model in PRETRAINED_NAMES or (model.count("/") == 1 and not Path(model).exists())
    ):
        return None
    try:
        return resolve_model(model)
    except (ValueError, FileNotFoundError) as err:
        raise type(err)(f"{name}: {err} (presets: {', '.join(PRESETS)})") from err


def check_model_list(name: str, models: Any) -> None:
    """A non-empty list of models, each as ``check_model`` accepts it."""
    if isinstance(models, str) or not isinstance(models, list | tuple) or not models:
        raise ValueError(
            f"{name} must be a non-empty list of model presets or checkpoints; got {models!r}"
        )
    for model in models:
        check_model(name, model)


def check_workers(workers: Any) -> None:
    """``None`` (one per core) or a number of worker processes."""
    if workers is not None:
        check_int("workers", workers, minimum=1, maximum=64)
