"""Choose chapters 2-4's learning rates on the validation split (``make calibrate``).

    python -m explain_utils.calibrate                      # quick profile
    python -m explain_utils.calibrate --profile smoke --workers 2

Every ListOps model x level of the profile is trained at each rate of its ``learning_rates`` (the
first seed, chapter 2's train size, steps and schedule: ``studies.explanations.calibration_grid``) and scored
on the validation split only. Under ``<results-dir>/calibration/`` it writes, atomically:

- ``learning_rates.csv``: per model and level the rate with the highest final validation accuracy
  (a tie goes to the smaller rate); chapters 2-4 read it through ``chosen_learning_rate``;
- ``learning_rate_grid.csv``: every run with its validation accuracy and the last three points of
  its validation curve (``curve_1`` … ``curve_3``, the last is the final step), so a plateau can be
  told from a run that was still climbing;
- ``steps.csv``: the plateau check. Under a schedule that decays to 0 the last steps always gain
  something from annealing, so a curve's tail cannot say whether a cell has finished learning; a
  longer run can. At its chosen rate each cell is trained for twice the steps (with its own full
  schedule) and scored on the same validation rows; while the longer run ends higher — the 95 %
  paired bootstrap interval of its gain over the rows above 0 — the steps double again, up to
  ``MAX_DOUBLINGS``. A cell whose last doubling still gained is ``still_learning``: a claim that
  rests on it is inconclusive. Chapters 2-4 train each cell for its ``steps``.

Rows of other profiles in either table are kept; this profile's rows are replaced.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from explain_utils.analysis.stats import paired_difference
from explain_utils.common.files import atomic_write
from explain_utils.common.names import (
    CALIBRATION_DIR,
    DEFAULT_PROFILE,
    LEARNING_RATE_GRID_CSV,
    PROFILES,
    STEPS_CSV,
)
from explain_utils.engine.grid import run_grid
from explain_utils.engine.run_store import RunResult
from explain_utils.engine.train_config import TrainConfig
from explain_utils.profiles.explanations import (
    LEARNING_RATE_COLUMNS,
    MAX_DOUBLINGS,
    ExperimentConfig,
    experiment_config,
    learning_rates_path,
)
from explain_utils.studies.explanations import calibration_grid, plateau_run

CURVE_POINTS = 3  # the validation curve's last points kept per run in the grid table


def grid_rows(
    profile: str, configs: Sequence[TrainConfig], results: Sequence[RunResult]
) -> pd.DataFrame:
    """One row per calibration run: its cell, rate, final validation accuracy and last curve points."""
    rows = []
    for config, result in zip(configs, results, strict=True):
        row = {
            "profile": profile,
            "model": config.model,
            "task": config.task,
            "level": config.level,
            "learning_rate": config.learning_rate,
            "validation_accuracy": result.metrics["validation"]["metrics"]["accuracy"],
        }
        last = result.curve[-CURVE_POINTS:]
        last = [None] * (CURVE_POINTS - len(last)) + last
        for i, point in enumerate(last, start=1):
            row[f"curve_{i}_step"] = point["step"] if point else None
            row[f"curve_{i}_accuracy"] = point["accuracy"] if point else None
        rows.append(row)
    return pd.DataFrame(rows)


def choose(grid: pd.DataFrame) -> pd.DataFrame:
    """Per model, task and level the rate with the highest validation accuracy; ties: the smaller rate."""
    cells = ["profile", "model", "task", "level"]
    ranked = grid.sort_values(
        ["validation_accuracy", "learning_rate"], ascending=[False, True], kind="stable"
    )
    chosen = ranked.drop_duplicates(cells, keep="first")
    order = grid.drop_duplicates(cells)[cells]  # the grid's order of cells
    return order.merge(chosen, on=cells, how="left")[list(LEARNING_RATE_COLUMNS)]


def longer_gain(shorter: RunResult, longer: RunResult) -> dict[str, float]:
    """The longer run's validation accuracy minus the shorter's, paired over the same rows, with
    its 95 % bootstrap interval (fractions)."""
    rows = [
        np.array([[c == "1" for c in r.metrics["validation"]["correct"]]], dtype=float)
        for r in (shorter, longer)
    ]
    est = paired_difference(rows[0], rows[1])
    return {"gain": est.diff, "gain_ci_low": est.ci_low, "gain_ci_high": est.ci_high}


def plateau_check(
    config: ExperimentConfig, cells: dict[tuple, tuple[TrainConfig, RunResult]]
) -> pd.DataFrame:
    """Double each cell's steps while the longer run ends higher (see the module docstring).

    ``cells`` maps (model, task, level) to its run at the chosen rate and the profile's steps."""
    state = dict(cells)
    gains: dict[tuple, dict] = {}
    active = list(state)
    for _ in range(MAX_DOUBLINGS):
        if not active:
            break
        longer = [
            plateau_run(config, *key, state[key][0].learning_rate, 2 * state[key][0].steps)
            for key in active
        ]
        results = run_grid(longer, config.data_dir, config.runs_dir, config.workers, desc="plateau")
        still = []
        for key, run, result in zip(active, longer, results, strict=True):
            gains[key] = longer_gain(state[key][1], result) | {"longer_steps": run.steps}
            if gains[key]["gain_ci_low"] > 0:  # the longer run ends higher: keep it, try again
                state[key] = (run, result)
                still.append(key)
        active = still
    return pd.DataFrame(
        [
            {
                "profile": config.profile,
                "model": key[0],
                "task": key[1],
                "level": key[2],
                "learning_rate": run.learning_rate,
                "steps": run.steps,
                "validation_accuracy": result.metrics["validation"]["metrics"]["accuracy"],
                **gains.get(key, {}),
                "still_learning": key in active,
            }
            for key, (run, result) in state.items()
        ]
    )


