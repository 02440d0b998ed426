"""Chapter 5's findings: the headlines of "What we found" and the sentences that weigh them, each
chosen by code from the claims' verdicts and this run's numbers, so that a run with any profile
states what its own results show (a verdict this module does not know gets a neutral headline).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from explain_utils.analysis.plw_fit import QuadraticFit
from explain_utils.analysis.stats import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, REVERSED
from explain_utils.chapters.prompt_loss import RULE, best_in
from explain_utils.chapters.prose import by_verdict
from explain_utils.claims.claim import NOT_MEASURED, Claim
from explain_utils.studies.prompt_loss import HIGHEST, LOWEST, SAME_RATIO

PAPERS_REGIME = "the regime the papers describe (a model that can do the task, overfitting a small instruction set)"


def _c7_shortfall(low: QuadraticFit | None, high: QuadraticFit | None) -> str:
    """Why C7 falls short although the lowest-R_g fit may bend (``claims.prompt_loss``'s rule)."""
    if low is None:
        return f"The {LOWEST} sweep has too few weights to fit"
    if low.a < 0 and not 0 < low.vertex_wp < 1:
        return (
            f"On the {LOWEST} data the fit bends downwards (a = {low.a:+.3f}), but its optimum "
            f"(w_p = {low.vertex_wp:.2f}) lies outside (0, 1)"
        )
    if low.a_high < 0 and high is not None and high.negative_with_inner_optimum:
        return (
            f"The {HIGHEST} data show the same inverted U as the {LOWEST} data, so the shape does "
            "not follow R_g"
        )
    return f"On the {LOWEST} data accuracy does not bend downwards in the prompt-loss weight"


def c7_headline(claim: Claim, fits: Mapping[str, QuadraticFit | None]) -> str:
    """C7's headline, chosen by its verdict: does accuracy form an inverted U in the weight on the
    lowest-R_g data, and not on the highest?"""
    sentences = {
        HOLDS: (
            f"On the {LOWEST} data accuracy is an inverted U in the prompt-loss weight, its "
            f"optimum inside (0, 1), and on the {HIGHEST} data it is not"
        ),
        INCONCLUSIVE: (
            f"On the {LOWEST} data the interval of the fit's curvature includes 0: this run "
            "cannot tell an inverted U in the prompt-loss weight from none"
        ),
        REVERSED: (
            f"On the {LOWEST} data accuracy is a U in the prompt-loss weight, its curvature's "
            "interval above 0: the opposite of the inverted U claimed"
        ),
        DOES_NOT_HOLD: _c7_shortfall(fits.get(LOWEST), fits.get(HIGHEST)),
        NOT_MEASURED: "This run's grid cannot fit both sweeps",
    }
    return by_verdict(claim, sentences, "What the sweeps' fits say of C7")


def c8_headline(claim: Claim, by_size: pd.DataFrame) -> str:
    """C8's headline, chosen by its verdict: is IM more accurate than IT with the fewest examples
    on the lowest-R_g data?"""
    if claim.verdict == NOT_MEASURED or by_size.empty:
        return by_verdict(claim, {}, "This run's grid has no IM and IT runs to compare")
    where = f"With the fewest examples ({int(by_size['train_size'].min()):,}) on the {LOWEST} data"
    diff = f"IM − IT {claim.diff:+.1f} points [{claim.ci_low:+.1f}, {claim.ci_high:+.1f}]"
    sentences = {
        HOLDS: f"{where}, IM is more accurate than IT ({diff})",
        INCONCLUSIVE: f"{where}, the interval of IM − IT includes 0: this run cannot tell ({diff})",
        DOES_NOT_HOLD: f"{where}, IM is not ahead of IT ({diff})",
        REVERSED: f"{where}, IM is less accurate than IT ({diff})",
    }
    return by_verdict(claim, sentences, f"{where}: {diff}")


def rule_sentence(best: float, rule: float) -> str:
    """Whether the lowest-R_g models clear the one-line rule (accuracies 0–1)."""
    clear = "clear" if best > rule else "do not clear"
    return (
        f"The {LOWEST} models {clear} the one-line rule: their best cell reaches "
        f"{100 * best:.1f} %, against {100 * rule:.1f} % for the rule."
    )


def regime_sentence(clears_rule: bool, overfitting: int, curves: int) -> str:
    """How far the lowest-R_g runs reach the papers' regime, from the rule and IT's overfitting."""
    if not curves:
        return "IT recorded no loss curves, so its overfitting cannot be read."
    count = f"IT overfits in {overfitting} of its {curves} curves (every data type and size)"
    if not clears_rule:
        reached = "is reached only in part" if overfitting else "is not reached"
        return f"The {LOWEST} models are undertrained, and {count}: {PAPERS_REGIME} {reached}."
    if overfitting == curves:
        return f"The {LOWEST} models can do the task, and {count}: {PAPERS_REGIME} is reached."
    reached = "is reached in part" if overfitting else "is not reached"
    return f"The {LOWEST} models can do the task, but {count}: {PAPERS_REGIME} {reached}."


def curvature_sentence(fit: QuadraticFit | None, clears_rule: bool) -> str:
    """What the lowest-R_g fit's curvature allows one to say, given how well the models do."""
    if fit is None:
        return f"The {LOWEST} sweep has too few weights to fit."
    if fit.a_high < 0:
        if clears_rule:
            return "The curvature is a CI-separated effect of the weight on models that learn the task."
        return (
            "The curvature is a CI-separated effect of the weight on these models; whether it "
            "survives in a model that learns the task is not shown here."
        )
    if fit.a_low > 0:
        return (
            f"The {LOWEST} fit bends upwards, its interval above 0: the weight matters, but not as "
            "an inverted U."
        )
    return (
        f"The {LOWEST} fit's curvature is not distinguishable from 0, so there is no effect of "
        "the weight to weigh here."
    )


def high_sentence(fit: QuadraticFit | None, clears_rule: bool, best: float) -> str:
    """The highest-R_g sweep's shape, beside the paper's long-completion data."""
    where = (
        f"The {HIGHEST} data, where the models {'do' if clears_rule else 'do not'} clear the rule "
        f"(best cell {100 * best:.1f} %),"
    )
    if fit is None:
        return f"{where} have too few weights to fit."
    if fit.a_high < 0:
        return f"{where} bend downwards too (a < 0, its interval below 0), unlike the paper's long-completion data."
    if fit.a_low > 0:
        return f"{where} bend upwards (a > 0, its interval above 0)."
    return f"{where} show no curvature distinguishable from 0, as the paper found for long-completion data."


def _side(row) -> str:
    if row.ci_low > 0:
        return "lies above 0"
    if row.ci_high < 0:
        return "lies below 0"
    return "includes 0"


def _sizes(sizes: list[int]) -> str:
    return ", ".join(f"{s:,}" for s in sizes) + " examples"


def by_size_sentence(by_size: pd.DataFrame) -> str:
    """Where, along the training-set size, IM − IT's interval leaves 0."""
    if by_size.empty:
        return "this run has no IM and IT runs to compare"
    rows = list(by_size.sort_values("train_size").itertuples())
    first, rest = rows[0], rows[1:]
    text = (
        f"at the smallest size ({int(first.train_size):,} examples) the interval of IM − IT "
        f"{_side(first)}"
    )
    if not rest:
        return f"{text}; this run has no larger size"
    ahead = [int(r.train_size) for r in rest if r.ci_low > 0]
    behind = [int(r.train_size) for r in rest if r.ci_high < 0]
    parts = []
    if ahead:
        parts.append(f"IM is ahead, its interval above 0, at {_sizes(ahead)}")
    if behind:
        parts.append(f"IM is behind, its interval below 0, at {_sizes(behind)}")
    if not parts:
        parts.append("at no larger size does the interval exclude 0")
    return "; ".join([text, *parts])


def _direction(effects: pd.DataFrame, data_type: str, tokens: str) -> str | None:
    """At the largest weight of one condition: ``up``, ``down`` (interval clear of 0) or ``flat``."""
    rows = effects[(effects["data_type"] == data_type) & (effects["prompt_tokens"] == tokens)]
    if rows.empty:
        return None
    last = rows.sort_values("prompt_loss_weight").iloc[-1]
    return "up" if last["ci_low"] > 0 else "down" if last["ci_high"] < 0 else "flat"


_MOVES = {
    "up": "raises accuracy",
    "down": "lowers accuracy",
    "flat": "cannot be told from IT",
}


def _points(contrast: Mapping[str, float]) -> str:
    return (
        f"{100 * contrast['diff']:+.1f} points [{100 * contrast['ci_low']:+.1f}, "
        f"{100 * contrast['ci_high']:+.1f}] at PLW {contrast['prompt_loss_weight']:g}"
    )


def mechanism_headline(
    effects: pd.DataFrame, contrasts: Mapping[str, Mapping[str, float] | None]
) -> str:
    """The mechanism experiment in one sentence: at the largest weight, what a prompt loss does
    on prompts in words and on prompts of expressions at the same R_g, and — judged by the paired
    interval of the difference of the two effects, not by comparing two verdicts — whether the
    kind of prompt, and masking the expressions, change it."""
    words, exprs = _direction(effects, LOWEST, "all"), _direction(effects, SAME_RATIO, "all")
    kind = contrasts.get("kind")
    if words is None or exprs is None or kind is None:
        return (
            "This run's grid lacks one of the two kinds of prompt, so the mechanism is not tested"
        )
    text = (
        f"At the largest weight a prompt loss {_MOVES[words]} on prompts in words ({LOWEST}) "
        f"and {_MOVES[exprs]} on prompts of expressions ({SAME_RATIO}); "
    )
    if kind["ci_low"] > 0 or kind["ci_high"] < 0:
        side = "higher" if kind["diff"] > 0 else "lower"
        text += f"its effect is {side} on prompts in words ({_points(kind)})"
    else:
        text += f"the two effects cannot be told apart ({_points(kind)})"
    masking = contrasts.get("masking")
    if masking is not None:
        changed = masking["ci_low"] > 0 or masking["ci_high"] < 0
        text += (
            f", and masking the expressions out of the prompt loss on the {SAME_RATIO} data "
            + ("changes its effect" if changed else "does not change its effect distinguishably")
            + f" (every token − words only: {_points(masking)})"
        )
    return text


def findings_values(
    c7: Claim,
    c8: Claim,
    sweep: pd.DataFrame,
    fits: Mapping[str, QuadraticFit | None],
    lines: Mapping[str, float],
    overfit: pd.DataFrame,
    by_size: pd.DataFrame,
    effects: pd.DataFrame,
    contrasts: Mapping[str, Mapping[str, float] | None],
) -> dict[str, str]:
    """Every sentence of "What we found": the two headlines, C7 weighed, C8 read along the size,
    and the mechanism experiment."""
    rule = lines[RULE]
    low_best, high_best = best_in(sweep, LOWEST), best_in(sweep, HIGHEST)
    it_curves = overfit[overfit["method"] == "it"]
    return {
        "c7_headline": c7_headline(c7, fits),
        "c8_headline": c8_headline(c8, by_size),
        "c8_ours": c8.ours,
        "c7_rule": rule_sentence(low_best, rule),
        "c7_regime": regime_sentence(
            low_best > rule, int(it_curves["overfits"].sum()), len(it_curves)
        ),
        "c7_curvature": curvature_sentence(fits.get(LOWEST), low_best > rule),
        "c7_high": high_sentence(fits.get(HIGHEST), high_best > rule, high_best),
        "c8_by_size": by_size_sentence(by_size),
        "mechanism_headline": mechanism_headline(effects, contrasts),
    }
