"""Tidy results: one row per run × metric, written atomically; means with 95 % t-intervals over seeds.

Plotting reads only these tables. Every row carries the run's coordinates (model, size, level,
task, seed, train size, loss mode, prompt-loss weight, steps) and the measurement's (split,
``stage`` "final" or "curve", depth and length bucket, or "all"; examples and target tokens seen),
then ``metric`` and ``value``.

A companion table keeps each run's per-row correctness (``correct_frame``: one row per run ×
split, ``correct`` a string of ``0``/``1``, one character per row of the split in its row order),
so two conditions can be compared on the same test rows (``stats.paired_contrast``).
Light imports only (numpy, scipy, pandas; never torch): the claims and figures read these tables.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from explain_utils.common.files import atomic_write
from explain_utils.common.names import bucket_order

if TYPE_CHECKING:  # runs imports torch; tidy results only read a finished run's fields
    from explain_utils.engine.run_store import RunResult

ALL = "all"
RUN_COLUMNS: tuple[str, ...] = (
    "run_id",
    "model",
    "params",
    "task",
    "level",
    "seed",
    "train_size",
    "loss_mode",
    "prompt_loss_weight",
    "steps",
    "batch_size",
)
COLUMNS: tuple[str, ...] = (
    *RUN_COLUMNS,
    "stage",
    "split",
    "depth",
    "length_bucket",
    "step",
    "examples_seen",
    "target_tokens_seen",
    "metric",
    "value",
)
CORRECT_COLUMNS: tuple[str, ...] = (
    "run_id",
    "task",
    "model",
    "params",
    "level",
    "seed",
    "train_size",
    "split",
    "correct",
)
_CURVE_METRICS = (
    "accuracy",
    "exact_match",
    "answer_parsed",
    "step_accuracy",
    "faithfulness",
    "train_loss",
    "train_completion_loss",
    "validation_completion_loss",
)


def run_rows(result: RunResult) -> list[dict]:
    """Tidy rows of one run: final metrics (overall, by depth, by length bucket) and its learning curve."""
    cfg = result.config
    last = result.curve[-1] if result.curve else {}
    # the final metrics were taken at that step, not at the end: chosen before the run
    # (score_step), or the validation curve's best point (score_at_best, in extra)
    best_step = result.extra.get("scored_step") if cfg.get("score_at_best") else None
    scored_step = cfg.get("score_step") or best_step
    if scored_step:
        last = next((p for p in result.curve if p["step"] == scored_step), {})
        last = last or {"step": scored_step}
    base = {
        "run_id": result.run_id,
        "model": cfg["model"],
        "params": result.params,
        "task": cfg["task"],
        "level": cfg["level"],
        "seed": cfg["seed"],
        "train_size": result.extra.get("train_size", cfg["train_size"]),
        "loss_mode": cfg["loss_mode"],
        "prompt_loss_weight": cfg["prompt_loss_weight"],
        # the steps of the scored model: score_step, or an early-stopped run's best point
        "steps": scored_step or cfg["steps"],
        "batch_size": cfg["batch_size"],
    }
    seen = {k: last.get(k) for k in ("step", "examples_seen", "target_tokens_seen")}
    rows: list[dict] = []

    def add(stage: str, split: str, depth, bucket, metric: str, value, at: dict) -> None:
        rows.append(
            {
                **base,
                "stage": stage,
                "split": split,
                "depth": depth,
                "length_bucket": bucket,
                **at,
                "metric": metric,
                "value": float(value),
            }
        )

    for split, evaluated in result.metrics.items():
        for metric, value in evaluated["metrics"].items():
            if metric != "n":
                add("final", split, ALL, ALL, metric, value, seen)
        # in numeric order: a result read back from result.json has its keys sorted as text
        by_depth, by_length = evaluated["by_depth"], evaluated["by_length"]
        for depth in sorted(by_depth, key=bucket_order):
            add("final", split, depth, ALL, "accuracy", by_depth[depth]["accuracy"], seen)
        for bucket in sorted(by_length, key=bucket_order):
            add("final", split, ALL, bucket, "accuracy", by_length[bucket]["accuracy"], seen)
    for point in result.curve:
        at = {k: point[k] for k in ("step", "examples_seen", "target_tokens_seen")}
        for metric in _CURVE_METRICS:
            if metric in point:
                add("curve", point.get("split", "validation"), ALL, ALL, metric, point[metric], at)
    return rows


def results_frame(results: Iterable[RunResult]) -> pd.DataFrame:
    """All runs' tidy rows as one DataFrame with the standard columns."""
    rows = [row for result in results for row in run_rows(result)]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def correct_frame(results: Iterable[RunResult]) -> pd.DataFrame:
    """Per-row correctness of every run and evaluated split (``CORRECT_COLUMNS``).

    Reads ``result.metrics[split]["correct"]``; splits (and runs) without it — results cached
    before the field existed — are skipped. A string with characters other than 0/1 is an error.
    """
    rows = []
    for result in results:
        cfg = result.config
        for split, evaluated in result.metrics.items():
            correct = evaluated.get("correct")
            if not correct:  # an old cache without the field, or a split with no rows
                continue
            if not isinstance(correct, str) or set(correct) - {"0", "1"}:
                raise ValueError(
                    f"run {result.run_id!r}, split {split!r}: 'correct' must be a string of 0/1"
                )
            rows.append(
                {
                    "run_id": result.run_id,
                    "task": cfg["task"],
                    "model": cfg["model"],
                    "params": result.params,
                    "level": cfg["level"],
                    "seed": cfg["seed"],
                    "train_size": result.extra.get("train_size", cfg["train_size"]),
                    "split": split,
                    "correct": correct,
                }
            )
    return pd.DataFrame(rows, columns=list(CORRECT_COLUMNS))


