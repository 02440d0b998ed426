"""Profiles: named sets of experiment parameters (``smoke``, ``quick``, ``paper``), validated.

A notebook's ``parameters`` cell names a profile and may override single values; ``None`` means
"take the profile's value". Validation happens here, before any expensive work.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

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
        train_length=[5, 14],
        test_long_length=[15, 28],
        max_depth=2,
        min_args=2,
        max_args=4,
    ),
    # the default: the whole book on a 2-core CPU. Short, shallow expressions: the explained
    # models of chapter 2 need ~1500 steps to pull ahead even here (README "Calibration"), and
    # every extra token of source or explanation costs CPU time in every run.
    "quick": dict(
        modulus=10,
        tasks=list(TASKS),
        n_train=10_000,
        n_validation=200,
        n_test=300,
        n_test_long=300,
        train_length=[5, 14],
        test_long_length=[15, 28],
        max_depth=2,
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
    values = _with_lists_parsed(
        {**_DATA[profile], **{k: v for k, v in overrides.items() if v is not None}}
    )

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
        models=["t5-50k", "t5-100k"],
        levels=["none", "short", "medium", "long"],
        seeds=[0, 1],
        steps=10,
        batch_size=16,
        learning_rate=2e-3,
        scheduler="constant_with_warmup",
        eval_every=5,
        eval_examples=20,
        modsum_models=["t5-50k"],
        modsum_levels=["none", "long"],
        train_sizes=[100, 300],
        data_efficiency_model=None,
        data_efficiency_levels=["none", "long"],
        curve_threshold=0.2,
        workers=None,
    ),
    # calibrated on this 2-core machine (README "Calibration"): the smallest models learn fastest
    # per CPU second, and ~1500 steps at lr 2e-3 is where the explained levels pull ahead
    "quick": dict(
        models=["t5-50k", "t5-100k", "t5-250k"],
        levels=["none", "short", "medium", "long"],
        seeds=[0, 1, 2],
        steps=1500,
        batch_size=32,
        learning_rate=2e-3,
        scheduler="constant_with_warmup",
        eval_every=250,
        eval_examples=150,
        modsum_models=["t5-250k"],
        modsum_levels=["none", "long"],
        train_sizes=[500, 2000, 10_000],
        data_efficiency_model=None,
        data_efficiency_levels=["none", "long"],
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
        scheduler="linear",
        eval_every=2_000,
        eval_examples=500,
        modsum_models=["t5-small", "t5-base", "t5-large", "t5-3b"],
        modsum_levels=["none", "short", "medium", "long"],
        train_sizes=[2_000, 10_000, 50_000],
        data_efficiency_model="t5-large",
        data_efficiency_levels=["none", "short", "medium", "long"],
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
    scheduler: str
    eval_every: int
    eval_examples: int
    modsum_models: tuple[str, ...]
    modsum_levels: tuple[str, ...]
    train_sizes: tuple[int, ...]
    data_efficiency_model: str  # None in a profile: the largest of ``models`` (the paper: T5-large)
    data_efficiency_levels: tuple[str, ...]
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


def _profile_values(
    profile: str, table: dict[str, dict[str, Any]], config: type, kind: str, overrides: dict
) -> dict[str, Any]:
    """The profile's values with the non-None ``overrides`` on top; unknown names are an error."""
    check_profile(profile)
    known = {f.name for f in fields(config)} - {"profile", "data_dir", "runs_dir", "results_dir"}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown {kind} parameter(s) {sorted(unknown)}; allowed: {sorted(known)}")
    return _with_lists_parsed(
        {**table[profile], **{k: v for k, v in overrides.items() if v is not None}}
    )


def _with_lists_parsed(values: dict[str, Any]) -> dict[str, Any]:
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


def _check_dirs(data_dir: str | Path, runs_dir: str | Path, results_dir: str | Path) -> Path:
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


