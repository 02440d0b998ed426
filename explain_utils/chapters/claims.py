"""The claims page (paper vs this book): where the notebooks' claim checks are, and the sentence
that counts the verdicts, computed from the rows so that it agrees with the table on any run."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from explain_utils.analysis.stats import (
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    REVERSED,
    STILL_LEARNING,
)
from explain_utils.chapters.prose import listed
from explain_utils.claims.claim import NOT_MEASURED, primary_claims
from explain_utils.common.names import DEFAULT_PROFILE
from explain_utils.profiles.checks import check_profile, from_notebook

# a verdict as the verb of a sentence: (one claim, several claims)
VERDICT_PHRASES: dict[str, tuple[str, str]] = {
    HOLDS: ("holds", "hold"),
    INCONCLUSIVE: ("is inconclusive", "are inconclusive"),
    # inconclusive too, beside the others: the reason (a compared cell still learning) differs
    STILL_LEARNING: (
        "is inconclusive because a cell it compares was still learning",
        "are inconclusive because a cell they compare was still learning",
    ),
    DOES_NOT_HOLD: ("does not hold", "do not hold"),
    REVERSED: ("is reversed", "are reversed"),
    NOT_MEASURED: ("was not measured", "were not measured"),
}


def claims_dir(profile: str = DEFAULT_PROFILE, results_dir: str | Path = "results") -> Path:
    """Where the experiment notebooks wrote their claim checks. ``profile`` is checked and only
    recorded: the rows say what the notebooks ran."""
    check_profile(profile)
    return Path(results_dir) / "claims"


def configure(namespace: Mapping[str, Any]) -> Path:
    """The claim checks' folder from the page's parameters (its ``globals()``)."""
    return from_notebook(claims_dir, namespace)


def summary_values(table: pd.DataFrame) -> dict[str, str]:
    """The page's sentence on the verdicts of C1, C2, … (rows such as ``C4 (500 ex.)`` add context
    and are not counted)."""
    return {"verdict_summary": verdict_summary(primary_claims(table))}


def verdict_phrase(verdict: str, n: int) -> str:
    """``verdict`` as a verb for ``n`` claims; a verdict without a phrase reads "is <verdict>"."""
    one, several = VERDICT_PHRASES.get(verdict, (f"is {verdict}", f"are {verdict}"))
    return one if n == 1 else several


def verdict_summary(claims: pd.DataFrame) -> str:
    """How many claims got each verdict, naming them, in the order of ``VERDICT_PHRASES`` (any
    other verdict after those, in the order of the rows)."""
    if claims.empty:
        return "No claim was checked in this run."
    by_verdict = claims["claim"].astype(str).groupby(claims["verdict"], sort=False).apply(list)
    order = [v for v in VERDICT_PHRASES if v in by_verdict.index]
    order += [v for v in by_verdict.index if v not in VERDICT_PHRASES]
    if len(claims) == 1:
        name, verdict = by_verdict[order[0]][0], order[0]
        return f"The one claim checked in this run, {name}, {verdict_phrase(verdict, 1)}."
    parts = [f"{verdict_phrase(v, len(by_verdict[v]))} ({', '.join(by_verdict[v])})" for v in order]
    if len(parts) == 1:
        return f"All {len(claims)} claims checked in this run {parts[0]}."
    counted = [f"{len(by_verdict[v])} {part}" for v, part in zip(order, parts, strict=True)]
    return f"Of the {len(claims)} claims checked in this run, {listed(counted)}."
