"""Chapter 2's sentences, chosen from small hand-made tables and claim rows for every verdict, and
(slow) the smoke-run book's headlines against the verdicts it wrote."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import nbformat
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
from explain_utils.chapters import fine_tuning as chapter
from explain_utils.chapters.prose import by_verdict, listed, params_text, trend
from explain_utils.claims.claim import NOT_MEASURED, Claim
from explain_utils.common.names import LEVELS

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "02_fine_tuning.ipynb"
UNKNOWN = "undecided"  # a verdict the chapter has no phrase for (stats.VERDICTS has four)
ALL_VERDICTS = [*VERDICTS, NOT_MEASURED, UNKNOWN]
RULE = 0.494


def claim(
    cid: str, verdict: str, diff: float = 0.0, low: float = math.nan, high: float = math.nan
) -> Claim:
    return Claim(
        cid, "statement", "paper", f"{cid} measured", verdict == HOLDS, verdict, diff, low, high
    )


def gain_rows(diffs: dict[str, list[float]], ci_low: dict[str, list[float]] | None = None):
    """A ``tables.gain_table``: ``diffs`` per contrast (fractions) at sizes smallest first."""
    sizes = [("t5-50k", 46_400), ("t5-100k", 93_056), ("t5-250k", 234_752)]
    rows = []
    for contrast, values in diffs.items():
        lows = (ci_low or {}).get(contrast, [d - 0.02 for d in values])
        for (model, params), diff, low in zip(sizes, values, lows, strict=False):
            rows.append(
                {"model": model, "params": params, "contrast": contrast, "diff": diff}
                | {"ci_low": low, "ci_high": diff + 0.02, "n_seeds": 3, "n_rows": 1000}
            )
    return pd.DataFrame(rows)


QUICK_GAINS = {
    "short − none": [0.067, 0.098, 0.058],
    "medium − none": [0.400, 0.409, 0.326],
    "long − none": [0.408, 0.464, 0.481],
    "long − short": [0.341, 0.366, 0.423],
}


def test_prose_helpers():
    assert trend([1, 2, 3]) == "grows" and trend([3, 2, 1]) == "shrinks"
    assert trend([1, 3, 2]) == "is not monotone" and trend([0, 0]) == "does not change"
    assert trend([0, 0, 1]) == "does not shrink" and trend([1]) == "is measured at one size only"
    assert listed(["a"]) == "a" and listed(["a", "b", "c"]) == "a, b and c"
    assert [params_text(n) for n in (46_400, 60e6, 2.85e9)] == ["46 k", "60 M", "2.9 B"]
    phrases = {HOLDS: "it works"}
    assert by_verdict(claim("C9", HOLDS), phrases, "unsettled") == "it works (C9: holds)"
    assert by_verdict(claim("C9", UNKNOWN), phrases, "unsettled") == "unsettled (C9: undecided)"
    assert by_verdict(claim("C9", STILL_LEARNING), phrases, "unsettled") == (
        "unsettled: a cell it compares was still gaining at the plateau check's cap "
        f"(C9: {STILL_LEARNING})"
    )


def test_configure_takes_the_notebooks_parameters(tmp_path):
    (tmp_path / "data" / "listops").mkdir(parents=True)
    (tmp_path / "data" / "listops" / "train.parquet").touch()
    cell = next(c for c in nbformat.read(NOTEBOOK, 4).cells if "parameters" in c.metadata.tags)
    namespace: dict = {}
    exec(cell.source, namespace)  # the notebook's own names and defaults
    paths = {k: str(tmp_path / k.removesuffix("_dir")) for k in ("data_dir", "runs_dir")}
    namespace |= paths | {"results_dir": str(tmp_path / "results"), "profile": "smoke"}
    config = chapter.configure(namespace | {"steps": 7, "unrelated": 1})
    assert config.steps == 7 and config.models == ("t5-50k", "t5-100k")
    with pytest.raises(ValueError, match="steps"):
        chapter.configure(namespace | {"steps": 0})


@pytest.mark.parametrize("verdict", ALL_VERDICTS)
def test_c1_and_c2_headlines_follow_their_verdicts(verdict):
    values = chapter.gain_values(gain_rows(QUICK_GAINS), claim("C1", verdict), claim("C2", verdict))
    c1, c2 = values["c1_headline"], values["c2_headline"]
    assert c1.endswith(f"(C1: {verdict}).") and c2.endswith(f"(C2: {verdict}).")
    assert values["c1_holds"] == values["c2_holds"] == verdict
    expected_c1 = chapter.C1_PHRASES.get(verdict, "this run does not settle")
    assert expected_c1 in c1
    assert chapter.C2_PHRASES.get(verdict, "This run does not settle") in c2
    if verdict == HOLDS:
        assert "not clearly" not in c2 and "does not shrink" not in c2
    if verdict == REVERSED:
        assert "larger at the largest size" in c2


def test_c1_headline_says_which_levels_help_at_every_size():
    everywhere = chapter.c1_headline(gain_rows(QUICK_GAINS), claim("C1", HOLDS))
    assert everywhere.startswith("Every explanation level helps at every size, medium and long by")
    short_fails = gain_rows(QUICK_GAINS, ci_low={"short − none": [0.01, -0.01, 0.02]})
    partly = chapter.c1_headline(short_fails, claim("C1", HOLDS))
    assert partly.startswith("medium and long help at every size, short not at every size")
    nothing = {c: [0.0, 0.0, 0.0] for c in QUICK_GAINS}
    assert chapter.c1_headline(gain_rows(nothing), claim("C1", DOES_NOT_HOLD)).startswith(
        "No explanation level helps at every size;"
    )


def test_gains_by_size_read_the_direction_of_each_gain():
    values = chapter.gain_values(gain_rows(QUICK_GAINS), claim("C1", HOLDS), claim("C2", REVERSED))
    assert "long − none grows: +40.8 → +46.4 → +48.1 points" in values["gains_by_size"]
    assert "short − none is not monotone" in values["gains_by_size"]
    assert values["c2_trend"].endswith("long over short grows with size")
    assert "a larger model executes a long written-out explanation better" in values["size_reading"]
    assert values["size_scope"].startswith("All three sizes are far below")
    assert "not reached here" in values["size_scope"]
    shrinking = {c: list(reversed(d)) for c, d in QUICK_GAINS.items()}
    values = chapter.gain_values(gain_rows(shrinking), claim("C1", HOLDS), claim("C2", HOLDS))
    assert (
        values["c2_trend"].endswith("shrinks with size")
        and "paper's pattern." in values["size_reading"]
    )
    assert "already shows" in values["size_scope"]


def test_answer_only_against_the_rule():
    lines = {chapter.RULE: RULE}
    near = pd.DataFrame({"none": [52.9, 51.2, 51.2], "long": [93.7, 97.0, 99.3]})
    values = chapter.accuracy_values(near, lines, "4,000")
    assert values["none_range"] == "51.2–52.9 %" and values["none_over_rule"] == "+1.8"
    assert "just above the one-line rule" in values["answer_only"]
    assert "4,000 steps, it is little more than that rule" in values["answer_only"]
    assert values["long_reach"].endswith("reach 93.7–99.3 %.")
    above = chapter.accuracy_values(near.assign(none=[70.0, 75.0, 80.0]), lines, "4,000")
    assert "more than 5 points above" in above["answer_only"]
    assert "learns more than that rule" in above["answer_only"]
    below = chapter.accuracy_values(pd.DataFrame({"none": [0.0, 0.0]}), lines, "10")
    assert "does not even reach that rule" in below["answer_only"]
    assert below["long_reach"] == "This run trained no long level."


def checked_rows(still: dict[str, bool]) -> pd.DataFrame:
    """A ``tables.plateau_check_table``: t5-250k's levels, 16 000 steps where still learning."""
    return pd.DataFrame(
        [
            {
                "model": "t5-250k",
                "task": "listops",
                "level": lv,
                "steps": 16_000 if learning else 4_000,
                "still learning": "yes" if learning else "",
            }
            for lv, learning in still.items()
        ]
    ).set_index(["model", "task", "level"])


