"""Chapter 4's format claims on synthetic tidy frames where the answer is known."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pandas as pd
import pytest

from explain_utils.analysis.results import ALL, COLUMNS, CORRECT_COLUMNS
from explain_utils.analysis.stats import (
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    REVERSED,
    STILL_LEARNING,
    verdict,
)
from explain_utils.claims.claim import NOT_MEASURED
from explain_utils.claims.formats import (
    C5_FORMAT,
    MIN_GAIN,
    best_format,
    by_model,
    check_c5_format,
    format_contrasts,
    granularity_table,
)

N_ROWS = 400
SEEDS = (0, 1, 2)
FORMATS = ("short", "long", "fixed_width", "index_hint")


def bits(p: float, key: tuple, n: int = N_ROWS) -> str:
    """A 0/1 string with accuracy about ``p``, reproducible for ``key``."""
    rng = np.random.default_rng(zlib.crc32(repr(key).encode()))
    return "".join("1" if r < p else "0" for r in rng.random(n))


def exact_bits(p: float, n: int = N_ROWS) -> str:
    """Exactly ``round(p·n)`` rows right, the first ones (differences between such are exact)."""
    k = round(p * n)
    return "1" * k + "0" * (n - k)


def tables(cells: dict, *, seeds=SEEDS, exact: bool = False):
    """``{(model, params, level, split[, task]): accuracy}`` -> tidy frame and per-row table.

    Final accuracy rows over all depths and lengths, one run per cell and seed; the tidy value
    is the share of ones in the run's per-row string.
    """
    rows, correct = [], []
    for key, p in cells.items():
        model, params, level, split, *rest = key
        task = rest[0] if rest else "listops"
        for seed in seeds:
            text = exact_bits(p) if exact else bits(p, (*key, seed))
            run = {
                "run_id": f"{task}_{model}_{level}_s{seed}",
                "model": model,
                "params": params,
                "task": task,
                "level": level,
                "seed": seed,
                "train_size": 2_000,
            }
            rows.append(
                {
                    **run,
                    "loss_mode": "completion",
                    "prompt_loss_weight": 0.0,
                    "steps": 200,
                    "batch_size": 8,
                    "stage": "final",
                    "split": split,
                    "depth": ALL,
                    "length_bucket": ALL,
                    "step": 200,
                    "examples_seen": 1_600,
                    "target_tokens_seen": 8_000,
                    "metric": "accuracy",
                    "value": text.count("1") / len(text),
                }
            )
            correct.append({**run, "split": split, "correct": text})
    return pd.DataFrame(rows, columns=list(COLUMNS)), pd.DataFrame(
        correct, columns=list(CORRECT_COLUMNS)
    )


def test_by_model_gives_each_model_its_smallest_params():
    """Format runs a few embedding rows larger share the paper levels' params; models stay apart."""
    frame, correct = tables(
        {
            ("m-a", 1_000, "none", "test"): 0.3,
            ("m-a", 1_012, "fixed_width", "test"): 0.5,
            ("m-b", 5_000, "none", "test"): 0.4,
            ("m-b", 5_030, "index_hint", "test"): 0.6,
        }
    )
    for table in (frame, correct):
        aligned = by_model(table)
        assert set(aligned.loc[aligned["model"] == "m-a", "params"]) == {1_000}
        assert set(aligned.loc[aligned["model"] == "m-b", "params"]) == {5_000}
        assert len(aligned) == len(table)
    assert set(frame["params"]) == {1_000, 1_012, 5_000, 5_030}  # the input is left as it was
    assert by_model(None) is None
    assert by_model(frame.iloc[:0]).empty


