"""Chapter 2 (fine-tuning with explanations): its config from the notebook's parameters, the two
figures whose panels and titles depend on the run, and the sentences it glues. Every sentence
that states a finding is chosen here from this run's numbers and its claims' verdicts, so that a
rerun with any profile says what its own numbers say.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from explain_utils.analysis.baselines import BASELINE_LABELS
from explain_utils.analysis.stats import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, REVERSED
from explain_utils.analysis.tables import lead_over_none, seed_accuracies
from explain_utils.chapters.notebook import Stopwatch, run_cost_text
from explain_utils.chapters.prose import by_verdict, claim_values, listed, params_text, trend
from explain_utils.claims.claim import Claim
from explain_utils.claims.listops import C3_BEST, C3_CHANCE_BAND, MIN_GAIN
from explain_utils.common.names import LEVELS
from explain_utils.engine.models import PRESETS
from explain_utils.engine.run_store import RunResult
from explain_utils.plots.accuracy import (
    plot_accuracy_vs,
    plot_groups_by_model,
)
from explain_utils.profiles.checks import from_notebook
from explain_utils.profiles.explanations import (
    MAX_DOUBLINGS,
    ExperimentConfig,
    experiment_config,
)
from explain_utils.tasks.splits import read_data_card

RULE = BASELINE_LABELS["root_op_flat"]  # the one-line rule every trained model is held against
NEAR_RULE = 0.05  # answer-only accuracy within 5 points of the rule is "about the rule"
FAR_BELOW = 0.20  # "far below" a baseline: more than 20 points under it
PAPER_SMALLEST_PARAMS = 60_000_000  # the paper's smallest model, T5-small
NUMBER_WORDS = {2: "Both", 3: "All three", 4: "All four", 5: "All five"}


def configure(namespace: Mapping[str, Any]) -> ExperimentConfig:
    """The validated config of chapters 2-4 from the notebook's parameters (its ``globals()``)."""
    return from_notebook(experiment_config, namespace)


def run_values(results: Sequence[RunResult], stopwatch: Stopwatch) -> dict[str, str]:
    """What the runs cost, and the share of padding in their training batches."""
    padding = sum(r.extra.get("padding_fraction", 0) for r in results) / len(results)
    return {"run_cost": run_cost_text(results, stopwatch), "padding": f"{100 * padding:.0f} %"}


def _range(values: pd.Series) -> str:
    return f"{values.min():.1f}–{values.max():.1f} %"


def accuracy_values(
    accuracy: pd.DataFrame, lines: Mapping[str, float], steps: str
) -> dict[str, str]:
    """Answer-only and ``long`` accuracy across sizes, against the one-line rule.

    ``accuracy``: ``tables.level_pivot`` of test accuracy (%) by size, smallest first;
    ``lines``: the ListOps test baselines (fractions); ``steps``: the answer-only runs' steps, as
    ``level_steps`` writes them.
    """
    rule = 100 * lines[RULE]
    none = accuracy["none"]
    values = {
        "none_range": _range(none),
        "long_range": _range(accuracy["long"]) if "long" in accuracy else "not measured",
        "rule_test": f"{rule:.1f} %",
        "none_over_rule": f"{none.iloc[-1] - rule:+.1f}",
    }
    values["answer_only"] = answer_only_text(none, rule, steps, values)
    values["long_reach"] = (
        f"With long explanations the same models reach {values['long_range']}."
        if "long" in accuracy
        else "This run trained no long level."
    )
    return values


def level_steps(frame: pd.DataFrame, level: str, task: str = "listops") -> str:
    """The steps ``level``'s runs trained for (each cell has its own): "4,000" or "4,000–8,000"."""
    steps = frame.loc[(frame["level"] == level) & (frame["task"] == task), "steps"]
    if steps.empty:
        return "its"
    low, high = int(steps.min()), int(steps.max())
    return f"{low:,}" if low == high else f"{low:,}–{high:,}"


