"""Claims on paired differences: synthetic runs where the answer is known."""

from __future__ import annotations

import math
import zlib
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from explain_utils.analysis.results import correct_frame, results_frame
from explain_utils.analysis.stats import (
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    REVERSED,
    STILL_LEARNING,
)
from explain_utils.analysis.tables import (
    Condition,
    best_level_on_validation,
    breakdown_table,
    contrast,
    curve_area,
    curve_table,
    evaluation_spacing,
    gain_table,
    lead_over_none,
    seed_accuracies,
    steps_to_accuracy,
    steps_to_threshold,
)
from explain_utils.claims.claim import (
    NOT_MEASURED,
    PAPER,
    STATEMENTS,
    Claim,
    claims_table,
    read_claims,
    verdict,
    with_still_learning,
    write_claims,
)
from explain_utils.claims.listops import (
    C3_LARGE_ID,
    check_c1,
    check_c2,
    check_c3,
    check_c3_large,
    check_c4,
    check_c4_all,
    check_c5,
    check_c6,
)
from explain_utils.claims.prompt_loss import check_c7, check_c8

N_ROWS = 400
SIZES = {"m-small": 1_000, "m-mid": 5_000, "m-large": 20_000}


def bits(p: float, key: tuple, n: int = N_ROWS) -> str:
    """A 0/1 string with accuracy about ``p``, reproducible for ``key``."""
    rng = np.random.default_rng(zlib.crc32(repr(key).encode()))
    return "".join("1" if r < p else "0" for r in rng.random(n))


def exact_bits(p: float, n: int = N_ROWS) -> str:
    """Exactly ``round(p·n)`` rows right, the first ones (so the tidy accuracy is exactly ``p``)."""
    k = round(p * n)
    return "1" * k + "0" * (n - k)


def evaluated(correct: str) -> dict:
    acc = correct.count("1") / len(correct)
    return {
        "metrics": {"accuracy": acc, "n": len(correct)},
        "by_depth": {},
        "by_length": {},
        "correct": correct,
    }


def fake_run(model, level, seed, test, *, task="listops", train_size=10_000, **extra):
    """A finished run with per-row results; ``test`` a probability or a 0/1 string.

    ``test_long``: the same for that split; ``validation``: the curve's last accuracy (default:
    the test accuracy); ``curve``: explicit (step, accuracy) points.
    """
    key = (model, level, seed, task, train_size)
    splits = {"test": test, "test_long": extra.get("test_long")}
    metrics = {
        split: evaluated(p if isinstance(p, str) else bits(p, (*key, split)))
        for split, p in splits.items()
        if p is not None
    }
    final_val = extra.get("validation", metrics["test"]["metrics"]["accuracy"])
    points = extra.get("curve") or [(100, final_val / 2), (200, final_val)]
    curve = [
        {"step": s, "examples_seen": 8 * s, "target_tokens_seen": 40 * s + seed, "accuracy": a}
        for s, a in points
    ]
    config = {
        "model": model,
        "task": task,
        "level": level,
        "seed": seed,
        "train_size": train_size,
        "loss_mode": "completion",
        "prompt_loss_weight": 0.0,
        "steps": 200,
        "batch_size": 8,
    }
    run_id = f"{task}_{model}_{level}_s{seed}_n{train_size}"
    return SimpleNamespace(
        run_id=run_id,
        config=config,
        params=SIZES[model],
        metrics=metrics,
        curve=curve,
        extra={"train_size": train_size},
    )


def grid(cells: dict, seeds=(0, 1, 2), **kw) -> list:
    """``{(model, level): test accuracy or per-seed list}`` -> runs."""
    runs = []
    for (model, level), value in cells.items():
        for seed in seeds:
            p = value[seed] if isinstance(value, list) else value
            runs.append(fake_run(model, level, seed, p, **kw))
    return runs


def tables(runs):
    return results_frame(runs), correct_frame(runs)


def test_c1_holds_with_a_large_paired_gain():
    frame, correct = tables(grid({("m-small", "none"): 0.3, ("m-small", "long"): 0.7}))
    claim = check_c1(frame, correct)
    assert claim.verdict == HOLDS and claim.holds is True
    assert claim.diff == pytest.approx(40, abs=5) and claim.ci_low > 15
    assert (claim.n_seeds, claim.n_rows, claim.unit) == (3, N_ROWS, "points")
    assert "m-small" in claim.ours and "long (best on validation)" in claim.ours
    assert "paired bootstrap" in claim.method


