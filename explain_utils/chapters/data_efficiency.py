"""Chapter 3 (data efficiency): its config from the notebook's parameters (chapter 2's), the
figure by training-set size, and the sentences it glues, each chosen from this run's numbers and
C4's verdict: the lead of explanations per size, answer-only training against the one-line rule,
and what an explained example costs in target tokens and compute."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from explain_utils.analysis.baselines import BASELINE_LABELS
from explain_utils.analysis.stats import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, REVERSED
from explain_utils.chapters.prose import by_verdict, claim_values, listed, trend
from explain_utils.claims.claim import Claim
from explain_utils.claims.listops import MIN_GAIN, PAPER_TRAIN_SIZE
from explain_utils.common.names import LEVELS
from explain_utils.plots.accuracy import plot_accuracy_vs
from explain_utils.profiles.checks import from_notebook
from explain_utils.profiles.explanations import ExperimentConfig, experiment_config
from explain_utils.tasks.splits import read_data_card

RULE = BASELINE_LABELS["root_op_flat"]  # chapter 2's one-line rule

C4_PHRASES = {
    HOLDS: f"explanations win by the claimed {100 * MIN_GAIN:.0f} points or more",
    INCONCLUSIVE: "the interval of the explained level's lead over answer-only training includes "
    f"0, so this run cannot tell whether explanations win by the claimed {100 * MIN_GAIN:.0f} "
    "points",
    DOES_NOT_HOLD: f"explanations do not win by the claimed {100 * MIN_GAIN:.0f} points",
    REVERSED: "answer-only training wins",
}


def configure(namespace: Mapping[str, Any]) -> ExperimentConfig:
    """The validated config of chapters 2-4 from the notebook's parameters (its ``globals()``)."""
    return from_notebook(experiment_config, namespace)


def plot_by_size(
    by_size: pd.DataFrame, config: ExperimentConfig, chance: float, lines: Mapping[str, float]
) -> plt.Figure:
    """Test accuracy against the number of training examples, per level, with the baselines."""
    return plot_accuracy_vs(
        by_size,
        "train_size",
        "training examples (log scale)",
        f"Test accuracy by training-set size, {config.data_efficiency_model}",
        chance,
        baselines=lines,
    )


def rows_by_size(c4_rows: Sequence[Claim], shown_size: int) -> dict[int, Claim]:
    """The C4 rows by training-set size (``shown_size`` is the size of the row named plain "C4";
    the others name theirs, "C4 (10,000 ex.)")."""
    rows = {}
    for row in c4_rows:
        named = re.search(r"\(([\d,]+) ex\.\)", row.claim)
        rows[int(named.group(1).replace(",", "")) if named else shown_size] = row
    return dict(sorted(rows.items()))


def lead_by_size(c4_rows: Sequence[Claim], shown_size: int) -> pd.Series:
    """The best explained level's lead over none on test (points) per training-set size: each C4
    row's paired difference, its level chosen on validation."""
    rows = rows_by_size(c4_rows, shown_size)
    return pd.Series({n: r.diff for n, r in rows.items()}, dtype=float).sort_index()


def shown_size(by_size: pd.DataFrame) -> int:
    """The size C4 is judged at: the paper's 2 000 examples if trained, else the smallest."""
    sizes = set(by_size["train_size"])
    return PAPER_TRAIN_SIZE if PAPER_TRAIN_SIZE in sizes else int(min(sizes))


def c4_values(
    c4_rows: Sequence[Claim], by_size: pd.DataFrame, lines: Mapping[str, float]
) -> dict[str, str]:
    """C4 at its size (the paper's 2 000 examples if trained, else the smallest), the lead of
    explanations at every size, and answer-only training against the one-line rule."""
    c4 = next(c for c in c4_rows if c.claim == "C4")
    size = shown_size(by_size)
    gains = lead_by_size(c4_rows, size)
    where = (
        f"At the paper's comparison point, {size:,} examples"
        if size == PAPER_TRAIN_SIZE
        else f"At {size:,} examples, the smallest of the sweep (the paper compared at "
        f"{PAPER_TRAIN_SIZE:,})"
    )
    unsettled = f"this run does not settle whether explanations win by {100 * MIN_GAIN:.0f} points"
    intervals = rows_by_size(c4_rows, size)
    return {
        **claim_values(c4),
        "c4_size": f"{size:,}",
        "gains": ", ".join(
            f"{n:,} examples {g:+.1f}" + _interval(intervals.get(n)) for n, g in gains.items()
        ),
        "lead_where": lead_where_text(c4_rows, size),
        "c4_headline": f"{where}, {by_verdict(c4, C4_PHRASES, unsettled)}.",
        "answer_only": answer_only_text(by_size, lines),
    }


