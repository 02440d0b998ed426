"""Chapter 3's sentences, chosen from small hand-made tables and claim rows for every verdict."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest

from explain_utils.analysis.stats import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, REVERSED, VERDICTS
from explain_utils.chapters import data_efficiency as chapter
from explain_utils.claims.claim import NOT_MEASURED, Claim

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_data_efficiency.ipynb"
LINES = {chapter.RULE: 0.494}


def claim(cid: str, verdict: str, diff: float = float("nan")) -> Claim:
    return Claim(cid, "statement", "paper", f"{cid} measured", verdict == HOLDS, verdict, diff)


def by_size(accuracy: dict[int, dict[str, float]], half_width: float = 0.03) -> pd.DataFrame:
    """A ``tables.accuracy_table`` by train size and level: mean ± ``half_width``."""
    return pd.DataFrame(
        [
            {"train_size": size, "level": level, "mean": mean}
            | {"ci_low": mean - half_width, "ci_high": mean + half_width, "n": 3}
            for size, levels in accuracy.items()
            for level, mean in levels.items()
        ]
    )


QUICK = by_size({2000: {"none": 0.380, "long": 0.900}, 10_000: {"none": 0.512, "long": 0.993}})


@pytest.mark.parametrize("verdict", [*VERDICTS, NOT_MEASURED, "undecided"])
def test_c4_headline_follows_the_verdict(verdict):
    rows = [claim("C4", verdict, 52.0), claim("C4 (10,000 ex.)", HOLDS, 48.07)]
    values = chapter.c4_values(rows, QUICK, LINES)
    headline = values["c4_headline"]
    assert headline.startswith("At the paper's comparison point, 2,000 examples, ")
    assert chapter.C4_PHRASES.get(verdict, "this run does not settle") in headline
    assert headline.endswith(f"(C4: {verdict}).")
    assert values["c4_holds"] == verdict and values["c4_size"] == "2,000"
    assert values["gains"] == "2,000 examples +52.0, 10,000 examples +48.1"
    if verdict == REVERSED:
        assert "answer-only training wins" in headline
    if verdict == INCONCLUSIVE:
        assert "includes 0, so this run cannot tell whether explanations win" in headline
        assert "by the mean" not in headline


def test_c4_at_the_smallest_size_when_the_paper_size_is_not_trained():
    small = by_size({100: {"none": 0.01, "long": 0.0}, 300: {"none": 0.0, "long": 0.0}})
    rows = [claim("C4", DOES_NOT_HOLD, -1.0), claim("C4 (300 ex.)", DOES_NOT_HOLD, 0.0)]
    values = chapter.c4_values(rows, small, {chapter.RULE: 0.36})
    assert values["c4_size"] == "100"
    assert values["c4_headline"].startswith("At 100 examples, the smallest of the sweep")
    assert "do not win by the claimed 15 points" in values["c4_headline"]
    assert values["gains"] == "100 examples -1.0, 300 examples +0.0"


def test_answer_only_against_the_rule():
    text = chapter.answer_only_text(QUICK, LINES)
    assert text.startswith("Answer-only training improves with more data (38.0 % → 51.2 %) but")
    assert "is never clearly above the one-line rule" in text and "at any size" in text
    above = by_size({2000: {"none": 0.60}, 10_000: {"none": 0.70}})
    text = chapter.answer_only_text(above, LINES)
    assert "and is clearly above the one-line rule" in text and text.endswith("at every size.")
    mixed = by_size({2000: {"none": 0.45}, 10_000: {"none": 0.60}})
    assert "only at 10,000 examples" in chapter.answer_only_text(mixed, LINES)
    worse = by_size({2000: {"none": 0.40}, 10_000: {"none": 0.30}})
    assert chapter.answer_only_text(worse, LINES).startswith("Answer-only training gets worse")


def test_what_an_explained_example_is_worth():
    ahead = pd.Series([52.0, 48.1], index=[2000, 10_000])
    assert chapter.per_example_text(ahead, True) == (
        "an explained example is worth more than one answer at every size of the sweep, but it "
        "also carries more supervision and costs proportionally more compute per step"
    )
    behind = chapter.per_example_text(pd.Series([-1.0, 0.0], index=[100, 300]), True)
    assert behind.startswith("an explained example is worth no more than one answer at any size")
    partly = chapter.per_example_text(pd.Series([-1.0, 3.0], index=[100, 300]), True)
    assert "only at 300 examples" in partly


def test_tokens_from_the_data_card(tmp_path):
    card = {"target_long": {"mean": 35.2}, "target_none": {"mean": 2.0}}
    (tmp_path / "listops").mkdir()
    (tmp_path / "listops" / "data_card.json").write_text(
        json.dumps({"splits": {"train": {"token_length": card}}})
    )
    config = SimpleNamespace(
        data_dir=tmp_path, train_sizes=(2000, 10_000), steps=4000, batch_size=32
    )
    rows = [claim("C4", HOLDS, 52.0), claim("C4 (10,000 ex.)", HOLDS, 48.07)]
    values = chapter.token_values(config, QUICK, rows)
    assert values["equivalent_none"] == "35,200"
    assert (values["long_tokens"], values["none_tokens"]) == ("35", "2")
    assert values["per_example"].startswith("an explained example is worth more")


def test_compute_of_the_full_data_runs():
    curves = pd.DataFrame(
        {"level": ["none", "none", "long", "long"], "target_tokens_seen": [100, 256, 1000, 3100]}
    )
    assert chapter.compute_values(curves)["compute_ratio"] == (
        "by the end of training the long runs processed 12.1 times the target tokens of the "
        "answer-only runs"
    )
    alone = chapter.compute_values(curves[curves["level"] == "long"])["compute_ratio"]
    assert alone.startswith("this run has no")


def test_the_what_we_found_headlines_are_glued():
    cells = nbformat.read(NOTEBOOK, 4).cells
    found = next(c.source for c in cells if "## What we found" in c.source)
    found = found[found.index("## What we found") : found.index("## Exercises")]
    headlines = re.findall(r"^- \*\*(.+?)\*\*", found, flags=re.MULTILINE)
    assert "{glue:text}`c4_headline`" in headlines and "{glue:text}`answer_only`" in headlines


def per_token(tokens: dict[tuple[str, int], int]) -> pd.DataFrame:
    """``QUICK``'s accuracies with the target tokens each training set holds."""
    return QUICK.assign(
        train_target_tokens=[
            tokens[(lv, n)] for lv, n in zip(QUICK["level"], QUICK["train_size"], strict=True)
        ]
    )


