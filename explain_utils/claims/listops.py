"""Ballout et al.'s claims C1-C6, each judged on a paired difference with its bootstrap CI.

Every check takes the tidy rows (``results.results_frame``) and, optionally, the per-row table
(``results.correct_frame``); without the latter the CI comes from seeds alone. The best
explained level is chosen on the validation split (``analysis.tables.best_level_on_validation``)
and only then compared on test. Verdicts are ``stats.verdict``'s four values, or
``stats.STILL_LEARNING`` where a cell the claim compares is in ``unfinished`` (the cells
``profiles.explanations.still_learning`` names: still gaining when their plateau check stopped).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

import numpy as np
import pandas as pd

from explain_utils.analysis import stats
from explain_utils.analysis.results import final_accuracy
from explain_utils.analysis.tables import (
    Condition,
    best_level_on_validation,
    contrast,
    curve_area,
    evaluation_spacing,
    steps_to_accuracy,
)
from explain_utils.claims.claim import (
    LEVEL_CHOICE,
    PAIRED_METHOD,
    SEED_METHOD,
    STATEMENTS,
    Cell,
    Claim,
    accuracy_text,
    measured,
    missing,
    with_still_learning,
)
from explain_utils.common.names import LEVELS

PAPER_TRAIN_SIZE = 2_000  # C4: the paper's data-efficiency point (T5-large, 2 000 samples)
MIN_GAIN = 0.15  # C1, C4: the claimed size of the gain, 15 accuracy points
C3_BEST, C3_CHANCE_BAND = 0.70, 0.05
C3_LARGE = 0.98  # C3's second half: larger models reach > 98 % with any explanation level
C3_LARGE_ID = "C3 (larger models)"


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
    model: str,
    label: str,
    min_effect: float,
    statement: str | None = None,
    unfinished: Collection[Cell] = (),
) -> Claim:
    """best explained − none at one condition of ``model``, judged against ``min_effect``."""
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
    claim = measured(cid, ours, gain, judged, _method(gain), statement)
    compared = [(model, cond.task, level) for level in ("none", best)]
    return with_still_learning(claim, compared, unfinished)


def check_c1(
    frame: pd.DataFrame,
    correct: pd.DataFrame | None = None,
    unfinished: Collection[Cell] = (),
) -> Claim:
    """Smallest model: best explained level − none ≥ +15 points on test, CI above 0."""
    model = _model_at(final_accuracy(frame), "smallest")
    if model is None:
        return missing("C1")
    cond = Condition("none", params=model[1])
    label = f"{model[0]} ({model[1]:,} parameters)"
    return _gain_claim("C1", frame, correct, cond, model[0], label, MIN_GAIN, None, unfinished)


def check_c5(
    frame: pd.DataFrame,
    correct: pd.DataFrame | None = None,
    unfinished: Collection[Cell] = (),
) -> Claim:
    """Largest model (as the paper's T5-large) on test_long: best explained − none > 0, CI above 0."""
    model = _model_at(final_accuracy(frame, "test_long"), "largest")
    if model is None:
        return missing("C5")
    cond = Condition("none", split="test_long", params=model[1])
    label = f"{model[0]} ({model[1]:,} parameters)"
    return _gain_claim("C5", frame, correct, cond, model[0], label, 0.0, None, unfinished)


def check_c4(
    frame: pd.DataFrame,
    correct: pd.DataFrame | None = None,
    train_size: int | None = None,
    unfinished: Collection[Cell] = (),
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
    return _gain_claim(cid, frame, correct, cond, model[0], label, MIN_GAIN, statement, unfinished)


def check_c4_all(
    frame: pd.DataFrame,
    correct: pd.DataFrame | None = None,
    unfinished: Collection[Cell] = (),
) -> list[Claim]:
    """C4 at the paper's size (or the smallest), then one extra row per other trained size.

    The plateau check names a cell by model, task and level, not train size: a cell still
    learning counts at every size."""
    main = check_c4(frame, correct, unfinished=unfinished)
    runs = final_accuracy(frame)
    largest = _model_at(runs, "largest")
    if largest is None:
        return [main]
    sizes = sorted(set(runs.loc[runs["params"] == largest[1], "train_size"]))
    shown = PAPER_TRAIN_SIZE if PAPER_TRAIN_SIZE in sizes else sizes[0]
    return [main] + [check_c4(frame, correct, n, unfinished) for n in sizes if n != shown]


def check_c3(
    frame: pd.DataFrame,
    modulus: int,
    correct: pd.DataFrame | None = None,
    unfinished: Collection[Cell] = (),
) -> Claim:
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
    claim = measured("C3", ours, above, judged, _method(above))
    compared = [(model[0], "modular_sum", level) for level in ("none", best)]
    return with_still_learning(claim, compared, unfinished)


def check_c3_large(
    frame: pd.DataFrame,
    correct: pd.DataFrame | None = None,
    unfinished: Collection[Cell] = (),
) -> Claim:
    """Modular sum, largest model trained on it: every explained level > 98 % (C3's second half).

    Each explained level's accuracy − 98 % is measured on test; the claim says "any explanation
    level", so the level with the weakest verdict (``stats.verdict`` of its accuracy − 98 %; ties:
    the lowest mean) decides: ``diff`` and the verdict are its. Not measured when the modular sum
    was trained at one size only (no model larger than C3's).
    """
    runs = final_accuracy(frame, task="modular_sum")
    largest = _model_at(runs, "largest")
    if largest is None or runs["params"].nunique() < 2:
        return missing(C3_LARGE_ID, "the modular sum was not trained at a larger size")
    model, params = largest
    trained = set(runs.loc[runs["params"] == params, "level"])
    levels = [lv for lv in LEVELS[1:] if lv in trained]
    at = {"task": "modular_sum", "params": params}
    found = {
        lv: (
            contrast(frame, correct, [Condition(lv, **at)], [1.0]),
            contrast(frame, correct, [Condition(lv, **at)], [1.0], offset=-C3_LARGE),
        )
        for lv in levels
    }
    found = {lv: pair for lv, pair in found.items() if pair[0] is not None}
    if not found:
        return missing(C3_LARGE_ID, f"{model}: no explained level on the modular sum")
    # "any explanation level": the level with the weakest verdict decides (ties: the lower mean),
    # so a level whose interval still includes 98 % cannot hide behind a clear one
    rank = {v: i for i, v in enumerate((stats.REVERSED, stats.DOES_NOT_HOLD, stats.INCONCLUSIVE))}
    verdicts = {lv: stats.verdict(a.diff, a.ci_low, a.ci_high) for lv, (_, a) in found.items()}
    weakest = min(found, key=lambda lv: (rank.get(verdicts[lv], len(rank)), found[lv][0].diff))
    above = found[weakest][1]
    judged = verdicts[weakest]
    shown = ", ".join(f"{lv} {accuracy_text(acc)}" for lv, (acc, _) in found.items())
    ours = (
        f"{model} (largest modular-sum model): {shown}; weakest {weakest} − "
        f"{100 * C3_LARGE:.0f} % {above.points()}"
    )
    method = _method(above, level_choice=False) + (
        f"; every explained level against {100 * C3_LARGE:.0f} %, the weakest verdict decides"
    )
    claim = measured(C3_LARGE_ID, ours, above, judged, method)
    compared = [(model, "modular_sum", lv) for lv in found]
    return with_still_learning(claim, compared, unfinished)


def check_c2(
    frame: pd.DataFrame,
    correct: pd.DataFrame | None = None,
    unfinished: Collection[Cell] = (),
) -> Claim:
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
    claim = measured("C2", ours, est, judged, _method(est, level_choice=False))
    compared = [
        (names[p], "listops", lv) for p in (sizes[0], sizes[-1]) for lv in ("short", "long")
    ]
    return with_still_learning(claim, compared, unfinished)


def _seed_contrast(table: pd.DataFrame, minus: str, plus: str) -> stats.Estimate:
    """``plus − minus`` over the seeds (rows of ``table``) that have both, bootstrap over seeds."""
    mats = [table[lv].to_numpy(dtype=float)[:, None] for lv in (minus, plus)]
    return replace(stats.paired_contrast(mats, [-1.0, 1.0]), n_rows=0)  # seeds only


def _signed(est: stats.Estimate, unit: str, digits: int = 0) -> str:
    """``+300 [+100, +500] steps``."""
    form = f"{{:+,.{digits}f}}"
    bounds = f"[{form.format(est.ci_low)}, {form.format(est.ci_high)}]"
    return f"{form.format(est.diff)} {bounds} {unit}"


def check_c6(frame: pd.DataFrame, accuracy: float, unfinished: Collection[Cell] = ()) -> Claim:
    """Smallest model: steps until the validation curve first reaches ``accuracy`` (a fraction
    fixed in advance, ``ExperimentConfig.convergence_accuracy``), ordered long ≤ medium ≤ short
    (mean over seeds).

    Steps come from ``tables.steps_to_accuracy``: interpolated between the curve points around
    the crossing, a run that never reaches ``accuracy`` counted at the common horizon (a lower bound).
    ``diff`` is short − long in steps, paired by seed (bootstrap over seeds). The verdict is
    ``stats.verdict`` of it, except that a ``holds`` or ``inconclusive`` becomes ``does not hold``
    when medium (if trained) breaks the order by its mean: the claimed order fails whatever short
    − long says. ``ours`` adds the same contrast in training target tokens (long targets are
    longer, so a step carries more of them), the mean accuracy over the first steps that every
    compared run trained (``tables.curve_area``, long − short), the runs that never reached
    ``accuracy``, and the evaluation spacing to set the interval's width against.
    """
    statement = STATEMENTS["C6"].format(accuracy=f"{100 * accuracy:g} %")
    steps = steps_to_accuracy(frame, accuracy)
    steps = steps[steps["params"] == steps["params"].min()] if not steps.empty else steps
    if not {"short", "long"} <= set(steps["level"]):
        return missing("C6", statement=statement)
    table = steps.pivot_table(index="seed", columns="level", values="steps_to_accuracy")
    paired = table[["long", "short"]].dropna()
    if paired.empty:
        return missing("C6", "long and short share no seed", statement)
    est = _seed_contrast(paired, "long", "short")
    tokens = steps.pivot_table(index="seed", columns="level", values="tokens_to_accuracy")
    # reindexed: a level whose runs recorded no target tokens is a NaN column, not a missing one
    tokens = tokens.reindex(index=paired.index, columns=["long", "short"])
    in_tokens = _seed_contrast(tokens, "long", "short")
    mean = table.mean()
    order = [lv for lv in ("long", "medium", "short") if lv in mean.index]
    ordered = all(mean[a] <= mean[b] for a, b in zip(order, order[1:], strict=False))
    judged = stats.verdict(est.diff, est.ci_low, est.ci_high)
    # medium out of order (by the means, as the claim states the order) fails the claim, so it
    # overrides a short − long that holds or cannot tell; a clear reversal stays reversed
    if judged in (stats.HOLDS, stats.INCONCLUSIVE) and not ordered:
        judged = stats.DOES_NOT_HOLD
    model, ours = _c6_text(frame, steps, paired.index, (est, in_tokens), accuracy)
    method = (
        f"threshold: validation accuracy {accuracy:g}, fixed before the runs; the step (and "
        "target tokens) where a run's curve first reaches it, interpolated linearly between the "
        "two curve points around the crossing (step 0 counted at accuracy 0); a run that never "
        "reaches it within the model's common horizon (the fewest steps any of its cells trained) "
        "counts at that horizon, a lower bound; the cells' schedules decay over their own chosen "
        "steps, so at a given step a longer-trained cell has a higher learning rate; curve area: the trapezoid rule "
        "over steps 0 to the shortest compared run's last step; "
        f"bootstrap over seeds ({stats.N_BOOT} resamples, 95 % percentile CI)"
    )
    claim = measured("C6", ours, est, judged, method, statement, scale=1.0, unit="steps")
    return with_still_learning(claim, [(model, "listops", lv) for lv in order], unfinished)


def _c6_text(
    frame: pd.DataFrame,
    steps: pd.DataFrame,
    seeds: pd.Index,
    estimates: tuple[stats.Estimate, stats.Estimate],
    accuracy: float,
) -> tuple[str, str]:
    """C6's model and measurement text: mean steps and target tokens per level, short − long in
    both (``estimates``), the curve areas over the span every compared run trained, the runs that
    never reached ``accuracy`` and the evaluation spacing."""
    est, in_tokens = estimates
    table = steps.pivot_table(index="seed", columns="level", values="steps_to_accuracy")
    tokens = steps.pivot_table(index="seed", columns="level", values="tokens_to_accuracy")
    mean = table.mean()
    model, params = steps.sort_values("params")[["model", "params"]].iloc[0]
    runs = frame[frame["params"] == params]
    compared = steps[steps["level"].isin(["long", "short"]) & steps["seed"].isin(seeds)]
    up_to = float(compared["last_step"].min())
    areas = curve_area(runs, up_to).pivot_table(index="seed", columns="level", values="curve_area")
    area = _seed_contrast(areas.reindex(index=seeds, columns=["short", "long"]), "short", "long")
    token_means = tokens.mean()
    shown = ", ".join(f"{lv} {mean[lv]:,.0f}" for lv in LEVELS if lv in mean.index)
    shown_tokens = ", ".join(
        f"{lv} {token_means[lv]:,.0f}" for lv in LEVELS if lv in token_means.index
    )
    spacing = evaluation_spacing(runs)
    spaced = (
        "one curve point each" if np.isnan(spacing) else f"curve points every {spacing:,.0f} steps"
    )
    ours = (
        f"{model}: mean steps to {100 * accuracy:g} % validation accuracy: {shown}; "
        f"short − long {_signed(est, 'steps')}; in training target tokens: {shown_tokens}, "
        f"short − long {_signed(in_tokens, 'tokens')} ({_in_tokens(in_tokens)}); mean "
        "validation accuracy over steps "
        f"0–{up_to:,.0f}, long − short {area.points()}; {_not_reached(steps)}; {spaced}"
    )
    return str(model), ours


def _in_tokens(est: stats.Estimate) -> str:
    """C6's verdict rule applied to short − long in target tokens, in words."""
    if np.isnan(est.diff):
        return "tokens not recorded"
    return f"in target tokens: {stats.verdict(est.diff, est.ci_low, est.ci_high)}"


def _not_reached(steps: pd.DataFrame) -> str:
    """How many runs never reached the threshold, by level (their value: a lower bound)."""
    short = steps[~steps["reached"]]
    if short.empty:
        return f"every run reached it ({len(steps)} runs)"
    by_level = short.groupby("level").size()
    levels = ", ".join(f"{lv} {by_level[lv]}" for lv in LEVELS if lv in by_level.index)
    return (
        f"{len(short)} of {len(steps)} runs never reached it ({levels}) by step "
        f"{steps['last_step'].max():,.0f}, the model's common horizon: counted there (a lower bound)"
    )