def test_c1_chooses_the_level_on_validation_not_test():
    runs = grid({("m-small", "none"): 0.3})
    runs += [fake_run("m-small", "short", s, 0.8, validation=0.2) for s in range(3)]
    runs += [fake_run("m-small", "long", s, 0.5, validation=0.6) for s in range(3)]
    frame, correct = tables(runs)
    assert best_level_on_validation(frame, ["none", "short", "long"], params=1_000) == "long"
    claim = check_c1(frame, correct)
    assert "long (best on validation)" in claim.ours
    assert claim.diff == pytest.approx(20, abs=6)


@pytest.mark.parametrize(
    ("none", "long", "expected"),
    [
        (0.30, 0.38, DOES_NOT_HOLD),  # a clear gain, short of the claimed 15 points
        (0.6, 0.3, REVERSED),
        (0.5, 0.5, DOES_NOT_HOLD),  # a CI of [0, 0] rules out 15 points
        (0.30, 0.55, HOLDS),
    ],
)
def test_c1_verdicts(none, long, expected):
    runs = grid({("m-small", "none"): none})
    runs += grid({("m-small", "long"): long}) if none != long else []
    if none == long:  # the very same rows right: no difference at all
        runs += [
            fake_run("m-small", "long", s, run.metrics["test"]["correct"])
            for s, run in enumerate(runs)
        ]
    assert check_c1(*tables(runs)).verdict == expected


def test_without_per_row_results_the_ci_comes_from_seeds():
    cells = {
        ("m-small", "none"): [exact_bits(0.3)] * 3,
        ("m-small", "long"): [exact_bits(0.2), exact_bits(0.7), exact_bits(0.65)],
    }
    frame, _ = tables(grid(cells))
    claim = check_c1(frame)  # an old cache: no per-row table
    assert claim.n_rows == 0 and "seeds only" in claim.method
    assert claim.diff == pytest.approx(100 * (0.65 / 3), abs=0.01)
    # the mean clears 15 points, but the seeds' CI includes 0: this run cannot tell
    assert claim.ci_low < 0 < 15 < claim.ci_high and claim.verdict == INCONCLUSIVE
    assert claim.holds is False


def test_c2_compares_the_gain_of_long_over_short_across_sizes():
    cells = {
        ("m-small", "short"): 0.3,
        ("m-small", "long"): 0.7,
        ("m-mid", "short"): 0.4,
        ("m-mid", "long"): 0.6,
        ("m-large", "short"): 0.6,
        ("m-large", "long"): 0.62,
    }
    claim = check_c2(*tables(grid(cells)))
    assert claim.verdict == HOLDS and claim.diff == pytest.approx(38, abs=8)
    assert all(m in claim.ours for m in SIZES)
    flipped = {(m, "long" if lv == "short" else "short"): p for (m, lv), p in cells.items()}
    assert check_c2(*tables(grid(flipped))).verdict == REVERSED


def test_gain_table_has_every_contrast_by_size():
    cells = {(m, lv): p for m in SIZES for lv, p in (("none", 0.3), ("short", 0.4), ("long", 0.6))}
    gains = gain_table(*tables(grid(cells)))
    assert gains["params"].is_monotonic_increasing
    assert set(gains["contrast"]) == {"short − none", "long − none", "long − short"}
    long_none = gains[gains["contrast"] == "long − none"]["diff"]
    assert np.allclose(long_none, 0.3, atol=0.07) and set(gains["n_rows"]) == {N_ROWS}


def test_c3_modular_sum_near_chance_and_above_70():
    def claim(none, long):
        runs = grid({("m-small", "none"): none, ("m-small", "long"): long}, task="modular_sum")
        frame, correct = tables(runs)
        return check_c3(frame, 10, correct)

    good = claim(0.1, 0.9)
    assert good.verdict == HOLDS and good.diff == pytest.approx(20, abs=5)
    assert "chance 10.0 %" in good.ours
    assert claim(0.3, 0.9).verdict == DOES_NOT_HOLD  # none far from chance
    assert claim(0.1, exact_bits(0.72)).verdict == INCONCLUSIVE  # 400 rows: 72 % is not > 70 %
    assert claim(0.1, 0.4).verdict == REVERSED  # clearly below the bar
    # best clearly above 70 %, none within 5 points of chance by its mean but not by its CI
    near_by_mean = [exact_bits(p) for p in (0.06, 0.14, 0.22)]
    assert claim(near_by_mean, 0.9).verdict == INCONCLUSIVE
    # best − 70 % cannot tell, and none is far from chance: the claim fails on its other part
    assert claim(0.3, exact_bits(0.72)).verdict == DOES_NOT_HOLD


