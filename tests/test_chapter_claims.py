"""The claims page's module: the verdict sentence counts the table's verdicts, for every verdict."""

from __future__ import annotations

import pandas as pd
import pytest

from explain_utils.analysis.stats import (
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    REVERSED,
    STILL_LEARNING,
    VERDICTS,
)
from explain_utils.chapters import claims
from explain_utils.claims.claim import NOT_MEASURED


def _table(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["claim", "verdict"])


def test_configure_checks_the_profile_and_points_at_the_claims_folder(tmp_path):
    assert (
        claims.configure({"profile": "smoke", "results_dir": str(tmp_path)}) == tmp_path / "claims"
    )
    with pytest.raises(ValueError, match="profile must be one of"):
        claims.configure({"profile": "fast", "results_dir": str(tmp_path)})


def test_verdict_summary_counts_and_names_every_verdict_in_order():
    table = _table(
        ("C1", HOLDS),
        ("C2", REVERSED),
        ("C3", HOLDS),
        ("C4", INCONCLUSIVE),
        ("C4 (500 ex.)", HOLDS),
        ("C5", DOES_NOT_HOLD),
        ("C6", NOT_MEASURED),
    )
    assert claims.summary_values(table) == {
        "verdict_summary": "Of the 6 claims checked in this run, 2 hold (C1, C3), 1 is "
        "inconclusive (C4), 1 does not hold (C5), 1 is reversed (C2) and 1 was not measured (C6)."
    }


def test_verdict_summary_reads_right_for_one_verdict_one_claim_none_and_a_new_verdict():
    assert claims.verdict_summary(_table(("C1", DOES_NOT_HOLD), ("C2", DOES_NOT_HOLD))) == (
        "All 2 claims checked in this run do not hold (C1, C2)."
    )
    assert claims.verdict_summary(_table(("C7", REVERSED))) == (
        "The one claim checked in this run, C7, is reversed."
    )
    assert claims.verdict_summary(_table()) == "No claim was checked in this run."
    assert claims.verdict_summary(_table(("C1", INCONCLUSIVE), ("C2", INCONCLUSIVE))) == (
        "All 2 claims checked in this run are inconclusive (C1, C2)."
    )
    learning = claims.verdict_summary(
        _table(("C1", STILL_LEARNING), ("C2", INCONCLUSIVE), ("C6", STILL_LEARNING), ("C3", HOLDS))
    )
    assert learning == (
        "Of the 4 claims checked in this run, 1 holds (C3), 1 is inconclusive (C2) and 2 are "
        "inconclusive because a cell they compare was still learning (C1, C6)."
    )
    new = claims.verdict_summary(_table(("C1", "undecided"), ("C2", "undecided"), ("C3", HOLDS)))
    assert new == "Of the 3 claims checked in this run, 1 holds (C3) and 2 are undecided (C1, C2)."


def test_every_verdict_has_its_words_in_the_rules_order():
    phrased = list(claims.VERDICT_PHRASES)
    assert [v for v in phrased if v in VERDICTS] == list(VERDICTS)
    assert phrased[: len(VERDICTS) + 1] == [HOLDS, INCONCLUSIVE, STILL_LEARNING, *VERDICTS[2:]]
    assert claims.verdict_phrase(INCONCLUSIVE, 1) == "is inconclusive"
