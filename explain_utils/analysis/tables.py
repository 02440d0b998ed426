"""Tables behind the claims and figures: accuracies, curves, convergence, and paired contrasts.

A *condition* is one cell of the grid (task, split, level, model size, train size); its evidence
is a ``[seeds, rows]`` 0/1 matrix read from the per-row table (``results.correct_frame``). Two or
more conditions are compared on the seeds they share (``contrast``); where a run has no per-row
results (a cache from before the field existed) the comparison falls back to each seed's
accuracy, ``[seeds, 1]``, and the CI then comes from the seeds alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from explain_utils.analysis.results import ALL, final_accuracy, final_metric, summarize
from explain_utils.analysis.stats import Estimate, paired_contrast
from explain_utils.common.names import (
    CALIBRATION_DIR,
    LEARNING_RATE_GRID_CSV,
    LEARNING_RATES_CSV,
    LEVELS,
    STEPS_CSV,
    TARGET_FORMATS,
)

# a run's curve starts untrained: before its first evaluation it is taken to be at step 0, with 0
# target tokens seen and accuracy 0 (a model that has not yet learnt the answer format)
START_ACCURACY = 0.0
RUN_KEYS = ("model", "params", "level", "seed", "train_size")


@dataclass(frozen=True)
class Condition:
    """One cell of the grid; ``params`` / ``train_size`` None: any (the frame holds one)."""

    level: str
    split: str = "test"
    task: str = "listops"
    params: int | None = None
    train_size: int | None = None


def _where(table: pd.DataFrame, **where) -> pd.DataFrame:
    """Rows whose columns equal every given value (None values and absent columns are ignored)."""
    mask = np.ones(len(table), dtype=bool)
    for key, value in where.items():
        if value is not None and key in table:
            mask &= (table[key] == value).to_numpy()
    return table[mask]


def accuracy_table(
    frame: pd.DataFrame, by: list[str], split: str = "test", task: str = "listops"
) -> pd.DataFrame:
    """Mean accuracy and 95 % CI over seeds, grouped by ``by``."""
    return summarize(final_accuracy(frame, split, task), by)


def curve_table(frame: pd.DataFrame, x: str = "step", task: str = "listops") -> pd.DataFrame:
    """Learning curves: mean validation accuracy and 95 % CI over seeds per model, level and step.

    ``x`` other than ``step`` (e.g. ``target_tokens_seen``, which differs a little between seeds)
    becomes a column holding its mean over seeds at each step.
    """
    rows = frame[
        (frame["stage"] == "curve") & (frame["metric"] == "accuracy") & (frame["task"] == task)
    ]
    keys = ["model", "params", "level", *(["train_size"] if "train_size" in rows else []), "step"]
    table = summarize(rows, keys)
    if x != "step":
        table = table.merge(rows.groupby(keys, dropna=False)[x].mean().reset_index(), on=keys)
    return table


def breakdown_table(
    frame: pd.DataFrame,
    column: str,
    splits: tuple[str, ...] = ("test",),
    task: str = "listops",
) -> pd.DataFrame:
    """Final accuracy by expression ``depth`` or ``length_bucket`` (mean and 95 % CI over seeds).

    Rows are ordered by the group's numeric value (depth, or a bucket's lower end), so plots read
    left to right from short to long.
    """
    other = "length_bucket" if column == "depth" else "depth"
    rows = frame[
        (frame["stage"] == "final")
        & frame["split"].isin(splits)
        & (frame["task"] == task)
        & (frame["metric"] == "accuracy")
        & (frame[column].astype(str) != ALL)
        & (frame[other].astype(str) == ALL)
    ]
    table = summarize(
        rows.assign(**{column: rows[column].astype(str)}),
        ["model", "params", "level", "split", column],
    )
    order = table[column].str.extract(r"(\d+)")[0].astype(float)
    return table.assign(_order=order).sort_values(["_order", "params"]).drop(columns="_order")


def _last_curve_points(frame: pd.DataFrame, task: str) -> pd.DataFrame:
    """Each run's last validation-curve accuracy (the curve's final point is at the last step)."""
    rows = frame[
        (frame["stage"] == "curve") & (frame["metric"] == "accuracy") & (frame["task"] == task)
    ]
    if "split" in rows:
        rows = rows[rows["split"] == "validation"]
    keys = [k for k in ("model", "params", "level", "seed", "train_size") if k in rows]
    return rows.sort_values("step").drop_duplicates(keys, keep="last")


def best_level_on_validation(
    frame: pd.DataFrame,
    candidates: Sequence[str],
    task: str = "listops",
    params: int | None = None,
    train_size: int | None = None,
) -> str | None:
    """The explained level among ``candidates`` with the best mean validation accuracy over seeds.

    Validation is the run's final ``validation`` metric when evaluated, else its learning curve's
    last point; test is never looked at. Ties go to the first level in ``LEVELS`` order. Without
    any validation rows: the longest candidate (the paper's headline level). None: no candidate.
    """
    levels = [lv for lv in LEVELS if lv in set(candidates) and lv != "none"]
    if not levels:
        return None
    rows = final_accuracy(frame, "validation", task)
    if rows.empty:
        rows = _last_curve_points(frame, task)
    rows = _where(rows, params=params, train_size=train_size)
    means = rows[rows["level"].isin(levels)].groupby("level")["value"].mean()
    if means.empty:
        return levels[-1]
    return max((lv for lv in levels if lv in means.index), key=lambda lv: means[lv])


def _condition_runs(frame: pd.DataFrame, cond: Condition) -> pd.DataFrame:
    rows = final_accuracy(frame, cond.split, cond.task)
    rows = _where(rows, level=cond.level, params=cond.params, train_size=cond.train_size)
    if rows["seed"].duplicated().any():
        raise ValueError(f"{cond} matches several runs per seed; give params and train_size")
    return rows


def _row_matrices(correct: pd.DataFrame | None, cond: Condition) -> dict[int, np.ndarray]:
    if correct is None or correct.empty:
        return {}
    rows = _where(
        correct,
        task=cond.task,
        split=cond.split,
        level=cond.level,
        params=cond.params,
        train_size=cond.train_size,
    )
    return {
        int(seed): np.frombuffer(text.encode("ascii"), dtype=np.uint8) - ord("0")
        for seed, text in zip(rows["seed"], rows["correct"], strict=True)
    }


def _evidence(
    frame: pd.DataFrame, correct: pd.DataFrame | None, conditions: Sequence[Condition]
) -> tuple[list[np.ndarray], bool] | None:
    """Each condition's ``[seeds, rows]`` matrix on the shared seeds; True when per-row."""
    accuracies = [_condition_runs(frame, c).set_index("seed")["value"] for c in conditions]
    per_row = [_row_matrices(correct, c) for c in conditions]
    has_rows = all(set(m) == set(a.index) and m for m, a in zip(per_row, accuracies, strict=True))
    if has_rows:
        seeds = sorted(set.intersection(*(set(m) for m in per_row)))
        if not seeds:
            return None
        lengths = {len(m[s]) for m in per_row for s in seeds}
        if len(lengths) > 1:
            raise ValueError(f"per-row results of {conditions} differ in length: {lengths}")
        mats = [np.stack([m[s] for s in seeds]) for m in per_row]
    else:
        seeds = sorted(set.intersection(*(set(a.index) for a in accuracies)))
        mats = [a.loc[seeds].to_numpy(dtype=float)[:, None] for a in accuracies]
    return (mats, has_rows) if seeds else None


def contrast(
    frame: pd.DataFrame,
    correct: pd.DataFrame | None,
    conditions: Sequence[Condition],
    weights: Sequence[float],
    offset: float = 0.0,
    seed: int = 0,
) -> Estimate | None:
    """``Σ weights·accuracy + offset`` over the conditions' shared seeds (and rows), paired CI.

    ``n_rows`` of the result is 0 when some run lacks per-row results (seed-level bootstrap).
    None when the conditions share no seed.
    """
    evidence = _evidence(frame, correct, conditions)
    if evidence is None:
        return None
    mats, has_rows = evidence
    estimate = paired_contrast(mats, weights, offset=offset, seed=seed)
    return estimate if has_rows else Estimate(**{**asdict(estimate), "n_rows": 0})


def _gain_rows(
    frame: pd.DataFrame, correct: pd.DataFrame | None, model: str, params: int, **where
) -> list[dict]:
    levels = set(_where(final_accuracy(frame, **where), params=params)["level"])
    pairs = [(lv, "none") for lv in LEVELS[1:] if lv in levels] + [("long", "short")]
    rows = []
    for level, base in pairs:
        if not {level, base} <= levels:
            continue
        conds = [Condition(lv, where["split"], where["task"], params) for lv in (base, level)]
        est = contrast(frame, correct, conds, [-1.0, 1.0])
        if est is not None:
            rows.append(
                {"model": model, "params": params, "contrast": f"{level} − {base}", **asdict(est)}
            )
    return rows


def gain_table(
    frame: pd.DataFrame,
    correct: pd.DataFrame | None = None,
    task: str = "listops",
    split: str = "test",
) -> pd.DataFrame:
    """Explanation gains per model size: each level − none and long − short, with paired CIs.

    Columns: model, params, contrast, diff, ci_low, ci_high (fractions), n_seeds, n_rows.
    """
    runs = final_accuracy(frame, split, task)
    sizes = runs.drop_duplicates("params").sort_values("params")
    rows = [
        row
        for model, params in zip(sizes["model"], sizes["params"], strict=True)
        for row in _gain_rows(frame, correct, model, params, split=split, task=task)
    ]
    columns = ["model", "params", "contrast", "diff", "ci_low", "ci_high", "n_seeds", "n_rows"]
    return pd.DataFrame(rows, columns=columns)


def steps_to_threshold(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per run: the first optimizer step whose validation accuracy reaches ``threshold`` (inf if never)."""
    curve = frame[
        (frame["stage"] == "curve") & (frame["metric"] == "accuracy") & (frame["task"] == "listops")
    ]
    keys = ["model", "params", "level", "seed"]
    rows = []
    for key, group in curve.groupby(keys):
        reached = group[group["value"] >= threshold]["step"]
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "steps_to_threshold": float(reached.min()) if len(reached) else math.inf,
            }
        )
    return pd.DataFrame(rows, columns=[*keys, "steps_to_threshold"])


def _validation_curves(frame: pd.DataFrame, task: str) -> pd.DataFrame:
    """The validation learning-curve accuracy rows of ``task``."""
    rows = frame[
        (frame["stage"] == "curve") & (frame["metric"] == "accuracy") & (frame["task"] == task)
    ]
    return rows[rows["split"] == "validation"] if "split" in rows else rows


def _curve_runs(
    frame: pd.DataFrame, task: str
) -> Iterator[tuple[dict, np.ndarray, np.ndarray, np.ndarray]]:
    """Per run: its keys, and its curve as arrays (step, target tokens, accuracy) from step 0."""
    curve = _validation_curves(frame, task)
    keys = [k for k in RUN_KEYS if k in curve]
    for key, run in curve.groupby(keys, dropna=False, sort=True):
        run = run.sort_values("step").drop_duplicates("step", keep="last")
        tokens = run.get("target_tokens_seen", pd.Series(np.nan, index=run.index))
        yield (
            dict(zip(keys, key, strict=True)),
            np.concatenate([[0.0], run["step"].to_numpy(dtype=float)]),
            np.concatenate([[0.0], tokens.to_numpy(dtype=float)]),
            np.concatenate([[START_ACCURACY], run["value"].to_numpy(dtype=float)]),
        )


STEPS_COLUMNS = (
    "threshold",
    "steps_to_accuracy",
    "tokens_to_accuracy",
    "reached",
    "last_step",
    "final_accuracy",
)


def steps_to_accuracy(frame: pd.DataFrame, accuracy: float, task: str = "listops") -> pd.DataFrame:
    """Per run: the step at which its validation curve first reaches ``accuracy`` (a fraction
    fixed in advance, e.g. ``ExperimentConfig.convergence_accuracy``).

    Runs of one model can train for different steps (each cell its own, ``chosen_steps``), so a
    model's curves are read up to a common horizon, the fewest steps any of its runs trained
    (``horizon``): a run that never reaches ``accuracy`` within it counts at the horizon, the same
    lower bound for every run, and a longer run cannot look slower for having been given more
    steps. The step is interpolated linearly between the two curve points around the crossing
    (the last below ``accuracy`` and the first at or above it; before the first point, the
    untrained start at step 0, ``START_ACCURACY``), so it is not a multiple of the evaluation
    spacing; ``tokens_to_accuracy`` is the training target tokens seen there, interpolated alike.
    Columns: the run's keys (``RUN_KEYS``), ``threshold`` (``accuracy``), ``steps_to_accuracy``,
    ``tokens_to_accuracy``, ``reached`` (within the horizon), ``last_step`` (the horizon) and
    ``final_accuracy`` (the curve there).
    """
    if not 0 < accuracy <= 1:
        raise ValueError(f"accuracy must be in (0, 1], got {accuracy!r}")
    runs = list(_curve_runs(frame, task))
    horizon: dict[tuple, float] = {}
    for key, steps, _, _ in runs:
        model = (key.get("model"), key.get("params"))
        horizon[model] = min(horizon.get(model, math.inf), steps[-1])
    rows = []
    for key, steps, tokens, acc in runs:
        end = horizon[(key.get("model"), key.get("params"))]
        inside = steps <= end
        steps, tokens, acc = steps[inside], tokens[inside], acc[inside]
        hit = np.flatnonzero(acc[1:] >= accuracy)
        if len(hit):
            i = int(hit[0]) + 1  # acc[i - 1] < accuracy <= acc[i]
            share = (accuracy - acc[i - 1]) / (acc[i] - acc[i - 1])
            step = steps[i - 1] + share * (steps[i] - steps[i - 1])
            seen = tokens[i - 1] + share * (tokens[i] - tokens[i - 1])
        else:
            step, seen = steps[-1], tokens[-1]
        values = (accuracy, step, seen, bool(len(hit)), steps[-1], acc[-1])
        rows.append(key | dict(zip(STEPS_COLUMNS, values, strict=True)))
    keys = [k for k in RUN_KEYS if k in frame]
    return pd.DataFrame(rows, columns=[*keys, *STEPS_COLUMNS])


def curve_area(frame: pd.DataFrame, up_to: float, task: str = "listops") -> pd.DataFrame:
    """Per run: its mean validation accuracy over steps [0, ``up_to``] (``curve_area``), the area
    under its curve by the trapezoid rule divided by ``up_to``.

    The curve runs from the untrained start (step 0, ``START_ACCURACY``) through its points and
    is interpolated linearly at ``up_to``; a run whose curve ends before ``up_to`` gets NaN.
    Comparing runs over the same ``up_to`` compares them over the same span of training, whatever
    their lengths. Columns: the run's keys (``RUN_KEYS``), ``up_to``, ``curve_area``.
    """
    if not up_to > 0:
        raise ValueError(f"up_to must be a positive step, got {up_to!r}")
    rows = []
    for key, steps, _, acc in _curve_runs(frame, task):
        area = math.nan
        if steps[-1] >= up_to:
            inside = steps < up_to
            x = np.append(steps[inside], up_to)
            y = np.append(acc[inside], np.interp(up_to, steps, acc))
            area = float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2) / up_to)
        rows.append(key | {"up_to": float(up_to), "curve_area": area})
    keys = [k for k in RUN_KEYS if k in frame]
    return pd.DataFrame(rows, columns=[*keys, "up_to", "curve_area"])


def evaluation_spacing(frame: pd.DataFrame, task: str = "listops") -> float:
    """The steps between two consecutive validation-curve points (their median over every run of
    ``frame``; NaN without two points), the grid a step read off the curve alone would fall on."""
    gaps = [np.diff(steps[1:]) for _, steps, _, _ in _curve_runs(frame, task)]
    gaps = np.concatenate(gaps) if gaps else np.array([])
    return float(np.median(gaps)) if len(gaps) else math.nan


def seed_accuracies(
    frame: pd.DataFrame, level: str, task: str = "listops", params: int | None = None
) -> str:
    """Each seed's final test accuracy at ``level`` (smallest model unless ``params``), for prose."""
    runs = final_accuracy(frame, task=task)
    runs = runs[runs["level"] == level]
    runs = runs[runs["params"] == (params if params is not None else runs["params"].min())]
    return ", ".join(f"{100 * v:.1f} %" for v in sorted(runs["value"])) or "not measured"


def lead_over_none(table: pd.DataFrame, column: str, level: str) -> str:
    """Points by which ``level`` leads ``none`` at each value of ``column`` of a summary table, for prose."""
    means = table.pivot_table(index=column, columns="level", values="mean", sort=False)
    if not {"none", level} <= set(means.columns):
        return "not measured"
    return ", ".join(
        f"{column} {key}: {100 * (row[level] - row['none']):+.1f} points"
        for key, row in means.iterrows()
    )


def level_pivot(table: pd.DataFrame, index: list[str], value: str = "mean") -> pd.DataFrame:
    """Accuracy in % (one decimal), one column per level in the order none → short → medium → long,
    then the book's formats."""
    pivot = table.pivot_table(index=index, columns="level", values=value)
    return pivot[[lv for lv in TARGET_FORMATS if lv in pivot.columns]].mul(100).round(1)


def learning_rate_grid(results_dir: str | Path, profile: str) -> pd.DataFrame:
    """The calibration grid of ``profile`` (``make calibrate``): validation accuracy (%) per model,
    level and learning rate, and the chosen rate; empty when the profile was not calibrated."""
    path = Path(results_dir) / CALIBRATION_DIR / LEARNING_RATE_GRID_CSV
    if not path.is_file():
        return pd.DataFrame(
            {"note": [f"{profile}: not calibrated; every run uses its profile's rate"]}
        )
    grid = pd.read_csv(path)
    grid = grid[grid["profile"] == profile]
    table = (
        grid.pivot_table(
            index=["model", "level"], columns="learning_rate", values="validation_accuracy"
        )
        .mul(100)
        .round(1)
    )
    table.columns = [f"lr {c:g}" for c in table.columns]
    chosen = pd.read_csv(path.with_name(LEARNING_RATES_CSV))
    chosen = chosen[chosen["profile"] == profile].set_index(["model", "level"])
    order = {lv: i for i, lv in enumerate(LEVELS)}
    table["chosen"] = chosen["learning_rate"].map("{:g}".format)
    at_edge = chosen["learning_rate"] == grid["learning_rate"].max()
    table["at the grid's edge"] = at_edge.map({True: "yes", False: ""})
    steps = plateau_check_table(results_dir, profile)
    if "steps" in steps and "listops" in steps.index.get_level_values("task"):
        listops = steps.xs("listops", level="task")  # the steps chosen, beside the rate
        table["steps"] = listops["steps"]
        table["still learning"] = listops["still learning"]
    sizes = grid.drop_duplicates("model")["model"].tolist()
    return table.sort_index(key=lambda s: s.map(order) if s.name == "level" else s.map(sizes.index))


def plateau_check_table(results_dir: str | Path, profile: str) -> pd.DataFrame:
    """The plateau check of ``profile`` (``make calibrate``) per model, task and level: the steps
    chosen, validation accuracy (%) there, the last doubling tried and its paired gain on validation
    (points, 95 % interval), and whether the cell was still gaining at the cap."""
    path = Path(results_dir) / CALIBRATION_DIR / STEPS_CSV
    if not path.is_file():
        return pd.DataFrame({"note": [f"{profile}: no plateau check; every run uses its steps"]})
    rows = pd.read_csv(path)
    rows = rows[rows["profile"] == profile]
    if rows.empty:
        return pd.DataFrame({"note": [f"{profile}: no plateau check; every run uses its steps"]})
    table = pd.DataFrame(
        {
            "model": rows["model"],
            "task": rows["task"],
            "level": rows["level"],
            "steps": rows["steps"].astype(int),
            "validation accuracy": (100 * rows["validation_accuracy"]).round(1),
            "last doubling tried": rows["longer_steps"].astype("Int64"),
            "its gain": [
                f"{100 * g:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]"
                for g, lo, hi in zip(
                    rows["gain"], rows["gain_ci_low"], rows["gain_ci_high"], strict=True
                )
            ],
            "still learning": rows["still_learning"].map({True: "yes", False: ""}),
        }
    )
    return table.set_index(["model", "task", "level"])


def metric_table(
    frame: pd.DataFrame, metric: str, by: list[str], split: str = "test", task: str = "listops"
) -> pd.DataFrame:
    """Mean and 95 % CI over seeds of a final ``metric`` (e.g. ``step_accuracy``), grouped by ``by``."""
    return summarize(final_metric(frame, metric, split, task), by)


# a curve still rising: its mean gained more than this at its last evaluation
RISING = 0.02


def still_rising(curves: pd.DataFrame, by: list[str]) -> list[tuple]:
    """The groups (values of ``by``) of ``curve_table`` rows whose mean rose by more than
    ``RISING`` between their last two points: not fully converged, so their final accuracy is a
    lower bound."""
    last_two = curves.sort_values("step").groupby(by)["mean"].apply(list)
    return [key for key, v in last_two.items() if len(v) > 1 and v[-1] - v[-2] > RISING]
