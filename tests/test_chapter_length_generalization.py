"""Chapter 4's modules (length generalization, explanation formats): every sentence the notebook
glues, for every verdict and on both sides of each threshold, from hand-made rows and claims; and
the first wrong step's slip, read from fake finished runs."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from explain_utils.analysis import step_errors
from explain_utils.analysis.results import correct_frame, results_frame
from explain_utils.analysis.stats import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, REVERSED
from explain_utils.chapters import explanation_formats as formats_chapter
from explain_utils.chapters import length_generalization as chapter
from explain_utils.claims.claim import NOT_MEASURED, Claim
from explain_utils.claims.formats import granularity_table
from explain_utils.tasks import formats, listops
from explain_utils.tasks.splits import CARD_NAME

UNKNOWN = "undecided"  # a verdict the chapter has no words for (stats.VERDICTS has four)
NESTED = (
    "[MAX 2 [MIN 4 7 ] [SM 5 7 1 ] ]"  # long steps: MIN 4 7 -> 4, SM 5 7 1 -> 3, MAX 2 4 3 -> 4
)


def _claim(cid: str, verdict: str) -> Claim:
    return Claim(cid, "statement", "paper", f"{cid} numbers", verdict == HOLDS, verdict)


def _config(tmp_path, **card) -> SimpleNamespace:
    """The fields the chapter reads, and a data card in ``tmp_path``."""
    splits = {
        "train": {"depth": {"1": 5, "2": 5}, "token_length": _lengths(5, 14, 35)},
        "test_long": {"depth": {"2": 5}, "token_length": _lengths(15, 26, 74)},
        "validation_long": {"rows": 1500},
    }
    (tmp_path / "listops").mkdir()
    card = {"modulus": 10, "splits": {**splits, **card}}
    (tmp_path / "listops" / CARD_NAME).write_text(json.dumps(card))
    return SimpleNamespace(
        models=("m-small", "m-large"),
        levels=("none", "short", "long"),
        seeds=(0, 1),
        data_dir=tmp_path,
        format_model="m-large",
        formats=("long_rewrite", "fixed_width"),
        modsum_models=("m-small",),
    )


def _lengths(low: int, high: int, long_target: float) -> dict:
    return {"source": {"min": low, "max": high}, "target_long": {"mean": long_target}}


# --- C5 and C5 with the best format: one sentence per verdict --------------------------------


@pytest.mark.parametrize(
    ("verdict", "says", "never"),
    [
        (HOLDS, "beats the answer-only level", "not ahead"),
        (INCONCLUSIVE, "includes 0, so this run cannot tell which is ahead", "beats"),
        (INCONCLUSIVE, "interval of the best explained level's lead", "by its mean"),
        (DOES_NOT_HOLD, "is not ahead", "beats"),
        (REVERSED, "the answer-only level beats the best explained level", "is ahead"),
        (NOT_MEASURED, "cannot compare", "beats"),
        (UNKNOWN, "is not settled", "is ahead"),
    ],
)
def test_c5_sentence_follows_the_verdict(verdict, says, never):
    values = chapter.c5_values(_claim("C5", verdict))
    assert says in values["c5_sentence"] and never not in values["c5_sentence"]
    assert values["c5_sentence"].endswith(f"(C5: {verdict})")
    assert values["c5_ours"] == "C5 numbers"


@pytest.mark.parametrize(
    ("verdict", "says"),
    [
        (HOLDS, "The best explained target (long_rewrite) beats the answer-only level by at least"),
        (INCONCLUSIVE, "lead over the answer-only level includes 0, so this run cannot tell"),
        (DOES_NOT_HOLD, "falls short of the +15 points"),
        (REVERSED, "The answer-only level beats the best explained target (long_rewrite)"),
        (NOT_MEASURED, "cannot compare"),
        (UNKNOWN, "(long_rewrite) beats the answer-only level by +15 points is not settled"),
    ],
)
def test_c5_format_sentence_follows_the_verdict_and_names_the_best(verdict, says):
    values = formats_chapter.c5_format_values(_claim("C5 (best format)", verdict), "long_rewrite")
    assert says in values["c5_format_sentence"]
    assert values["c5_format_sentence"].endswith(f"(C5 (best format): {verdict})")
    assert values["best_format"] == "long_rewrite"


def test_no_best_format_is_said_to_be_not_measured():
    values = formats_chapter.c5_format_values(_claim("C5 (best format)", NOT_MEASURED), None)
    assert values["best_format"] == "not measured"


# --- the longer split against the one-line rule, and the largest model on both sides -----------


@pytest.mark.parametrize(
    ("low", "high", "says"),
    [
        (0.00, 0.10, "every level falls below a one-line rule"),
        (0.27, 0.33, "every level falls to the level of a one-line rule"),
        (0.20, 0.33, "every level falls to or below the level of a one-line rule"),
        (0.40, 0.60, "every level stays above a one-line rule"),
        (0.20, 0.60, "some levels stay above a one-line rule and others do not"),
    ],
)
def test_rule_headline_places_the_models_against_the_rule(low, high, says):
    assert says in chapter.rule_headline(low, high, rule=0.30)


@pytest.mark.parametrize(
    ("test", "test_long", "says"),
    [
        (0.99, 0.31, "loses most of its accuracy past the training range: 99.0 % on test, 31.0 %"),
        (0.99, 0.60, "loses part of its accuracy"),
        (0.50, 0.49, "scores about as well past the training range as inside it"),
        (0.30, 0.60, "scores better past the training range than inside it"),
    ],
)
def test_range_summary_says_what_past_the_range_costs(test, test_long, says):
    text = chapter.range_summary("the largest model (m) with long explanations", test, test_long)
    assert text.startswith("The largest model (m) with long explanations") and says in text


def test_rule_values_read_the_largest_models_last_level_and_every_cell_of_test_long(tmp_path):
    config = _config(tmp_path)
    rows = [
        (model, level, split, mean)
        for model in config.models
        for level, split, mean in (
            ("none", "test", 0.5),
            ("long", "test", 0.99),
            ("none", "test_long", 0.28),
            ("long", "test_long", 0.25 if model == "m-small" else 0.31),
        )
    ]
    accuracies = pd.DataFrame(rows, columns=["model", "level", "split", "mean"])
    values = chapter.rule_values(config, accuracies, {chapter.RULE: 0.302})
    assert values["rule_long"] == "30.2 %"
    assert values["long_split_range"].endswith("between 25.0 % and 31.0 %")
    assert "falls to or below the level of" in values["rule_headline"]
    assert values["range_summary"].startswith("The largest model (m-large) with long explanations")
    assert "99.0 % on test, 31.0 % on test_long" in values["range_summary"]


# --- where accuracy breaks along the length buckets -------------------------------------------


def test_break_texts_a_collapse_after_a_steady_range():
    texts = chapter.break_texts(
        "long", [("1-7", 1.0), ("11-14", 0.99)], [("15-18", 0.48), ("19-22", 0.26)]
    )
    assert texts["break_headline"] == "Execution breaks a few tokens past the training range."
    assert texts["break_detail"].startswith("It scores 99–100 % in the buckets of the training")
    assert "48 % in the first bucket past its end (15-18 tokens)" in texts["break_detail"]
    assert "collapses within a few tokens" in texts["break_detail"]
    assert "fall from 99 % in the last bucket of the training range (11-14" in texts["break_short"]


def test_break_texts_a_fall_that_began_inside_the_range():
    texts = chapter.break_texts("long", [("1-7", 0.9), ("11-14", 0.6)], [("15-18", 0.2)])
    assert "breaks" in texts["break_headline"]
    assert "already falls within the training range" in texts["break_detail"]


def test_break_texts_no_break_says_so():
    texts = chapter.break_texts("long", [("1-7", 0.0), ("11-14", 0.0)], [("15-18", 0.0)])
    assert texts["break_headline"].startswith("Accuracy does not fall sharply")
    assert texts["break_detail"].startswith("It scores 0 % in the buckets")
    assert "collapses" not in texts["break_detail"] and "fall from" not in texts["break_short"]


def test_break_texts_without_both_sides():
    assert "not measured" in chapter.break_texts("long", [("1-7", 0.5)], [])["break_headline"]


def test_bucket_values_split_the_buckets_at_the_longest_training_expression(tmp_path):
    config = _config(tmp_path)
    buckets = pd.DataFrame(
        [
            ("m-large", "long", bucket, mean)
            for bucket, mean in (("15-18", 0.48), ("1-7", 1.0), ("11-14", 0.99), ("19-22", 0.26))
        ]
        + [("m-small", "long", "15-18", 0.9)],
        columns=["model", "level", "length_bucket", "mean"],
    )
    values = chapter.bucket_values(config, buckets)
    assert values["last_level_by_bucket"] == (
        "1-7 tokens 100 %, 11-14 tokens 99 %, 15-18 tokens 48 %, 19-22 tokens 26 %"
    )
    assert values["largest_level"] == "the largest model (m-large) with long explanations"
    assert "breaks" in values["break_headline"]


# --- the data: targets, the length jump, depth -------------------------------------------------


def _write_sources(tmp_path, split: str, sources: list[str]) -> None:
    pd.DataFrame({"source": sources}).to_parquet(tmp_path / "listops" / f"{split}.parquet")


def test_data_values_compare_the_ranges_and_the_targets(tmp_path):
    config = _config(tmp_path)
    _write_sources(tmp_path, "train", ["[MIN 4 7 ]", "[MAX 2 [MIN 4 7 1 3 ] ]"])
    _write_sources(tmp_path, "test_long", ["[MAX 2 [MIN 4 7 ] [SM 5 7 1 2 ] ]", NESTED])
    values = chapter.data_values(config)
    assert values["train_range"] == "5–14" and values["long_range"] == "15–26"
    assert values["long_target_train"] == "35" and values["long_target_long"] == "74"
    assert "74 tokens on average, 2.1 times the 35 of training" in values["target_growth"]
    jump = values["jump_sentence"]
    assert jump.startswith("The longer split is also a larger relative jump")
    # as deep as training, lists no longer (4 operands at most in both): more operators, not
    # more operands per list
    assert "at no greater depth and with argument lists no longer than in training" in jump
    assert "(at most 4 operands in both)" in jump
    assert "3.0 operators on average against 1.5 in training" in jump
    assert jump.endswith("so its explanation has more steps")
    assert "more operands" not in jump


def test_expression_shapes_count_operators_and_the_longest_list(tmp_path):
    (tmp_path / "listops").mkdir()
    _write_sources(tmp_path, "train", ["[MIN 4 7 ]", "[MAX 2 [MIN 4 7 1 3 ] ]"])
    shapes = chapter.expression_shapes(tmp_path / "listops", "train", 10)
    assert shapes.to_dict("list") == {"operators": [1, 2], "widest": [2, 4]}


@pytest.mark.parametrize(
    ("jump", "no_deeper", "widest", "operators", "says"),
    [
        (2.2, True, (4, 4), (2.2, 4.4), "also a larger relative jump than the paper's"),
        (1.5, True, (4, 3), (2.0, 2.0), "a smaller relative jump than the paper's"),
        (2.0, False, (4, 6), (3.0, 2.0), "a relative jump about as large as the paper's"),
    ],
)
def test_jump_sentence_against_the_papers(jump, no_deeper, widest, operators, says):
    text = chapter.jump_sentence("5–14", "15–26", jump, no_deeper, operators, widest)
    assert says in text and f"{jump:.1f} times that of training, against 2.0" in text
    assert ("at no greater depth" in text) is no_deeper
    assert ("deeper than any training expression" in text) is not no_deeper
    lists = {
        (4, 4): "with argument lists no longer than in training (at most 4 operands in both)",
        (4, 3): "with argument lists shorter than in training (at most 3 operands, against 4)",
        (4, 6): "with longer argument lists than any in training (6 operands against 4)",
    }[widest]
    assert lists in text
    steps = {(2.2, 4.4): "more steps", (2.0, 2.0): "about as many steps", (3.0, 2.0): "fewer steps"}
    assert text.endswith(f"so its explanation has {steps[operators]}")


def test_length_buckets_read_each_bucket_against_the_baselines_of_its_own_split(tmp_path):
    config = _config(tmp_path)
    config.chance = 0.1
    buckets = pd.DataFrame(
        [
            {"model": m, "params": p, "level": lv, "split": split, "length_bucket": b,
             "mean": 0.5, "ci_low": 0.4, "ci_high": 0.6}
            for m, p in (("m-small", 1), ("m-large", 2))
            for lv in ("none", "long")
            for split, b in (("test", "1-7"), ("test", "11-14"), ("test_long", "15-18"))
        ]
    )  # fmt: skip
    rule = chapter.RULE
    lines = {"test": {rule: 0.494}, "test_long": {rule: 0.302}}
    fig = chapter.plot_length_buckets(config, buckets, lines)
    for ax in fig.axes:
        drawn = {
            (tuple(line.get_xdata()), line.get_ydata()[0])
            for line in ax.get_lines()
            if line.get_gid() == "baseline" and line.get_ydata()[0] != 100 * config.chance
        }
        # the test_long rule (30.2 %) is not drawn over the buckets of the training range
        assert drawn == {((-0.5, 1.5), 49.4), ((1.5, 2.5), 30.2)}


@pytest.mark.parametrize(
    ("depths", "says"),
    [
        ([2], "Every expression of test_long has depth 2, no deeper than in training"),
        ([1, 2], "have depth 1–2, no deeper than in training"),
        ([2, 3], "reach depth 3, deeper than any in training (2; notebook 01)"),
    ],
)
def test_depth_sentence(depths, says):
    assert says in formats_chapter.depth_sentence(depths, 2)


def test_depth_values_read_the_card(tmp_path):
    values = formats_chapter.depth_values(_config(tmp_path))
    assert values["long_depth_sentence"].startswith("Every expression of test_long has depth 2")


def test_design_values_name_the_model_and_the_choice_split(tmp_path):
    assert formats_chapter.design_values(_config(tmp_path)) == {
        "format_model": "m-large",
        "n_validation_long": "1,500",
    }


# --- the model's own steps ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step_test", "step_long", "faithful", "headline", "detail"),
    [
        (
            0.99,
            0.38,
            0.999,
            "The steps go wrong, not the link from steps to answer.",
            "the model still executes what it wrote, but what it writes on a longer expression",
        ),
        (0.99, 0.38, 0.5, "and so does the link", "its answer often does not follow"),
        (0.5, 0.45, 0.95, "change little past the training range, and the answer follows", "still"),
        (0.02, 0.01, 0.0, "but the answer often does not follow", "often does not follow"),
    ],
)
def test_steps_texts(step_test, step_long, faithful, headline, detail):
    texts = chapter.steps_texts(step_test, step_long, faithful)
    assert headline in texts["steps_headline"] and detail in texts["steps_detail"]


def test_own_step_values_read_the_largest_models_last_level(tmp_path):
    config = _config(tmp_path)
    own_steps = pd.DataFrame(
        [
            (model, params, level, metric, split, mean)
            for model, params in (("m-small", 10), ("m-large", 20))
            for level in ("short", "long")
            for metric, split, mean in (
                ("step_accuracy", "test", 0.997),
                ("step_accuracy", "test_long", 0.381 if model == "m-large" else 0.1),
                ("faithfulness", "test", 1.0),
                ("faithfulness", "test_long", 0.999),
            )
        ],
        columns=["model", "params", "level", "metric", "split", "mean"],
    )
    values = chapter.own_step_values(config, own_steps)
    assert values["step_accuracy_test"] == "99.7 %"
    assert values["step_accuracy_test_long"] == "38.1 %"
    assert values["faithfulness_test_long"] == "99.9 %"
    assert values["steps_headline"] == "The steps go wrong, not the link from steps to answer."


# --- what is wrong at the first wrong step -------------------------------------------------------


def _gold(source: str = NESTED) -> str:
    return formats.write_target("long", listops.parse(source))


@pytest.mark.parametrize(
    ("prediction", "slip"),
    [
        (None, None),
        # step 2 is MAX 2 4 3 written where SM 5 7 1 belongs: right arithmetic, other operands
        ("the smallest of 4 7 is 4 ; the largest of 2 4 3 is 4 ; answer 4", "wrong operands"),
        # the SM step's own sum is wrong
        (
            "the smallest of 4 7 is 4 ; the sum of 5 7 1 modulo 10 : 5 + 7 = 2 , 2 + 1 = 3 so the "
            "result is 5 ; answer 5",
            "wrong arithmetic",
        ),
        ("the smallest of 4 7 is 4 ; answer 4", "missing"),
        ("the sum is 3 ; answer 3", "unreadable"),
    ],
)
def test_first_slip(prediction, slip):
    gold = _gold()
    assert step_errors.first_slip("long", prediction or gold, gold, 10) == slip


def _fake_run(tmp_path, seed: int, predictions: list[str]) -> SimpleNamespace:
    run_dir = tmp_path / f"run_{seed}"
    run_dir.mkdir()
    records = [{"prediction": p, "target": _gold()} for p in predictions]
    (run_dir / "predictions_test_long.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records)
    )
    config = {"model": "m-large", "level": "long", "seed": seed, "task": "listops"}
    return SimpleNamespace(run_id=f"run_{seed}", run_dir=str(run_dir), params=20, config=config)


def test_slip_shares_average_each_seeds_shares_of_its_wrong_steps(tmp_path):
    operands = "the smallest of 4 7 is 4 ; the largest of 2 4 3 is 4 ; answer 4"
    missing = "the smallest of 4 7 is 4 ; answer 4"
    runs = [
        _fake_run(tmp_path, 0, [operands, missing, _gold()]),  # 1/2 operands, 1/2 missing
        _fake_run(tmp_path, 1, [operands, operands]),  # all operands
    ]
    shares = step_errors.slip_shares(runs, "test_long", 10).iloc[0]
    assert shares["wrong operands"] == pytest.approx(75.0)
    assert shares["missing"] == pytest.approx(25.0)
    assert shares["wrong arithmetic"] == 0.0 and shares["unreadable"] == 0.0


def test_slip_shares_of_runs_without_a_wrong_step_are_empty(tmp_path):
    assert step_errors.slip_shares([_fake_run(tmp_path, 0, [_gold()])], "test_long", 10).empty


def test_slips_sentence_names_the_most_common_slip():
    text = chapter.slips_sentence(
        {"missing": 0.2, "wrong operands": 0.7, "wrong arithmetic": 0.1, "unreadable": 0.0}
    )
    assert "operands other than the gold step's (a wrong copy" in text and "in 70 %" in text
    assert "gets its own arithmetic wrong in 10 % and is missing" in text
    assert "cannot be read" not in text
    assert text.endswith("most often, a step takes the wrong operands, not the wrong arithmetic")
    text = chapter.slips_sentence(
        {"missing": 0.6, "wrong operands": 0.1, "wrong arithmetic": 0.0, "unreadable": 0.3}
    )
    assert "cannot be read as an operator applied to operands in 30 %" in text
    assert text.endswith("most often, the output stops too early")


def test_slip_values_of_a_run_without_wrong_steps(tmp_path):
    config = _config(tmp_path)
    values = chapter.slip_values(config, [_fake_run(tmp_path, 0, [_gold()])])
    assert values["slips_sentence"].startswith("None of its outputs on test_long")


# --- the formats against none and long, their curves, the SM granularity -----------------------


@pytest.mark.parametrize(
    ("verdicts", "says"),
    [
        ({"a": HOLDS, "b": REVERSED}, "A book format carries further than the long level on the "),
        ({"a": REVERSED, "b": REVERSED}, "every one falls behind it"),
        ({"a": INCONCLUSIVE, "b": REVERSED}, "No book format clearly carries further"),
        ({"a": UNKNOWN}, "No book format clearly carries further"),
        ({}, "not compared"),
    ],
)
def test_formats_headline(verdicts, says):
    assert says in formats_chapter.formats_headline(verdicts)


def test_comparison_values_word_every_contrast():
    rows = [
        ("test_long", "a − none", 0.001, -0.036, 0.035, INCONCLUSIVE),
        ("test_long", "b − none", -0.092, -0.129, -0.055, REVERSED),
        ("test_long", "a − long", -0.023, -0.108, 0.064, INCONCLUSIVE),
        ("test_long", "b − long", 0.10, 0.05, 0.15, HOLDS),
        ("test", "a − long", 0.001, -0.006, 0.008, UNKNOWN),
    ]
    gains = pd.DataFrame(
        rows, columns=["split", "contrast", "diff", "ci_low", "ci_high", "verdict"]
    )
    values = formats_chapter.comparison_values(gains)
    assert values["formats_vs_none"] == (
        "a +0.1 [-3.6, +3.5] points (inconclusive: the interval includes 0), "
        "b -9.2 [-12.9, -5.5] points (behind)"
    )
    assert values["formats_vs_long"] == (
        "a -2.3 [-10.8, +6.4] points (inconclusive: the interval includes 0), "
        "b +10.0 [+5.0, +15.0] points (ahead)"
    )
    assert values["formats_in_range"] == f"a +0.1 [-0.6, +0.8] points ({UNKNOWN})"
    assert values["formats_headline"].endswith("on the longer split: b.")


@pytest.mark.parametrize(
    ("low", "says"),
    [(0.962, "every format ends near its ceiling, at 96.2–99.8 %"), (0.1, "end at 10.0–99.8 %")],
)
def test_ceiling_text(low, says):
    assert says in formats_chapter.ceiling_text(low, 0.998)


def test_curve_values_find_the_rising_curves_and_the_last_interval(tmp_path):
    config = _config(tmp_path)
    curves = pd.DataFrame(
        [
            (level, step, mean)
            for level, means in (("long", (0.5, 0.97, 0.98)), ("fixed_width", (0.2, 0.9, 0.95)))
            for step, mean in zip((500, 1000, 1500), means, strict=True)
        ],
        columns=["level", "step", "mean"],
    )
    assert formats_chapter.curve_values(config, curves) == {
        "formats_rising": "fixed_width",
        "last_eval_gap": "500",
        "formats_ceiling": "on the training range, where every format ends near its ceiling, at "
        "95.0–98.0 %",
    }


@pytest.mark.parametrize(
    ("pairs", "says"),
    [
        (
            [("short", "test", HOLDS), ("medium", "test", DOES_NOT_HOLD)],
            "helps short on test; elsewhere the difference is not clear",
        ),
        ([("short", "test", HOLDS), ("medium", "test", REVERSED)], "helps short on test and hurts"),
        ([("short", "test", REVERSED)], "helps nowhere and hurts short on test"),
        ([("short", "test", INCONCLUSIVE), ("x", "test", UNKNOWN)], "makes no clear difference"),
        ([], "not compared"),
    ],
)
def test_granularity_sentence(pairs, says):
    assert says in formats_chapter.granularity_sentence(pairs)


def test_granularity_values_list_every_pair(tmp_path):
    granularity = pd.DataFrame(
        [("short_running − short", "test", 0.401, 0.013, 0.644, HOLDS)],
        columns=["contrast", "split", "diff", "ci_low", "ci_high", "verdict"],
    )
    values = formats_chapter.granularity_values(_config(tmp_path), granularity)
    assert values["granularity_gains"] == (
        "short_running − short +40.1 [+1.3, +64.4] points on test (holds)"
    )
    assert values["granularity_sentence"].endswith("helps short on test")
    assert values["granularity_model"] == "m-small"


def test_granularity_left_out_says_so(tmp_path):
    """granularity_levels [] (the quick profile): no runs, and the table and sentence say why."""
    empty = results_frame([])
    assert formats_chapter.granularity_accuracy(empty).iloc[0, 0] == formats_chapter.NOT_COMPARED
    table = granularity_table(empty, correct_frame([]))
    assert table.empty
    values = formats_chapter.granularity_values(_config(tmp_path), table)
    assert "granularity_levels is empty" in values["granularity_sentence"]
