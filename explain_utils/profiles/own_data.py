"""Chapter 6's parameters (your own explained data), checked with the data file before any
training: the file is checked and written as the ``own_data`` task (``tasks.own_data``) when the
parameters are checked, so a malformed file stops the notebook in its first cells with the line
and column at fault. One learning rate serves every level (no calibration on one's own data:
that is an exercise).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from explain_utils.common.checks import (
    check_choices,
    check_float,
    check_int,
    check_int_list,
    check_output_dir,
)
from explain_utils.common.names import LEVELS
from explain_utils.profiles.checks import check_model, check_profile, check_workers, profile_values
from explain_utils.tasks import own_data

_NOT_A_PROFILE_VALUE = {"profile_value": False}


PROFILE_VALUES: dict[str, dict[str, Any]] = {
    "smoke": dict(
        model="t5-50k",
        levels=["none", "long"],
        seeds=[0],
        steps=20,
        batch_size=16,
        learning_rate=4e-3,
        eval_every=10,
        split_seed=0,
        validation_fraction=0.15,
        test_fraction=0.15,
    ),
    "quick": dict(
        model="t5-50k",
        levels=list(LEVELS),
        seeds=[0, 1, 2],
        steps=1500,
        batch_size=32,
        learning_rate=4e-3,
        eval_every=250,
        split_seed=0,
        validation_fraction=0.15,
        test_fraction=0.15,
    ),
    "paper": dict(
        model="t5-small",
        levels=list(LEVELS),
        seeds=[0, 1, 2],
        steps=2000,
        batch_size=32,
        learning_rate=3e-4,
        eval_every=250,
        split_seed=0,
        validation_fraction=0.15,
        test_fraction=0.15,
    ),
}


RESULTS_NAME = "06_own_data"  # results/<name>.csv and <name>_rows.csv


@dataclass(frozen=True)
class OwnDataConfig:
    """The lab's parameters after the checks, with the task directory its file was written to."""

    profile: str
    data_file: Path = field(metadata=_NOT_A_PROFILE_VALUE)
    task_dir: Path = field(metadata=_NOT_A_PROFILE_VALUE)
    runs_dir: Path = field(metadata=_NOT_A_PROFILE_VALUE)
    results_dir: Path = field(metadata=_NOT_A_PROFILE_VALUE)
    model: str = "t5-50k"
    levels: list[str] = field(default_factory=lambda: list(LEVELS))
    seeds: list[int] = field(default_factory=lambda: [0])
    steps: int = 1500
    batch_size: int = 32
    learning_rate: float = 4e-3
    eval_every: int = 250
    split_seed: int = 0
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    workers: int | None = field(default=None, metadata=_NOT_A_PROFILE_VALUE)

    @property
    def data_dir(self) -> Path:
        return self.task_dir.parent

    def summary(self) -> pd.Series:
        """The parameters as a notebook shows them: the data file by its name."""
        values = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return pd.Series(values | {"data_file": self.data_file.name}, name="value", dtype=object)


def own_data_config(
    profile: str,
    data_file: str | Path | None,
    data_dir: str | Path,
    runs_dir: str | Path,
    results_dir: str | Path,
    workers: int | None = None,
    **overrides: Any,
) -> OwnDataConfig:
    """Check every parameter (each error names it and what is allowed), then the data file (each
    error names its line and column), then write the ``own_data`` task under ``data_dir``."""
    check_profile(profile)
    values = profile_values(profile, PROFILE_VALUES, OwnDataConfig, "own-data", overrides)
    path = own_data.check_data_file("data_file", data_file)
    for name, folder in (("data_dir", data_dir), ("runs_dir", runs_dir)):
        check_output_dir(name, folder)
    check_output_dir("results_dir", results_dir)
    check_model("model", values["model"])
    check_choices("levels", values["levels"], LEVELS)
    check_int_list("seeds", values["seeds"], minimum=0)
    check_int("steps", values["steps"], minimum=1)
    check_int("batch_size", values["batch_size"], minimum=1)
    check_float("learning_rate", values["learning_rate"], 1e-7, 1.0)
    check_int("eval_every", values["eval_every"], minimum=0)
    check_int("split_seed", values["split_seed"], minimum=0)
    for name in ("validation_fraction", "test_fraction"):
        check_float(name, values[name], 0.0, 0.45)
    check_workers(workers)
    task_dir = own_data.build_own_task(
        path,
        data_dir,
        values["split_seed"],
        values["validation_fraction"],
        values["test_fraction"],
    )
    available = own_data.read_card(task_dir)["levels"]
    if overrides.get("levels") is None:  # the profile's levels that the file has
        values["levels"] = [level for level in values["levels"] if level in available]
    if not set(values["levels"]) <= set(available):
        missing = sorted(set(values["levels"]) - set(available), key=LEVELS.index)
        raise ValueError(
            f"levels must only contain {', '.join(map(repr, available))} (the levels "
            f"{path.name} has: none and one per explanation_<level> column); got {missing[0]!r}"
        )
    return OwnDataConfig(
        profile=profile,
        data_file=path,
        task_dir=task_dir,
        runs_dir=Path(runs_dir),
        results_dir=Path(results_dir),
        workers=workers,
        **values,
    )
