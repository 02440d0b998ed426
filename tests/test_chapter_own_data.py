"""Chapter 6's module: the sentences it glues agree with the numbers they are computed from, for
every direction a result can take, and its table keeps intervals within 0-100 %."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from explain_utils.chapters import own_data

LINES = {"chance (1/labels)": 0.2, "majority label of train (scifi)": 0.25}


def _final(level: str, metric: str, values: list[float]) -> list[dict]:
    return [
        {
            "stage": "final",
            "split": "test",
            "metric": metric,
            "depth": "all",
            "length_bucket": "all",
            "task": "own_data",
            "level": level,
            "seed": seed,
            "value": value,
        }
        for seed, value in enumerate(values)
    ]


def _gains(*rows: tuple[str, float, float, float], n_rows: int = 90) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "contrast": f"{level} − none",
                "diff": diff,
                "ci_low": low,
                "ci_high": high,
                "n_seeds": 3,
                "n_rows": n_rows,
            }
            for level, diff, low, high in rows
        ],
        columns=["contrast", "diff", "ci_low", "ci_high", "n_seeds", "n_rows"],
    )


def test_none_text_names_the_side_of_the_majority_label():
    above = own_data.none_text("a.jsonl", pd.Series({"none": 0.5}), "scifi", 0.25)
    assert above == (
        "On a.jsonl, answer-only training (none) reaches 50.0 % on test, 25.0 points above always "
        "answering the most frequent label of train (scifi: 25.0 %)."
    )
    below = own_data.none_text("a.jsonl", pd.Series({"none": 0.1}), "scifi", 0.25)
    assert "15.0 points below always answering" in below
    level = own_data.none_text("a.jsonl", pd.Series({"none": 0.25}), "scifi", 0.25)
    assert "test, level with always answering" in level
    assert "did not run" in own_data.none_text("a.jsonl", pd.Series({"long": 0.3}), "scifi", 0.25)


def test_best_text_picks_the_highest_explained_level():
    accuracy = pd.Series({"none": 0.9, "short": 0.4, "long": 0.6})
    assert own_data.best_text(accuracy) == "The best explained level, long, reaches 60.0 % on test."
    assert own_data.best_text(accuracy.drop("short")).startswith("The one explained level, long")
    assert own_data.best_text(pd.Series({"none": 0.9})) == "No explained level ran."


def test_gains_shown_follows_the_intervals():
    unclear = own_data.gains_shown(_gains(("short", 0.05, -0.02, 0.1), ("long", -0.1, -0.2, 0.01)))
    assert unclear == (
        "With 90 test rows and 3 seeds, no explained level is shown to beat answer-only training "
        "or to fall below it: every interval includes 0."
    )
    mixed = own_data.gains_shown(
        _gains(("short", 0.1, 0.02, 0.2), ("medium", 0.0, -0.1, 0.1), ("long", -0.2, -0.3, -0.1))
    )
    assert mixed == (
        "With 90 test rows and 3 seeds, short is shown to beat answer-only training; long is shown "
        "to fall below answer-only training; the interval of medium includes 0 (no gain shown)."
    )
    both = _gains(("short", 0.1, 0.02, 0.2), ("long", 0.1, 0.01, 0.2), n_rows=0)
    both_above = own_data.gains_shown(both)
    assert both_above == (
        "With 3 seeds and no per-row results, short and long are shown to beat answer-only training."
    )
    assert own_data.gains_shown(_gains()) == "There is no gain to judge."


def test_gains_text_lists_each_gain_in_points_with_its_interval():
    text = own_data.gains_text(
        _gains(("short", 0.07, -0.067, 0.219), ("long", -0.081, -0.174, 0.022))
    )
    assert text == "short +7.0 [-6.7, +21.9]; long -8.1 [-17.4, +2.2]"
    assert own_data.gains_text(_gains()).startswith("not measured")


def test_writing_text_gives_the_exact_match_of_each_explained_level_in_order():
    exact = pd.Series({"long": 0.04, "none": 0.7, "short": 0.5})
    assert own_data.writing_text(exact).endswith("short 50.0 %, long 4.0 %.")
    assert own_data.writing_text(pd.Series({"none": 0.7})).startswith("No explained level ran")


def test_findings_read_this_runs_frame_and_baselines():
    frame = pd.DataFrame(
        _final("none", "accuracy", [0.5, 0.6, 0.7])
        + _final("long", "accuracy", [0.8, 0.8, 0.8])
        + _final("none", "exact_match", [0.5, 0.6, 0.7])
        + _final("long", "exact_match", [0.1, 0.2, 0.3])
    )
    config = SimpleNamespace(data_file=Path("/x/mine.csv"))
    values = own_data.findings(config, frame, _gains(("long", 0.2, 0.1, 0.3)), LINES)
    assert values["none_text"].startswith("On mine.csv, answer-only training (none) reaches 60.0 %")
    assert (
        "35.0 points above always answering the most frequent label of train (scifi: 25.0 %)"
        in (values["none_text"])
    )
    assert values["best_text"] == "The one explained level, long, reaches 80.0 % on test."
    assert values["writing_text"].endswith("long 20.0 %.")
    assert "long is shown to beat" in values["gains_shown"]


def test_level_table_cuts_intervals_to_0_100():
    frame = pd.DataFrame(
        _final("none", "accuracy", [0.5, 0.9, 1.0])
        + _final("none", "exact_match", [0.0, 0.01, 0.3])
        + _final("none", "answer_parsed", [1.0, 1.0, 1.0])
    )
    row = own_data.level_table(frame, LINES).loc["none"]
    assert row["accuracy"].startswith("80.0 [") and row["accuracy"].endswith(", 100.0]")
    assert row["exact match"].startswith("10.3 [0.0, ")