def test_plateaus_and_the_gains_that_fall_at_the_largest_size():
    checked = checked_rows({"none": False, "medium": True, "long": False})
    values = chapter.plateau_values(checked, gain_rows(QUICK_GAINS))
    assert values["still_learning"] == "t5-250k medium"
    text = values["plateau_text"]
    assert "4,000 steps for t5-250k none and t5-250k long; 16,000 steps for t5-250k medium" in text
    assert "Still gaining at the cap (16,000 steps): t5-250k medium;" in text
    exceptions = values["gain_exceptions"]
    assert exceptions.startswith("The gains of short and medium over none fall at the largest")
    assert "t5-250k medium was still learning" in exceptions and "a lower bound" in exceptions
    done = chapter.plateau_values(checked_rows({"none": False}), gain_rows(QUICK_GAINS))
    assert done["still_learning"] == "none" and "No cell was still gaining" in done["plateau_text"]
    assert done["gain_exceptions"].endswith("those cells had finished learning.")
    unchecked = chapter.plateau_values(pd.DataFrame({"note": ["x"]}), gain_rows(QUICK_GAINS))
    assert "no plateau check" in unchecked["plateau_text"]
    growing = {c: [0.1, 0.2, 0.3] for c in QUICK_GAINS}
    assert "No level's gain" in chapter.gain_exceptions(gain_rows(growing), [])


