"""Chapter 4's explanation formats: the best one chosen on ``validation_long``, its gain over
``none`` on ``test_long`` (the claims table's row ``C5 (best format)``), each format against
``none`` and ``long``, and the SM step's granularity on the modular sum; paired CIs throughout.
A verdict that rests on a cell in ``unfinished`` (``profiles.explanations.still_learning``; a
format counts as the paper level it extends) is ``stats.STILL_LEARNING``."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pandas as pd

from explain_utils.analysis import stats
from explain_utils.analysis.results import final_accuracy
from explain_utils.analysis.tables import Condition, contrast
from explain_utils.claims.claim import (
    PAIRED_METHOD,
    SEED_METHOD,
    Cell,
    Claim,
    accuracy_text,
    cell_names,
    measured,
    missing,
    unfinished_among,
    with_still_learning,
)

C5_FORMAT = "C5 (best format)"
C5_FORMAT_STATEMENT = (
    "the formats' model, test_long: the book's best explanation format (chosen on "
    "validation_long among the explained levels and formats) − none ≥ +15 points"
)
MIN_GAIN = 0.15
FORMAT_CHOICE = "; format chosen on validation_long (longer inputs, disjoint from test_long)"
GRANULARITY_PAIRS: tuple[tuple[str, str], ...] = (
    ("short_running", "short"),
    ("medium_running", "medium"),
)


def by_model(table: pd.DataFrame | None) -> pd.DataFrame | None:
    """``table`` with one ``params`` per model (its smallest): a format's vocabulary adds its own
    words, so its runs differ from the paper levels' by a few embedding rows, and the contrasts
    here match runs by model."""
    if table is None or table.empty:
        return table
    return table.assign(params=table.groupby("model")["params"].transform("min"))


def best_format(frame: pd.DataFrame, formats: Sequence[str], model: str) -> str | None:
    """The explained format among ``formats`` with the best mean ``validation_long`` accuracy over
    seeds for ``model`` (ties: the first in ``formats``); test_long is never looked at. None: no
    such runs."""
    rows = final_accuracy(frame, "validation_long")
    rows = rows[(rows["model"] == model) & rows["level"].isin(formats)]
    means = rows[rows["level"] != "none"].groupby("level")["value"].mean()
    ranked = [f for f in formats if f in means.index]
    return max(ranked, key=lambda f: means[f]) if ranked else None


def _method(estimate: stats.Estimate) -> str:
    text = (PAIRED_METHOD if estimate.n_rows else SEED_METHOD).format(n_boot=stats.N_BOOT)
    return text + FORMAT_CHOICE


def check_c5_format(
    frame: pd.DataFrame,
    correct: pd.DataFrame | None,
    formats: Sequence[str],
    unfinished: Collection[Cell] = (),
) -> Claim:
    """Best format (on validation_long) − none on test_long at the formats' model (the largest
    model of the runs on validation_long), ≥ +15 points.

    ``frame`` holds the format runs and chapter 2's ``none`` runs of the same model, seeds and
    train size (one run per level and seed)."""
    frame, correct = by_model(frame), by_model(correct)
    runs = final_accuracy(frame, "validation_long")
    runs = runs[runs["level"].isin(formats)]
    if runs.empty:
        return missing(C5_FORMAT, statement=C5_FORMAT_STATEMENT)
    model, params = runs.sort_values("params").iloc[-1][["model", "params"]]
    best = best_format(frame, formats, str(model))
    at = dict(split="test_long", params=int(params))
    gain = contrast(frame, correct, [Condition("none", **at), Condition(best, **at)], [-1.0, 1.0])
    if gain is None:
        return missing(C5_FORMAT, "no none run shares a seed with the formats", C5_FORMAT_STATEMENT)
    none = contrast(frame, correct, [Condition("none", **at)], [1.0])
    top = contrast(frame, correct, [Condition(best, **at)], [1.0])
    ours = (
        f"{model}, test_long: none {accuracy_text(none)}, {best} (best on validation_long) "
        f"{accuracy_text(top)}; {best} − none {gain.points()}"
    )
    judged = stats.verdict(gain.diff, gain.ci_low, gain.ci_high, MIN_GAIN)
    claim = measured(C5_FORMAT, ours, gain, judged, _method(gain), C5_FORMAT_STATEMENT)
    compared = [(str(model), "listops", level) for level in ("none", best)]
    return with_still_learning(claim, compared, unfinished)


def contrast_table(
    frame: pd.DataFrame,
    correct: pd.DataFrame | None,
    pairs: Sequence[tuple[str, str]],
    split: str,
    task: str = "listops",
    unfinished: Collection[Cell] = (),
) -> pd.DataFrame:
    """``level − base`` per pair on ``split`` with its paired 95 % CI (fractions), per model.

    Columns: model, params, split, contrast, diff, ci_low, ci_high, verdict, n_seeds, n_rows,
    still_learning (the compared cells in ``unfinished``, named; "" when none)."""
    frame, correct = by_model(frame), by_model(correct)
    runs = final_accuracy(frame, split, task)
    rows = []
    for model, params in runs.drop_duplicates("params")[["model", "params"]].values:
        levels = set(runs.loc[runs["params"] == params, "level"])
        for level, base in pairs:
            if not {level, base} <= levels:
                continue
            conds = [Condition(lv, split, task, int(params)) for lv in (base, level)]
            est = contrast(frame, correct, conds, [-1.0, 1.0])
            if est is None:
                continue
            cells = unfinished_among([(model, task, lv) for lv in (base, level)], unfinished)
            judged = stats.verdict(est.diff, est.ci_low, est.ci_high)
            rows.append(
                {
                    "model": model,
                    "params": int(params),
                    "split": split,
                    "contrast": f"{level} − {base}",
                    "diff": est.diff,
                    "ci_low": est.ci_low,
                    "ci_high": est.ci_high,
                    "verdict": stats.STILL_LEARNING if cells else judged,
                    "n_seeds": est.n_seeds,
                    "n_rows": est.n_rows,
                    "still_learning": cell_names(cells),
                }
            )
    columns = ["model", "params", "split", "contrast", "diff", "ci_low", "ci_high", "verdict"]
    return pd.DataFrame(rows, columns=[*columns, "n_seeds", "n_rows", "still_learning"])


def format_contrasts(
    frame: pd.DataFrame,
    correct: pd.DataFrame | None,
    formats: Sequence[str],
    split: str,
    unfinished: Collection[Cell] = (),
) -> pd.DataFrame:
    """Every format against ``none`` and against ``long`` on one split (paired, same rows)."""
    pairs = [(f, "none") for f in formats if f != "none"]
    pairs += [(f, "long") for f in formats if f not in ("none", "long")]
    return contrast_table(frame, correct, pairs, split, unfinished=unfinished)


def granularity_table(
    frame: pd.DataFrame, correct: pd.DataFrame | None, unfinished: Collection[Cell] = ()
) -> pd.DataFrame:
    """The modular sum: each level with SM's running sum against the paper's form of it."""
    return pd.concat(
        [
            contrast_table(frame, correct, GRANULARITY_PAIRS, split, "modular_sum", unfinished)
            for split in ("test", "test_long")
        ],
        ignore_index=True,
    )
