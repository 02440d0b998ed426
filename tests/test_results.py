"""Tidy result rows and confidence intervals."""

from __future__ import annotations

import math
import subprocess
import sys

import pandas as pd
import pytest
from scipy import stats

from explain_utils.analysis.results import (
    COLUMNS,
    CORRECT_COLUMNS,
    correct_frame,
    mean_ci,
    read_correct,
    read_results,
    results_frame,
    summarize,
    write_correct,
    write_results,
)
from explain_utils.engine.run_store import RunResult


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


def test_a_run_scored_before_its_end_reports_that_step():
    def final_seen(result: RunResult) -> set:
        final = results_frame([result]).query("stage == 'final'")
        return set(final[["steps", "step", "examples_seen"]].itertuples(index=False, name=None))

    longer = [{**_result(0, 0.5).curve[0], "step": 20, "examples_seen": 160}]
    at_best = _result(0, 0.5)
    at_best.curve += longer
    at_best.config["score_at_best"] = True
    at_best.extra["scored_step"] = 10
    assert final_seen(at_best) == {(10, 10, 80)}  # early stopped: trained to 10 as scored
    at_step = _result(0, 0.5)
    at_step.curve += longer
    at_step.config["score_step"] = 10
    assert final_seen(at_step) == {(10, 10, 80)}  # a chosen step: the scored model's steps too
    plain = _result(0, 0.5)
    plain.curve += longer
    assert final_seen(plain) == {(20, 20, 160)}


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


def test_per_row_correctness_round_trips_and_skips_old_runs(tmp_path):
    new = _result(0, 0.5)
    new.metrics["test"]["correct"] = "0110"
    new.metrics["test_long"] = {**new.metrics["test"], "correct": "0001"}
    old = _result(1, 0.5)  # cached before the field existed
    assert results_frame([new]).shape[0] > 0  # the tidy rows ignore the field
    table = correct_frame([new, old])
    assert list(table.columns) == list(CORRECT_COLUMNS)
    assert table["split"].tolist() == ["test", "test_long"]
    assert set(table["run_id"]) == {"run0"} and set(table["train_size"]) == {64}
    back = read_correct(write_correct([new, old], tmp_path / "02_rows.csv"))
    assert back["correct"].tolist() == ["0110", "0001"]  # leading zeros kept
    assert correct_frame([old]).empty and list(correct_frame([]).columns) == list(CORRECT_COLUMNS)


def test_per_row_correctness_rejects_other_characters():
    result = _result(0, 0.5)
    result.metrics["test"]["correct"] = "01x1"
    with pytest.raises(ValueError, match="run0.*test"):
        correct_frame([result])


def test_tidy_results_claims_and_figures_never_import_torch():
    code = (
        "import sys; import explain_utils.analysis.results, explain_utils.claims, explain_utils.plots, "
        "explain_utils.analysis.stats, explain_utils.analysis.baselines; "
        "assert 'torch' not in sys.modules and 'explain_utils.engine.training' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