def experiment_config(
    profile: str = DEFAULT_PROFILE,
    data_dir: str | Path = "../data",
    runs_dir: str | Path = "../runs",
    results_dir: str | Path = "../results",
    **overrides: Any,
) -> ExperimentConfig:
    """Validated parameters of chapters 2-4: the profile's values with non-None ``overrides`` on top."""
    from explain_utils.explanations import LEVELS
    from explain_utils.training import SCHEDULERS

    values = _profile_values(profile, _EXPERIMENTS, ExperimentConfig, "experiment", overrides)
    data = _check_dirs(data_dir, runs_dir, results_dir)
    for name in ("models", "modsum_models"):
        if isinstance(values[name], str) or not values[name]:
            raise ValueError(
                f"{name} must be a non-empty list of model presets or checkpoints; got {values[name]!r}"
            )
        for model in values[name]:
            _check_model(name, model)
    if values["data_efficiency_model"] is not None:
        _check_model("data_efficiency_model", values["data_efficiency_model"])
    check_choices("levels", values["levels"], LEVELS)
    check_choices("modsum_levels", values["modsum_levels"], LEVELS)
    check_choices("data_efficiency_levels", values["data_efficiency_levels"], LEVELS)
    check_int_list("seeds", values["seeds"], minimum=0)
    check_int("steps", values["steps"], minimum=1)
    check_int("batch_size", values["batch_size"], minimum=1)
    check_float("learning_rate", values["learning_rate"], 1e-8, 1.0)
    check_choice("scheduler", values["scheduler"], SCHEDULERS)
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
        scheduler=values["scheduler"],
        eval_every=values["eval_every"],
        eval_examples=values["eval_examples"],
        modsum_models=tuple(values["modsum_models"]),
        modsum_levels=tuple(values["modsum_levels"]),
        train_sizes=tuple(sorted(values["train_sizes"])),
        data_efficiency_model=values["data_efficiency_model"] or values["models"][-1],
        data_efficiency_levels=tuple(values["data_efficiency_levels"]),
        curve_threshold=float(values["curve_threshold"]),
        workers=values["workers"],
    )


# Chapter 5, the prompt-loss ablation (explain_utils.prompt_loss): pre-training, then the PLW
# sweep and IM vs completion-only at several train sizes, decoder-only models.
_ABLATION: dict[str, dict[str, Any]] = {
    "smoke": dict(
        model="llama-250k",
        pretrain_steps=10,
        pretrain_size=150,
        pretrain_learning_rate=2e-3,
        plw_values=[0.0, 1e-2, 1e-1, 1.0],
        seeds=[0],
        steps=10,
        batch_size=16,
        learning_rate=1e-3,
        sweep_train_size=50,
        train_sizes=[50, 100],
        eval_every=5,
        eval_examples=20,
        n_test=40,
        workers=1,
    ),
    # calibrated on one core (issue #5): pre-training ~0.13 s/step (llama-500k, batch 32), a
    # fine-tuning run ~15-20 s (short) / ~20-25 s (long, longer generation); 45 runs + pre-training
    # ≈ 10 min wall on 2 cores. 150 steps on 200 examples (24 epochs) already overfit: the held-out
    # completion loss rises after ~50 steps, the regime in which the papers' regulariser matters
    "quick": dict(
        model="llama-500k",
        pretrain_steps=800,
        pretrain_size=8000,
        pretrain_learning_rate=2e-3,
        plw_values=[0.0, 2.236e-3, 2.463e-2, 1e-1, 2.463e-1, 1.0],
        seeds=[0, 1, 2],
        steps=150,
        batch_size=32,
        learning_rate=5e-4,
        sweep_train_size=200,
        train_sizes=[200, 1000],
        eval_every=50,
        eval_examples=100,
        n_test=300,
        workers=None,
    ),
    # Huerta-Enochian & Ko: the ten weights, a pretrained decoder-only model from the hub
    # (no pre-training of our own), Shi et al.'s learning rate
    "paper": dict(
        model="gpt2",
        pretrain_steps=0,
        pretrain_size=0,
        pretrain_learning_rate=2e-3,
        plw_values=[0.0, 5e-4, 2.236e-3, 1e-2, 2.463e-2, 5e-2, 1e-1, 2.463e-1, 5e-1, 1.0],
        seeds=[0, 1, 2],
        steps=2_000,
        batch_size=32,
        learning_rate=2e-5,
        sweep_train_size=2_000,
        train_sizes=[500, 2_000, 10_000],
        eval_every=500,
        eval_examples=500,
        n_test=2_000,
        workers=1,
    ),
}


