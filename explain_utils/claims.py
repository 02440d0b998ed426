"""The claims of Ballout et al. (C1-C6) checked on tidy results: the paper's figure, ours, holds or not.

Each check reads only tidy rows (``results.results_frame`` / ``results/<notebook>.csv``) and returns
one ``Claim`` row; ``claims_table`` stacks them for the book's "paper vs this book" table.
Paper figures are from summaries of the paper (marked secondary in ``shared/reference/papers.md``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from explain_utils.results import ALL, summarize

PAPER = {
    "C1": "T5-small: none 65.1 %, long 87.8 % (+22.7 points)",
    "C2": "longer explanations help the smallest model most (qualitative)",
    "C3": "none ≈ chance; T5-small 75.7 % with long, larger models > 98 %",
    "C4": "T5-large, 2 000 samples: none 44.9 %, explained 66.1 % (+21.2 points)",
    "C5": "T5-large, train 50-100 → test 100-200 tokens: none 63.5 %, medium 91.2 %",
    "C6": "explanations make the smallest model converge faster (qualitative)",
}
STATEMENTS = {
    "C1": "smallest model: best explanation level ≥ none + 15 points",
    "C2": "gain of long over short is larger for the smallest model than for the largest",
    "C3": "modular sum: none within 5 points of chance, best level ≥ 70 %",
    "C4": "smallest train size: best explained level ≥ none + 15 points",
    "C5": "longer test bucket: explained > none with non-overlapping 95 % CIs",
    "C6": "smallest model: steps to reach the threshold ordered long ≤ medium ≤ short",
}


@dataclass(frozen=True)
class Claim:
    """One row of the claims table."""

    claim: str
    statement: str
    paper: str
    ours: str
    holds: bool | None  # None: not measured in this run (e.g. a level missing from the grid)


def final_accuracy(frame: pd.DataFrame, split: str = "test", task: str = "listops") -> pd.DataFrame:
    """One row per run: final accuracy on ``split`` over all depths and lengths."""
    rows = frame[
        (frame["stage"] == "final")
        & (frame["split"] == split)
        & (frame["task"] == task)
        & (frame["metric"] == "accuracy")
        & (frame["depth"].astype(str) == ALL)
        & (frame["length_bucket"].astype(str) == ALL)
    ]
    return rows.copy()


def accuracy_table(
    frame: pd.DataFrame, by: list[str], split: str = "test", task: str = "listops"
) -> pd.DataFrame:
    """Mean accuracy and 95 % CI over seeds, grouped by ``by``."""
    return summarize(final_accuracy(frame, split, task), by)


def _cell(table: pd.DataFrame, **where) -> pd.Series | None:
    mask = np.ones(len(table), dtype=bool)
    for key, value in where.items():
        mask &= (table[key] == value).to_numpy()
    rows = table[mask]
    return None if rows.empty else rows.iloc[0]


def _pct(x: float) -> str:
    return "–" if x is None or math.isnan(x) else f"{100 * x:.1f} %"


def _with_ci(row: pd.Series) -> str:
    if math.isnan(row["ci_low"]):
        return _pct(row["mean"])
    return f"{_pct(row['mean'])} [{100 * row['ci_low']:.1f}, {100 * row['ci_high']:.1f}]"


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


def claims_table(claims: list[Claim]) -> pd.DataFrame:
    """The claims as a table with a readable ``holds`` column."""
    table = pd.DataFrame([asdict(c) for c in claims])
    table["holds"] = table["holds"].map({True: "yes", False: "no", None: "not measured"})
    return table