def plateau_rows(
    steps: dict[str, int], final: dict[str, float], reached: dict[str, bool] | None = None
) -> pd.DataFrame:
    """A ``tables.steps_to_accuracy`` of the smallest model at 60 %, two seeds alike."""
    return pd.DataFrame(
        [
            {"model": "t5-50k", "params": 46_400, "level": lv, "seed": seed, "threshold": 0.6}
            | {"steps_to_accuracy": steps[lv], "tokens_to_accuracy": 10 * steps[lv]}
            | {"reached": (reached or {}).get(lv, True), "last_step": 4000}
            | {"final_accuracy": final[lv]}
            for lv in steps
            for seed in (0, 1)
        ]
    )


@pytest.mark.parametrize("verdict", ALL_VERDICTS)
def test_c6_headline_follows_the_verdict_and_the_steps(verdict):
    later = plateau_rows(
        {"none": 2667, "short": 3167, "long": 3167}, {"none": 0.6, "short": 0.65, "long": 0.95}
    )
    values = chapter.convergence_values(claim("C6", verdict), later)
    assert values["c6_headline"].startswith(
        "At the smallest size, explained levels take longer than none to reach 60 % validation "
        "accuracy; "
    )
    assert chapter.C6_PHRASES.get(verdict, "this run does not settle") in values["c6_headline"]
    assert values["c6_headline"].endswith(f"(C6: {verdict}).")
    assert values["c6_detail"].startswith(
        "By then they stand above none: mean validation accuracy at step 4,000 none 60.0 %"
    )
    sooner = plateau_rows(
        {"none": 4000, "long": 1000}, {"none": 0.5, "long": 0.9}, reached={"none": False}
    )
    values = chapter.convergence_values(claim("C6", verdict), sooner)
    assert (
        "reach 60 % validation accuracy sooner than none (2 of 2 none runs never reached it by "
        "step 4,000: counted there" in (values["c6_headline"])
    )
    assert "lower bound" in values["c6_headline"]
    lower = plateau_rows({"none": 3000, "long": 1000}, {"none": 0.6, "long": 0.5})
    assert chapter.convergence_values(claim("C6", verdict), lower)["c6_detail"].startswith(
        "By then they stand below none"
    )


