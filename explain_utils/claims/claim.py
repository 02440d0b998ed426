"""A claim check's row: the paper's figure, ours, the paired difference, its CI and the verdict.

Verdicts are ``stats.VERDICTS`` (holds, inconclusive, does not hold, reversed, by the rule that
``stats.verdict`` states), or ``not measured`` when the grid lacks a condition the claim needs.
``holds`` (yes / no) is kept for the tables the notebooks show: yes exactly when the verdict is
``holds`` (C1-C6). A measured claim that compares a cell still learning at the end of its plateau
check gets ``stats.STILL_LEARNING`` instead (``with_still_learning``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

from explain_utils.analysis.results import write_results
from explain_utils.analysis.stats import DOES_NOT_HOLD, HOLDS, STILL_LEARNING, Estimate
from explain_utils.tasks.formats import base_level

NOT_MEASURED = "not measured"
PAPER = {
    "C1": "T5-small: none 65.1 %, long 87.8 % (+22.7 points)",
    "C2": "longer explanations help the smallest model most (qualitative)",
    "C3": "none ≈ chance; T5-small 75.7 % with long",
    "C3 (larger models)": "larger models > 98 % with any explanation level",
    "C4": "T5-large, 2 000 samples: none 44.9 %, explained 66.1 % (+21.2 points)",
    "C5": "T5-large, train 50-100 → test 100-200 tokens: none 63.5 %, medium 91.2 %",
    "C6": "explanations make the smallest model converge faster (qualitative)",
    "C7": "Huerta-Enochian & Ko: short-completion data, score = −4.284·(w_p − 0.652)² + 0.781, "
    "significant negative quadratic (best PLW ≈ 0.01–0.5); long-generation data improve towards PLW 1",
    "C8": "Shi et al.: IM > IT with few examples and long instructions, e.g. LLaMA-2-7B "
    "Alpagasus Dolly 3k 46.58 → 48.95, LIMA 48.79 → 49.60 (NLP mean of 18 tasks)",
}
# The paper's figure in the unit of a claim's diff, where the paper gives one number to set beside
# ours (C2 and C6 are qualitative). C3's diff is best − 70 %; C8 is LLaMA-2-7B on Alpagasus Dolly
# 3k; C5 (best format) is judged against C5's figure. C7 has none: the paper's quadratic is not in
# accuracy units (its curve gives −1.04 at w_p = 0), so only its sign and its optimum compare.
PAPER_DIFF = {
    "C1": 87.8 - 65.1,
    "C3": 75.7 - 70.0,
    "C4": 66.1 - 44.9,
    "C5": 91.2 - 63.5,
    "C5 (best format)": 91.2 - 63.5,
    "C8": 48.95 - 46.58,
}
STATEMENTS = {
    "C1": "smallest model: best explained level − none ≥ +15 points on test",
    "C2": "the gain of long over short explanations is larger for the smallest model than for "
    "the largest: (long − short) at the smallest − (long − short) at the largest > 0",
    "C3": "modular sum, smallest model trained on it: none within 5 points of chance and the best level "
    "≥ 70 % (diff: best − 70 %)",
    "C3 (larger models)": "modular sum, largest model trained on it: every explained level > 98 % "
    "(diff: the weakest level − 98 %)",
    "C4": "at {size} training examples: best explained level − none ≥ +15 points on test",
    "C5": "largest model, longer test split (test_long): best explained level − none > 0",
    "C6": "smallest model: steps until validation accuracy first reaches {accuracy} (fixed in "
    "advance), ordered long ≤ medium ≤ short (diff: short − long, in steps)",
    "C7": "quadratic fit of accuracy in w_p = PLW^0.30103: on short-completion data a < 0 with a "
    "95 % CI excluding 0 and the optimum inside (0, 1); on long-completion data not (compared "
    "with the paper by the sign of a and where the optimum lies, not by a's size)",
    "C8": "long-instruction (short-completion) data, smallest train size: IM accuracy > "
    "completion-only (IT) accuracy, mean over seeds",
}
PAIRED_METHOD = "paired bootstrap over seeds and test rows ({n_boot} resamples, 95 % percentile CI)"
SEED_METHOD = "bootstrap over seeds only ({n_boot} resamples; these runs have no per-row results)"
LEVEL_CHOICE = "; best explained level chosen on the validation split, never on test"


@dataclass(frozen=True)
class Claim:
    """One row of the claims table (``diff`` and its CI in ``unit``; NaN when not a difference)."""

    claim: str
    statement: str
    paper: str
    ours: str
    holds: bool | None  # None: not measured in this run (e.g. a level missing from the grid)
    verdict: str = ""  # stats.VERDICTS or NOT_MEASURED; "" derives it from ``holds``
    diff: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    unit: str = "points"
    n_seeds: int = 0
    n_rows: int = 0  # test rows per seed; 0 when the CI comes from seeds alone
    method: str = ""  # how it was measured: level choice, bootstrap, thresholds

    def __post_init__(self) -> None:
        if not self.verdict:
            derived = {True: HOLDS, False: DOES_NOT_HOLD, None: NOT_MEASURED}[self.holds]
            object.__setattr__(self, "verdict", derived)


def measured(
    cid: str,
    ours: str,
    estimate: Estimate,
    verdict: str,
    method: str,
    statement: str | None = None,
    scale: float = 100.0,
    unit: str = "points",
) -> Claim:
    """A measured claim row: ``estimate`` scaled to ``unit`` (accuracy points by default)."""
    return Claim(
        cid,
        statement or _looked_up(STATEMENTS, cid),
        _looked_up(PAPER, cid),
        ours,
        verdict == HOLDS,
        verdict,
        round(scale * estimate.diff, 2),
        round(scale * estimate.ci_low, 2),
        round(scale * estimate.ci_high, 2),
        unit,
        estimate.n_seeds,
        estimate.n_rows,
        method,
    )


def missing(cid: str, why: str = "not in this run's grid", statement: str | None = None) -> Claim:
    """A claim the grid cannot check."""
    statement = statement or _looked_up(STATEMENTS, cid)
    return Claim(cid, statement, _looked_up(PAPER, cid), why, None, NOT_MEASURED)


def _looked_up(table: dict[str, str], cid: str) -> str:
    """A claim row's own entry (``C3 (larger models)``), else its claim's (``C4 (500 ex.)``: C4)."""
    return table.get(cid, table[cid.split()[0]])


Cell = tuple[str, str, str]  # (model, task, level), as the plateau check names a trained cell


def unfinished_among(compared: Iterable[Cell], unfinished: Collection[Cell]) -> list[Cell]:
    """The cells of ``compared`` (in order, once each) that are in ``unfinished``
    (``profiles.explanations.still_learning``). A book format is trained for the steps of the
    paper level it extends, so its plateau check is that level's (``formats.base_level``)."""
    found = {}
    for model, task, level in compared:
        cell = (model, task, base_level(level))
        if cell in unfinished:
            found[(model, task, level)] = None
    return list(found)