def answer_only_text(by_size: pd.DataFrame, lines: Mapping[str, float]) -> str:
    """Whether answer-only accuracy grows with the data and whether its 95 % interval clears the
    one-line rule at any size (``by_size``: ``tables.accuracy_table`` by train size and level)."""
    none = by_size[by_size["level"] == "none"].sort_values("train_size")
    if none.empty or RULE not in lines:
        return "Answer-only training was not compared with the one-line rule in this run."
    rule = lines[RULE]
    direction = trend(none["mean"].tolist())
    grows = {
        "grows": "improves with more data",
        "shrinks": "gets worse with more data",
        "is measured at one size only": "was trained at one size",
    }.get(direction, f"{direction} with more data")
    clear = none[none["ci_low"] > rule]["train_size"].tolist()
    if not clear:
        verdict, joint = "is never clearly above the one-line rule of chapter 2", "but"
        where = "at any size of the sweep"
    elif len(clear) == len(none):
        verdict, joint, where = (
            "is clearly above the one-line rule of chapter 2",
            "and",
            "at every size",
        )
    else:
        verdict, joint = "is clearly above the one-line rule of chapter 2", "and"
        where = "only at " + listed([f"{n:,}" for n in clear]) + " examples"
    joint = joint if direction == "grows" else "and"
    accuracies = " → ".join(f"{100 * m:.1f} %" for m in none["mean"])
    return (
        f"Answer-only training {grows} ({accuracies}) {joint} {verdict} (root operator over all "
        f"the numbers, {100 * rule:.1f} %) {where}."
    )


def token_values(
    config: ExperimentConfig, by_size: pd.DataFrame, c4_rows: Sequence[Claim]
) -> dict[str, str]:
    """Target tokens per example (data card, train split), the
    answer-only examples that hold as many target tokens as the smallest explained set, and what
    an explained example is worth against what it carries."""
    card = read_data_card(config.data_dir / "listops")["splits"]["train"]["token_length"]
    long_tokens, none_tokens = card["target_long"]["mean"], card["target_none"]["mean"]
    smallest = min(config.train_sizes)
    return {
        "long_tokens": f"{long_tokens:.0f}",
        "none_tokens": f"{none_tokens:.0f}",
        "equivalent_none": f"{smallest * long_tokens / none_tokens:,.0f}",
        "per_example": per_example_text(
            lead_by_size(c4_rows, shown_size(by_size)), long_tokens > none_tokens
        ),
    }


def token_overlap_values(per_token: pd.DataFrame) -> dict[str, str]:
    """Whether the sweep compares the levels at equal numbers of target tokens: for each explained
    level, whether its training sets and the answer-only ones hold overlapping numbers of target
    tokens (``per_token``: ``accuracy_table`` rows by train size and level with a
    ``train_target_tokens`` column, as in the figure)."""
    tokens = per_token.groupby("level")["train_target_tokens"].agg(["min", "max"])
    explained = [lv for lv in LEVELS[1:] if lv in tokens.index]
    if "none" not in tokens.index or not explained:
        return {
            "token_overlap": "this run has no answer-only and explained training sets to compare "
            "per target token"
        }
    return {"token_overlap": "; ".join(token_overlap_text(tokens, lv) for lv in explained)}


def token_overlap_text(tokens: pd.DataFrame, level: str) -> str:
    """``level``'s training sets against the answer-only ones on the target-token axis (``tokens``:
    the ``min`` and ``max`` target tokens of each level's sets)."""
    none, other = tokens.loc["none"], tokens.loc[level]
    low, high = max(none["min"], other["min"]), min(none["max"], other["max"])
    if low <= high:
        return (
            f"the answer-only and {level} training sets overlap between {low:,.0f} and "
            f"{high:,.0f} target tokens, where the two are compared at equal supervision"
        )
    fewer, more = ("none", level) if none["max"] < other["min"] else (level, "none")
    name = {"none": "answer-only", level: level}
    return (
        f"the largest {name[fewer]} training set holds {tokens.loc[fewer, 'max']:,.0f} target "
        f"tokens and the smallest {name[more]} set {tokens.loc[more, 'min']:,.0f}, so this sweep "
        f"never compares {level} with answer-only training at equal numbers of target tokens: "
        "the figure shows how far apart their training sets lie, not which level wins at equal "
        "supervision"
    )