def c3_large_runs(large: dict[str, float], small_too: bool = True) -> list:
    """Modular-sum runs: the small model near chance and at 0.9, and ``large`` (exact rows)."""
    cells = {("m-large", lv): exact_bits(p) for lv, p in large.items()}
    if small_too:
        cells |= {("m-small", "none"): 0.1, ("m-small", "long"): 0.9}
    return grid(cells, task="modular_sum")


def test_c3_large_every_explained_level_above_98():
    frame, correct = tables(c3_large_runs({"none": 0.1, "short": 0.995, "long": 1.0}))
    claim = check_c3_large(frame, correct)
    assert claim.claim == C3_LARGE_ID and claim.verdict == HOLDS
    assert claim.statement == STATEMENTS[C3_LARGE_ID] and claim.paper == PAPER[C3_LARGE_ID]
    assert "> 98 %" in claim.paper
    assert claim.diff == pytest.approx(1.5) and claim.ci_low > 0  # short, the weaker: 99.5 − 98
    assert claim.ours.startswith("m-large (largest modular-sum model): short 99.5 %")
    assert "long 100.0 %" in claim.ours and "weakest short" in claim.ours
    assert "none" not in claim.ours.split(":", 1)[1]  # answer-only is not an explanation level


def test_c3_large_the_weakest_level_decides():
    frame, correct = tables(c3_large_runs({"short": 0.80, "medium": 0.99, "long": 1.0}))
    claim = check_c3_large(frame, correct)
    assert claim.verdict == REVERSED and claim.diff == pytest.approx(-18)  # short: 80 % − 98 %
    assert "medium 99.0 %" in claim.ours and "weakest short" in claim.ours
    at_bar = check_c3_large(*tables(c3_large_runs({"short": 0.98, "long": 1.0})))
    assert at_bar.verdict == INCONCLUSIVE  # 98 % is not > 98 %
    one_size = check_c3_large(*tables(c3_large_runs({"long": 1.0}, small_too=False)))
    assert one_size.verdict == NOT_MEASURED and "larger size" in one_size.ours


def test_still_learning_overrides_the_verdict_of_a_claim_that_compares_the_cell():
    cells = {
        ("m-small", "short"): 0.3,
        ("m-small", "long"): 0.7,
        ("m-large", "short"): 0.6,
        ("m-large", "long"): 0.62,
    }
    frame, correct = tables(grid(cells))
    assert check_c2(frame, correct).verdict == HOLDS
    other = {("m-mid", "listops", "long"), ("m-small", "modular_sum", "long")}
    assert check_c2(frame, correct, unfinished=other).verdict == HOLDS  # not compared by C2
    claim = check_c2(frame, correct, unfinished={("m-large", "listops", "short"), *other})
    assert claim.verdict == STILL_LEARNING and claim.holds is False
    assert claim.ours.endswith("; still learning: m-large short")
    assert claim.diff == check_c2(frame, correct).diff  # the measurement itself is kept


def test_still_learning_applies_to_every_check_and_leaves_not_measured_alone():
    frame, correct = tables(grid({("m-small", "none"): 0.3, ("m-small", "long"): 0.7}))
    unfinished = {("m-small", "listops", "none")}
    assert check_c1(frame, correct, unfinished).verdict == STILL_LEARNING
    assert check_c2(frame, correct, unfinished).verdict == NOT_MEASURED  # one size: no C2
    modsum = tables(c3_large_runs({"short": 0.995, "long": 1.0}))
    late = {("m-large", "modular_sum", "short")}
    large = check_c3_large(*modsum, unfinished=late)
    assert large.verdict == STILL_LEARNING and "still learning: m-large short (modular_sum)" in (
        large.ours
    )
    modsum_frame, modsum_correct = modsum
    c3 = check_c3(modsum_frame, 10, modsum_correct, unfinished=late)
    assert c3.verdict == HOLDS  # C3 compares m-small only
    c3 = check_c3(modsum_frame, 10, modsum_correct, {("m-small", "modular_sum", "long")})
    assert c3.verdict == STILL_LEARNING
    runs = curve_runs({"long": [100] * 3, "medium": [200] * 3, "short": [300] * 3})
    c6 = check_c6(results_frame(runs), 0.6, unfinished={("m-small", "listops", "medium")})
    assert c6.verdict == STILL_LEARNING and "m-small medium" in c6.ours