def write_correct(results: Iterable[RunResult], path: str | Path) -> Path:
    """Write ``correct_frame(results)`` atomically (``results/<notebook>_rows.csv``)."""
    return write_results(correct_frame(results), path)


def write_tidy(
    results: Sequence[RunResult], results_dir: str | Path, name: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A grid's tidy rows and per-row correctness, written to ``<results_dir>/<name>.csv`` and
    ``<name>_rows.csv``; returns both frames."""
    frame, correct = results_frame(results), correct_frame(results)
    write_results(frame, Path(results_dir) / f"{name}.csv")
    write_results(correct, Path(results_dir) / f"{name}_rows.csv")
    return frame, correct


def read_correct(path: str | Path) -> pd.DataFrame:
    """Read what ``write_correct`` wrote, ``correct`` kept as text (a leading 0 is a row)."""
    return pd.read_csv(path, dtype={"correct": str, "model": str, "level": str, "split": str})


def write_results(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a results table atomically: ``.parquet`` by suffix, CSV otherwise."""
    path = Path(path)
    if path.suffix == ".parquet":
        return atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    return atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def read_results(path: str | Path) -> pd.DataFrame:
    """Read a table ``write_results`` wrote (depth and length bucket stay strings)."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype={"depth": str, "length_bucket": str})


def final_accuracy(
    frame: pd.DataFrame, split: str = "test", task: str | None = "listops"
) -> pd.DataFrame:
    """One row per run: final accuracy on ``split`` over all depths and lengths (``task`` None: any)."""
    return final_metric(frame, "accuracy", split, task)


def final_metric(
    frame: pd.DataFrame, metric: str, split: str = "test", task: str | None = "listops"
) -> pd.DataFrame:
    """One row per run: a final ``metric`` on ``split`` over all depths and lengths."""
    rows = frame[
        (frame["stage"] == "final")
        & (frame["split"] == split)
        & (frame["metric"] == metric)
        & (frame["depth"].astype(str) == ALL)
        & (frame["length_bucket"].astype(str) == ALL)
    ]
    return rows[rows["task"] == task].copy() if task is not None else rows.copy()


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and the two ends of its t-interval over seeds; NaN ends for fewer than two values."""
    arr = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if arr.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(arr.mean())
    if arr.size < 2:
        return mean, math.nan, math.nan
    half = float(
        stats.t.ppf((1 + confidence) / 2, arr.size - 1) * arr.std(ddof=1) / math.sqrt(arr.size)
    )
    return mean, mean - half, mean + half


def summarize(
    frame: pd.DataFrame, by: Sequence[str], value: str = "value", confidence: float = 0.95
) -> pd.DataFrame:
    """Group ``frame`` by ``by`` (typically everything but ``seed``) → mean, ci_low, ci_high, n."""

    def one(group: pd.DataFrame) -> pd.Series:
        mean, low, high = mean_ci(group[value].tolist(), confidence)
        return pd.Series(
            {"mean": mean, "ci_low": low, "ci_high": high, "n": int(group[value].notna().sum())}
        )

    return frame.groupby(list(by), dropna=False, sort=True)[[value]].apply(one).reset_index()
