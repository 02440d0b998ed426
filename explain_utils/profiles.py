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
    check_int,
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
