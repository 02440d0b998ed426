"""Paired comparisons of two conditions on the same seeds and test rows, and a claim's verdict.

A condition is a 0/1 matrix ``[seeds, rows]``: whether each seed's run got each test row right.
Two conditions compared on the same seeds and rows are *paired*: the bootstrap resamples seed
indices and row indices once per replicate and applies the same indices to every condition
(two-level bootstrap: seeds, then rows), so the variation shared by the conditions — hard rows,
a lucky seed — cancels in the difference. Estimates are fractions; tables show points (× 100).
With three seeds the seed level has only ten distinct resamples and understates the spread
between seeds that more seeds would show; the interval is then mostly the rows' uncertainty.
A claim's verdict is one of four words, ``VERDICTS``, by the one rule that ``verdict`` states;
``STILL_LEARNING`` replaces it where a cell the claim compares had not finished learning.

Light imports only (numpy): the claims and the figures use this module.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

N_BOOT = 2000
CONFIDENCE = 0.95
HOLDS = "holds"
INCONCLUSIVE = "inconclusive"
DOES_NOT_HOLD = "does not hold"
REVERSED = "reversed"
VERDICTS: tuple[str, ...] = (HOLDS, INCONCLUSIVE, DOES_NOT_HOLD, REVERSED)  # rule: ``verdict``
# a claim that compares a cell whose plateau check was still gaining at its cap cannot be
# judged yet, whatever its interval says: an inconclusive, counted and drawn as one, that names
# why (``claims.claim.with_still_learning`` gives it)
STILL_LEARNING = f"{INCONCLUSIVE} (still learning)"


@dataclass(frozen=True)
class Estimate:
    """A contrast's mean over seeds and rows with its bootstrap percentile interval."""

    diff: float
    ci_low: float
    ci_high: float
    n_seeds: int
    n_rows: int

    def points(self) -> str:
        """``+12.3 [4.5, 20.1] points`` (a difference of fractions shown in accuracy points)."""
        return (
            f"{100 * self.diff:+.1f} [{100 * self.ci_low:+.1f}, {100 * self.ci_high:+.1f}] points"
        )


def _as_matrices(conditions: Sequence[np.ndarray]) -> list[np.ndarray]:
    mats = [np.atleast_2d(np.asarray(c, dtype=float)) for c in conditions]
    if not mats:
        raise ValueError("paired_contrast needs at least one condition")
    shapes = {m.shape for m in mats}
    if len(shapes) != 1:
        raise ValueError(f"paired conditions must share [seeds, rows]; got shapes {sorted(shapes)}")
    if mats[0].size == 0:
        raise ValueError("paired conditions are empty (no seeds or no rows)")
    return mats


def _counts(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """How often each of ``n`` indices is drawn in each of ``n_boot`` resamples: ``[n_boot, n]``."""
    draws = rng.integers(0, n, size=(n_boot, n))
    offsets = (np.arange(n_boot) * n)[:, None]
    return np.bincount((draws + offsets).ravel(), minlength=n_boot * n).reshape(n_boot, n)


def paired_contrast(
    conditions: Sequence[np.ndarray],
    weights: Sequence[float],
    offset: float = 0.0,
    n_boot: int = N_BOOT,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> Estimate:
    """Mean of ``Σ weights[k]·conditions[k] + offset`` over seeds and rows, with a paired bootstrap CI.

    Every condition is an array ``[seeds, rows]`` (0/1 correctness, or any per-row score) on the
    same seeds and rows. Each replicate resamples seed indices and row indices with replacement
    and applies the same indices to all conditions; the CI is the percentile interval of the
    replicates. Deterministic for a given ``seed``. ``weights`` (-1, +1) is ``b − a``.
    """
    mats = _as_matrices(conditions)
    if len(weights) != len(mats):
        raise ValueError(f"{len(mats)} conditions but {len(weights)} weights")
    combined = sum(w * m for w, m in zip(weights, mats, strict=True)) + offset
    n_seeds, n_rows = combined.shape
    rng = np.random.default_rng(seed)
    seed_counts, row_counts = _counts(rng, n_seeds, n_boot), _counts(rng, n_rows, n_boot)
    # the mean of combined[s_i, r_j] over the resampled seeds i and rows j, without the cube
    replicates = ((seed_counts @ combined) * row_counts).sum(axis=1) / (n_seeds * n_rows)
    tail = (1 - confidence) / 2
    low, high = np.quantile(replicates, [tail, 1 - tail])
    return Estimate(float(combined.mean()), float(low), float(high), n_seeds, n_rows)


def paired_difference(
    a: np.ndarray, b: np.ndarray, n_boot: int = N_BOOT, seed: int = 0
) -> Estimate:
    """``b − a`` (fraction) over the same seeds and rows, with its two-level paired bootstrap CI."""
    return paired_contrast([a, b], [-1.0, 1.0], n_boot=n_boot, seed=seed)


def verdict(
    diff: float, ci_low: float, ci_high: float, min_effect: float = 0.0, direction: int = +1
) -> str:
    """One of ``VERDICTS`` for a claimed difference ``diff`` (in the units of ``min_effect``).

    The book's one rule for its verdict words, stated here only. With ``d = direction·diff`` and
    the 95 % CI turned the same way:

    - ``reversed``: the CI lies wholly on the other side of 0;
    - ``holds``: the CI lies wholly on the claimed side of 0 *and* the mean meets the claimed size
      (``d ≥ min_effect``; ``d > 0`` when ``min_effect`` is 0);
    - ``does not hold``: the CI excludes 0 on the claimed side but the mean falls short of the
      claimed size (an effect, but not the one claimed), or, when ``min_effect > 0``, the whole CI
      lies below the claimed size (the size is ruled out even if 0 is not);
    - ``inconclusive``: anything else, i.e. the CI includes 0 and does not rule out the claimed
      size: this run cannot tell, whatever the mean says.

    A NaN bound counts as a CI that includes 0 (and rules nothing out), so it gives
    ``inconclusive``.
    """
    if direction not in (-1, 1):
        raise ValueError(f"direction must be +1 or -1, got {direction!r}")
    if math.isnan(diff):
        raise ValueError("verdict needs a measured difference, got NaN")
    d = direction * diff
    low, high = sorted((direction * ci_low, direction * ci_high))
    if math.isnan(ci_low) or math.isnan(ci_high):
        return INCONCLUSIVE
    if high < 0:
        return REVERSED
    if low > 0:
        return HOLDS if d > 0 and d >= min_effect else DOES_NOT_HOLD
    if min_effect > 0 and high < min_effect:
        return DOES_NOT_HOLD
    return INCONCLUSIVE
