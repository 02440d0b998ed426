"""The paired bootstrap and the four verdicts, on synthetic data where the answer is known."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from explain_utils.analysis.stats import (
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    REVERSED,
    STILL_LEARNING,
    VERDICTS,
    paired_contrast,
    paired_difference,
    verdict,
)


def bernoulli(p: float, seeds: int = 3, rows: int = 1000, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((seeds, rows)) < p).astype(np.uint8)


def test_clearly_separated_pair_holds():
    est = paired_difference(bernoulli(0.3, seed=1), bernoulli(0.7, seed=2))
    assert est.diff == pytest.approx(0.4, abs=0.03)
    assert 0 < est.ci_low < est.diff < est.ci_high
    assert (est.n_seeds, est.n_rows) == (3, 1000)
    assert verdict(est.diff, est.ci_low, est.ci_high, min_effect=0.15) == HOLDS


def test_identical_conditions():
    """A CI of exactly [0, 0] includes 0: inconclusive for "b > a", but it rules out +15 points."""
    a = bernoulli(0.5)
    est = paired_difference(a, a.copy())
    assert (est.diff, est.ci_low, est.ci_high) == (0.0, 0.0, 0.0)
    assert verdict(est.diff, est.ci_low, est.ci_high) == INCONCLUSIVE
    assert verdict(est.diff, est.ci_low, est.ci_high, min_effect=0.15) == DOES_NOT_HOLD


def test_opposite_direction_is_reversed():
    est = paired_difference(bernoulli(0.7, seed=1), bernoulli(0.3, seed=2))
    assert verdict(est.diff, est.ci_low, est.ci_high, min_effect=0.15) == REVERSED
    assert verdict(est.diff, est.ci_low, est.ci_high, direction=-1) == HOLDS


def test_pairing_cancels_shared_row_difficulty():
    """b = a plus 5 % more rows right: paired, the CI is tight; the same rows shuffled are not."""
    rng = np.random.default_rng(0)
    a = (rng.random((3, 1000)) < 0.5).astype(float)
    b = a.copy()
    b[:, :100] = 1.0  # rows 0-99 now always right: +~5 points on the same rows
    paired = paired_difference(a, b)
    unpaired = paired_difference(a, b[:, rng.permutation(1000)])
    assert paired.ci_high - paired.ci_low < (unpaired.ci_high - unpaired.ci_low) / 2
    assert paired.ci_low > 0


def test_seed_level_noise_widens_the_interval():
    """A seed that disagrees makes the seed resampling include 0: the mean clears the claimed size
    but the run cannot tell, so the verdict is inconclusive, not a weak yes."""
    a = np.vstack([bernoulli(0.4, 1, seed=s)[0] for s in range(3)])
    b = np.vstack([bernoulli(p, 1, seed=10 + s)[0] for s, p in enumerate((0.8, 0.75, 0.35))])
    est = paired_difference(a, b)
    assert est.diff > 0.15 and est.ci_low < 0 < est.ci_high
    assert verdict(est.diff, est.ci_low, est.ci_high, min_effect=0.15) == INCONCLUSIVE


def test_deterministic_for_a_seed():
    a, b = bernoulli(0.4, seed=3), bernoulli(0.5, seed=4)
    assert paired_difference(a, b, seed=7) == paired_difference(a, b, seed=7)
    assert paired_difference(a, b, seed=7) != paired_difference(a, b, seed=8)


def test_counts_equal_explicit_resampling():
    """The count-matrix shortcut gives the mean over explicitly resampled seeds and rows."""
    rng = np.random.default_rng(5)
    a, b = rng.random((4, 30)), rng.random((4, 30))
    est = paired_contrast([a, b], [-1.0, 1.0], n_boot=300, seed=11)
    draws = np.random.default_rng(11)
    seeds, rows = draws.integers(0, 4, (300, 4)), draws.integers(0, 30, (300, 30))
    diff = b - a
    replicates = diff[seeds[:, :, None], rows[:, None, :]].mean(axis=(1, 2))
    low, high = np.quantile(replicates, [0.025, 0.975])
    assert (est.ci_low, est.ci_high) == pytest.approx((low, high))


def test_fast_enough():
    a, b = bernoulli(0.4), bernoulli(0.5, seed=1)
    paired_difference(a, b)  # warm-up
    started = time.perf_counter()
    paired_difference(a, b, n_boot=2000)
    assert time.perf_counter() - started < 1.0


def test_contrast_with_offset_and_shape_checks():
    est = paired_contrast([np.full((2, 10), 0.8)], [1.0], offset=-0.7)
    assert est.diff == pytest.approx(0.1) and est.ci_low == pytest.approx(0.1)
    with pytest.raises(ValueError, match="share"):
        paired_difference(np.zeros((3, 10)), np.zeros((3, 11)))
    with pytest.raises(ValueError, match="weights"):
        paired_contrast([np.zeros((1, 2))], [1.0, -1.0])
    with pytest.raises(ValueError, match="empty"):
        paired_difference(np.zeros((0, 5)), np.zeros((0, 5)))


@settings(max_examples=30, deadline=None)
@given(
    arrays(np.uint8, (3, 40), elements=st.integers(0, 1)),
    arrays(np.uint8, (3, 40), elements=st.integers(0, 1)),
)
def test_swapping_conditions_mirrors_the_estimate(a, b):
    forward, backward = paired_difference(a, b, n_boot=200), paired_difference(b, a, n_boot=200)
    assert backward.diff == pytest.approx(-forward.diff)
    assert (backward.ci_low, backward.ci_high) == pytest.approx((-forward.ci_high, -forward.ci_low))
    assert forward.ci_low <= forward.ci_high


@pytest.mark.parametrize(
    ("diff", "low", "high", "min_effect", "direction", "expected"),
    [
        (0.20, 0.10, 0.30, 0.15, 1, HOLDS),
        (0.15, 0.01, 0.30, 0.15, 1, HOLDS),  # the size met exactly
        (0.20, -0.02, 0.40, 0.15, 1, INCONCLUSIVE),  # size met by the mean, CI includes 0
        (0.05, -0.02, 0.16, 0.15, 1, INCONCLUSIVE),  # CI includes 0 and reaches the size
        (0.05, 0.01, 0.09, 0.15, 1, DOES_NOT_HOLD),  # an effect, smaller than claimed
        (0.02, -0.03, 0.07, 0.15, 1, DOES_NOT_HOLD),  # CI includes 0 but rules out the size
        (0.05, 0.01, 0.09, 0.0, 1, HOLDS),
        (0.00, -0.05, 0.05, 0.0, 1, INCONCLUSIVE),
        (-0.02, -0.05, 0.01, 0.0, 1, INCONCLUSIVE),  # the mean the wrong way, CI includes 0
        (0.00, 0.00, 0.00, 0.0, 1, INCONCLUSIVE),  # a CI that touches 0 includes it
        (-0.10, -0.20, -0.01, 0.0, 1, REVERSED),
        (-0.10, -0.20, -0.01, 0.15, 1, REVERSED),  # reversed beats "below the claimed size"
        (-0.10, -0.20, -0.01, 0.0, -1, HOLDS),  # a claimed decrease
        (-0.10, -0.20, -0.01, 0.15, -1, DOES_NOT_HOLD),  # a decrease, smaller than claimed
        (0.10, 0.01, 0.20, 0.0, -1, REVERSED),
        (0.02, math.nan, math.nan, 0.0, 1, INCONCLUSIVE),  # no CI: the run cannot tell
        (-0.02, math.nan, math.nan, 0.0, 1, INCONCLUSIVE),
        (0.02, math.nan, math.nan, 0.15, 1, INCONCLUSIVE),  # no CI rules out the size either
        (0.02, 0.01, math.nan, 0.0, 1, INCONCLUSIVE),  # one NaN bound is enough
    ],
)
def test_verdict_table(diff, low, high, min_effect, direction, expected):
    assert verdict(diff, low, high, min_effect, direction) == expected
    assert expected in VERDICTS


def test_four_verdict_words():
    assert VERDICTS == ("holds", "inconclusive", "does not hold", "reversed")
    assert INCONCLUSIVE == "inconclusive"
    # given by the claims for a cell still learning, never by the rule: an inconclusive that says why
    assert STILL_LEARNING == "inconclusive (still learning)" and STILL_LEARNING not in VERDICTS


@settings(max_examples=300, deadline=None)
@given(
    st.floats(-1, 1),
    st.floats(-1, 1),
    st.floats(-1, 1),
    st.sampled_from([0.0, 0.05, 0.15]),
    st.sampled_from([1, -1]),
)
def test_verdict_properties(diff, a, b, min_effect, direction):
    """What each word promises, on any numbers: a yes needs the whole CI on the claimed side, a CI
    that includes 0 (and does not rule out the claimed size) gives neither a yes nor a no."""
    judged = verdict(diff, a, b, min_effect, direction)
    low, high = sorted((direction * a, direction * b))
    d = direction * diff
    assert judged in VERDICTS
    assert (judged == REVERSED) == (high < 0)
    if judged == HOLDS:
        assert low > 0 and d > 0 and d >= min_effect
    if low <= 0 <= high and (min_effect == 0 or high >= min_effect):
        assert judged == INCONCLUSIVE
    if judged == DOES_NOT_HOLD:
        assert low > 0 or high < min_effect
    assert verdict(-diff, -a, -b, min_effect, -direction) == judged  # a claimed decrease mirrors


def test_verdict_rejects_bad_input():
    with pytest.raises(ValueError, match="direction"):
        verdict(0.1, 0.0, 0.2, direction=2)
    with pytest.raises(ValueError, match="NaN"):
        verdict(math.nan, 0.0, 0.1)