def per_example_text(gains: pd.Series, longer: bool) -> str:
    """Whether an explained example beats an answer-only one at each size (``lead_by_size``), and
    whether it carries more target tokens (``longer``)."""
    cost = (
        "more supervision and costs proportionally more compute per step"
        if longer
        else "no more supervision than an answer"
    )
    worth = "an explained example is worth"
    if (gains > 0).all():
        joint = "but it also carries" if longer else "and it carries"
        return f"{worth} more than one answer at every size of the sweep, {joint} {cost}"
    if (gains <= 0).all():
        return (
            f"{worth} no more than one answer at any size of the sweep, although it carries {cost}"
        )
    ahead = listed([f"{n:,}" for n in gains[gains > 0].index])
    return f"{worth} more than one answer only at {ahead} examples, and it carries {cost}"


def compute_values(curves: pd.DataFrame) -> dict[str, str]:
    """Target tokens processed by the end of training, each explained level against none
    (``curves``: ``tables.curve_table`` against ``target_tokens_seen``)."""
    seen = curves.groupby("level")["target_tokens_seen"].max()
    explained = [lv for lv in LEVELS[1:] if lv in seen.index]
    if "none" not in seen.index or not seen["none"] or not explained:
        return {"compute_ratio": "this run has no explained and answer-only runs to compare"}
    ratios = [f"the {lv} runs {seen[lv] / seen['none']:.1f} times" for lv in explained]
    ratios[0] = ratios[0].replace(" runs ", " runs processed ", 1)
    return {
        "compute_ratio": f"by the end of training {listed(ratios)} the target tokens of "
        "the answer-only runs"
    }


def _interval(row: Claim | None) -> str:
    """`` [low, high]`` of a C4 row's paired difference in points, or nothing."""
    if row is None or pd.isna(row.ci_low):
        return ""
    return f" [{row.ci_low:+.1f}, {row.ci_high:+.1f}]"


def lead_where_text(c4_rows: Sequence[Claim], shown_size: int) -> str:
    """Where explanations stop paying: the sizes at which the best explained level's paired lead
    over answer-only training is clearly above 0 (its 95 % interval), and those where it is not."""
    rows = rows_by_size(c4_rows, shown_size)
    clear = [n for n, r in sorted(rows.items()) if r.ci_low > 0]
    unclear = [n for n, r in sorted(rows.items()) if not r.ci_low > 0]
    if not rows:
        return "This run compared no training-set sizes."
    if not unclear:
        return "The explained level leads clearly (its 95 % interval above 0) at every size."
    if not clear:
        return "The explained level's lead is never clearly above 0 at any size."
    return (
        f"The explained level leads clearly (its 95 % interval above 0) at "
        f"{listed([f'{n:,}' for n in clear])} examples and not at "
        f"{listed([f'{n:,}' for n in unclear])}."
    )


def scored_steps_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The step each size's runs were scored at (mean over seeds), per level: below the largest
    size the best point of the run's validation curve, at the largest the run's last step."""
    runs = frame.drop_duplicates("run_id") if "run_id" in frame else frame
    return runs.pivot_table(
        index="train_size", columns="level", values="steps", aggfunc="mean"
    ).round(0)


def scored_values(steps: pd.DataFrame, batch_size: int) -> dict[str, str]:
    """Where each size's runs were scored (``scored_steps_table``), and how many times the runs of
    the smallest size had seen each example by then."""
    if steps.empty:
        return {"scored_steps": "No runs were scored.", "epochs": "no"}
    smallest = int(steps.index.min())
    epochs = [
        f"{steps.loc[smallest, lv] * batch_size / smallest:.0f} ({lv})" for lv in steps.columns
    ]
    return {"scored_steps": scored_steps_text(steps), "epochs": listed(epochs)}


def scored_steps_text(steps: pd.DataFrame) -> str:
    """One sentence on ``scored_steps_table``: where each size's runs peaked on validation."""
    if steps.empty:
        return "No runs were scored."
    parts = [
        f"{n:,} examples at step "
        + ", ".join(f"{steps.loc[n, lv]:,.0f} ({lv})" for lv in steps.columns)
        for n in steps.index
    ]
    return "Mean step at which the runs were scored: " + "; ".join(parts) + "."