def answer_only_text(none: pd.Series, rule: float, steps: str, values: Mapping[str, str]) -> str:
    """Where answer-only training ends (``none``, % by size) against the rule (%)."""
    gaps = none - rule
    near = 100 * NEAR_RULE
    if (gaps.abs() <= near).all():
        side = "just above" if (gaps > 0).all() else "just below" if (gaps < 0).all() else "at"
        return (
            f"Answer-only training ends at {values['none_range']} test accuracy at every size, "
            f"{side} the one-line rule that applies the root operator to all the numbers "
            f"({values['rule_test']}; the largest model is {values['none_over_rule']} points from "
            f"it): whatever a model learns from answers alone in {steps} steps, it is little "
            "more than that rule."
        )
    if (gaps > near).all():
        relation = f"more than {near:.0f} points above"
        reading = "answer-only training learns more than that rule."
    elif (gaps < -near).all():
        relation = f"more than {near:.0f} points below"
        reading = f"in {steps} steps answer-only training does not even reach that rule."
    else:
        relation = "on both sides of"
        reading = "the sizes do not agree on how answer-only training compares with that rule."
    return (
        f"Answer-only training ends at {values['none_range']} test accuracy, {relation} the "
        f"one-line rule that applies the root operator to all the numbers ({values['rule_test']}; "
        f"the largest model is {values['none_over_rule']} points from it): {reading}"
    )


def _gains_by_contrast(gains: pd.DataFrame, column: str = "diff") -> pd.Series:
    """Each contrast's ``column`` per size, smallest first (``tables.gain_table`` rows)."""
    return gains.sort_values("params").groupby("contrast", sort=False)[column].apply(list)


def gains_by_size(gains: pd.DataFrame) -> str:
    """Every paired gain per size with its direction, for prose."""
    by_contrast = _gains_by_contrast(gains)
    if by_contrast.empty or len(by_contrast.iloc[0]) < 2:
        return "one size only"
    sizes = " → ".join(gains.sort_values("params")["model"].unique())
    return f"({sizes}) " + "; ".join(
        f"{c} {trend(d)}: {' → '.join(f'{100 * x:+.1f}' for x in d)} points"
        for c, d in by_contrast.items()
    )


CLAIMED_GAIN = f"the claimed {100 * MIN_GAIN:.0f} points"
C1_PHRASES = {
    HOLDS: f"at the smallest size the best level clears {CLAIMED_GAIN}",
    INCONCLUSIVE: "at the smallest size the interval of the best level's gain over none "
    f"includes 0, so this run cannot tell whether it clears {CLAIMED_GAIN}",
    DOES_NOT_HOLD: f"at the smallest size the best level does not clear {CLAIMED_GAIN}",
    REVERSED: "at the smallest size the best level is worse than none",
}
C2_PHRASES = {
    HOLDS: "The gain of long over short is larger at the smallest size than at the largest, "
    "as in the paper",
    INCONCLUSIVE: "The interval of the difference in the gain of long over short between the "
    "smallest and the largest size includes 0, so this run cannot tell whether the gain is larger "
    "at the smallest size",
    DOES_NOT_HOLD: "The gain of long over short is not clearly larger at the smallest size than at "
    "the largest",
    REVERSED: "The gain of long over short does not shrink with size: it is larger at the largest "
    "size than at the smallest",
}


def gain_values(gains: pd.DataFrame, c1: Claim, c2: Claim) -> dict[str, str]:
    """The headlines of C1 and C2 and the reading of the gains by size."""
    by_contrast = _gains_by_contrast(gains)
    long_short = by_contrast.get("long − short", [])
    sizes = gains.drop_duplicates("params")["params"].sort_values()
    return {
        **claim_values(c1, c2),
        "gains_by_size": gains_by_size(gains),
        "c1_headline": c1_headline(gains, c1),
        "c2_headline": by_verdict(
            c2,
            C2_PHRASES,
            "This run does not settle whether the gain of long over short shrinks with size",
        )
        + ".",
        "c2_trend": f"{model_origin(gains['model'])}, our gain of long over short "
        + (f"{trend(long_short)} with size" if len(long_short) > 1 else trend(long_short)),
        "size_reading": size_reading(by_contrast.get("long − none", []), sizes),
        "size_scope": size_scope(sizes, c2),
    }


