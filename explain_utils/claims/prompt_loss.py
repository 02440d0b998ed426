"""The prompt-loss papers' claims: C7 (Huerta-Enochian & Ko, PLW) and C8 (Shi et al., IM).

Both are judged on the data types of chapter 5 ordered by R_g (``R_G_ORDER``): C7 on the lowest-
and the highest-R_g data present, C8 on the lowest. With per-row results (``correct``, from
``prompt_loss.ablation_correct``) the intervals come from the paired bootstrap over seeds and
test rows; without them, from the seeds alone. Verdicts are ``stats.verdict``'s. Also here: the
tables and sentences chapter 5 shows beside the claims (sweeps with intervals, IM − IT, the two
loss normalisers), so its prose follows the numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from explain_utils.analysis import stats
from explain_utils.analysis.plw_fit import (
    QuadraticFit,
    bootstrap_fit,
    quadratic_fit,
    sweep_points,
    type_column,
)
from explain_utils.analysis.results import final_accuracy, mean_ci, summarize
from explain_utils.claims.claim import PAIRED_METHOD, PAPER, Claim, measured, missing, with_ci

# chapter 5's data types from the lowest R_g to the highest; at equal R_g the instruction data
# come first, because the verdicts rest on them (the papers' prompts are language, not random
# expressions); "fewshot" and "short" are the low-R_g types of the chapter's earlier versions
R_G_ORDER: tuple[str, ...] = ("fewshot", "instruction", "oneshot", "short", "long")
C7_STATEMENT = (
    "quadratic fit of test accuracy (0–1) in w_p = PLW^0.30103: on the lowest-R_g data ({low}) "
    "a < 0 with a 95 % CI below 0 and the optimum inside (0, 1); on the highest-R_g data "
    "({high}) not. Compared with the paper by the sign of a and where the optimum lies in w_p"
)
C8_STATEMENT = (
    "lowest-R_g data ({low}), smallest training set ({size} examples): IM accuracy − IT accuracy "
    "> 0 on the same seeds and test rows"
)


def ordered_types(frame: pd.DataFrame) -> list[str]:
    """The data types present in ``frame``, from the lowest R_g to the highest."""
    if type_column(frame) not in frame:
        return []
    present = set(frame[type_column(frame)])
    return [name for name in R_G_ORDER if name in present]


def condition_matrix(correct: pd.DataFrame, seeds: list[int] | None = None, **where) -> np.ndarray:
    """Test-row correctness ``[seeds, rows]`` of the runs matching ``where`` (column = value; a
    float compares with tolerance), one row per seed in ``seeds`` (default: all, sorted); empty
    when a seed is missing."""
    rows = correct[correct["split"] == "test"]
    for column, value in where.items():
        if isinstance(value, float):
            rows = rows[np.isclose(rows[column].astype(float), value)]
        else:
            rows = rows[rows[column] == value]
    by_seed = dict(zip(rows["seed"], rows["correct"], strict=True))
    wanted = sorted(by_seed) if seeds is None else seeds
    if not wanted or any(s not in by_seed for s in wanted):
        return np.empty((0, 0))
    return np.array([[c == "1" for c in by_seed[s]] for s in wanted], dtype=float)


def fit_sweep(
    frame: pd.DataFrame,
    correct: pd.DataFrame | None,
    data_type: str,
    normalization: str = "weights",
) -> QuadraticFit | None:
    """The PLW paper's quadratic for one sweep (None with fewer than 3 weights): bootstrap intervals
    from ``correct`` when every point has per-row results, else OLS over the runs."""
    points = sweep_points(frame, data_type, normalization)
    weights = sorted(points["prompt_loss_weight"].unique())
    if len(weights) < 3:
        return None
    if correct is not None and "run_id" in points:
        seeds = sorted(set.intersection(*(set(g["seed"]) for _, g in points.groupby("w_p"))))
        runs = correct[correct["run_id"].isin(set(points["run_id"]))]
        mats = [condition_matrix(runs, seeds, prompt_loss_weight=float(w)) for w in weights]
        if seeds and all(m.size for m in mats) and len({m.shape for m in mats}) == 1:
            return bootstrap_fit(np.array(weights), np.stack(mats))
    return quadratic_fit(points["prompt_loss_weight"], points["value"])


def _c7_verdict(low: QuadraticFit, high: QuadraticFit) -> str:
    """``stats.verdict`` of the lowest-R_g fit's ``a`` (claimed negative); a clear inverted U
    whose vertex lies outside (0, 1), or that the highest-R_g data show too, does not hold."""
    judged = stats.verdict(low.a, low.a_low, low.a_high, direction=-1)
    if judged == stats.HOLDS and not 0 < low.vertex_wp < 1:
        return stats.DOES_NOT_HOLD
    if judged == stats.HOLDS and high.negative_with_inner_optimum:
        return stats.DOES_NOT_HOLD
    return judged


def _model(frame: pd.DataFrame) -> str:
    """The model the runs fine-tuned (``ablation_frame``'s label), named in a claim's ``ours``."""
    names = list(dict.fromkeys(frame["model"].astype(str))) if "model" in frame else []
    return " / ".join(names) or "model not recorded"


def check_c7(frame: pd.DataFrame, correct: pd.DataFrame | None = None) -> Claim:
    """PLW sweeps: negative quadratic with an inner optimum on the lowest-R_g data, and not on the
    highest-R_g data. ``diff``: the lowest-R_g fit's ``a`` in accuracy (0–1) units."""
    types = ordered_types(frame)
    if len(types) < 2:
        return missing("C7")
    low, high = types[0], types[-1]
    statement = C7_STATEMENT.format(low=low, high=high)
    fits = {name: fit_sweep(frame, correct, name) for name in (low, high)}
    if any(fit is None for fit in fits.values()):
        return missing("C7", statement=statement)
    fit, judged = fits[low], _c7_verdict(fits[low], fits[high])
    paired = fit.method.startswith("paired")
    return Claim(
        "C7",
        statement,
        PAPER["C7"],
        f"{_model(frame)}; " + "; ".join(f"{name}: {f.describe()}" for name, f in fits.items()),
        judged == stats.HOLDS,
        judged,
        round(fit.a, 4),
        round(fit.a_low, 4),
        round(fit.a_high, 4),
        "curvature a of the quadratic in w_p (accuracy 0–1)",
        int(sweep_points(frame, low)["seed"].nunique()),
        len(correct["correct"].iloc[0]) if paired else 0,
        fit.method,
    )


def _im_minus_it(group: pd.DataFrame, correct, column: str, name: str, size: int) -> dict:
    per_seed = group.pivot_table(index="seed", columns="method", values="value").dropna()
    seeds = sorted(per_seed.index)
    if correct is not None and seeds:
        where = {column: name, "train_size": size}
        it = condition_matrix(correct, seeds, method="it", **where)
        im = condition_matrix(correct, seeds, method="im", **where)
        if it.size and it.shape == im.shape:
            est = stats.paired_difference(it, im)
            return {
                "diff": est.diff,
                "ci_low": est.ci_low,
                "ci_high": est.ci_high,
                "n_seeds": est.n_seeds,
                "n_rows": est.n_rows,
            }
    mean, low, high = mean_ci((per_seed["im"] - per_seed["it"]).tolist())
    return {"diff": mean, "ci_low": low, "ci_high": high, "n_seeds": len(seeds), "n_rows": 0}


def im_gains(frame: pd.DataFrame, correct: pd.DataFrame | None = None) -> pd.DataFrame:
    """IM − IT (accuracy, 0–1) per data type and train size where both ran: mean, 95 % CI (paired
    bootstrap with ``correct``, else a t-interval over seeds), seeds and rows."""
    rows = final_accuracy(frame, task=None)
    column = type_column(frame)
    rows = rows[rows["method"].isin(["im", "it"])]
    out = []
    for (name, size), group in rows.groupby([column, "train_size"]):
        if set(group["method"]) == {"im", "it"}:
            estimate = _im_minus_it(group, correct, column, name, size)
            out.append({column: name, "train_size": size, **estimate})
    return pd.DataFrame(out)


def check_c8(frame: pd.DataFrame, correct: pd.DataFrame | None = None) -> Claim:
    """IM vs completion-only (IT) on the lowest-R_g data at the smallest train size where both ran:
    the paired difference IM − IT with its CI (bootstrap with ``correct``, else over seeds).
    ``holds`` is the verdict ``holds``: IM ahead with the interval above 0."""
    types = ordered_types(frame)
    if not types or "method" not in frame:
        return missing("C8")
    column = type_column(frame)
    gains = im_gains(frame, correct)
    gains = gains[gains[column] == types[0]] if len(gains) else gains
    if gains.empty:
        return missing("C8")
    at = gains.sort_values("train_size").iloc[0]
    size = int(at["train_size"])
    statement = C8_STATEMENT.format(low=types[0], size=size)
    rows = final_accuracy(frame, task=None)
    rows = rows[(rows[column] == types[0]) & (rows["train_size"] == size)]
    table = summarize(rows[rows["method"].isin(["im", "it"])], ["method"]).set_index("method")
    estimate = stats.Estimate(
        float(at["diff"]),
        float(at["ci_low"]),
        float(at["ci_high"]),
        int(at["n_seeds"]),
        int(at["n_rows"]),
    )
    if math.isnan(estimate.diff):
        return missing("C8", statement=statement)
    ours = (
        f"{_model(frame)}, {types[0]}, {size} examples: IT {with_ci(table.loc['it'])}, "
        f"IM {with_ci(table.loc['im'])}; IM − IT {estimate.points()}"
    )
    judged = stats.verdict(estimate.diff, estimate.ci_low, estimate.ci_high)
    method = (
        PAIRED_METHOD.format(n_boot=stats.N_BOOT)
        if estimate.n_rows
        else "per-seed difference IM − IT (same seeds), t-interval over seeds"
    )
    return measured("C8", ours, estimate, judged, method, statement)


# ---------------------------------------------------------------- what chapter 5 shows beside them


def sweep_table(
    frame: pd.DataFrame,
    correct: pd.DataFrame | None,
    data_type: str,
    normalization: str = "weights",
) -> pd.DataFrame:
    """Test accuracy per prompt-loss weight of one sweep: ``mean`` over seeds and rows with its 95 %
    CI (bootstrap over seeds and rows with ``correct``, else the t-interval over seeds)."""
    points = sweep_points(frame, data_type, normalization)
    out = []
    for weight, group in points.groupby("prompt_loss_weight"):
        mat = np.empty((0, 0))
        if correct is not None and "run_id" in group:
            mat = condition_matrix(correct[correct["run_id"].isin(set(group["run_id"]))])
        if mat.size:
            est = stats.paired_contrast([mat], [1.0])
            mean, low, high = est.diff, est.ci_low, est.ci_high
        else:
            mean, low, high = mean_ci(group["value"].tolist())
        out.append(
            {
                "data_type": data_type,
                "normalization": normalization,
                "prompt_loss_weight": weight,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "n_seeds": group["seed"].nunique(),
            }
        )
    return pd.DataFrame(out)


def sweep_matrices(
    frame: pd.DataFrame, correct: pd.DataFrame, data_type: str, prompt_tokens: str = "all"
) -> dict[float, np.ndarray]:
    """Test-row correctness ``[seeds, rows]`` at every weight of one sweep (0: IT), on the seeds
    every weight has, so any two matrices pair the same seeds and rows."""
    points = sweep_points(frame, data_type, "weights", prompt_tokens)
    by_weight = {w: set(g["run_id"]) for w, g in points.groupby("prompt_loss_weight")}
    seeds = set(points["seed"])
    for ids in by_weight.values():
        seeds &= set(points.loc[points["run_id"].isin(ids), "seed"])
    picked = {
        w: condition_matrix(correct[correct["run_id"].isin(ids)], sorted(seeds))
        for w, ids in by_weight.items()
    }
    return {w: m for w, m in picked.items() if m.size}


def prompt_loss_effects(
    frame: pd.DataFrame, correct: pd.DataFrame, data_type: str, prompt_tokens: str = "all"
) -> pd.DataFrame:
    """At every non-zero weight of one sweep: PLW − IT (accuracy, 0–1) on the same seeds and test
    rows, its 95 % CI and ``stats.verdict`` of "the prompt loss raises accuracy"."""
    mats = sweep_matrices(frame, correct, data_type, prompt_tokens)
    if 0.0 not in mats:
        return pd.DataFrame()
    out = []
    for weight in sorted(w for w in mats if w > 0):
        est = stats.paired_difference(mats[0.0], mats[weight])
        out.append(
            {
                "data_type": data_type,
                "prompt_tokens": prompt_tokens,
                "prompt_loss_weight": weight,
                "diff": est.diff,
                "ci_low": est.ci_low,
                "ci_high": est.ci_high,
                "n_seeds": est.n_seeds,
                "n_rows": est.n_rows,
                "verdict": stats.verdict(est.diff, est.ci_low, est.ci_high),
            }
        )
    return pd.DataFrame(out)


def effect_contrast(
    frame: pd.DataFrame,
    correct: pd.DataFrame,
    first: tuple[str, str],
    second: tuple[str, str],
) -> dict[str, float] | None:
    """(PLW − IT) of ``first`` minus (PLW − IT) of ``second`` — each a (data type, prompt tokens)
    — at the largest weight both ran, paired over the seeds both have and the test rows (every
    data type has the same test queries in the same order); None without a shared weight."""
    mats = [sweep_matrices(frame, correct, *cond) for cond in (first, second)]
    shared = sorted((set(mats[0]) & set(mats[1])) - {0.0})
    if not shared or 0.0 not in mats[0] or 0.0 not in mats[1]:
        return None
    weight = shared[-1]
    parts = [mats[0][0.0], mats[0][weight], mats[1][0.0], mats[1][weight]]
    if len({p.shape for p in parts}) > 1:
        return None
    est = stats.paired_contrast(parts, [-1.0, 1.0, 1.0, -1.0])
    return {
        "prompt_loss_weight": weight,
        "diff": est.diff,
        "ci_low": est.ci_low,
        "ci_high": est.ci_high,
    }


def normalization_contrast(
    frame: pd.DataFrame, correct: pd.DataFrame, data_type: str
) -> pd.DataFrame:
    """At every weight run with both normalisers: accuracy with the loss / sum of weights, with the
    loss / completion tokens, and their paired difference (completion − weights) with its CI."""
    points = {n: sweep_points(frame, data_type, n) for n in ("weights", "completion")}
    weights = [set(p.loc[p["method"] == "plw", "prompt_loss_weight"]) for p in points.values()]
    out = []
    for weight in sorted(weights[0] & weights[1]):
        mats = {}
        for name, rows in points.items():
            ids = set(rows.loc[np.isclose(rows["prompt_loss_weight"], weight), "run_id"])
            mats[name] = condition_matrix(correct[correct["run_id"].isin(ids)])
        if not mats["weights"].size or mats["weights"].shape != mats["completion"].shape:
            continue
        est = stats.paired_difference(mats["weights"], mats["completion"])
        out.append(
            {
                "prompt_loss_weight": weight,
                "loss / sum of weights": mats["weights"].mean(),
                "loss / completion tokens": mats["completion"].mean(),
                "difference": est.diff,
                "ci_low": est.ci_low,
                "ci_high": est.ci_high,
            }
        )
    return pd.DataFrame(out)


def fit_sentence(name: str, fit: QuadraticFit) -> str:
    """What a fit says, in words that follow its sign and its interval."""
    ci = f"a = {fit.a:+.3f}, 95 % CI [{fit.a_low:+.3f}, {fit.a_high:+.3f}]"
    if fit.a_low <= 0 <= fit.a_high:
        return f"on the {name} data the curvature is not distinguishable from 0 ({ci})"
    shape, kind = ("an inverted U", "maximum") if fit.a < 0 else ("a U", "minimum")
    where = f"w_p = {fit.vertex_wp:.2f}"
    if not math.isnan(fit.vertex_low):
        where += f" [{fit.vertex_low:.2f}, {fit.vertex_high:.2f}]"
    inside = 0 < fit.vertex_wp < 1
    plw = f", PLW ≈ {fit.vertex_plw:.2g}" if inside else ", outside the swept range (0, 1)"
    return f"on the {name} data the fit is {shape} ({ci}) with its {kind} at {where}{plw}"


def difference_sentence(diff: float, low: float, high: float, what: str) -> str:
    """``what`` is higher / lower / not distinguishable, from a difference and its CI (fractions)."""
    points = f"{100 * diff:+.1f} points [{100 * low:+.1f}, {100 * high:+.1f}]"
    if low > 0:
        return f"{what} is higher ({points})"
    if high < 0:
        return f"{what} is lower ({points})"
    return f"{what} is not distinguishable from 0 ({points})"
