"""Chapter 5's glued sentences follow the verdicts and the numbers they are given, whatever they are."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from explain_utils.analysis.plw_fit import QuadraticFit
from explain_utils.analysis.stats import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, REVERSED
from explain_utils.chapters import prompt_loss as chapter
from explain_utils.chapters import prompt_loss_findings as findings
from explain_utils.claims.claim import NOT_MEASURED, Claim
from explain_utils.profiles.prompt_loss import prompt_loss_config
from explain_utils.studies.prompt_loss import HIGHEST, LOWEST, SAME_RATIO

# a = -0.3, vertex at w_p = 0.6, interval of a below 0
INVERTED = QuadraticFit(-0.3, 0.36, 0.5, -0.4, -0.2, 30, 0.5, 0.7)
FLAT = QuadraticFit(0.01, -0.01, 0.5, -0.05, 0.07, 30)
U_SHAPE = QuadraticFit(0.3, -0.36, 0.5, 0.2, 0.4, 30)
# bends down, but its maximum is at w_p = 1.5, beyond PLW 1
OUTSIDE = QuadraticFit(-0.3, 0.9, 0.1, -0.4, -0.2, 30)


def _claim(cid: str, verdict: str, diff: float = math.nan, low=math.nan, high=math.nan) -> Claim:
    return Claim(cid, "statement", "paper", "ours text", verdict == HOLDS, verdict, diff, low, high)


@pytest.fixture()
def data_dir(tmp_path):
    (tmp_path / "data" / "listops").mkdir(parents=True)
    (tmp_path / "data" / "listops" / "train.parquet").touch()
    return tmp_path / "data"


def test_configure_takes_the_parameters_from_the_notebooks_namespace(data_dir, tmp_path):
    namespace = {
        "profile": "smoke",
        "data_dir": data_dir,
        "runs_dir": tmp_path / "runs",
        "results_dir": tmp_path / "results",
        "seeds": "[3, 4]",
        "model": None,  # the profile's value
        "chapter": object(),  # a notebook's other names are not parameters
    }
    config = chapter.configure(namespace)
    assert config == prompt_loss_config(
        "smoke", data_dir, tmp_path / "runs", tmp_path / "results", seeds="[3, 4]"
    )
    assert config.seeds == (3, 4)


# ---------------------------------------------------------------- the headlines, by verdict


@pytest.mark.parametrize(
    ("verdict", "fits", "says", "not_says"),
    [
        (HOLDS, {LOWEST: INVERTED, HIGHEST: FLAT}, "accuracy is an inverted U", "does not"),
        (INCONCLUSIVE, {LOWEST: INVERTED, HIGHEST: FLAT}, "curvature includes 0: this run cannot tell", "is an inverted U"),
        (DOES_NOT_HOLD, {LOWEST: FLAT, HIGHEST: FLAT}, "does not bend downwards", "inverted U"),
        (DOES_NOT_HOLD, {LOWEST: OUTSIDE, HIGHEST: FLAT}, "lies outside (0, 1)", "accuracy is an inverted U"),
        (DOES_NOT_HOLD, {LOWEST: INVERTED, HIGHEST: INVERTED}, f"The {HIGHEST} data show the same inverted U", "accuracy is an inverted U"),
        (REVERSED, {LOWEST: U_SHAPE, HIGHEST: FLAT}, "accuracy is a U", "accuracy is an inverted U"),
        (NOT_MEASURED, {LOWEST: None, HIGHEST: None}, "cannot fit both sweeps", "inverted U"),
        ("a verdict word this module lacks", {LOWEST: FLAT, HIGHEST: FLAT}, "What the sweeps' fits say of C7", "inverted U"),
    ],
)  # fmt: skip
def test_c7_headline_says_what_its_verdict_says(verdict, fits, says, not_says):
    text = findings.c7_headline(_claim("C7", verdict), fits)
    assert says in text and not_says not in text
    assert text.endswith(f"(C7: {verdict})")


@pytest.mark.parametrize(
    ("verdict", "diff", "says"),
    [
        (HOLDS, (5.0, 1.0, 9.0), "IM is more accurate than IT"),
        (
            INCONCLUSIVE,
            (2.0, -1.0, 5.0),
            "the interval of IM − IT includes 0: this run cannot tell",
        ),
        (DOES_NOT_HOLD, (-1.9, -5.0, 1.0), "IM is not ahead of IT"),
        (REVERSED, (-5.0, -9.0, -1.0), "IM is less accurate than IT"),
        (
            "a verdict word this module lacks",
            (0.5, -3.0, 4.0),
            "instruction data: IM − IT +0.5 points [-3.0, +4.0]",
        ),
    ],
)
def test_c8_headline_says_what_its_verdict_says(verdict, diff, says):
    by_size = pd.DataFrame({"train_size": [1000, 100], "diff": [0.0, 0.0]})
    text = findings.c8_headline(_claim("C8", verdict, *diff), by_size)
    assert says in text and "(100)" in text and f"{diff[0]:+.1f} points" in text
    assert text.endswith(f"(C8: {verdict})")
    others = {"more accurate", "not ahead", "less accurate", "by the mean"} - {
        w for w in ("more accurate", "not ahead", "less accurate", "by the mean") if w in says
    }
    assert not any(w in text for w in others)


def test_c8_headline_without_runs_says_so():
    text = findings.c8_headline(_claim("C8", NOT_MEASURED), pd.DataFrame())
    assert "no IM and IT runs" in text and text.endswith("(C8: not measured)")


# ---------------------------------------------------------------- weighing C7


def test_rule_sentence_follows_the_comparison():
    assert "models clear the one-line rule" in findings.rule_sentence(0.6, 0.5)
    assert "do not clear" in findings.rule_sentence(0.485, 0.494)
    assert "48.5 %, against 49.4 %" in findings.rule_sentence(0.485, 0.494)


@pytest.mark.parametrize(
    ("clears", "overfitting", "says"),
    [
        (False, 1, "undertrained, and IT overfits in 1 of its 5 curves"),
        (False, 1, "is reached only in part"),
        (False, 0, "is not reached"),
        (True, 5, "can do the task, and IT overfits in 5 of its 5 curves"),
        (True, 2, "is reached in part"),
        (True, 0, "but IT overfits in 0 of its 5 curves"),
    ],
)
def test_regime_sentence_follows_the_rule_and_the_overfitting(clears, overfitting, says):
    assert says in findings.regime_sentence(clears, overfitting, 5)


def test_regime_sentence_without_curves():
    assert "no loss curves" in findings.regime_sentence(True, 0, 0)


def test_curvature_sentence_follows_the_fit():
    assert "on these models; whether it survives" in findings.curvature_sentence(INVERTED, False)
    assert "on models that learn the task" in findings.curvature_sentence(INVERTED, True)
    assert "not distinguishable from 0" in findings.curvature_sentence(FLAT, True)
    assert "bends upwards" in findings.curvature_sentence(U_SHAPE, False)
    assert "too few weights" in findings.curvature_sentence(None, False)


def test_high_sentence_follows_the_fit_and_the_rule():
    assert "do clear the rule (best cell 68.0 %)" in findings.high_sentence(FLAT, True, 0.68)
    assert "do not clear" in findings.high_sentence(FLAT, False, 0.3)
    assert "no curvature distinguishable from 0, as the paper found" in findings.high_sentence(
        FLAT, True, 0.68
    )
    assert "bend downwards too" in findings.high_sentence(INVERTED, True, 0.68)
    assert "bend upwards" in findings.high_sentence(U_SHAPE, True, 0.68)


# ---------------------------------------------------------------- reading C8 along the size


def _gains(rows: list[tuple[int, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["train_size", "diff", "ci_low", "ci_high"]).assign(
        data_type=LOWEST
    )


def test_by_size_sentence_says_where_the_interval_leaves_zero():
    quick = _gains(
        [(100, -0.019, -0.05, 0.01), (300, 0.053, 0.0, 0.099), (1000, 0.044, 0.005, 0.088)]
    )
    text = findings.by_size_sentence(quick)
    assert text.startswith("at the smallest size (100 examples) the interval of IM − IT includes 0")
    assert "IM is ahead, its interval above 0, at 1,000 examples" in text and "300" not in text
    behind = findings.by_size_sentence(
        _gains([(100, 0.05, 0.01, 0.09), (300, -0.05, -0.09, -0.01)])
    )
    assert (
        "lies above 0" in behind and "IM is behind, its interval below 0, at 300 examples" in behind
    )
    flat = findings.by_size_sentence(_gains([(100, 0.0, -0.01, 0.01), (300, 0.0, -0.01, 0.01)]))
    assert "at no larger size does the interval exclude 0" in flat
    assert "no larger size" in findings.by_size_sentence(_gains([(100, -0.05, -0.09, -0.01)]))


def test_findings_values_glue_every_sentence_of_what_we_found():
    sweep = pd.DataFrame(
        {
            "data_type": [LOWEST, LOWEST, HIGHEST],
            "prompt_loss_weight": [0.0, 0.1, 0.0],
            "mean": [0.40, 0.485, 0.68],
        }
    )
    overfit = pd.DataFrame({"method": ["it", "it", "im"], "overfits": [True, False, True]})
    by_size = _gains([(100, -0.019, -0.05, 0.01)])
    values = findings.findings_values(
        _claim("C7", HOLDS),
        _claim("C8", DOES_NOT_HOLD, -1.9, -5.0, 1.0),
        sweep,
        {LOWEST: INVERTED, HIGHEST: FLAT},
        {chapter.RULE: 0.494},
        overfit,
        by_size,
        _effects({(LOWEST, "all"): (0.03, 0.01, 0.05), (SAME_RATIO, "all"): (-0.2, -0.3, -0.1)}),
        {"kind": _contrast(0.23, 0.1, 0.3), "masking": None},
    )
    assert values["c7_headline"].endswith("(C7: holds)")
    assert "its effect is higher on prompts in words (+23.0 points" in values["mechanism_headline"]
    assert values["c8_headline"].endswith("(C8: does not hold)")
    assert "do not clear" in values["c7_rule"]
    assert "IT overfits in 1 of its 2 curves" in values["c7_regime"]
    assert "whether it survives" in values["c7_curvature"]
    assert "do clear the rule" in values["c7_high"]
    assert values["c8_ours"] == "ours text"


def _effects(cells: dict) -> pd.DataFrame:
    """PLW − IT rows at PLW 1 per (data type, prompt tokens): (diff, ci_low, ci_high)."""
    return pd.DataFrame(
        [
            {"data_type": name, "prompt_tokens": tokens, "prompt_loss_weight": 1.0,
             "diff": d, "ci_low": lo, "ci_high": hi}
            for (name, tokens), (d, lo, hi) in cells.items()
        ]
    )  # fmt: skip


def _contrast(diff: float, low: float, high: float) -> dict[str, float]:
    return {"prompt_loss_weight": 1.0, "diff": diff, "ci_low": low, "ci_high": high}


NO_EFFECT, HARMS = (0.0, -0.02, 0.02), (-0.2, -0.3, -0.1)


@pytest.mark.parametrize(
    ("cells", "contrasts", "says", "not_says"),
    [
        ({(LOWEST, "all"): NO_EFFECT, (SAME_RATIO, "all"): HARMS},
         {"kind": _contrast(0.2, 0.1, 0.3), "masking": _contrast(0.0, -0.03, 0.03)},
         "its effect is higher on prompts in words", "changes its effect"),
        # two verdicts that differ, but a difference of effects whose interval includes 0
        ({(LOWEST, "all"): (0.015, 0.001, 0.029), (SAME_RATIO, "all"): (0.014, -0.002, 0.03)},
         {"kind": _contrast(0.001, -0.02, 0.02), "masking": None},
         "the two effects cannot be told apart", "higher on prompts"),
        ({(LOWEST, "all"): HARMS, (SAME_RATIO, "all"): HARMS},
         {"kind": _contrast(0.0, -0.05, 0.05), "masking": _contrast(0.1, 0.05, 0.15)},
         "masking the expressions out of the prompt loss on the oneshot data changes its effect",
         "does not change"),
        ({(LOWEST, "all"): (0.1, 0.05, 0.15)}, {"kind": None}, "the mechanism is not tested", "effect"),
    ],
)  # fmt: skip
def test_mechanism_headline_follows_the_paired_contrasts(cells, contrasts, says, not_says):
    text = findings.mechanism_headline(_effects(cells), contrasts)
    assert says in text and not_says not in text
    assert "leaves accuracy where IT has it" not in text


# ---------------------------------------------------------------- the sections' values


def test_ratio_values_name_the_data_type_with_the_least_share():
    ratios = pd.DataFrame(
        {"R_g": [0.25, 0.64, 3.02]}, index=pd.Index(["oneshot", "instruction", "long"], name="x")
    )
    values = chapter.ratio_values(ratios)
    assert values["rg_long"] == "3.02" and values["share_oneshot"] == "0.20"
    assert values["share_least"] == "least on the oneshot data (0.20)"
    values = chapter.ratio_values(ratios.assign(R_g=[3.0, 0.64, 0.1]))
    assert values["share_least"].startswith("least on the long data")


def _selection(held_out: list[float], train: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "data_type": LOWEST,
            "learning_rate": 1e-3,
            "step": [25, 50, 75],
            "validation_accuracy": 0.5,
            "train_completion_loss": train,
            "validation_completion_loss": held_out,
        }
    )


def test_selection_regime_counts_the_runs_that_overfit():
    overfits = _selection([0.5, 0.3, 0.4], [0.3, 0.2, 0.1])
    still_falling = _selection([0.5, 0.4, 0.3], [0.3, 0.2, 0.1]).assign(learning_rate=5e-4)
    assert "In every one of the 1 selection runs" in chapter.selection_regime(overfits)
    assert "In none of the 1 selection runs" in chapter.selection_regime(still_falling)
    both = chapter.selection_regime(pd.concat([overfits, still_falling]))
    assert both.startswith("In 1 of the 2 selection runs")
    assert "no completion losses" in chapter.selection_regime(
        overfits.assign(train_completion_loss=None)
    )


def test_selection_values_note_a_choice_at_the_last_step():
    overfits = _selection([0.5, 0.3, 0.4], [0.3, 0.2, 0.1])
    at_edge = pd.DataFrame(
        {"last_step": [True, False], "learning_rate": 1e-3, "steps": 75}, index=[LOWEST, HIGHEST]
    )
    note = chapter.selection_values(overfits, at_edge)["edge_note"]
    assert note.startswith(f"For {LOWEST} the best accuracy point is the runs' last step")
    assert "lowest at step 50 and has risen since" in note and "50.0, 50.0, 50.0 %" in note
    falling = _selection([0.5, 0.4, 0.3], [0.3, 0.2, 0.1])
    note = chapter.selection_values(falling, at_edge)["edge_note"]
    assert "still falls at the last step" in note
    inside = at_edge.assign(last_step=False)
    assert chapter.selection_values(overfits, inside)["edge_note"].startswith("Every choice lies")


def test_capable_values_say_where_a_type_near_the_rule_stood():
    sweep = pd.DataFrame({"data_type": [LOWEST, HIGHEST], "mean": [0.70, 0.55]})
    chosen = pd.DataFrame({"learning_rate": 1e-3, "steps": 75}, index=[LOWEST, HIGHEST])
    selection = pd.concat(
        [
            _selection([0.5, 0.3, 0.4], [0.3, 0.2, 0.1]),
            _selection([0.5, 0.3, 0.4], [0.3, 0.2, 0.1]).assign(data_type=HIGHEST),
        ]
    )
    text = chapter.capable_values(sweep, {chapter.RULE: 0.494}, selection, chosen)["capable_cells"]
    assert f"{HIGHEST} is less than 10 points above it" in text and "lowest at step 50" in text
    assert f"{LOWEST} is less" not in text


def test_mechanism_values_read_the_largest_weight_not_the_best():
    effects = _effects({(LOWEST, "all"): (0.0, -0.03, 0.03)})
    best = _effects({(LOWEST, "all"): (0.05, 0.01, 0.09)}).assign(prompt_loss_weight=0.1)
    values = chapter.mechanism_values(pd.concat([best, effects], ignore_index=True))
    assert "PLW 1 − IT is not distinguishable from 0" in values[f"effect_{LOWEST}_all"]
    assert "PLW 0.1" not in values[f"effect_{LOWEST}_all"]


def test_sweep_values_compare_the_lowest_r_g_data_with_the_rule():
    sweep = pd.DataFrame(
        {
            "data_type": [LOWEST, LOWEST, HIGHEST],
            "prompt_loss_weight": [0.0, 0.1, 1.0],
            "mean": [0.40, 0.485, 0.68],
        }
    )
    fits = {LOWEST: INVERTED, HIGHEST: None}
    values = chapter.sweep_values(sweep, fits, {chapter.RULE: 0.494})
    assert values["low_vs_rule"] == f"the best {LOWEST} cell reaches 48.5 %, below the rule"
    assert values["best_run"] == f"68.0 % ({HIGHEST}, PLW 1)"
    assert "inverted U" in values[f"fit_{LOWEST}"] and f"fit_{HIGHEST}" not in values
    above = chapter.sweep_values(sweep, fits, {chapter.RULE: 0.3})
    assert above["low_vs_rule"].endswith("above the rule")


def test_normalization_values_without_a_shared_weight():
    values = chapter.normalization_values(pd.DataFrame(), {"completion": None})
    assert values == {
        "norm_at_one": "no weight was run with both loss normalisers",
        "fit_norm": "not fitted (fewer than 3 weights)",
    }
    contrast = pd.DataFrame(
        {"prompt_loss_weight": [0.1, 1.0], "difference": [0.0, 0.05], "ci_low": [-0.1, 0.01],
         "ci_high": [0.1, 0.09]}
    )  # fmt: skip
    text = chapter.normalization_values(contrast, {"completion": FLAT})["norm_at_one"]
    assert text.startswith("at PLW 1, dividing") and "is higher (+5.0 points" in text


def _overfit(it_overfits: bool, im_held_out: float, im_train: float) -> pd.DataFrame:
    rows = []
    for method, held_out, train, overfits in (
        ("it", 0.317, 0.031, it_overfits),
        ("im", im_held_out, im_train, False),
    ):
        rows.append(
            {"data_type": LOWEST, "method": method, "train_size": 100, "best_step": 75,
             "last_step": 150, "held_out_at_best": 0.261, "held_out_at_last": held_out,
             "train_at_best": 0.061, "train_at_last": train, "overfits": overfits}
        )  # fmt: skip
    return pd.DataFrame(rows)


def test_curve_values_follow_the_losses():
    values = chapter.curve_values(_overfit(True, 0.341, 0.019), 100)
    assert values["it_overfits"].startswith("IT overfits at 100 examples")
    assert (
        "(not lower)" in values["im_vs_it_curves"] and "(not higher)" in values["im_vs_it_curves"]
    )
    assert values["overfit_count"] == "1 of 1"
    values = chapter.curve_values(_overfit(False, 0.2, 0.05), 100)
    assert values["it_overfits"].startswith("IT does not overfit")
    assert "(lower)" in values["im_vs_it_curves"] and "(higher)" in values["im_vs_it_curves"]
    assert values["overfit_count"] == "0 of 1"


def test_a_hub_model_is_not_pre_trained_and_says_so():
    hub = chapter.Pretraining("gpt2", "gpt2")
    assert hub.describe() == "" and math.isnan(hub.loss)
    text = chapter.pretraining_values(hub)["pretrain_sentence"]
    assert "hub checkpoint" in text and "nats" not in text
