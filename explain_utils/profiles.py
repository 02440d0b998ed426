"""Profiles: named sets of experiment parameters (``smoke``, ``quick``, ``paper``), validated.

A notebook's ``parameters`` cell names a profile and may override single values; ``None`` means
"take the profile's value". Validation happens here, before any expensive work.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from explain_utils.listops import check_modulus
from explain_utils.validation import (
    check_choice,
    check_choices,
    check_float,
    check_int,
    check_int_list,
    check_length_range,
    check_output_dir,
)

PROFILES: tuple[str, ...] = ("smoke", "quick", "paper")
DEFAULT_PROFILE = "quick"
TASKS: tuple[str, ...] = ("listops", "modular_sum")

_DATA: dict[str, dict[str, Any]] = {
    # seconds: CI runs every notebook with this
    "smoke": dict(
        modulus=10,
        tasks=list(TASKS),
        n_train=300,
        n_validation=50,
        n_test=50,
        n_test_long=50,
        train_length=[6, 30],
        test_long_length=[31, 60],
        max_depth=3,
        min_args=2,
        max_args=4,
    ),
    # the default: the whole book on a 2-core CPU
    "quick": dict(
        modulus=10,
        tasks=list(TASKS),
        n_train=10_000,
        n_validation=500,
        n_test=500,
        n_test_long=500,
        train_length=[6, 30],
        test_long_length=[31, 60],
        max_depth=3,
        min_args=2,
        max_args=4,
    ),
    # Ballout et al.: Explained-ListOps-30, train on 50-100 tokens, test on 100-200
    "paper": dict(
        modulus=30,
        tasks=list(TASKS),
        n_train=50_000,
        n_validation=2_000,
        n_test=2_000,
        n_test_long=2_000,
        train_length=[50, 100],
        test_long_length=[101, 200],
        max_depth=6,
        min_args=2,
        max_args=5,
    ),
}


@dataclass(frozen=True)
class DataConfig:
    """Everything notebook 01 needs to build the data sets."""

    profile: str
    seed: int
    output_dir: Path
    modulus: int
    tasks: tuple[str, ...]
    n_train: int
    n_validation: int
    n_test: int
    n_test_long: int
    train_length: tuple[int, int]
    test_long_length: tuple[int, int]
    max_depth: int
    min_args: int
    max_args: int


def check_profile(profile: Any) -> None:
    """Raise ValueError unless ``profile`` is a known profile name."""
    check_choice("profile", profile, PROFILES)


def data_config(
    profile: str = DEFAULT_PROFILE, seed: int = 0, output_dir: str | Path = "data", **overrides: Any
) -> DataConfig:
    """Validated data parameters: the profile's values with non-None ``overrides`` on top."""
    check_profile(profile)
    known = {f.name for f in fields(DataConfig)} - {"profile", "seed", "output_dir"}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown data parameter(s) {sorted(unknown)}; allowed: {sorted(known)}")
    values = {**_DATA[profile], **{k: v for k, v in overrides.items() if v is not None}}

    check_int("seed", seed, minimum=0)
    out = check_output_dir("output_dir", output_dir)
    try:
        check_modulus(values["modulus"])
    except ValueError as err:
        raise ValueError(f"modulus must be an integer >= 2; got {values['modulus']!r}") from err
    check_choices("tasks", values["tasks"], TASKS)
    check_int("n_train", values["n_train"], minimum=1)
    for name in ("n_validation", "n_test", "n_test_long"):
        check_int(name, values[name], minimum=0)
    train_length = check_length_range("train_length", values["train_length"], minimum=3)
    test_long_length = check_length_range("test_long_length", values["test_long_length"], minimum=3)
    check_int("max_depth", values["max_depth"], minimum=1, maximum=20)
    check_int("min_args", values["min_args"], minimum=1)
    check_int("max_args", values["max_args"], minimum=values["min_args"])
    return DataConfig(
        profile=profile,
        seed=seed,
        output_dir=out,
        modulus=values["modulus"],
        tasks=tuple(values["tasks"]),
        n_train=values["n_train"],
        n_validation=values["n_validation"],
        n_test=values["n_test"],
        n_test_long=values["n_test_long"],
        train_length=train_length,
        test_long_length=test_long_length,
        max_depth=values["max_depth"],
        min_args=values["min_args"],
        max_args=values["max_args"],
    )


