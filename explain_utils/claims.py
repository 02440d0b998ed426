"""The claims of Ballout et al. (C1-C6) checked on tidy results: the paper's figure, ours, holds or not.

Each check reads only tidy rows (``results.results_frame`` / ``results/<notebook>.csv``) and returns
one ``Claim`` row; ``claims_table`` stacks them for the book's "paper vs this book" table.
Paper figures are from summaries of the paper (marked secondary in ``shared/reference/papers.md``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from explain_utils.results import ALL, final_accuracy, summarize, write_results

PAPER = {
    "C1": "T5-small: none 65.1 %, long 87.8 % (+22.7 points)",
    "C2": "longer explanations help the smallest model most (qualitative)",
    "C3": "none ≈ chance; T5-small 75.7 % with long, larger models > 98 %",
    "C4": "T5-large, 2 000 samples: none 44.9 %, explained 66.1 % (+21.2 points)",
    "C5": "T5-large, train 50-100 → test 100-200 tokens: none 63.5 %, medium 91.2 %",
    "C6": "explanations make the smallest model converge faster (qualitative)",
    "C7": "Huerta-Enochian & Ko: short-completion data, score = −4.284·(w_p − 0.652)² + 0.781, "
    "significant negative quadratic (best PLW ≈ 0.01–0.5); long-generation data improve towards PLW 1",
    "C8": "Shi et al.: IM > IT with few examples and long instructions, e.g. LLaMA-2-7B "
    "Alpagasus Dolly 3k 46.58 → 48.95, LIMA 48.79 → 49.60 (NLP mean of 18 tasks)",
}
STATEMENTS = {
    "C1": "smallest model: best explanation level ≥ none + 15 points",
    "C2": "gain of long over short is larger for the smallest model than for the largest",
    "C3": "modular sum: none within 5 points of chance, best level ≥ 70 %",
    "C4": "smallest train size: best explained level ≥ none + 15 points",
    "C5": "longer test bucket: explained > none with non-overlapping 95 % CIs",
    "C6": "smallest model: steps to reach the threshold ordered long ≤ medium ≤ short",
    "C7": "quadratic fit of accuracy in w_p = PLW^0.30103: on short-completion data a < 0 with a "
    "95 % CI excluding 0 and the optimum inside (0, 1); on long-completion data not",
    "C8": "long-instruction (short-completion) data, smallest train size: IM accuracy > "
    "completion-only (IT) accuracy, mean over seeds",
}


@dataclass(frozen=True)
class Claim:
    """One row of the claims table."""

    claim: str
    statement: str
    paper: str
    ours: str
    holds: bool | None  # None: not measured in this run (e.g. a level missing from the grid)


def accuracy_table(
    frame: pd.DataFrame, by: list[str], split: str = "test", task: str = "listops"
) -> pd.DataFrame:
    """Mean accuracy and 95 % CI over seeds, grouped by ``by``."""
    return summarize(final_accuracy(frame, split, task), by)


def curve_table(frame: pd.DataFrame, x: str = "step", task: str = "listops") -> pd.DataFrame:
    """Learning curves: mean validation accuracy and 95 % CI over seeds per model, level and ``x``."""
    rows = frame[
        (frame["stage"] == "curve") & (frame["metric"] == "accuracy") & (frame["task"] == task)
    ]
    return summarize(rows, ["model", "params", "level", x])


def breakdown_table(
    frame: pd.DataFrame,
    column: str,
    splits: tuple[str, ...] = ("test",),
    task: str = "listops",
) -> pd.DataFrame:
    """Final accuracy by expression ``depth`` or ``length_bucket`` (mean and 95 % CI over seeds).

    Rows are ordered by the group's numeric value (depth, or a bucket's lower end), so plots read
    left to right from short to long.
    """
    other = "length_bucket" if column == "depth" else "depth"
    rows = frame[
        (frame["stage"] == "final")
        & frame["split"].isin(splits)
        & (frame["task"] == task)
        & (frame["metric"] == "accuracy")
        & (frame[column].astype(str) != ALL)
        & (frame[other].astype(str) == ALL)
    ]
    table = summarize(
        rows.assign(**{column: rows[column].astype(str)}),
        ["model", "params", "level", "split", column],
    )
    order = table[column].str.extract(r"(\d+)")[0].astype(float)
    return table.assign(_order=order).sort_values(["_order", "params"]).drop(columns="_order")


def _cell(table: pd.DataFrame, **where) -> pd.Series | None:
    mask = np.ones(len(table), dtype=bool)
    for key, value in where.items():
        mask &= (table[key] == value).to_numpy()
    rows = table[mask]
    return None if rows.empty else rows.iloc[0]


def _pct(x: float) -> str:
    return "–" if x is None or math.isnan(x) else f"{100 * x:.1f} %"


def _with_ci(row: pd.Series) -> str:
    """``mean [low, high]`` in percent; the t-interval is clipped to [0, 100] (an accuracy's range)."""
    if math.isnan(row["ci_low"]):
        return _pct(row["mean"])
    low, high = max(row["ci_low"], 0.0), min(row["ci_high"], 1.0)
    return f"{_pct(row['mean'])} [{100 * low:.1f}, {100 * high:.1f}]"


def _best_explained(table: pd.DataFrame, **where) -> pd.Series | None:
    rows = table[(table["level"] != "none")]
    for key, value in where.items():
        rows = rows[rows[key] == value]
    return None if rows.empty else rows.sort_values("mean").iloc[-1]


def _none_and_best(
    frame: pd.DataFrame, group: str, pick: str, split: str = "test", task: str = "listops"
) -> tuple[pd.Series, pd.Series] | None:
    """Mean accuracy of ``none`` and of the best explained level at the smallest or largest ``group``."""
    table = accuracy_table(frame, [group, "level"], split=split, task=task)
    if table.empty:
        return None
    at = table[group].min() if pick == "smallest" else table[group].max()
    none, best = _cell(table, level="none", **{group: at}), _best_explained(table, **{group: at})
    return None if none is None or best is None else (none, best)


def _missing(cid: str) -> Claim:
    return Claim(cid, STATEMENTS[cid], PAPER[cid], "not in this run's grid", None)


def check_c1(frame: pd.DataFrame) -> Claim:
    """Smallest model: best level vs none."""
    pair = _none_and_best(frame, "params", "smallest")
    if pair is None:
        return _missing("C1")
    none, best = pair
    gain = best["mean"] - none["mean"]
    ours = f"none {_with_ci(none)}, {best['level']} {_with_ci(best)} ({100 * gain:+.1f} points)"
    return Claim("C1", STATEMENTS["C1"], PAPER["C1"], ours, bool(gain >= 0.15))


def check_c2(frame: pd.DataFrame) -> Claim:
    """Long-minus-short gain, smallest vs largest model."""
    table = accuracy_table(frame, ["params", "level"])
    if table.empty or table["params"].nunique() < 2:
        return _missing("C2")
    gains = {}
    for name, params in (("smallest", table["params"].min()), ("largest", table["params"].max())):
        long, short = (
            _cell(table, params=params, level="long"),
            _cell(table, params=params, level="short"),
        )
        if long is None or short is None:
            return _missing("C2")
        gains[name] = long["mean"] - short["mean"]
    ours = f"long − short: smallest {100 * gains['smallest']:+.1f}, largest {100 * gains['largest']:+.1f} points"
    return Claim(
        "C2", STATEMENTS["C2"], PAPER["C2"], ours, bool(gains["smallest"] > gains["largest"])
    )


def check_c3(frame: pd.DataFrame, modulus: int) -> Claim:
    """Modular sum: none near chance, best level high."""
    pair = _none_and_best(frame, "params", "smallest", task="modular_sum")
    if pair is None:
        return _missing("C3")
    none, best = pair
    chance = 1 / modulus
    ours = f"chance {_pct(chance)}; none {_with_ci(none)}, {best['level']} {_with_ci(best)}"
    return Claim(
        "C3",
        STATEMENTS["C3"],
        PAPER["C3"],
        ours,
        bool(abs(none["mean"] - chance) <= 0.05 and best["mean"] >= 0.70),
    )


def seed_accuracies(
    frame: pd.DataFrame, level: str, task: str = "listops", params: int | None = None
) -> str:
    """Each seed's final test accuracy at ``level`` (smallest model unless ``params``), for prose."""
    runs = final_accuracy(frame, task=task)
    runs = runs[runs["level"] == level]
    runs = runs[runs["params"] == (params if params is not None else runs["params"].min())]
    return ", ".join(_pct(v) for v in sorted(runs["value"])) or "not measured"


def lead_over_none(table: pd.DataFrame, column: str, level: str) -> str:
    """Points by which ``level`` leads ``none`` at each value of ``column`` of a summary table, for prose."""
    means = table.pivot_table(index=column, columns="level", values="mean", sort=False)
    if not {"none", level} <= set(means.columns):
        return "not measured"
    return ", ".join(
        f"{column} {key}: {100 * (row[level] - row['none']):+.1f} points"
        for key, row in means.iterrows()
    )


def check_c4(frame: pd.DataFrame) -> Claim:
    """Smallest train size: best explained vs none."""
    pair = _none_and_best(frame, "train_size", "smallest")
    if pair is None:
        return _missing("C4")
    none, best = pair
    smallest = none["train_size"]
    gain = best["mean"] - none["mean"]
    ours = f"{smallest} examples: none {_with_ci(none)}, {best['level']} {_with_ci(best)} ({100 * gain:+.1f} points)"
    return Claim("C4", STATEMENTS["C4"], PAPER["C4"], ours, bool(gain >= 0.15))


def check_c5(frame: pd.DataFrame) -> Claim:
    """Longer test bucket (split ``test_long``): best explained vs none, CIs apart. Largest model, as in the paper."""
    pair = _none_and_best(frame, "params", "largest", split="test_long")
    if pair is None:
        return _missing("C5")
    none, best = pair
    apart = bool(best["ci_low"] > none["ci_high"]) if not math.isnan(best["ci_low"]) else False
    ours = f"largest model on test_long: none {_with_ci(none)}, {best['level']} {_with_ci(best)}"
    return Claim("C5", STATEMENTS["C5"], PAPER["C5"], ours, apart)


def steps_to_threshold(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per run: the first optimizer step whose validation accuracy reaches ``threshold`` (inf if never)."""
    curve = frame[
        (frame["stage"] == "curve") & (frame["metric"] == "accuracy") & (frame["task"] == "listops")
    ]
    keys = ["model", "params", "level", "seed"]
    rows = []
    for key, group in curve.groupby(keys):
        reached = group[group["value"] >= threshold]["step"]
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "steps_to_threshold": float(reached.min()) if len(reached) else math.inf,
            }
        )
    return pd.DataFrame(rows, columns=[*keys, "steps_to_threshold"])


def check_c6(frame: pd.DataFrame, threshold: float) -> Claim:
    """Smallest model: mean steps to reach ``threshold`` ordered long ≤ medium ≤ short."""
    steps = steps_to_threshold(frame, threshold)
    if steps.empty:
        return _missing("C6")
    smallest = steps[steps["params"] == steps["params"].min()]
    mean = smallest.groupby("level")["steps_to_threshold"].mean()
    if not {"short", "medium", "long"} <= set(mean.index):
        return _missing("C6")
    shown = ", ".join(
        f"{lv} {'never' if math.isinf(mean[lv]) else f'{mean[lv]:.0f}'}"
        for lv in ("long", "medium", "short")
    )
    ours = f"mean steps to {_pct(threshold)} validation accuracy: {shown}"
    ordered = mean["long"] <= mean["medium"] <= mean["short"] and not math.isinf(mean["long"])
    return Claim("C6", STATEMENTS["C6"], PAPER["C6"], ours, bool(ordered))


def verdict(claim: Claim) -> str:
    """``holds``, ``does not hold`` or ``not measured``, for prose."""
    return {True: "holds", False: "does not hold", None: "not measured"}[claim.holds]


def claims_table(claims: list[Claim]) -> pd.DataFrame:
    """The claims as a table with a readable ``holds`` column."""
    table = pd.DataFrame([asdict(c) for c in claims])
    table["holds"] = table["holds"].map({True: "yes", False: "no", None: "not measured"})
    return table


def write_claims(claims: list[Claim], path: str | Path) -> Path:
    """Write a notebook's claim checks (``results/claims/<notebook>.csv``) for the claims chapter."""
    return write_results(claims_table(claims), path)


def read_claims(claims_dir: str | Path) -> pd.DataFrame:
    """Every claim the notebooks checked, in claim order (C1, C2, …, C10)."""
    files = sorted(Path(claims_dir).glob("*.csv"))
    if not files:
        raise FileNotFoundError(
            f"results_dir: no claim checks in {str(claims_dir)!r}; run notebooks 02-05 first"
        )
    table = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    order = table["claim"].str[1:].astype(int)
    return table.assign(_order=order).sort_values("_order").drop(columns="_order")


def check_c7(frame: pd.DataFrame) -> Claim:
    """PLW sweep (``prompt_loss.ablation_frame`` rows): negative quadratic with an inner optimum on
    short-completion data, and not on long-completion data."""
    from explain_utils.plw_fit import quadratic_fit, sweep_points

    fits = {}
    for completion in ("short", "long"):
        points = sweep_points(frame, completion) if "completion" in frame else pd.DataFrame()
        if points.empty or points["prompt_loss_weight"].nunique() < 3:
            return _missing("C7")
        fits[completion] = quadratic_fit(points["prompt_loss_weight"], 100 * points["value"])
    ours = "; ".join(f"{c}: {fit.describe()}" for c, fit in fits.items())
    holds = (
        fits["short"].negative_with_inner_optimum and not fits["long"].negative_with_inner_optimum
    )
    return Claim("C7", STATEMENTS["C7"], PAPER["C7"], ours + " (accuracy in points)", bool(holds))


def check_c8(frame: pd.DataFrame) -> Claim:
    """IM vs completion-only (``it``) on the short-completion (long-instruction) data at the
    smallest train size where both were run: mean test accuracy over seeds."""
    if "method" not in frame:
        return _missing("C8")
    rows = final_accuracy(frame, task=None)
    rows = rows[(rows["completion"] == "short") & rows["method"].isin(["im", "it"])]
    sizes = set(rows.loc[rows["method"] == "im", "train_size"]) & set(
        rows.loc[rows["method"] == "it", "train_size"]
    )
    if not sizes:
        return _missing("C8")
    smallest = min(sizes)
    table = summarize(rows[rows["train_size"] == smallest], ["method"]).set_index("method")
    im, it = table.loc["im"], table.loc["it"]
    gain = im["mean"] - it["mean"]
    ours = f"{smallest} examples: IT {_with_ci(it)}, IM {_with_ci(im)} ({100 * gain:+.1f} points)"
    return Claim("C8", STATEMENTS["C8"], PAPER["C8"], ours, bool(gain > 0))