def cell_names(cells: Iterable[Cell]) -> str:
    """``t5-50k short, t5-250k long (modular_sum)``: cells as the claims' texts name them."""
    return ", ".join(
        f"{model} {level}" + ("" if task == "listops" else f" ({task})")
        for model, task, level in cells
    )


def with_still_learning(
    claim: Claim, compared: Iterable[Cell], unfinished: Collection[Cell] = ()
) -> Claim:
    """``claim`` with the verdict ``stats.STILL_LEARNING`` and the cells named in ``ours`` when a
    cell it compared (``(model, task, level)``) is in ``unfinished``; unchanged otherwise.

    A cell still gaining when its plateau check stopped may end higher with more steps, so no
    verdict that rests on it can stand yet, whichever way its interval points; a claim not
    measured stays so."""
    cells = unfinished_among(compared, unfinished)
    if not cells or claim.verdict == NOT_MEASURED:
        return claim
    ours = f"{claim.ours}; still learning: {cell_names(cells)}"
    return replace(claim, verdict=STILL_LEARNING, holds=False, ours=ours)


def pct(x: float | None) -> str:
    """``12.3 %`` for a fraction (``–`` when missing)."""
    return "–" if x is None or math.isnan(x) else f"{100 * x:.1f} %"


def with_ci(row: pd.Series) -> str:
    """``mean [low, high]`` in percent; the interval is clipped to [0, 100] (an accuracy's range)."""
    if math.isnan(row["ci_low"]):
        return pct(row["mean"])
    low, high = max(row["ci_low"], 0.0), min(row["ci_high"], 1.0)
    return f"{pct(row['mean'])} [{100 * low:.1f}, {100 * high:.1f}]"