def test_with_still_learning_maps_a_format_to_the_level_it_extends():
    claim = Claim("C9", "s", "p", "ours", True, HOLDS, 1.0, 0.5, 1.5)
    compared = [("m", "listops", "none"), ("m", "listops", "fixed_width")]
    marked = with_still_learning(claim, compared, {("m", "listops", "long")})
    assert marked.verdict == STILL_LEARNING and marked.ours == "ours; still learning: m fixed_width"
    assert with_still_learning(claim, compared, {("m", "listops", "short")}) == claim


def efficiency_runs(gains: dict[int, float], sizes=(500, 2_000, 10_000)):
    runs = []
    for n in sizes:
        runs += grid({("m-large", "none"): 0.3}, train_size=n)
        runs += grid({("m-large", "long"): 0.3 + gains[n]}, train_size=n)
    return runs


def test_c4_at_the_paper_size_with_the_others_as_extra_rows():
    frame, correct = tables(efficiency_runs({500: 0.0, 2_000: 0.35, 10_000: 0.05}))
    main = check_c4(frame, correct)
    assert main.claim == "C4" and "2,000" in main.statement and main.verdict == HOLDS
    every = check_c4_all(frame, correct)
    assert [c.claim for c in every] == ["C4", "C4 (500 ex.)", "C4 (10,000 ex.)"]
    assert [c.verdict for c in every[1:]] == [DOES_NOT_HOLD, DOES_NOT_HOLD]
    smoke = tables(efficiency_runs({100: 0.4, 300: 0.0}, sizes=(100, 300)))
    assert check_c4(*smoke).claim == "C4" and "100 training" in check_c4(*smoke).statement


def test_c5_on_the_longer_split_for_the_largest_model():
    runs = [
        fake_run(m, lv, s, 0.5, test_long=p)
        for m, lv, p in (
            ("m-small", "none", 0.5),
            ("m-small", "medium", 0.2),
            ("m-large", "none", 0.2),
            ("m-large", "medium", 0.4),
        )
        for s in range(3)
    ]
    claim = check_c5(*tables(runs))
    assert claim.verdict == HOLDS and "m-large" in claim.ours and "test_long" in claim.ours


def curve_runs(steps_to_top: dict[str, list[int]], model: str = "m-small"):
    """Runs whose validation curve jumps to 0.6 at the given step per seed (0.1 before)."""
    runs = []
    for level, per_seed in steps_to_top.items():
        for seed, top in enumerate(per_seed):
            points = [(s, 0.6 if s >= top else 0.1) for s in (100, 200, 300, 400)]
            runs.append(fake_run(model, level, seed, 0.5, curve=points))
    return runs


def ramp(crossing: float, last: int = 400) -> list[tuple[int, float]]:
    """A curve every 100 steps that crosses 0.6 at ``crossing`` (between steps 100 and 200),
    rising 0.4 per 100 steps up to 0.95."""
    start = 0.6 - 0.4 * (crossing - 100) / 100
    return [(s, min(start + 0.4 * (s - 100) / 100, 0.95)) for s in range(100, last + 1, 100)]


def test_steps_to_accuracy_interpolates_between_the_points_around_the_crossing():
    runs = [
        fake_run("m-small", "long", 0, 0.5, curve=[(100, 0.2), (200, 0.5), (300, 0.8), (400, 0.9)]),
        fake_run("m-small", "short", 0, 0.5, curve=[(100, 0.9), (200, 0.95), (400, 0.95)]),
        fake_run("m-small", "none", 0, 0.5, curve=[(100, 0.3), (200, 0.5), (400, 0.4)]),
    ]
    steps = steps_to_accuracy(results_frame(runs), 0.6).set_index("level")
    # 0.5 at step 200, 0.8 at 300: a third of the way, not the grid's 300
    assert steps.loc["long", "steps_to_accuracy"] == pytest.approx(200 + 100 / 3)
    assert steps.loc["long", "tokens_to_accuracy"] == pytest.approx(8_000 + 4_000 / 3)
    # above it at the first point: from the untrained start (step 0, accuracy 0)
    assert steps.loc["short", "steps_to_accuracy"] == pytest.approx(100 * 0.6 / 0.9)
    assert steps.loc[["long", "short"], "reached"].all()
    # never reached: censored at the last step and its tokens, a lower bound
    none = steps.loc["none"]
    assert not none["reached"] and none["steps_to_accuracy"] == 400
    assert none["tokens_to_accuracy"] == 16_000 and none["final_accuracy"] == pytest.approx(0.4)
    assert set(steps["threshold"]) == {0.6} and steps.loc["long", "last_step"] == 400
    with pytest.raises(ValueError, match="accuracy must be"):
        steps_to_accuracy(results_frame(runs), 60)