def model_origin(models: pd.Series) -> str:
    """How this run's models came to be: the presets are trained from scratch, anything else (the
    paper profile's ``t5-small`` ...) is fine-tuned from a pretrained checkpoint."""
    if set(models) <= set(PRESETS):
        return "trained from scratch"
    return "fine-tuned from pretrained checkpoints"


def c1_headline(gains: pd.DataFrame, c1: Claim) -> str:
    """Which levels help at every size (paired interval above 0), which by ``MIN_GAIN`` or more,
    and C1's verdict at the smallest size."""
    over_none = gains[gains["contrast"].str.endswith("− none")]
    level = over_none["contrast"].str.split(" − ").str[0]
    helped = over_none.groupby(level, sort=False)["ci_low"].apply(lambda s: bool((s > 0).all()))
    wide = over_none.groupby(level, sort=False)["diff"].apply(lambda s: bool((s >= MIN_GAIN).all()))
    if helped.empty:
        text = "No explained level was compared with none"
    elif helped.all():
        text = "Every explanation level helps at every size"
    elif helped.any():
        yes, no = list(helped[helped].index), list(helped[~helped].index)
        verb = "helps" if len(yes) == 1 else "help"
        text = f"{listed(yes)} {verb} at every size, {listed(no)} not at every size"
    else:
        text = "No explanation level helps at every size"
    if wide.any():
        text += f", {listed(list(wide[wide].index))} by {100 * MIN_GAIN:.0f} points or more"
    unsettled = f"this run does not settle {CLAIMED_GAIN} at the smallest size"
    return f"{text}; {by_verdict(c1, C1_PHRASES, unsettled)}."


def size_reading(long_none: Sequence[float], sizes: pd.Series) -> str:
    """What the gain of ``long`` over none does across the sizes trained."""
    if len(long_none) < 2:
        return "One size was trained, so nothing here depends on size."
    span = f"Within {params_text(sizes.iloc[0])}–{params_text(sizes.iloc[-1])} parameters"
    direction = trend(long_none)
    if direction == "grows":
        return (
            f"{span}, a larger model executes a long written-out explanation better: the gain "
            "of long over none grows with size."
        )
    if direction == "shrinks":
        return f"{span}, the gain of long over none shrinks with size, the paper's pattern."
    return f"{span}, the gain of long over none {direction} with size."


def size_scope(sizes: pd.Series, c2: Claim) -> str:
    """How the sizes trained compare with the paper's smallest model."""
    if sizes.empty:
        return "No size was compared with none."
    if sizes.iloc[-1] >= PAPER_SMALLEST_PARAMS:
        return f"The sizes reach the paper's range ({params_text(PAPER_SMALLEST_PARAMS)} and more)."
    count = NUMBER_WORDS.get(len(sizes), "The" if len(sizes) == 1 else f"All {len(sizes)}")
    noun = "size is" if len(sizes) == 1 else "sizes are"
    paper = (
        f"the paper's smallest model (T5-small, {params_text(PAPER_SMALLEST_PARAMS)} parameters)"
    )
    text = f"{count} {noun} far below {paper}"
    if c2.verdict == HOLDS:
        return text + ", and the paper's pattern already shows at these sizes."
    return (
        text + ", so the size at which the paper's pattern (gains shrinking as models grow) "
        "would take over is not reached here."
    )


def design_values(config: ExperimentConfig) -> dict[str, str]:
    """The numbers the chapter's prose states about its design, from the config and the data:
    curve spacing and rows, C6's fixed accuracy, the plateau check's rows and cap, chapter 3's
    model."""
    card = read_data_card(config.data_dir / "listops")["splits"]
    cap = 2**MAX_DOUBLINGS
    return {
        "eval_every": f"{config.eval_every:,}",
        "eval_examples": f"{config.eval_examples:,}",
        "convergence_accuracy": f"{100 * config.convergence_accuracy:g} %",
        "validation_rows": f"{card['validation']['rows']:,}",
        "steps_cap": f"{cap}",
        "max_steps": f"{cap * config.steps:,}",
        "de_model": config.data_efficiency_model,
    }


