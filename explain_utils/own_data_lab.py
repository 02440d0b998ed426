"""The own-data lab (notebook 06): its parameters per profile, checked with the data file before
any training; one run per level and seed through the book's engine; the tables it shows.

The data file is checked and written as the ``own_data`` task (``own_data.build_own_task``) when
the parameters are checked, so a malformed file stops the notebook in its first cells with the
line and column at fault. One learning rate serves every level (no calibration on one's own
data: that is an exercise).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from explain_utils import own_data
from explain_utils.claims_tables import accuracy_table, gain_table
from explain_utils.profile_checks import check_model, check_profile, check_workers, profile_values
from explain_utils.results import final_metric, summarize
from explain_utils.runs import RunResult
from explain_utils.training import TrainConfig
from explain_utils.validation import (
    check_choices,
    check_float,
    check_int,
    check_int_list,
    check_output_dir,
)
from explain_utils.vocabulary import LEVELS, OWN_DATA_TASK

_NOT_A_PROFILE_VALUE = {"profile_value": False}
_PROFILES: dict[str, dict[str, Any]] = {
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
METRICS: dict[str, str] = {
    "accuracy": "accuracy",
    "exact_match": "exact match",
    "answer_parsed": "answer given",
}


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
    values = profile_values(profile, _PROFILES, OwnDataConfig, "own-data", overrides)
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


def run_configs(config: OwnDataConfig) -> list[TrainConfig]:
    """One run per level and seed, every level at the same rate, steps and batches."""
    return [
        TrainConfig(
            model=config.model,
            task=OWN_DATA_TASK,
            level=level,
            seed=seed,
            steps=config.steps,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            eval_every=config.eval_every,
            # in sorted order: a cached result.json has its splits sorted, so a fresh run and
            # a cache hit give their tidy rows in the same order
            eval_splits=("test", "validation"),
            progress=False,
        )
        for level in config.levels
        for seed in config.seeds
    ]


def examples(config: OwnDataConfig, n: int = 3) -> pd.DataFrame:
    """The first ``n`` train rows as the engine sees them: input, label and the target per level."""
    train = pd.read_parquet(config.task_dir / "train.parquet").head(n)
    columns = ["line", "source", "answer", *(f"target_{lv}" for lv in config.levels)]
    return train[columns].rename(columns={"source": "input", "answer": "label"})


def split_summary(config: OwnDataConfig) -> pd.DataFrame:
    """Rows and label counts per split (from the data card)."""
    card = own_data.read_card(config.task_dir)
    splits = {s: card["splits"][s] for s in own_data.SPLITS}  # the card's keys are sorted
    table = pd.DataFrame({s: v["labels"] for s, v in splits.items()}).fillna(0).astype(int)
    rows = pd.DataFrame({s: [v["rows"]] for s, v in splits.items()}, index=["rows"])
    return pd.concat([rows, table.sort_index()])


def level_table(frame: pd.DataFrame, lines: dict[str, float]) -> pd.DataFrame:
    """Test metrics per level (%, mean [95 % CI] over seeds), then the baselines' accuracy."""
    cells: dict[str, dict[str, str]] = {}
    for metric, label in METRICS.items():
        table = summarize(final_metric(frame, metric, "test", OWN_DATA_TASK), ["level"])
        for row in table.itertuples():
            cells.setdefault(row.level, {})[label] = _pct(row.mean, row.ci_low, row.ci_high)
    levels = [lv for lv in LEVELS if lv in cells]
    out = pd.DataFrame([cells[lv] for lv in levels], index=levels)
    baselines = pd.DataFrame(
        [{"accuracy": f"{100 * value:.1f}"} for value in lines.values()], index=list(lines)
    )
    return pd.concat([out, baselines]).fillna("")


def _pct(mean: float, low: float, high: float) -> str:
    if pd.isna(low):
        return f"{100 * mean:.1f}"
    return f"{100 * mean:.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def accuracy_by_level(frame: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy per level, mean and 95 % t-interval over seeds (for the figure)."""
    return accuracy_table(frame, ["level"], task=OWN_DATA_TASK)


def gains(frame: pd.DataFrame, correct: pd.DataFrame) -> pd.DataFrame:
    """Each explained level − none on test (points), paired over seeds and rows."""
    table = gain_table(frame, correct, task=OWN_DATA_TASK)
    table = table[table["contrast"].str.endswith("− none")]
    return pd.DataFrame(
        {
            "contrast": table["contrast"],
            "difference (points)": (100 * table["diff"]).round(1),
            "95 % CI": [
                f"[{100 * lo:+.1f}, {100 * hi:+.1f}]"
                for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
            ],
        }
    ).reset_index(drop=True)


def sample_outputs(results: list[RunResult], rows: int = 2) -> pd.DataFrame:
    """What the seed-0 model of every level wrote for the first ``rows`` test rows."""
    records = []
    for result in results:
        if result.config["seed"] != min(r.config["seed"] for r in results):
            continue
        path = Path(result.run_dir) / "predictions_test.jsonl"
        for i, line in enumerate(path.read_text().splitlines()[:rows]):
            record = json.loads(line)
            records.append(
                {
                    "test row": i + 1,
                    "level": result.config["level"],
                    "label": record["answer"],
                    "output": record["prediction"],
                    "correct": bool(record["accuracy"]),
                }
            )
    return pd.DataFrame(records).sort_values(["test row"], kind="stable").reset_index(drop=True)
