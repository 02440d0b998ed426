"""The data's profiles (notebook 01): how many rows of which lengths and depths, per profile.

A notebook's ``parameters`` cell names a profile and may override single values; ``None`` means
"take the profile's value". Validation happens here, before any expensive work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from explain_utils.common.checks import (
    check_choices,
    check_int,
    check_length_range,
    check_output_dir,
)
from explain_utils.common.names import DEFAULT_PROFILE, TASKS
from explain_utils.profiles.checks import profile_values
from explain_utils.tasks.listops import check_modulus
from explain_utils.tasks.splits import DataConfig

PROFILE_VALUES: dict[str, dict[str, Any]] = {
    # seconds: CI runs every notebook with this
    "smoke": dict(
        modulus=10,
        tasks=list(TASKS),
        n_train=300,
        n_validation=50,
        n_test=50,
        n_test_long=50,
        n_validation_long=50,
        train_length=[5, 14],
        test_long_length=[15, 28],
        max_depth=2,
        min_args=2,
        max_args=4,
    ),
    # the default: the whole book on a 2-core CPU. Short, shallow expressions: every extra token
    # of source or explanation costs CPU time in every run. 500 validation rows are enough to
    # choose the learning rates (make calibrate); 1000 test rows per split narrow the intervals.
    "quick": dict(
        modulus=10,
        tasks=list(TASKS),
        n_train=10_000,
        n_validation=500,
        n_test=1000,
        n_test_long=1000,
        n_validation_long=500,
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
        n_validation_long=2_000,
        train_length=[50, 100],
        test_long_length=[101, 200],
        max_depth=6,
        min_args=2,
        max_args=5,
    ),
}


def data_config(
    profile: str = DEFAULT_PROFILE, seed: int = 0, output_dir: str | Path = "data", **overrides: Any
) -> DataConfig:
    """Validated data parameters: the profile's values with non-None ``overrides`` on top."""
    values = profile_values(profile, PROFILE_VALUES, DataConfig, "data", overrides)
    check_int("seed", seed, minimum=0)
    out = check_output_dir("output_dir", output_dir)
    try:
        check_modulus(values["modulus"])
    except ValueError as err:
        raise ValueError(f"modulus must be an integer >= 2; got {values['modulus']!r}") from err
    check_choices("tasks", values["tasks"], TASKS)
    check_int("n_train", values["n_train"], minimum=1)
    for name in ("n_validation", "n_test", "n_test_long", "n_validation_long"):
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
        n_validation_long=values["n_validation_long"],
        train_length=train_length,
        test_long_length=test_long_length,
        max_depth=values["max_depth"],
        min_args=values["min_args"],
        max_args=values["max_args"],
    )