def test_token_overlap_says_the_sweep_never_reaches_equal_target_tokens():
    apart = per_token(
        {("none", 2000): 4000, ("none", 10_000): 20_000, ("long", 2000): 69_598,
         ("long", 10_000): 351_682}
    )  # fmt: skip
    text = chapter.token_overlap_values(apart)["token_overlap"]
    assert text.startswith(
        "the largest answer-only training set holds 20,000 target tokens and the smallest long "
        "set 69,598, so this sweep never compares long with answer-only training at equal"
    )
    overlap = per_token(
        {("none", 2000): 4000, ("none", 10_000): 80_000, ("long", 2000): 69_598,
         ("long", 10_000): 351_682}
    )  # fmt: skip
    assert chapter.token_overlap_values(overlap)["token_overlap"] == (
        "the answer-only and long training sets overlap between 69,598 and 80,000 target tokens, "
        "where the two are compared at equal supervision"
    )
    alone = apart[apart["level"] == "long"]
    assert chapter.token_overlap_values(alone)["token_overlap"].startswith("this run has no")


def test_the_token_figure_is_said_to_compare_at_equal_tokens_only_where_it_does():
    cells = nbformat.read(NOTEBOOK, 4).cells
    text = "\n".join(c.source for c in cells)
    assert "glue_all(chapter.token_overlap_values(per_token))" in text
    assert "{glue:text}`token_overlap`" in text
    chapter1 = NOTEBOOK.parent / "01_data_generation.ipynb"
    text = "\n".join(
        c.source for c in nbformat.read(chapter1, 4).cells if c.cell_type == "markdown"
    )
    assert "compares levels at\nequal numbers of *target tokens*" not in text


def test_scored_steps_and_epochs_at_the_smallest_size():
    runs = pd.DataFrame(
        {
            "run_id": ["a", "b", "c", "d"],
            "train_size": [100, 100, 1000, 1000],
            "level": ["none", "long", "none", "long"],
            "steps": [400, 200, 4000, 4000],
        }
    )
    steps = chapter.scored_steps_table(runs)
    values = chapter.scored_values(steps, batch_size=10)
    assert values["epochs"] == "20 (long) and 40 (none)"
    assert "100 examples at step 200 (long), 400 (none)" in values["scored_steps"]