def test_runs_of_one_model_are_read_up_to_the_fewest_steps_any_trained():
    """short trained twice as long and got there late; long never got there in its shorter run:
    cut at long's 200 steps, both count as not reached there, neither looks slower for its steps."""
    runs = [
        fake_run("m-small", "long", 0, 0.5, curve=[(100, 0.2), (200, 0.5)]),
        fake_run("m-small", "short", 0, 0.5, curve=[(100, 0.2), (200, 0.3), (400, 0.9)]),
        fake_run("m-large", "short", 0, 0.5, curve=[(100, 0.2), (200, 0.3), (400, 0.9)]),
    ]
    steps = steps_to_accuracy(results_frame(runs), 0.6).set_index(["model", "level"])
    small = steps.loc["m-small"]
    assert (small["last_step"] == 200).all() and not small["reached"].any()
    assert (small["steps_to_accuracy"] == 200).all()
    assert steps.loc[("m-large", "short"), "steps_to_accuracy"] == pytest.approx(200 + 200 / 2)


def test_c6_without_target_tokens_says_so():
    frame = results_frame(curve_runs({"long": [100, 100, 200], "short": [300, 400, 300]}))
    frame = frame.drop(columns="target_tokens_seen")
    claim = check_c6(frame, 0.6)
    assert claim.verdict == HOLDS and "tokens not recorded" in claim.ours


def test_curve_area_is_the_mean_accuracy_over_the_span_by_the_trapezoid_rule():
    runs = [
        fake_run("m-small", "long", 0, 0.5, curve=[(100, 0.2), (200, 0.6)]),
        fake_run("m-small", "short", 0, 0.5, curve=[(100, 0.2)]),
    ]
    frame = results_frame(runs)
    # from (0, 0): 100 · 0.1 + 100 · 0.4 = 50 over 200 steps
    area = curve_area(frame, 200).set_index("level")["curve_area"]
    assert area["long"] == pytest.approx(0.25)
    # to step 150, where the curve is at 0.4: 10 + 50 · 0.3 = 25 over 150 steps
    assert curve_area(frame, 150).set_index("level").loc["long", "curve_area"] == pytest.approx(
        25 / 150
    )
    assert math.isnan(area["short"])  # its curve ends at step 100, before the span does
    assert evaluation_spacing(frame) == 100


def test_c6_steps_to_a_fixed_accuracy():
    runs = curve_runs(
        {"long": [100, 100, 200], "medium": [200, 200, 200], "short": [300, 400, 300]}
    )
    frame = results_frame(runs)
    claim = check_c6(frame, 0.6)
    assert claim.verdict == HOLDS and claim.unit == "steps" and claim.diff == pytest.approx(200)
    assert "60 %" in claim.statement and "{" not in claim.statement
    assert "interpolated linearly" in claim.method and "0.6" in claim.method
    assert "short 333, medium 200, long 133" in claim.ours
    assert "every run reached it" in claim.ours and "curve points every 100 steps" in claim.ours
    reversed_ = curve_runs({"long": [300, 400, 300], "short": [100, 100, 200]})
    assert check_c6(results_frame(reversed_), 0.6).verdict == REVERSED
    medium_last = curve_runs({"long": [100] * 3, "medium": [400] * 3, "short": [300] * 3})
    assert check_c6(results_frame(medium_last), 0.6).verdict == DOES_NOT_HOLD
    unclear = {"long": [100, 300, 200], "short": [300, 100, 200]}  # short − long: 0 on average
    assert check_c6(results_frame(curve_runs(unclear)), 0.6).verdict == INCONCLUSIVE
    unclear_medium_last = curve_runs({**unclear, "medium": [400] * 3})
    assert check_c6(results_frame(unclear_medium_last), 0.6).verdict == DOES_NOT_HOLD