def accuracy_text(estimate: Estimate) -> str:
    """A condition's accuracy with its bootstrap CI, ``45.8 % [42.1, 49.0]``."""
    return with_ci(
        pd.Series({"mean": estimate.diff, "ci_low": estimate.ci_low, "ci_high": estimate.ci_high})
    )


def verdict(claim: Claim) -> str:
    """The claim's verdict (``stats.VERDICTS`` or ``not measured``), for prose."""
    return claim.verdict


def claims_table(claims: list[Claim]) -> pd.DataFrame:
    """The claims as a table with a readable ``holds`` column (yes / no / not measured)."""
    table = pd.DataFrame([asdict(c) for c in claims])
    table["holds"] = table["holds"].map({True: "yes", False: "no", None: NOT_MEASURED})
    return table


def write_claims(claims: list[Claim], path: str | Path) -> Path:
    """Write a notebook's claim checks (``results/claims/<notebook>.csv``) for the claims chapter."""
    return write_results(claims_table(claims), path)


def difference_text(table: pd.DataFrame) -> pd.Series:
    """``diff [ci_low, ci_high] unit`` per row of a claims table (``–`` where not measured)."""

    def one(row: pd.Series) -> str:
        if pd.isna(row.get("diff")):
            return "–"
        if pd.isna(row.get("ci_low")):
            return f"{row['diff']:+.1f} {row['unit']} (no CI)"
        return f"{row['diff']:+.1f} [{row['ci_low']:+.1f}, {row['ci_high']:+.1f}] {row['unit']}"

    return table.apply(one, axis=1) if len(table) else pd.Series(dtype=str)


def paper_difference(table: pd.DataFrame) -> pd.Series:
    """The paper's figure in each row's unit (``PAPER_DIFF``; NaN where the paper has none)."""
    return table["claim"].map(PAPER_DIFF).astype(float)


def primary_claims(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of the claims themselves (C1 … C8), without extra rows such as ``C4 (500 ex.)``."""
    return table[table["claim"].astype(str).str.fullmatch(r"C\d+")]


def _claim_order(claim: str) -> int:
    found = re.match(r"C(\d+)", str(claim))
    return int(found.group(1)) if found else 10**6


def read_claims(claims_dir: str | Path) -> pd.DataFrame:
    """Every claim the notebooks checked, in claim order (C1, C2, …, C10; extra rows after theirs)."""
    files = sorted(Path(claims_dir).glob("*.csv"))
    if not files:
        raise FileNotFoundError(
            f"results_dir: no claim checks in {str(claims_dir)!r}; run notebooks 02-05 first"
        )
    table = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    old = {"yes": HOLDS, "no": DOES_NOT_HOLD}  # claim files written before verdicts existed
    derived = table["holds"].map(old).fillna(NOT_MEASURED)
    table["verdict"] = table["verdict"].fillna(derived) if "verdict" in table else derived
    for column in ("diff", "ci_low", "ci_high", "unit", "n_seeds", "n_rows", "method"):
        if column not in table:
            table[column] = math.nan
    order = table["claim"].map(_claim_order)
    return (
        table.assign(_order=order)
        .sort_values("_order", kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