def plateau_values(checked: pd.DataFrame, gains: pd.DataFrame) -> dict[str, str]:
    """What the plateau check chose (``checked``: ``tables.plateau_check_table``): the steps of
    each cell, the cells still gaining at its cap, and the gains over none that fall at the
    largest size (a fall in a cell still learning is a lower bound, not a finding)."""
    if "steps" not in checked:
        text = (
            "This run has no plateau check: every cell trained for the profile's steps, and "
            "whether it had finished learning was not tested."
        )
        return {"still_learning": "none", "plateau_text": text, "gain_exceptions": ""}
    rows = checked.reset_index()
    task = rows["task"].map(lambda t: "" if t == "listops" else " (modular sum)")
    rows["cell"] = rows["model"] + " " + rows["level"] + task
    chosen = "; ".join(
        f"{steps:,} steps for {listed(cells)}"
        for steps, cells in rows.groupby("steps")["cell"].apply(list).items()
    )
    still = rows.loc[rows["still learning"] == "yes", "cell"].tolist()
    if still:
        cap = int(rows["steps"].max())
        text = (
            f"The plateau check chose {chosen}. Still gaining at the cap ({cap:,} steps): "
            f"{listed(still)}; a claim that compares one of them is inconclusive (still learning)."
        )
    else:
        text = (
            f"The plateau check chose {chosen}. No cell was still gaining when it stopped: a run "
            "twice as long as the chosen one did not end clearly higher on validation."
        )
    return {
        "still_learning": ", ".join(still) if still else "none",
        "plateau_text": text,
        "gain_exceptions": gain_exceptions(gains, still),
    }


def gain_exceptions(gains: pd.DataFrame, unfinished: Iterable[str]) -> str:
    """The gains over none that fall from the second-largest size to the largest, and whether
    those cells were still learning (``model level``; then the fall is a lower bound, not a
    finding)."""
    by_contrast = _gains_by_contrast(gains[gains["contrast"].str.endswith("− none")])
    if by_contrast.empty or len(by_contrast.iloc[0]) < 2:
        return "There is no larger size to compare with."
    falls = {c.split(" − ")[0]: d[-2:] for c, d in by_contrast.items() if d[-1] < d[-2]}
    if not falls:
        return "No level's gain over none falls at the largest size."
    details = ", ".join(f"{lv} {100 * a:+.1f} → {100 * b:+.1f}" for lv, (a, b) in falls.items())
    one = len(falls) == 1
    text = (
        f"{'The gain' if one else 'The gains'} of {listed(list(falls))} over none "
        f"{'falls' if one else 'fall'} at the largest size ({details} points)"
    )
    largest = gains.sort_values("params")["model"].iloc[-1]
    cells = [f"{largest} {lv}" for lv in falls if f"{largest} {lv}" in set(unfinished)]
    if not cells:
        return f"{text}; {'that cell' if one else 'those cells'} had finished learning."
    if len(cells) == 1:
        return (
            f"{text}; {cells[0]} was still learning at the plateau check's cap, so that point is "
            "a lower bound."
        )
    return (
        f"{text}; {listed(cells)} were still learning at the plateau check's cap, so those "
        "points are lower bounds."
    )


def plateau_table(plateaus: pd.DataFrame, levels: Sequence[str]) -> pd.DataFrame:
    """Mean step (over seeds) at which each level's validation curve first reaches the fixed
    accuracy (``plateaus``: ``tables.steps_to_accuracy``), by size; "≥ n" where some run never
    reached it, its mean then counting those runs at their last step (a lower bound)."""
    grouped = plateaus.groupby(["params", "model", "level"])
    means, all_reached = grouped["steps_to_accuracy"].mean(), grouped["reached"].all()
    shown = pd.Series(
        [f"{'' if ok else '≥ '}{m:,.0f}" for m, ok in zip(means, all_reached, strict=True)],
        index=means.index,
    )
    table = shown.unstack("level")
    return table[[lv for lv in levels if lv in table.columns]]