def test_c6_resolves_differences_finer_than_the_evaluation_grid():
    """long crosses at steps 140-160, short at 175-185: both between the same two curve points,
    so a step read off the grid could not tell them apart; the interpolated steps can."""
    crossings = {"long": [150, 140, 160], "short": [180, 175, 185]}
    runs = [
        fake_run("m-small", lv, seed, 0.5, curve=ramp(at, last=400 if lv == "long" else 300))
        for lv, per_seed in crossings.items()
        for seed, at in enumerate(per_seed)
    ]
    frame = results_frame(runs)
    claim = check_c6(frame, 0.6)
    assert claim.diff == pytest.approx(30) and claim.ci_low > 0 and claim.verdict == HOLDS
    assert "curve points every 100 steps" in claim.ours
    # the curve area over the span both trained (300 steps: short's runs end there): long ahead
    assert "over steps 0–300, long − short +" in claim.ours
    # three times the target tokens per step at long: in tokens long gets there later
    frame.loc[frame["level"] == "long", "target_tokens_seen"] *= 3
    in_tokens = check_c6(frame, 0.6)
    assert in_tokens.verdict == HOLDS  # judged in steps
    assert f"in target tokens: {REVERSED}" in in_tokens.ours


def test_c6_counts_runs_that_never_reach_the_accuracy_at_their_last_step():
    runs = curve_runs({"long": [100, 100, 100], "short": [500, 500, 300]})  # 500: never
    claim = check_c6(results_frame(runs), 0.6)
    assert claim.diff == pytest.approx((300 + 300 + 200) / 3, abs=0.01)  # 400: a lower bound
    assert "2 of 6 runs never reached it (short 2) by step" in claim.ours


def test_missing_conditions_are_not_measured():
    frame, correct = tables(grid({("m-small", "none"): 0.3}))
    found = [check_c1(frame, correct), check_c2(frame, correct), check_c6(frame, 0.6)]
    assert {c.verdict for c in found} == {NOT_MEASURED} and {c.holds for c in found} == {None}
    assert set(claims_table(found)["holds"]) == {"not measured"}


@pytest.mark.parametrize("check", [check_c1, check_c2, check_c4, check_c5])
def test_empty_frame(check):
    frame, correct = tables([])
    assert check(frame, correct).verdict == NOT_MEASURED


def test_contrast_checks_its_evidence():
    runs = grid({("m-small", "none"): 0.3, ("m-small", "long"): 0.5})
    runs[-1].metrics["test"]["correct"] += "1"
    frame, correct = tables(runs)
    conds = [Condition("none", params=1_000), Condition("long", params=1_000)]
    with pytest.raises(ValueError, match="differ in length"):
        contrast(frame, correct, conds, [-1.0, 1.0])
    twice = tables(runs + [fake_run("m-small", "none", 0, 0.3, train_size=5)])
    with pytest.raises(ValueError, match="several runs per seed"):
        contrast(*twice, [Condition("none", params=1_000)], [1.0])


def test_claims_table_and_files(tmp_path):
    frame, correct = tables(grid({("m-small", "none"): 0.3, ("m-small", "long"): 0.7}))
    c1 = check_c1(frame, correct)
    table = claims_table([c1])
    for column in ("claim", "statement", "paper", "ours", "diff", "ci_low", "ci_high", "verdict"):
        assert column in table
    assert {"n_seeds", "n_rows", "unit", "method", "holds"} <= set(table.columns)
    c10 = Claim("C10", "s", "p", "o", None)
    extra = Claim("C4 (500 ex.)", "s", "p", "o", False)
    write_claims([c10, extra], tmp_path / "b.csv")
    write_claims([c1], tmp_path / "a.csv")
    pd.DataFrame(
        {"claim": ["C5"], "statement": ["s"], "paper": ["p"], "ours": ["o"], "holds": ["yes"]}
    ).to_csv(tmp_path / "c_old.csv", index=False)  # written before verdicts existed
    back = read_claims(tmp_path)
    assert back["claim"].tolist() == ["C1", "C4 (500 ex.)", "C5", "C10"]
    assert back["verdict"].tolist() == [HOLDS, DOES_NOT_HOLD, HOLDS, NOT_MEASURED]
    assert verdict(c1) == HOLDS and verdict(c10) == NOT_MEASURED
    with pytest.raises(FileNotFoundError, match="run notebooks 02-05"):
        read_claims(tmp_path / "empty")