# Experiments 02-04 (fine-tuning, data efficiency, length generalization) share one grid, so the
# runs of chapter 2 are cache hits in chapters 3 and 4.
_EXPERIMENTS: dict[str, dict[str, Any]] = {
    "smoke": dict(
        models=["t5-1m"],
        levels=["none", "medium"],
        seeds=[0],
        steps=10,
        batch_size=16,
        learning_rate=1e-3,
        eval_every=5,
        eval_examples=20,
        modsum_models=["t5-1m"],
        modsum_levels=["none", "long"],
        train_sizes=[100, 300],
        curve_threshold=0.5,
        workers=1,
    ),
    # NOT YET CALIBRATED: a first measurement (t5-1m, 1500 steps, these data) showed no effect of
    # explanations yet and would take far over the time budget at three sizes; see README "Status".
    "quick": dict(
        models=["t5-1m", "t5-4m", "t5-15m"],
        levels=["none", "short", "medium", "long"],
        seeds=[0, 1, 2],
        steps=1500,
        batch_size=32,
        learning_rate=1e-3,
        eval_every=250,
        eval_examples=200,
        modsum_models=["t5-1m"],
        modsum_levels=["none", "short", "medium", "long"],
        train_sizes=[250, 1000, 4000, 10_000],
        curve_threshold=0.5,
        workers=None,
    ),
    # Ballout et al.'s public code: AdamW 5e-5, batch 8; pretrained checkpoints need a model hub
    "paper": dict(
        models=["t5-small", "t5-base", "t5-large", "t5-3b"],
        levels=["none", "short", "medium", "long"],
        seeds=[0, 1, 2],
        steps=20_000,
        batch_size=8,
        learning_rate=5e-5,
        eval_every=2_000,
        eval_examples=500,
        modsum_models=["t5-small", "t5-base", "t5-large", "t5-3b"],
        modsum_levels=["none", "short", "medium", "long"],
        train_sizes=[2_000, 10_000, 50_000],
        curve_threshold=0.8,
        workers=1,
    ),
}


@dataclass(frozen=True)
class ExperimentConfig:
    """The grid of chapters 2-4: models x levels x seeds (+ modular sum, + train sizes)."""

    profile: str
    data_dir: Path
    runs_dir: Path
    results_dir: Path
    models: tuple[str, ...]
    levels: tuple[str, ...]
    seeds: tuple[int, ...]
    steps: int
    batch_size: int
    learning_rate: float
    eval_every: int
    eval_examples: int
    modsum_models: tuple[str, ...]
    modsum_levels: tuple[str, ...]
    train_sizes: tuple[int, ...]
    curve_threshold: float
    workers: int | None


def _check_model(name: str, model: Any) -> None:
    """A preset, an existing checkpoint directory or a hub name (checked without the network)."""
    from explain_utils.models import PRESETS, PRETRAINED_NAMES, resolve_model

    if isinstance(model, str) and (
        model in PRETRAINED_NAMES or (model.count("/") == 1 and not Path(model).exists())
    ):
        return  # a hub name: loaded (and so checked) only where the hub can be reached
    try:
        resolve_model(model)
    except (ValueError, FileNotFoundError) as err:
        raise type(err)(f"{name}: {err} (presets: {', '.join(PRESETS)})") from err


def experiment_config(
    profile: str = DEFAULT_PROFILE,
    data_dir: str | Path = "../data",
    runs_dir: str | Path = "../runs",
    results_dir: str | Path = "../results",
    **overrides: Any,
) -> ExperimentConfig:
    """Validated parameters of chapters 2-4: the profile's values with non-None ``overrides`` on top."""
    from explain_utils.explanations import LEVELS

    check_profile(profile)
    known = {f.name for f in fields(ExperimentConfig)} - {
        "profile",
        "data_dir",
        "runs_dir",
        "results_dir",
    }
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(
            f"unknown experiment parameter(s) {sorted(unknown)}; allowed: {sorted(known)}"
        )
    values = {**_EXPERIMENTS[profile], **{k: v for k, v in overrides.items() if v is not None}}
    data = Path(data_dir)
    if not (data / "listops" / "train.parquet").is_file():
        raise FileNotFoundError(
            f"data_dir: no data set at {str(data)!r} (expected {data}/listops/train.parquet); "
            "run notebooks/01_data_generation.ipynb with the same profile first"
        )
    check_output_dir("runs_dir", runs_dir)
    check_output_dir("results_dir", results_dir)
    for name in ("models", "modsum_models"):
        if isinstance(values[name], str) or not values[name]:
            raise ValueError(
                f"{name} must be a non-empty list of model presets or checkpoints; got {values[name]!r}"
            )
        for model in values[name]:
            _check_model(name, model)
    check_choices("levels", values["levels"], LEVELS)
    check_choices("modsum_levels", values["modsum_levels"], LEVELS)
    check_int_list("seeds", values["seeds"], minimum=0)
    check_int("steps", values["steps"], minimum=1)
    check_int("batch_size", values["batch_size"], minimum=1)
    check_float("learning_rate", values["learning_rate"], 1e-8, 1.0)
    check_int("eval_every", values["eval_every"], minimum=0)
    check_int("eval_examples", values["eval_examples"], minimum=1)
    check_int_list("train_sizes", values["train_sizes"], minimum=1)
    check_float("curve_threshold", values["curve_threshold"], 0.0, 1.0)
    if values["workers"] is not None:
        check_int("workers", values["workers"], minimum=1, maximum=64)
    return ExperimentConfig(
        profile=profile,
        data_dir=data,
        runs_dir=Path(runs_dir),
        results_dir=Path(results_dir),
        models=tuple(values["models"]),
        levels=tuple(values["levels"]),
        seeds=tuple(values["seeds"]),
        steps=values["steps"],
        batch_size=values["batch_size"],
        learning_rate=float(values["learning_rate"]),
        eval_every=values["eval_every"],
        eval_examples=values["eval_examples"],
        modsum_models=tuple(values["modsum_models"]),
        modsum_levels=tuple(values["modsum_levels"]),
        train_sizes=tuple(sorted(values["train_sizes"])),
        curve_threshold=float(values["curve_threshold"]),
        workers=values["workers"],
    )