def test_plateau_table_marks_a_mean_that_counts_runs_short_of_the_accuracy():
    rows = plateau_rows({"none": 4000, "short": 1500, "long": 1234.4}, {lv: 0.7 for lv in LEVELS})
    rows.loc[(rows["level"] == "none") & (rows["seed"] == 1), "reached"] = False
    table = chapter.plateau_table(rows, ["none", "short", "medium", "long"])
    assert list(table.columns) == ["none", "short", "long"]
    assert table.loc[(46_400, "t5-50k")].tolist() == ["≥ 4,000", "1,500", "1,234"]


def test_the_lead_by_depth():
    by_depth = pd.DataFrame(
        [
            {"model": "t5-250k", "level": lv, "depth": depth, "mean": mean}
            for lv, means in {"none": (0.6, 0.4), "long": (0.9, 0.9)}.items()
            for depth, mean in zip(("1", "2"), means, strict=True)
        ]
    )
    config = type("Config", (), {"models": ("t5-50k", "t5-250k"), "levels": ("none", "long")})
    values = chapter.depth_values(by_depth, config)
    assert values["depth_leads"] == "depth 1: +30.0 points, depth 2: +50.0 points"
    assert "grows with depth and is largest in the most nested" in values["depth_text"]
    flipped = by_depth.assign(depth=by_depth["depth"].map({"1": "2", "2": "1"}))
    flipped = flipped.sort_values("depth", kind="stable")
    assert "shrinks with depth" in chapter.depth_values(flipped, config)["depth_text"]


C3_PARTS = {  # (best clearly above 70 %, verdict): what the headline must say
    (True, DOES_NOT_HOLD): "An explained level learns the modular sum to the claimed 70 %, but "
    "answer-only training does not stay within 5 points of chance",
    (False, DOES_NOT_HOLD): "Answer-only training does not stay within 5 points of chance, and no "
    "explanation level is clearly above the claimed 70 %",
    (True, INCONCLUSIVE): "but the interval of answer-only training reaches further than 5 points "
    "from chance, so this run cannot tell",
    (
        False,
        INCONCLUSIVE,
    ): "The interval of the best level's accuracy includes the claimed 70 %, so "
    "this run cannot tell",
}


@pytest.mark.parametrize("verdict", ALL_VERDICTS)
@pytest.mark.parametrize(  # C3's diff: best − 70 %, in points, with its CI
    ("diff", "low", "high"),
    [(-60.0, -65.0, -55.0), (29.7, 25.0, 30.0), (2.0, -3.0, 7.0), (29.7, math.nan, math.nan)],
)
def test_c3_headline_follows_the_verdict(verdict, diff, low, high):
    smallest = pd.DataFrame(
        {"model": "t5-50k", "params": 46_400, "level": ["none", "long"], "mean": [0.111, 0.997]}
    )
    frame = pd.DataFrame(  # final test accuracy of each seed, for c3_seeds
        {"stage": "final", "split": "test", "task": "modular_sum", "metric": "accuracy"}
        | {"depth": "all", "length_bucket": "all", "model": "t5-50k", "params": 46_400}
        | {"level": ["long", "long"], "seed": [0, 1], "value": [0.995, 0.999]}
    )
    lines = {chapter.RULE: 1.0}
    values = chapter.modsum_values(
        claim("C3", verdict, diff, low, high), frame, smallest, lines, 0.1
    )
    headline = values["c3_headline"]
    assert headline.endswith(f"(C3: {verdict}).")
    if verdict in (DOES_NOT_HOLD, INCONCLUSIVE):
        assert C3_PARTS[(low > 0, verdict)] in headline
        assert C3_PARTS[(not low > 0, verdict)] not in headline
    elif verdict in chapter.C3_PHRASES:
        assert headline.startswith(chapter.C3_PHRASES[verdict])
    else:
        assert headline.startswith("This run does not settle")
    assert values["c3_seeds"] == "99.5 %, 99.9 %"
    detail = values["c3_detail"]
    assert detail.startswith("On test, long ends at 99.7 %; answer-only training ends at 11.1 %")
    assert "within the claim's ±5 points of chance" in detail
    assert "far below the one-line rule" in detail