@dataclass(frozen=True)
class AblationConfig:
    """Chapter 5's grid: pre-training, the PLW sweep per data type, IM vs completion-only by size."""

    profile: str
    data_dir: Path
    runs_dir: Path
    results_dir: Path
    model: str  # decoder-only preset (trained from scratch, then pre-trained) or hub checkpoint
    pretrain_steps: int  # 0: fine-tune ``model`` as it is (a pretrained checkpoint)
    pretrain_size: int  # corpus rows (train rows after the fine-tuning pool)
    pretrain_learning_rate: float
    plw_values: tuple[float, ...]  # PLW 0 is run as completion-only training
    seeds: tuple[int, ...]
    steps: int  # fine-tuning optimizer steps
    batch_size: int
    learning_rate: float
    sweep_train_size: int  # training examples of the PLW sweep
    train_sizes: tuple[int, ...]  # IM vs completion-only, short-completion data
    eval_every: int
    eval_examples: int
    n_test: int  # test rows scored at the end of each run
    workers: int | None

    @property
    def finetune_pool(self) -> int:
        """Training rows reserved for fine-tuning (pre-training uses the rows after them)."""
        return max(self.sweep_train_size, *self.train_sizes)


def ablation_config(
    profile: str = DEFAULT_PROFILE,
    data_dir: str | Path = "../data",
    runs_dir: str | Path = "../runs",
    results_dir: str | Path = "../results",
    **overrides: Any,
) -> AblationConfig:
    """Validated parameters of chapter 5: the profile's values with non-None ``overrides`` on top."""
    from explain_utils.models import resolve_model

    values = _profile_values(profile, _ABLATION, AblationConfig, "ablation", overrides)
    data = _check_dirs(data_dir, runs_dir, results_dir)
    _check_model("model", values["model"])
    model = values["model"]
    if isinstance(model, str) and (model.startswith("t5") or "/t5" in model):
        raise ValueError(
            f"model must be a decoder-only model (llama-* preset, gpt2, ...); got {model!r}"
        )
    if Path(model).exists() and resolve_model(model).is_encoder_decoder:
        raise ValueError(f"model must be a decoder-only checkpoint; {model!r} is encoder-decoder")
    check_int("pretrain_steps", values["pretrain_steps"], minimum=0)
    check_int("pretrain_size", values["pretrain_size"], minimum=0)
    if values["pretrain_steps"] and values["pretrain_size"] < 1:
        raise ValueError("pretrain_size must be >= 1 when pretrain_steps > 0")
    from explain_utils.models import PRESETS

    if model in PRESETS and not values["pretrain_steps"]:
        raise ValueError(
            f"pretrain_steps must be > 0 for a preset model ({model!r} starts from random weights); "
            "0 is only for a pretrained checkpoint"
        )
    check_float("pretrain_learning_rate", values["pretrain_learning_rate"], 1e-8, 1.0)
    weights = values["plw_values"]
    if isinstance(weights, str) or not isinstance(weights, list | tuple) or not weights:
        raise ValueError(
            f"plw_values must be a non-empty list of numbers in [0, 1]; got {weights!r}"
        )
    for weight in weights:
        check_float("plw_values[]", weight, 0.0, 1.0)
    if len({float(w) for w in weights}) < 3:
        raise ValueError(
            f"plw_values must hold at least 3 distinct weights (the quadratic fit); got {weights!r}"
        )
    check_int_list("seeds", values["seeds"], minimum=0)
    check_int("steps", values["steps"], minimum=1)
    check_int("batch_size", values["batch_size"], minimum=1)
    check_float("learning_rate", values["learning_rate"], 1e-8, 1.0)
    check_int("sweep_train_size", values["sweep_train_size"], minimum=1)
    check_int_list("train_sizes", values["train_sizes"], minimum=1)
    check_int("eval_every", values["eval_every"], minimum=0)
    check_int("eval_examples", values["eval_examples"], minimum=1)
    check_int("n_test", values["n_test"], minimum=1)
    if values["workers"] is not None:
        check_int("workers", values["workers"], minimum=1, maximum=64)
    return AblationConfig(
        profile=profile,
        data_dir=data,
        runs_dir=Path(runs_dir),
        results_dir=Path(results_dir),
        model=model,
        pretrain_steps=values["pretrain_steps"],
        pretrain_size=values["pretrain_size"],
        pretrain_learning_rate=float(values["pretrain_learning_rate"]),
        plw_values=tuple(sorted({float(w) for w in weights})),
        seeds=tuple(values["seeds"]),
        steps=values["steps"],
        batch_size=values["batch_size"],
        learning_rate=float(values["learning_rate"]),
        sweep_train_size=values["sweep_train_size"],
        train_sizes=tuple(sorted(values["train_sizes"])),
        eval_every=values["eval_every"],
        eval_examples=values["eval_examples"],
        n_test=values["n_test"],
        workers=values["workers"],
    )
