"""The prompt-loss papers' claims: C7 (Huerta-Enochian & Ko, PLW) and C8 (Shi et al., IM).

``holds`` keeps each claim's own criterion (C7: the fit's sign, CI and vertex; C8: the mean over
seeds); ``verdict`` puts the same evidence on ``stats.verdict``'s four values.
"""

from __future__ import annotations

import pandas as pd

from explain_utils import stats
from explain_utils.claims_core import PAPER, STATEMENTS, Claim, missing, with_ci
from explain_utils.results import final_accuracy, mean_ci, summarize


def _c7_verdict(fits: dict) -> str:
    """``stats.verdict`` of the short-completion fit's ``a`` (claimed negative), lowered to
    ``does not hold`` when its vertex is outside (0, 1) or the long-completion fit shows the same
    significant inverted U."""
    short = fits["short"]
    judged = stats.verdict(short.a, short.a_low, short.a_high, direction=-1)
    inner = 0 < short.vertex_wp < 1
    if judged in (stats.HOLDS, stats.MEAN_ONLY) and not inner:
        return stats.DOES_NOT_HOLD
    if judged == stats.HOLDS and fits["long"].negative_with_inner_optimum:
        return stats.DOES_NOT_HOLD
    return judged


def check_c7(frame: pd.DataFrame) -> Claim:
    """PLW sweep (``prompt_loss.ablation_frame`` rows): negative quadratic with an inner optimum on
    short-completion data, and not on long-completion data. ``diff``: the short fit's ``a``."""
    from explain_utils.plw_fit import quadratic_fit, sweep_points

    fits = {}
    for completion in ("short", "long"):
        points = sweep_points(frame, completion) if "completion" in frame else pd.DataFrame()
        if points.empty or points["prompt_loss_weight"].nunique() < 3:
            return missing("C7")
        fits[completion] = quadratic_fit(points["prompt_loss_weight"], 100 * points["value"])
    ours = "; ".join(f"{c}: {fit.describe()}" for c, fit in fits.items())
    holds = (
        fits["short"].negative_with_inner_optimum and not fits["long"].negative_with_inner_optimum
    )
    short = fits["short"]
    return Claim(
        "C7",
        STATEMENTS["C7"],
        PAPER["C7"],
        ours + " (accuracy in points)",
        bool(holds),
        _c7_verdict(fits),
        round(short.a, 2),
        round(short.a_low, 2),
        round(short.a_high, 2),
        "quadratic coefficient a (points)",
        int(points["seed"].nunique()),
        0,
        "OLS of accuracy on w_p and w_p², t-interval of a over the sweep's runs",
    )


def check_c8(frame: pd.DataFrame) -> Claim:
    """IM vs completion-only (``it``) on the short-completion (long-instruction) data at the
    smallest train size where both were run: mean test accuracy over seeds. The verdict uses the
    t-interval of the per-seed difference IM − IT (seeds paired)."""
    if "method" not in frame:
        return missing("C8")
    rows = final_accuracy(frame, task=None)
    rows = rows[(rows["completion"] == "short") & rows["method"].isin(["im", "it"])]
    sizes = set(rows.loc[rows["method"] == "im", "train_size"]) & set(
        rows.loc[rows["method"] == "it", "train_size"]
    )
    if not sizes:
        return missing("C8")
    smallest = min(sizes)
    at = rows[rows["train_size"] == smallest]
    table = summarize(at, ["method"]).set_index("method")
    im, it = table.loc["im"], table.loc["it"]
    gain = im["mean"] - it["mean"]
    per_seed = at.pivot_table(index="seed", columns="method", values="value").dropna()
    _, low, high = mean_ci((per_seed["im"] - per_seed["it"]).tolist())
    ours = f"{smallest} examples: IT {with_ci(it)}, IM {with_ci(im)} ({100 * gain:+.1f} points)"
    return Claim(
        "C8",
        STATEMENTS["C8"],
        PAPER["C8"],
        ours,
        bool(gain > 0),
        stats.verdict(gain, low, high),
        round(100 * gain, 2),
        round(100 * low, 2),  # NaN with fewer than two paired seeds
        round(100 * high, 2),
        "points",
        len(per_seed),
        0,
        "per-seed difference IM − IT (same seeds), t-interval over seeds",
    )