@pytest.mark.parametrize("phrases", ["C1_PHRASES", "C2_PHRASES", "C6_PHRASES"])
def test_inconclusive_says_the_run_cannot_tell(phrases):
    """An inconclusive claim is never worded as a (weak) yes."""
    words = getattr(chapter, phrases)
    assert set(words) == set(VERDICTS)
    assert "includes 0, so this run cannot tell" in words[INCONCLUSIVE]
    assert "by the mean" not in " ".join(words.values())


def glued(notebook: Path) -> dict[str, str]:
    """The values an executed notebook glued: display_data outputs named under "scrapbook"."""
    values = {}
    for cell in nbformat.read(notebook, 4).cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name and output.get("output_type") == "display_data":
                text = output["data"]["application/papermill.record/text/plain"]
                values[name] = ast.literal_eval(text)
    return values


def test_the_what_we_found_headlines_are_glued():
    """Each bold headline of "What we found" is one glued sentence, never typed."""
    cells = nbformat.read(NOTEBOOK, 4).cells
    found = next(c.source for c in cells if "## What we found" in c.source)
    found = found[found.index("## What we found") : found.index("## Exercises")]
    headlines = re.findall(r"^- \*\*(.+?)\*\*", found, flags=re.MULTILINE)
    assert headlines and all(h.startswith("{glue:text}`") or h == "Plateaus." for h in headlines)


def expected_phrase(cid: str, verdict: str, low: float) -> str:
    """The phrase chapter 2 must choose for a claim's verdict (and, for C3, its CI's low end)."""
    if cid == "C3" and verdict in (DOES_NOT_HOLD, INCONCLUSIVE):
        return C3_PARTS[(bool(low > 0), verdict)]
    phrases = {"C1": chapter.C1_PHRASES, "C2": chapter.C2_PHRASES, "C3": chapter.C3_PHRASES}
    return {**phrases, "C6": chapter.C6_PHRASES}[cid].get(verdict, "does not settle")


@pytest.mark.slow
def test_smoke_book_headlines_agree_with_its_claims(smoke_book):
    """The smoke run's rendered headlines say what its own claim file says."""
    notebook = smoke_book / "notebooks" / "02_fine_tuning.ipynb"
    values = glued(notebook)
    # smoke_book passes no results_dir: the notebook's "../results" is the book copy's results/
    claims = pd.read_csv(smoke_book / "results" / "claims" / "02_fine_tuning.csv")
    claims = claims.set_index("claim")
    assert sorted(claims.index) == ["C1", "C2", "C3", "C3 (larger models)", "C6"]
    large = claims.loc["C3 (larger models)"]  # stated beside C3, without a headline of its own
    assert values["c3_larger_models_holds"] == large["verdict"]
    assert values["c3_larger_models_ours"] == large["ours"]
    claims = claims.drop("C3 (larger models)")
    for cid, row in claims.iterrows():
        key = cid.lower()
        assert values[f"{key}_holds"] == row["verdict"], cid
        assert values[f"{key}_ours"] == row["ours"], cid
        headline = values[f"{key}_headline"]
        assert headline.endswith(f"({cid}: {row['verdict']})."), (cid, headline)
        assert expected_phrase(cid, row["verdict"], row["ci_low"]) in headline, (cid, headline)
    markdown = "".join(
        c.source for c in nbformat.read(notebook, 4).cells if c.cell_type == "markdown"
    )
    for cid in claims.index:
        assert f"**{{glue:text}}`{cid.lower()}_headline`**" in markdown


def test_level_steps_names_the_range_of_a_levels_cells():
    frame = pd.DataFrame(
        {
            "level": ["none", "none", "long", "none"],
            "task": ["listops", "listops", "listops", "modular_sum"],
            "steps": [4000, 8000, 16000, 2000],
        }
    )
    assert chapter.level_steps(frame, "none") == "4,000–8,000"
    assert chapter.level_steps(frame, "long") == "16,000"
    assert chapter.level_steps(frame, "short") == "its"