def test_best_format_chooses_on_validation_long_not_test_long():
    """long is best on validation_long; short would win on test_long and none is never chosen."""
    frame, _ = tables(
        {
            ("m-a", 1_000, "none", "validation_long"): 0.9,
            ("m-a", 1_000, "short", "validation_long"): 0.4,
            ("m-a", 1_000, "long", "validation_long"): 0.6,
            ("m-a", 1_010, "fixed_width", "validation_long"): 0.5,
            ("m-a", 1_000, "short", "test_long"): 0.9,
            ("m-a", 1_000, "long", "test_long"): 0.3,
            ("m-b", 5_000, "fixed_width", "validation_long"): 0.95,  # another model
        },
        exact=True,
    )
    candidates = ("none", "short", "long", "fixed_width")
    assert best_format(frame, candidates, "m-a") == "long"
    assert best_format(frame, ("short", "fixed_width"), "m-a") == "fixed_width"
    assert best_format(frame, candidates, "m-b") == "fixed_width"
    assert best_format(frame, ("index_hint",), "m-a") is None
    assert best_format(frame, candidates, "m-c") is None


def test_best_format_breaks_ties_by_the_order_given():
    """Equal validation_long means: the first format in ``formats`` wins."""
    frame, _ = tables(
        {
            ("m-a", 1_000, "long", "validation_long"): 0.5,
            ("m-a", 1_000, "fixed_width", "validation_long"): 0.5,
        },
        exact=True,
    )
    assert best_format(frame, ("long", "fixed_width"), "m-a") == "long"
    assert best_format(frame, ("fixed_width", "long"), "m-a") == "fixed_width"


def c5_cells(none: float, best: float) -> dict:
    """A small and a large model; at the large one fixed_width is best on validation_long."""
    return {
        ("m-small", 1_000, "none", "test_long"): 0.6,
        ("m-small", 1_000, "long", "validation_long"): 0.9,
        ("m-small", 1_000, "long", "test_long"): 0.9,
        ("m-large", 20_000, "none", "test_long"): none,
        ("m-large", 20_000, "long", "validation_long"): 0.5,
        ("m-large", 20_000, "long", "test_long"): 0.95,  # best on test_long: never looked at
        ("m-large", 20_040, "fixed_width", "validation_long"): 0.7,
        ("m-large", 20_040, "fixed_width", "test_long"): best,
    }


def test_c5_format_holds_for_a_clear_gain_of_the_chosen_format():
    """fixed_width − none ≈ +40 points at the largest model on test_long: holds, format named."""
    claim = check_c5_format(*tables(c5_cells(none=0.3, best=0.7)), ["long", "fixed_width"])
    assert claim.claim == C5_FORMAT
    assert claim.verdict == HOLDS and claim.holds is True
    assert claim.diff == pytest.approx(40, abs=6) and claim.ci_low > 15
    assert "m-large" in claim.ours and "fixed_width (best on validation_long)" in claim.ours
    assert "fixed_width − none" in claim.ours and "test_long" in claim.ours
    assert (claim.n_seeds, claim.n_rows) == (3, N_ROWS)
    assert "paired bootstrap" in claim.method and "validation_long" in claim.method


def test_c5_format_is_still_learning_when_the_level_its_format_extends_was():
    """fixed_width trains as long does, so long's plateau check still gaining at m-large leaves
    the claim inconclusive (still learning), naming the format; another model's cell does not."""
    frame, correct = tables(c5_cells(none=0.3, best=0.7))
    formats = ["long", "fixed_width"]
    other = {("m-small", "listops", "long"), ("m-large", "modular_sum", "long")}
    assert check_c5_format(frame, correct, formats, other).verdict == HOLDS
    claim = check_c5_format(frame, correct, formats, {("m-large", "listops", "long")})
    assert claim.verdict == STILL_LEARNING and claim.holds is False
    assert claim.ours.endswith("; still learning: m-large fixed_width")


def test_c5_format_does_not_hold_below_15_points():
    """A real but small gain (≈ +8 points) misses the +15 bar."""
    claim = check_c5_format(*tables(c5_cells(none=0.3, best=0.38)), ["long", "fixed_width"])
    assert claim.verdict == DOES_NOT_HOLD and claim.holds is False
    assert 0 < claim.diff < 15


