"""Ballout et al.'s claims C1-C6, each judged on a paired difference with its bootstrap CI.

Every check takes the tidy rows (``results.results_frame``) and, optionally, the per-row table
(``results.correct_frame``); without the latter the CI comes from seeds alone. The best
explained level is chosen on the validation split (``analysis.tables.best_level_on_validation``)
and only then compared on test. Verdicts are ``stats.verdict``'s four values.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from explain_utils.analysis import stats
from explain_utils.analysis.results import final_accuracy
from explain_utils.analysis.tables import (
    PLATEAU_FRACTION,
    Condition,
    best_level_on_validation,
    contrast,
    steps_to_plateau,
)
from explain_utils.claims.claim import (
    LEVEL_CHOICE,
    PAIRED_METHOD,
    SEED_METHOD,
    STATEMENTS,
    Claim,
    accuracy_text,
    measured,
    missing,
)
from explain_utils.common.names import LEVELS

PAPER_TRAIN_SIZE = 2_000  # C4: the paper's data-efficiency point (T5-large, 2 000 samples)
MIN_GAIN = 0.15  # C1, C4: the claimed size of the gain, 15 accuracy points
C3_BEST, C3_CHANCE_BAND = 0.70, 0.05


def _method(estimate: stats.Estimate, level_choice: bool = True) -> str:
    text = (PAIRED_METHOD if estimate.n_rows else SEED_METHOD).format(n_boot=stats.N_BOOT)
    return text + (LEVEL_CHOICE if level_choice else "")


def _model_at(runs: pd.DataFrame, pick: str) -> tuple[str, int] | None:
    """Name and size of the smallest or largest model among ``runs``."""
    if runs.empty:
        return None
    row = runs.sort_values("params").iloc[0 if pick == "smallest" else -1]
    return str(row["model"]), int(row["params"])


def _none_vs_best(
    frame: pd.DataFrame, correct: pd.DataFrame | None, cond: Condition
) -> tuple[str, dict[str, stats.Estimate]] | None:
    """The best explained level (on validation) and the estimates none, best and best − none."""
    runs = final_accuracy(frame, cond.split, cond.task)
    for key in ("params", "train_size"):
        if getattr(cond, key) is not None:
            runs = runs[runs[key] == getattr(cond, key)]
    if "none" not in set(runs["level"]):
        return None
    best = best_level_on_validation(
        frame, list(runs["level"]), cond.task, cond.params, cond.train_size
    )
    if best is None:
        return None
    none, top = Condition("none", **_at(cond)), Condition(best, **_at(cond))
    estimates = {
        "gain": contrast(frame, correct, [none, top], [-1.0, 1.0]),
        "none": contrast(frame, correct, [none], [1.0]),
        "best": contrast(frame, correct, [top], [1.0]),
    }
    return None if estimates["gain"] is None else (best, estimates)


def _at(cond: Condition) -> dict:
    return {k: getattr(cond, k) for k in ("split", "task", "params", "train_size")}


def _gain_claim(
    cid: str,
    frame: pd.DataFrame,
    correct: pd.DataFrame | None,
    cond: Condition,
    label: str,
    min_effect: float,
    statement: str | None = None,
) -> Claim:
    """best explained − none at one condition, judged against ``min_effect``."""
    found = _none_vs_best(frame, correct, cond)
    if found is None:
        return missing(cid, statement=statement)
    best, est = found
    gain = est["gain"]
    ours = (
        f"{label}, {cond.split}: none {accuracy_text(est['none'])}, {best} (best on validation) "
        f"{accuracy_text(est['best'])}; {best} − none {gain.points()}"
    )
    judged = stats.verdict(gain.diff, gain.ci_low, gain.ci_high, min_effect)
    return measured(cid, ours, gain, judged, _method(gain), statement)


def check_c1(frame: pd.DataFrame, correct: pd.DataFrame | None = None) -> Claim:
    """Smallest model: best explained level − none ≥ +15 points on test, CI above 0."""
    model = _model_at(final_accuracy(frame), "smallest")
    if model is None:
        return missing("C1")
    cond = Condition("none", params=model[1])
    return _gain_claim(
        "C1", frame, correct, cond, f"{model[0]} ({model[1]:,} parameters)", MIN_GAIN
    )


def check_c5(frame: pd.DataFrame, correct: pd.DataFrame | None = None) -> Claim:
    """Largest model (as the paper's T5-large) on test_long: best explained − none > 0, CI above 0."""
    model = _model_at(final_accuracy(frame, "test_long"), "largest")
    if model is None:
        return missing("C5")
    cond = Condition("none", split="test_long", params=model[1])
    return _gain_claim("C5", frame, correct, cond, f"{model[0]} ({model[1]:,} parameters)", 0.0)


def check_c4(
    frame: pd.DataFrame, correct: pd.DataFrame | None = None, train_size: int | None = None
) -> Claim:
    """At ``train_size`` examples (default: the paper's 2 000 if trained, else the smallest size),
    largest model of ``frame``: best explained − none ≥ +15 points on test."""
    runs = final_accuracy(frame)
    model = _model_at(runs, "largest")
    if model is None:
        return missing("C4", statement=STATEMENTS["C4"].format(size=f"{PAPER_TRAIN_SIZE:,}"))
    sizes = sorted(set(runs.loc[runs["params"] == model[1], "train_size"]))
    size = train_size or (PAPER_TRAIN_SIZE if PAPER_TRAIN_SIZE in sizes else sizes[0])
    primary = size == PAPER_TRAIN_SIZE or (train_size is None)
    cid = "C4" if primary else f"C4 ({size:,} ex.)"
    statement = STATEMENTS["C4"].format(size=f"{size:,}")
    cond = Condition("none", params=model[1], train_size=size)
    label = f"{model[0]}, {size:,} examples"
    return _gain_claim(cid, frame, correct, cond, label, MIN_GAIN, statement)


def check_c4_all(frame: pd.DataFrame, correct: pd.DataFrame | None = None) -> list[Claim]:
    """C4 at the paper's size (or the smallest), then one extra row per other trained size."""
    main = check_c4(frame, correct)
    runs = final_accuracy(frame)
    largest = _model_at(runs, "largest")
    if largest is None:
        return [main]
    sizes = sorted(set(runs.loc[runs["params"] == largest[1], "train_size"]))
    shown = PAPER_TRAIN_SIZE if PAPER_TRAIN_SIZE in sizes else sizes[0]
    return [main] + [check_c4(frame, correct, n) for n in sizes if n != shown]


def check_c3(frame: pd.DataFrame, modulus: int, correct: pd.DataFrame | None = None) -> Claim:
    """Modular sum, smallest model: none within 5 points of chance, best level (on validation) ≥ 70 %.

    ``diff`` is best − 70 %. The claim joins two parts, so its verdict is the weaker of theirs
    (``reversed`` is kept): ``stats.verdict`` of best − 70 %, and for none near chance ``does not
    hold`` when none's mean is more than 5 points from chance, ``inconclusive`` when its mean is
    within 5 points but its CI is not, ``holds`` when its CI is within 5 points too.
    """
    model = _model_at(final_accuracy(frame, task="modular_sum"), "smallest")
    cond = Condition("none", task="modular_sum", params=model[1] if model else None)
    found = _none_vs_best(frame, correct, cond) if model else None
    if found is None:
        return missing("C3")
    best, est = found
    chance = 1 / modulus
    above = contrast(frame, correct, [Condition(best, **_at(cond))], [1.0], offset=-C3_BEST)
    none_off = contrast(frame, correct, [Condition("none", **_at(cond))], [1.0], offset=-chance)
    judged = stats.verdict(above.diff, above.ci_low, above.ci_high)
    near = abs(none_off.diff) <= C3_CHANCE_BAND
    near_by_ci = none_off.ci_low >= -C3_CHANCE_BAND and none_off.ci_high <= C3_CHANCE_BAND
    # the weaker part decides: none off chance by its mean fails the claim unless best is already
    # reversed (a ``holds`` or an ``inconclusive`` best cannot rescue it); none near chance by its
    # mean only cannot confirm a ``holds``, which becomes ``inconclusive``
    if judged in (stats.HOLDS, stats.INCONCLUSIVE) and not near:
        judged = stats.DOES_NOT_HOLD
    elif judged == stats.HOLDS and not near_by_ci:
        judged = stats.INCONCLUSIVE
    ours = (
        f"{model[0]}: chance {100 * chance:.1f} %; none {accuracy_text(est['none'])} "
        f"(none − chance {none_off.points()}), {best} (best on validation) "
        f"{accuracy_text(est['best'])} (best − 70 % {above.points()})"
    )
    return measured("C3", ours, above, judged, _method(above))


def check_c2(frame: pd.DataFrame, correct: pd.DataFrame | None = None) -> Claim:
    """(long − short) at the smallest model − (long − short) at the largest > 0, paired CI.

    Every trained size is listed in ``ours``; the verdict compares the two ends. Runs of the two
    models are matched by seed number and scored on the same test rows; they are independent, so
    the seed matching only makes the replicates resample both models alike.
    """
    runs = final_accuracy(frame)
    both = runs.groupby("params")["level"].agg(lambda s: {"long", "short"} <= set(s))
    sizes = sorted(both[both].index)
    if len(sizes) < 2:
        return missing("C2")
    names = dict(zip(runs["params"], runs["model"], strict=False))
    per_size = []
    for params in sizes:
        conds = [Condition(lv, params=params) for lv in ("short", "long")]
        gain = contrast(frame, correct, conds, [-1.0, 1.0])
        per_size.append(f"{names[params]} {gain.points() if gain else 'no shared seed'}")
    conds = [Condition(lv, params=p) for p in (sizes[0], sizes[-1]) for lv in ("long", "short")]
    est = contrast(frame, correct, conds, [1.0, -1.0, -1.0, 1.0])
    if est is None:
        return missing("C2", "the smallest and largest models share no seed")
    ours = (
        f"long − short: {'; '.join(per_size)}; smallest − largest "
        f"({names[sizes[0]]} − {names[sizes[-1]]}) {est.points()}"
    )
    judged = stats.verdict(est.diff, est.ci_low, est.ci_high)
    return measured("C2", ours, est, judged, _method(est, level_choice=False))


def check_c6(frame: pd.DataFrame, plateau_fraction: float = PLATEAU_FRACTION) -> Claim:
    """Smallest model: steps to reach ``plateau_fraction`` of each run's own final validation
    accuracy, ordered long ≤ medium ≤ short (mean over seeds).

    ``diff`` is short − long in steps, paired by seed (bootstrap over seeds). The verdict is
    ``stats.verdict`` of it, except that a ``holds`` or ``inconclusive`` becomes ``does not hold``
    when medium (if trained) breaks the order by its mean: the claimed order fails whatever short
    − long says.
    """
    steps = steps_to_plateau(frame, plateau_fraction)
    steps = steps[steps["params"] == steps["params"].min()] if not steps.empty else steps
    if not {"short", "long"} <= set(steps["level"]):
        return missing("C6")
    table = steps.pivot_table(index="seed", columns="level", values="steps_to_plateau")
    paired = table[["long", "short"]].dropna()
    if paired.empty:
        return missing("C6", "long and short share no seed")
    mats = [paired[lv].to_numpy(dtype=float)[:, None] for lv in ("long", "short")]
    est = replace(stats.paired_contrast(mats, [-1.0, 1.0]), n_rows=0)  # seeds only
    mean = table.mean()
    order = [lv for lv in ("long", "medium", "short") if lv in mean.index]
    ordered = all(mean[a] <= mean[b] for a, b in zip(order, order[1:], strict=False))
    judged = stats.verdict(est.diff, est.ci_low, est.ci_high)
    # medium out of order (by the means, as the claim states the order) fails the claim, so it
    # overrides a short − long that holds or cannot tell; a clear reversal stays reversed
    if judged in (stats.HOLDS, stats.INCONCLUSIVE) and not ordered:
        judged = stats.DOES_NOT_HOLD
    shown = ", ".join(f"{lv} {mean[lv]:.0f}" for lv in LEVELS if lv in mean.index)
    model = steps.sort_values("params")["model"].iloc[0]
    ours = (
        f"{model}: mean steps to {100 * plateau_fraction:.0f} % of the run's own final "
        f"validation accuracy: {shown}; short − long {est.diff:+.0f} "
        f"[{est.ci_low:+.0f}, {est.ci_high:+.0f}] steps"
    )
    method = (
        f"threshold: first validation-curve step with accuracy ≥ {plateau_fraction:g} × the run's "
        f"final validation accuracy; bootstrap over seeds ({stats.N_BOOT} resamples)"
    )
    return measured("C6", ours, est, judged, method, scale=1.0, unit="steps")