C6_PHRASES = {
    HOLDS: "the longer the explanation, the sooner it gets there",
    INCONCLUSIVE: "the interval of short − long includes 0, so this run cannot tell whether "
    "longer explanations get there sooner",
    # chiefly medium out of the order long ≤ medium ≤ short by its mean (claims.listops.check_c6)
    DOES_NOT_HOLD: "the levels do not get there in the order of their explanations' length",
    REVERSED: "longer explanations get there later",
}


def convergence_values(c6: Claim, plateaus: pd.DataFrame) -> dict[str, str]:
    """C6's headline (when the smallest model's levels first reach the fixed validation accuracy,
    ``plateaus``: ``tables.steps_to_accuracy``) and how high their curves end."""
    small = plateaus[plateaus["params"] == plateaus["params"].min()]
    steps = small.groupby("level")["steps_to_accuracy"].mean()
    # the curves are read up to the model's common horizon (the fewest steps any of its cells
    # trained), so "final" here is the accuracy at that step, not at each run's own end
    final = small.groupby("level")["final_accuracy"].mean()
    at = f"mean validation accuracy at step {small['last_step'].max():,.0f}"
    target = f"{100 * small['threshold'].iloc[0]:g} % validation accuracy"
    explained = [lv for lv in LEVELS[1:] if lv in steps.index]
    if "none" not in steps.index or not explained:
        when = f"At the smallest size, steps to {target} were not compared with none"
        height = f"{at.capitalize()}: {_shares(final)}."
    else:
        later = steps[explained] - steps["none"]
        when = "At the smallest size, explained levels " + (
            f"take longer than none to reach {target}"
            if (later > 0).all()
            else f"reach {target} sooner than none"
            if (later < 0).all()
            else f"reach {target} at the same step as none"
            if (later == 0).all()
            else f"reach {target} neither all sooner nor all later than none"
        )
        higher = final[explained] - final["none"]
        height = (
            "By then they stand above none"
            if (higher > 0).all()
            else "By then they stand below none"
            if (higher < 0).all()
            else "By then they do not all stand above none"
        ) + f": {at} {_shares(final)}."
    unsettled = "this run does not settle whether longer explanations get there sooner"
    return {
        **claim_values(c6),
        "c6_headline": f"{when}{_censored(small)}; {by_verdict(c6, C6_PHRASES, unsettled)}.",
        "c6_detail": height,
    }


def _censored(steps: pd.DataFrame) -> str:
    """`` (3 of 3 none runs never reached it by step 4,000: counted there, a lower bound)``, or
    "" when every run reached it."""
    missed = steps[~steps["reached"]].groupby("level").size()
    runs = steps.groupby("level").size()
    parts = [f"{missed[lv]} of {runs[lv]} {lv} runs" for lv in LEVELS if lv in missed.index]
    if not parts:
        return ""
    step = f"{steps['last_step'].max():,.0f}"
    return f" ({listed(parts)} never reached it by step {step}: counted there, a lower bound)"


def _shares(values: pd.Series) -> str:
    """``none 52.0 %, long 93.1 %``: fractions by level, in level order."""
    return ", ".join(f"{lv} {100 * values[lv]:.1f} %" for lv in LEVELS if lv in values.index)


def plot_depth(by_depth: pd.DataFrame, config: ExperimentConfig, chance: float) -> plt.Figure:
    """Test accuracy by expression depth, smallest model above the largest."""
    return plot_groups_by_model(
        by_depth,
        (config.models[0], config.models[-1]),
        "depth",
        "expression depth (nesting levels)",
        "Test accuracy by depth",
        chance,
    )


def depth_values(by_depth: pd.DataFrame, config: ExperimentConfig) -> dict[str, str]:
    """How the lead of the last level over none moves with depth at the largest model."""
    model, level = config.models[-1], config.levels[-1]
    largest = by_depth[by_depth["model"] == model]
    leads_text = lead_over_none(largest, "depth", level)
    means = largest.pivot_table(index="depth", columns="level", values="mean", sort=False)
    if not {"none", level} <= set(means.columns) or level == "none":
        return {"depth_leads": leads_text, "depth_text": "The lead by depth was not measured."}
    direction = trend((means[level] - means["none"]).tolist())
    lead = f"At the largest model, {model}, the lead of {level} over answer-only"
    if direction == "grows":
        text = (
            f"{lead} grows with depth and is largest in the most nested expressions, where an "
            f"intermediate result has to be carried: {leads_text}."
        )
    elif len(means) < 2:
        text = f"{lead} is measured at one depth only: {leads_text}."
    else:
        text = f"{lead} {direction} with depth: {leads_text}."
    return {"depth_leads": leads_text, "depth_text": text}