def final_rows(acc: dict, task="listops", split="test"):
    rows = []
    for (params, level), values in acc.items():
        for seed, v in enumerate(values):
            rows.append(
                {
                    **{"model": f"m{params}", "params": params, "train_size": 10, "task": task},
                    **{"level": level, "seed": seed, "stage": "final", "split": split},
                    **{"depth": "all", "length_bucket": "all", "step": 100},
                    **{"metric": "accuracy", "value": v},
                }
            )
    return pd.DataFrame(rows)


def test_breakdown_table_orders_buckets_numerically():
    frame = pd.concat(
        final_rows({(1, "none"): [acc] * 3}, split=split).assign(length_bucket=bucket)
        for bucket, split, acc in (
            ("15-18", "test_long", 0.2),
            ("8-10", "test", 0.5),
            ("1-7", "test", 0.6),
        )
    )
    table = breakdown_table(frame, "length_bucket", splits=("test", "test_long"))
    assert table["length_bucket"].tolist() == ["1-7", "8-10", "15-18"]
    assert table["mean"].tolist() == pytest.approx([0.6, 0.5, 0.2])
    assert breakdown_table(frame, "length_bucket").shape[0] == 2  # test split only by default


def test_curve_table_means_over_seeds_per_step():
    runs = [
        fake_run("m-small", "long", seed, 0.5, curve=[(10, a), (20, b)])
        for seed, (a, b) in enumerate([(0.1, 0.5), (0.3, 0.7)])
    ]
    frame = results_frame(runs)
    table = curve_table(frame)
    assert table["step"].tolist() == [10, 20] and table["mean"].tolist() == pytest.approx(
        [0.2, 0.6]
    )
    by_tokens = curve_table(frame, x="target_tokens_seen")  # differs by seed: averaged per step
    assert by_tokens["target_tokens_seen"].tolist() == pytest.approx([400.5, 800.5])
    assert set(by_tokens["n"]) == {2}


def test_steps_to_an_absolute_threshold():
    runs = curve_runs({"long": [100], "short": [500]})
    steps = steps_to_threshold(results_frame(runs), 0.5).set_index("level")["steps_to_threshold"]
    assert steps["long"] == 100 and math.isinf(steps["short"])


def test_seed_accuracies_and_lead_over_none_for_prose():
    frame = final_rows(
        {(1, "none"): [0.1, 0.12], (1, "long"): [0.9, 0.5], (2, "long"): [0.3, 0.3]},
        task="modular_sum",
    )
    assert seed_accuracies(frame, "long", task="modular_sum") == "50.0 %, 90.0 %"
    assert seed_accuracies(frame, "long", task="modular_sum", params=2) == "30.0 %, 30.0 %"
    assert seed_accuracies(frame, "short", task="modular_sum") == "not measured"
    table = pd.DataFrame(
        {
            "depth": ["1", "1", "2", "2"],
            "level": ["none", "long", "none", "long"],
            "mean": [0.5, 0.6, 0.3, 0.5],
        }
    )
    assert lead_over_none(table, "depth", "long") == "depth 1: +10.0 points, depth 2: +20.0 points"
    assert lead_over_none(table, "depth", "short") == "not measured"


def prompt_loss_rows(values: dict[tuple[str, str, float, int], list[float]]) -> pd.DataFrame:
    """Final test accuracies of chapter-5 runs keyed by (completion, method, PLW, train size)."""
    rows = []
    for (completion, method, plw, size), per_seed in values.items():
        for seed, value in enumerate(per_seed):
            rows.append(
                {
                    **{"completion": completion, "method": method, "prompt_loss_weight": plw},
                    **{"train_size": size, "seed": seed, "task": "listops", "stage": "final"},
                    **{"split": "test", "depth": "all", "length_bucket": "all"},
                    **{"metric": "accuracy", "value": value},
                }
            )
    return pd.DataFrame(rows)