def test_c5_format_rules_out_15_points_although_its_interval_includes_0():
    """No gain to speak of (≈ +1 point): the interval includes 0 but lies wholly below the +15
    points claimed, so the claim does not hold (not inconclusive)."""
    claim = check_c5_format(*tables(c5_cells(none=0.3, best=0.31)), ["long", "fixed_width"])
    assert claim.ci_low < 0 < claim.ci_high < 15
    assert claim.verdict == DOES_NOT_HOLD and claim.holds is False


@pytest.mark.parametrize(
    ("none", "best", "expected"),
    [
        (0.3, 0.7, HOLDS),
        (0.3, 0.38, DOES_NOT_HOLD),
        (0.3, 0.31, DOES_NOT_HOLD),
        (0.6, 0.3, REVERSED),
    ],
)
def test_c5_format_is_stats_verdict_of_its_row(none, best, expected):
    """The row's verdict is ``stats.verdict`` of the row's own numbers (points) at +15 points, the
    rule every claim row uses (C5's own row the same, at its claimed size 0)."""
    claim = check_c5_format(*tables(c5_cells(none=none, best=best)), ["long", "fixed_width"])
    assert claim.verdict == expected
    assert verdict(claim.diff, claim.ci_low, claim.ci_high, 100 * MIN_GAIN) == expected


def test_c5_format_is_inconclusive_when_a_seed_disagrees():
    """The mean clears +15 points, but one seed of the best format is below none: the seeds'
    interval includes 0, so the run cannot tell (never a yes by the mean)."""
    frame, _ = tables(c5_cells(none=0.3, best=0.7), exact=True)
    at = (frame["level"] == "fixed_width") & (frame["split"] == "test_long")
    frame.loc[at, "value"] = frame.loc[at, "seed"].map({0: 0.2, 1: 0.7, 2: 0.65})
    claim = check_c5_format(frame, None, ["long", "fixed_width"])
    assert claim.diff > 15 and claim.ci_low < 0
    assert claim.verdict == INCONCLUSIVE and claim.holds is False


def test_c5_format_without_per_row_results_uses_the_seeds():
    """No per-row table: the CI comes from the seeds alone (n_rows 0)."""
    frame, _ = tables(c5_cells(none=0.3, best=0.7), exact=True)
    claim = check_c5_format(frame, None, ["long", "fixed_width"])
    assert claim.n_rows == 0 and "seeds only" in claim.method
    assert claim.diff == pytest.approx(40, abs=0.01)


def test_c5_format_is_not_measured_without_validation_long():
    """No validation_long rows of the formats: not measured, nothing measured either."""
    cells = {k: p for k, p in c5_cells(0.3, 0.7).items() if k[3] != "validation_long"}
    claim = check_c5_format(*tables(cells), ["long", "fixed_width"])
    assert claim.claim == C5_FORMAT and claim.verdict == NOT_MEASURED and claim.holds is None
    assert math.isnan(claim.diff)


def disjoint_seeds():
    """The C5 tables with the none runs on other seeds than the formats'."""
    frame, correct = tables(c5_cells(0.3, 0.7))
    frame.loc[frame["level"] == "none", "seed"] += 10
    correct.loc[correct["level"] == "none", "seed"] += 10
    return frame, correct


def test_c5_format_is_not_measured_when_none_shares_no_seed():
    """No shared seed, seed-level evidence: not measured, saying why."""
    frame, _ = disjoint_seeds()
    claim = check_c5_format(frame, None, ["long", "fixed_width"])
    assert claim.verdict == NOT_MEASURED and "shares a seed" in claim.ours


def test_c5_format_is_not_measured_when_none_shares_no_seed_with_per_row_results():
    """No shared seed, per-row evidence: the same not-measured row, not an error."""
    claim = check_c5_format(*disjoint_seeds(), ["long", "fixed_width"])
    assert claim.verdict == NOT_MEASURED and "shares a seed" in claim.ours


def contrast_cells(split: str = "test_long") -> dict:
    return {
        ("m-a", 1_000, "none", split): 0.2,
        ("m-a", 1_000, "long", split): 0.5,
        ("m-a", 1_020, "fixed_width", split): 0.6,
        ("m-a", 1_008, "index_hint", split): 0.45,
    }


