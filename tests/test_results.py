"""Tidy result rows and confidence intervals."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from explain_utils.results import (
    COLUMNS,
    mean_ci,
    read_results,
    results_frame,
    summarize,
    write_results,
)
from explain_utils.runs import RunResult


def _result(seed: int, accuracy: float) -> RunResult:
    evaluated = {
        "metrics": {"accuracy": accuracy, "exact_match": 0.5, "n": 10},
        "by_depth": {"1": {"accuracy": 1.0, "n": 4}, "2": {"accuracy": 0.5, "n": 6}},
        "by_length": {"1-10": {"accuracy": accuracy, "n": 10}},
    }
    config = {
        "model": "t5-1m",
        "task": "listops",
        "level": "short",
        "seed": seed,
        "train_size": None,
        "loss_mode": "completion",
        "prompt_loss_weight": 0.0,
        "steps": 20,
        "batch_size": 8,
    }
    curve = [
        {
            "step": 10,
            "examples_seen": 80,
            "target_tokens_seen": 400,
            "train_loss": 1.0,
            "accuracy": 0.1,
        }
    ]
    return RunResult(
        f"run{seed}",
        config,
        "fp",
        928_000,
        {"test": evaluated},
        curve,
        1.0,
        1.0,
        extra={"train_size": 64},
    )


def test_rows_are_tidy_and_round_trip(tmp_path):
    frame = results_frame([_result(0, 0.6), _result(1, 0.8)])
    assert list(frame.columns) == list(COLUMNS)
    final = frame[
        (frame.stage == "final") & (frame.depth == "all") & (frame.length_bucket == "all")
    ]
    assert sorted(final.metric.unique()) == ["accuracy", "exact_match"]  # "n" is not a metric
    assert set(frame.train_size) == {64}
    assert set(frame[frame.depth != "all"].depth) == {"1", "2"}
    curve = frame[frame.stage == "curve"]
    assert set(curve.metric) == {"accuracy", "train_loss"} and set(curve.target_tokens_seen) == {
        400
    }
    for name in ("results.csv", "results.parquet"):
        back = read_results(write_results(frame, tmp_path / name))
        pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_breakdown_rows_come_in_numeric_order():
    # a result read back from result.json has its keys sorted as text: "11-14" before "8-10"
    result = _result(0, 0.5)
    cell = {"accuracy": 0.5, "n": 2}
    result.metrics["test"]["by_length"] = {"1-7": cell, "11-14": cell, "8-10": cell}
    result.metrics["test"]["by_depth"] = {"10": cell, "2": cell}
    final = results_frame([result]).query("stage == 'final'")
    assert list(final.query("length_bucket != 'all'").length_bucket) == ["1-7", "8-10", "11-14"]
    assert list(final.query("depth != 'all'").depth) == ["2", "10"]


def test_mean_ci_is_a_t_interval():
    values = [0.6, 0.8, 0.7]
    mean, low, high = mean_ci(values)
    expected = stats.t.interval(0.95, 2, loc=0.7, scale=stats.sem(values))
    assert mean == pytest.approx(0.7) and (low, high) == pytest.approx(expected)
    assert math.isnan(mean_ci([0.5])[1]) and mean_ci([0.5])[0] == 0.5


def test_summarize_over_seeds():
    frame = results_frame([_result(0, 0.6), _result(1, 0.8)])
    rows = frame[
        (frame.stage == "final")
        & (frame.metric == "accuracy")
        & (frame.depth == "all")
        & (frame.length_bucket == "all")
    ]
    summary = summarize(rows, ["model", "level", "metric"])
    assert (
        len(summary) == 1
        and summary.loc[0, "mean"] == pytest.approx(0.7)
        and summary.loc[0, "n"] == 2
    )