def modular_sum_cells(
    config: ExperimentConfig, listops: dict[tuple, tuple[TrainConfig, RunResult]]
) -> dict[tuple, tuple[TrainConfig, RunResult]]:
    """The modular sum's cells at the profile's steps, each at the rate chosen for ListOps at its
    model and level (the modular sum has no rate grid of its own), so the plateau check covers the
    cells C3 rests on too. Each run is chapter 2's run of the first seed (``plateau_run``)."""
    keys = [
        (m, "modular_sum", lv)
        for m in config.modsum_models
        for lv in config.modsum_levels
        if (m, "listops", lv) in listops
    ]
    runs = [
        plateau_run(
            config, *key, listops[(key[0], "listops", key[2])][0].learning_rate, config.steps
        )
        for key in keys
    ]
    results = run_grid(runs, config.data_dir, config.runs_dir, config.workers, desc="modular sum")
    return {key: (run, result) for key, run, result in zip(keys, runs, results, strict=True)}


def write_table(path: str | Path, rows: pd.DataFrame, profile: str) -> Path:
    """Write ``rows`` as ``profile``'s part of the CSV table at ``path`` (other profiles' rows kept)."""
    path = Path(path)
    if path.is_file():
        kept = pd.read_csv(path)
        rows = pd.concat([kept[kept["profile"] != profile], rows], ignore_index=True)
    rank = rows["profile"].map({p: i for i, p in enumerate(PROFILES)})
    rows = rows.iloc[rank.argsort(kind="stable")]
    return atomic_write(path, lambda tmp: rows.to_csv(tmp, index=False))


def calibrate(config: ExperimentConfig) -> dict[str, Path]:
    """Run the calibration grid (cache hits first) and write both tables; return their paths."""
    configs = calibration_grid(config)
    results = run_grid(
        configs, config.data_dir, config.runs_dir, config.workers, desc="calibration"
    )
    grid = grid_rows(config.profile, configs, results)
    chosen = choose(grid)
    folder = Path(config.results_dir) / CALIBRATION_DIR
    paths = {
        "grid": write_table(folder / LEARNING_RATE_GRID_CSV, grid, config.profile),
        "chosen": write_table(learning_rates_path(config.results_dir), chosen, config.profile),
    }
    columns = [chosen[c] for c in ("model", "task", "level", "learning_rate")]
    picked = set(zip(*columns, strict=True))
    cells = {
        (c.model, c.task, c.level): (c, r)
        for c, r in zip(configs, results, strict=True)
        if (c.model, c.task, c.level, c.learning_rate) in picked
    }
    cells |= modular_sum_cells(config, cells)
    steps = plateau_check(config, cells)
    paths["steps"] = write_table(folder / STEPS_CSV, steps, config.profile)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--profile", default=DEFAULT_PROFILE, help="smoke, quick (default) or paper"
    )
    parser.add_argument("--data-dir", default="data", help="notebook 01's data (default: data)")
    parser.add_argument("--runs-dir", default="runs", help="the run cache (default: runs)")
    parser.add_argument("--results-dir", default="results", help="default: results")
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: one per core)"
    )
    args = parser.parse_args(argv)
    config = experiment_config(
        args.profile, args.data_dir, args.runs_dir, args.results_dir, workers=args.workers
    )
    paths = calibrate(config)
    chosen = pd.read_csv(paths["chosen"])
    print(chosen[chosen["profile"] == config.profile].to_string(index=False))
    print(pd.read_csv(paths["steps"]).to_string(index=False))
    print(f"[calibrate] wrote {', '.join(str(p) for p in paths.values())}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