def test_c7_and_c8_carry_a_verdict():
    plws = (0.0, 2.236e-3, 2.463e-2, 1e-1, 2.463e-1, 1.0)

    def sweep(short_curve, long_curve):
        return prompt_loss_rows(
            {
                (c, "it" if plw == 0 else "plw", plw, 200): [
                    f(plw**0.30103) + 0.002 * (s - 1) for s in range(3)
                ]
                for c, f in (("short", short_curve), ("long", long_curve))
                for plw in plws
            }
        )

    inverted = sweep(lambda x: -0.3 * (x - 0.6) ** 2 + 0.6, lambda x: 0.5 + 0.1 * x)
    c7 = check_c7(inverted)
    assert c7.holds is True and c7.verdict == HOLDS and c7.diff < 0 and c7.ci_high < 0
    u_shape = sweep(lambda x: 0.3 * (x - 0.5) ** 2 + 0.3, lambda x: 0.5 + 0.1 * x)
    assert check_c7(u_shape).verdict == REVERSED
    im = prompt_loss_rows(
        {("short", "im", 0.0, 100): [0.45, 0.46, 0.44], ("short", "it", 0.0, 100): [0.4] * 3}
    )
    c8 = check_c8(im)
    assert c8.holds is True and c8.verdict == HOLDS and c8.diff == pytest.approx(5.0)
    noisy = prompt_loss_rows(
        {("short", "im", 0.0, 100): [0.5, 0.3, 0.45], ("short", "it", 0.0, 100): [0.4] * 3}
    )
    assert check_c8(noisy).holds is False and check_c8(noisy).verdict == INCONCLUSIVE


def test_learning_rate_grid_marks_the_chosen_rate_and_the_grids_edge(tmp_path):
    from explain_utils.analysis.tables import learning_rate_grid, plateau_check_table

    folder = tmp_path / "calibration"
    folder.mkdir()
    rows = [("t5-50k", "none", 1e-3, 0.5), ("t5-50k", "none", 4e-3, 0.4)]
    rows += [("t5-50k", "long", 1e-3, 0.5), ("t5-50k", "long", 4e-3, 0.9)]
    grid = pd.DataFrame(rows, columns=["model", "level", "learning_rate", "validation_accuracy"])
    grid.assign(profile="quick", task="listops").to_csv(folder / "learning_rate_grid.csv")
    chosen = grid.loc[[0, 3]].assign(profile="quick", task="listops")
    chosen.to_csv(folder / "learning_rates.csv", index=False)
    table = learning_rate_grid(tmp_path, "quick")
    assert list(table.index.get_level_values("level")) == ["none", "long"]  # level order
    assert table.loc[("t5-50k", "none"), "chosen"] == "0.001"
    assert table.loc[("t5-50k", "long"), "at the grid's edge"] == "yes"
    assert table.loc[("t5-50k", "none"), "lr 0.004"] == 40.0
    assert "steps" not in table  # no plateau check yet
    assert "note" in learning_rate_grid(tmp_path / "none", "quick")
    steps = pd.DataFrame(
        [
            ("quick", "t5-50k", "listops", "none", 4000, 0.5, 0.0, -0.01, 0.01, 8000, False),
            ("quick", "t5-50k", "listops", "long", 16000, 0.95, 0.03, 0.01, 0.05, 16000, True),
            ("quick", "t5-50k", "modular_sum", "long", 4000, 0.99, 0.0, -0.01, 0.0, 8000, False),
            ("smoke", "t5-50k", "listops", "none", 20, 0.5, 0.0, -0.01, 0.01, 40, False),
        ],
        columns=[
            "profile", "model", "task", "level", "steps", "validation_accuracy", "gain",
            "gain_ci_low", "gain_ci_high", "longer_steps", "still_learning",
        ],
    )  # fmt: skip
    steps.to_csv(folder / "steps.csv", index=False)
    table = learning_rate_grid(tmp_path, "quick")
    assert table.loc[("t5-50k", "long"), "steps"] == 16000
    assert table.loc[("t5-50k", "long"), "still learning"] == "yes"
    checked = plateau_check_table(tmp_path, "quick")
    assert checked.loc[("t5-50k", "modular_sum", "long"), "its gain"] == "+0.0 [-1.0, +0.0]"
    assert "note" in plateau_check_table(tmp_path, "paper")  # no rows for that profile


def test_metric_table_summarises_a_final_metric_over_seeds():
    from explain_utils.analysis.tables import metric_table

    rows = [
        dict(stage="final", split=split, metric=metric, task="listops", depth="all",
             length_bucket="all", model="t5-50k", params=1, level="long", seed=seed, value=value)
        for split, metric, seed, value in [
            ("test", "step_accuracy", 0, 0.9), ("test", "step_accuracy", 1, 0.7),
            ("test_long", "step_accuracy", 0, 0.1), ("test", "accuracy", 0, 0.5),
        ]
    ]  # fmt: skip
    table = metric_table(pd.DataFrame(rows), "step_accuracy", ["model", "level"])
    assert len(table) == 1 and table["mean"].iloc[0] == pytest.approx(0.8)