def test_format_contrasts_against_none_and_long():
    """Each format − none, each book format − long; never long − long or none − none."""
    frame, correct = tables({**contrast_cells(), **contrast_cells("test")}, exact=True)
    table = format_contrasts(
        frame, correct, ["none", "long", "fixed_width", "index_hint"], "test_long"
    )
    expected = {
        "long − none": 0.3,
        "fixed_width − none": 0.4,
        "index_hint − none": 0.25,
        "fixed_width − long": 0.1,
        "index_hint − long": -0.05,
    }
    assert list(table["contrast"]) == list(expected)
    assert set(table["split"]) == {"test_long"} and set(table["params"]) == {1_000}
    for contrast, diff in expected.items():
        row = table[table["contrast"] == contrast].iloc[0]
        assert row["diff"] == pytest.approx(diff)
        assert row["ci_low"] <= row["diff"] <= row["ci_high"]
    assert set(table["n_seeds"]) == {3} and set(table["n_rows"]) == {N_ROWS}
    by = table.set_index("contrast")["verdict"]
    assert by["fixed_width − none"] == HOLDS and by["index_hint − long"] != HOLDS


def test_format_contrasts_mark_the_rows_that_rest_on_a_cell_still_learning():
    frame, correct = tables({**contrast_cells(), **contrast_cells("test")}, exact=True)
    formats = ["none", "long", "fixed_width", "index_hint"]
    unfinished = {("m-a", "listops", "none")}
    table = format_contrasts(frame, correct, formats, "test_long", unfinished).set_index("contrast")
    against_none = table.index.str.endswith("− none")
    assert set(table.loc[against_none, "verdict"]) == {STILL_LEARNING}
    assert STILL_LEARNING not in set(table.loc[~against_none, "verdict"])
    assert table.loc["long − none", "still_learning"] == "m-a none"
    assert table.loc["fixed_width − long", "still_learning"] == ""


def test_format_contrasts_skip_a_base_that_was_not_run():
    """Without long runs only the contrasts against none remain."""
    cells = {k: p for k, p in contrast_cells().items() if k[2] != "long"}
    table = format_contrasts(
        *tables(cells), ["none", "long", "fixed_width", "index_hint"], "test_long"
    )
    assert list(table["contrast"]) == ["fixed_width − none", "index_hint − none"]


def test_granularity_table_on_the_modular_sum():
    """running − paper form for short and medium, on test and test_long, modular sum only."""
    values = {"short": 0.3, "short_running": 0.6, "medium": 0.5, "medium_running": 0.55}
    cells = {
        ("m-a", 1_000 + 4 * ("running" in lv), lv, split, "modular_sum"): p
        + (split == "test_long") * 0.1
        for lv, p in values.items()
        for split in ("test", "test_long")
    }
    cells |= {("m-a", 1_000, lv, "test", "listops"): 0.9 for lv in values}  # another task
    table = granularity_table(*tables(cells, exact=True))
    keys = list(zip(table["split"], table["contrast"], strict=True))
    assert keys == [
        ("test", "short_running − short"),
        ("test", "medium_running − medium"),
        ("test_long", "short_running − short"),
        ("test_long", "medium_running − medium"),
    ]
    assert list(table["diff"]) == pytest.approx([0.3, 0.05, 0.3, 0.05])
    assert set(table["model"]) == {"m-a"} and set(table["params"]) == {1_000}
    assert STILL_LEARNING not in set(table["verdict"])
    # short_running trains as short does: short still learning on the modular sum marks its rows
    late = granularity_table(*tables(cells, exact=True), {("m-a", "modular_sum", "short")})
    marked = late[late["verdict"] == STILL_LEARNING]
    assert list(marked["contrast"]) == ["short_running − short"] * 2
    assert set(marked["still_learning"]) == {
        "m-a short (modular_sum), m-a short_running (modular_sum)"
    }
