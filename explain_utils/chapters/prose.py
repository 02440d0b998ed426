"""Words the chapters' sentences share: a phrase chosen by a claim's verdict (with a default for a
verdict it does not know, such as a claim not measured), a claim's glue values, lists, parameter
counts and the direction a series of numbers takes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import pairwise

from explain_utils.analysis.stats import STILL_LEARNING
from explain_utils.claims.claim import Claim


def by_verdict(claim: Claim, phrases: Mapping[str, str], unsettled: str) -> str:
    """The phrase for ``claim``'s verdict (``unsettled`` for a verdict without one), then the
    verdict itself: ``every level helps (C1: holds)``."""
    phrase = phrases.get(claim.verdict, unsettled)
    if claim.verdict == STILL_LEARNING and claim.verdict not in phrases:
        phrase += ": a cell it compares was still gaining at the plateau check's cap"
    return f"{phrase} ({claim.claim}: {claim.verdict})"


def claim_values(*claims: Claim) -> dict[str, str]:
    """Each claim's measurement and verdict, ``c1_ours`` and ``c1_holds`` ("C3 (larger models)":
    ``c3_larger_models_ours``)."""
    values = {}
    for claim in claims:
        name = re.sub(r"\W+", "_", claim.claim.lower()).strip("_")
        values[f"{name}_ours"] = claim.ours
        values[f"{name}_holds"] = claim.verdict
    return values


def listed(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def params_text(n: float) -> str:
    """A parameter count as the prose gives it: 46 k, 60 M, 2.9 B."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value >= 10 or unit == "k" else f"{value:.1f} {unit}"
    return f"{n:.0f}"


def trend(values: Sequence[float]) -> str:
    """How a series moves from its first value to its last: ``grows``, ``shrinks``, ``does not
    change``, ``does not grow`` / ``does not shrink`` (flat in places), ``is not monotone``."""
    if len(values) < 2:
        return "is measured at one size only"
    steps = [b - a for a, b in pairwise(values)]
    if all(s > 0 for s in steps):
        return "grows"
    if all(s < 0 for s in steps):
        return "shrinks"
    if all(s == 0 for s in steps):
        return "does not change"
    if all(s >= 0 for s in steps):
        return "does not shrink"
    return "does not grow" if all(s <= 0 for s in steps) else "is not monotone"