def plot_modsum(modsum: pd.DataFrame, chance: float, lines: Mapping[str, float]) -> plt.Figure:
    """Modular-sum test accuracy per level at every trained size, against chance and the exact
    flat-sum rule (``modsum``: ``tables.accuracy_table`` rows by model, params and level)."""
    return plot_accuracy_vs(
        modsum,
        "params",
        "model (parameters, log scale)",
        "Modular sum: test accuracy by model size and explanation level",
        chance,
        baselines=lines,
    )


C3_PHRASES = {
    HOLDS: "The modular sum is learnt only with explanations",
    REVERSED: f"The best level stays clearly below the claimed {100 * C3_BEST:.0f} % on the "
    "modular sum",
}


def modsum_values(
    c3: Claim,
    frame: pd.DataFrame,
    smallest: pd.DataFrame,
    lines: Mapping[str, float],
    chance: float,
) -> dict[str, str]:
    """C3's headline, and where each level of the smallest modular-sum model ends on test
    (``smallest``: its ``tables.accuracy_table`` rows; ``lines``: the modular-sum baselines).

    C3 joins two parts (``claims.listops.check_c3``), so an ``inconclusive`` or a ``does not
    hold`` is worded by which part decided it: whether the best level is clearly above the claimed
    70 % (C3's diff is best − 70 %, its CI above 0)."""
    best = smallest.sort_values("mean").iloc[-1]
    clear = c3.ci_low > 0  # False for a NaN bound
    claimed, band = f"{100 * C3_BEST:.0f} %", f"{100 * C3_CHANCE_BAND:.0f} points"
    learnt = f"An explained level learns the modular sum to the claimed {claimed}"
    phrases = {
        **C3_PHRASES,
        INCONCLUSIVE: f"{learnt}, but the interval of answer-only training reaches further than "
        f"{band} from chance, so this run cannot tell whether it is learnt only with explanations"
        if clear
        else f"The interval of the best level's accuracy includes the claimed {claimed}, so this "
        "run cannot tell whether the modular sum is learnt only with explanations",
        DOES_NOT_HOLD: f"{learnt}, but answer-only training does not stay within {band} of chance"
        if clear
        else f"Answer-only training does not stay within {band} of chance, and no explanation "
        f"level is clearly above the claimed {claimed}",
    }
    unsettled = "This run does not settle whether the modular sum is learnt only with explanations"
    return {
        **claim_values(c3),
        "c3_seeds": seed_accuracies(frame, best["level"], "modular_sum", best["params"]),
        "c3_headline": by_verdict(c3, phrases, unsettled) + ".",
        "c3_detail": modsum_detail(smallest.set_index("level")["mean"], lines, chance),
    }


def modsum_detail(accuracy: pd.Series, lines: Mapping[str, float], chance: float) -> str:
    """Each level's test accuracy (fractions by level), none against chance and the rule."""
    reached = [f"{lv} ends at {100 * accuracy[lv]:.1f} %" for lv in LEVELS[1:] if lv in accuracy]
    text = f"On test, {listed(reached)}" if reached else "No explained level was trained"
    if "none" not in accuracy:
        return text + "."
    none = accuracy["none"]
    near = "within" if abs(none - chance) <= C3_CHANCE_BAND else "outside"
    text += (
        f"; answer-only training ends at {100 * none:.1f} %, {near} the claim's "
        f"±{100 * C3_CHANCE_BAND:.0f} points of chance ({100 * chance:.1f} %)"
    )
    if RULE not in lines:
        return text + "."
    rule = lines[RULE]
    relation = "far below" if rule - none > FAR_BELOW else "below" if rule > none else "not below"
    return text + f", {relation} the one-line rule, which is exact here ({100 * rule:.1f} %)."
