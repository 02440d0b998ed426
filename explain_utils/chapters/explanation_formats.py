"""Chapter 4's second half: the book's own explanation formats on the longer split (the best one
chosen on ``validation_long``, C5 with it, each format against ``none`` and ``long``, where their
steps break) and the SM step's granularity on the modular sum; the tables, figures and sentences
the notebook shows, each sentence chosen from this run's numbers and verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from pandas.io.formats.style import Styler

from explain_utils.analysis import step_errors
from explain_utils.analysis.results import write_tidy
from explain_utils.analysis.stats import (
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    REVERSED,
    STILL_LEARNING,
)
from explain_utils.analysis.tables import (
    accuracy_table,
    curve_table,
    level_pivot,
    metric_table,
    steps_to_accuracy,
    still_rising,
)
from explain_utils.chapters.length_generalization import SPLITS
from explain_utils.chapters.notebook import run_study
from explain_utils.chapters.prose import by_verdict, listed
from explain_utils.claims import formats as format_claims
from explain_utils.claims.claim import NOT_MEASURED, Claim
from explain_utils.engine.run_store import RunResult
from explain_utils.plots.accuracy import (
    plot_accuracy_by_group,
    plot_accuracy_by_level,
    stacked_axes,
)
from explain_utils.plots.curves import plot_plateaus
from explain_utils.profiles.explanations import ExperimentConfig, still_learning
from explain_utils.studies.explanations import format_grid, granularity_grid
from explain_utils.tasks.formats import format_examples
from explain_utils.tasks.splits import read_data_card

FORMATS_NAME = "04_formats"  # results/<name>.csv and <name>_rows.csv
GRANULARITY_NAME = "04_granularity"
NOT_COMPARED = (
    "the SM step's granularity was not compared in this run (granularity_levels is empty; "
    "the quick profile leaves it out to keep the book within its time)"
)
EXAMPLE_SOURCE = "[MAX 2 [MIN 4 7 ] [SM 5 7 1 ] ]"
CEILING = 0.90  # a format whose final validation accuracy reaches 90 % is near its ceiling
BREAKDOWNS: tuple[tuple[str, str], ...] = (
    ("operators", "operators in the expression"),
    ("widest", "longest argument list"),
)
# a format − base contrast's verdict, as the prose says it (the claim: the format is ahead); a
# verdict without words here is given as it is
AHEAD = {
    HOLDS: "ahead",
    INCONCLUSIVE: "inconclusive: the interval includes 0",
    STILL_LEARNING: "inconclusive: a cell it compares was still learning",
    DOES_NOT_HOLD: "not ahead",
    REVERSED: "behind",
}
# C5 with the best format in words (``prose.by_verdict`` adds the verdict itself)
C5_FORMAT_TEXT = {
    HOLDS: "The best explained target ({best}) beats the answer-only level by at least the +15 "
    "points the goal asked, its 95 % interval above 0",
    INCONCLUSIVE: "The 95 % interval of the best explained target's ({best}) lead over the "
    "answer-only level includes 0, so this run cannot tell whether it gains the +15 points the "
    "goal asked",
    DOES_NOT_HOLD: "The best explained target ({best}) falls short of the +15 points over the "
    "answer-only level that the goal asked",
    REVERSED: "The answer-only level beats the best explained target ({best}), its 95 % interval "
    "below 0",
    NOT_MEASURED: "This run's grid cannot compare a best explained target with the answer-only "
    "level",
}
C5_FORMAT_UNSETTLED = (
    "Whether the best explained target ({best}) beats the answer-only level by +15 points is not "
    "settled"
)


def examples(config: ExperimentConfig) -> Styler:
    """One worked example of ``long`` and of every format."""
    return pd.DataFrame(format_examples(EXAMPLE_SOURCE, ["long", *config.formats])).style.hide(
        axis="index"
    )


def train_formats(config: ExperimentConfig) -> list[RunResult]:
    """The format runs (``long`` among them, chapter 2's run); writes their tidy results and
    per-row table."""
    results = run_study(format_grid(config), config, "format runs")
    write_tidy(results, config.results_dir, FORMATS_NAME)
    return results


def with_none_runs(
    config: ExperimentConfig, results: Sequence[RunResult], format_results: Sequence[RunResult]
) -> list[RunResult]:
    """Chapter 2's answer-only runs of the formats' model (same seeds and rows: every format's
    baseline), then the format runs."""
    none_runs = [
        r
        for r in results
        if r.config["level"] == "none" and r.config["model"] == config.format_model
    ]
    return [*none_runs, *format_results]


def candidates(config: ExperimentConfig) -> list[str]:
    """The targets the best format is chosen among: ``long`` and the book's formats."""
    return ["long", *config.formats]


def best_format(config: ExperimentConfig, frame: pd.DataFrame) -> str | None:
    """The best explained target on validation_long (``claims.formats.best_format``)."""
    return format_claims.best_format(frame, candidates(config), config.format_model)


def check_c5_format(config: ExperimentConfig, frame: pd.DataFrame, correct: pd.DataFrame) -> Claim:
    """C5 with the best format (``claims.formats.check_c5_format``); inconclusive (still
    learning) where a cell it compares had not finished its plateau check."""
    return format_claims.check_c5_format(frame, correct, candidates(config), still_learning(config))


def design_values(config: ExperimentConfig) -> dict[str, str]:
    """The formats' model and the size of the split the best format is chosen on."""
    card = read_data_card(config.data_dir / "listops")["splits"]["validation_long"]
    return {"format_model": config.format_model, "n_validation_long": f"{card['rows']:,}"}


def c5_format_values(claim: Claim, best: str | None) -> dict[str, str]:
    """The best format, and C5 with it in a sentence and in numbers."""
    texts = {verdict: text.replace("{best}", str(best)) for verdict, text in C5_FORMAT_TEXT.items()}
    unsettled = C5_FORMAT_UNSETTLED.replace("{best}", str(best))
    return {
        "best_format": best or "not measured",
        "c5_format_sentence": by_verdict(claim, texts, unsettled),
        "c5_format_ours": claim.ours,
    }


def accuracy_by_split(frame: pd.DataFrame) -> pd.DataFrame:
    """Accuracy per format on test, test_long and validation_long (mean and 95 % CI over seeds)."""
    return pd.concat(
        [
            accuracy_table(format_claims.by_model(frame), ["model", "level"], split=split).assign(
                split=split
            )
            for split in (*SPLITS, "validation_long")
        ]
    )


def plot_test_long(
    config: ExperimentConfig,
    by_format: pd.DataFrame,
    chance: float,
    long_lines: Mapping[str, float],
) -> plt.Figure:
    """Bars of test_long accuracy per level and format at the formats' model."""
    return plot_accuracy_by_level(
        by_format[by_format["split"] == "test_long"],
        f"Accuracy on test_long by explanation, {config.format_model}",
        chance,
        baselines=long_lines,
        xlabel="explanation: the paper's levels, then the book's formats",
        ylabel="test_long accuracy (%, mean ± 95 % CI)",
    )


def curves(frame: pd.DataFrame) -> pd.DataFrame:
    """Validation accuracy during training per format (mean and 95 % CI over seeds)."""
    return curve_table(format_claims.by_model(frame))


def plot_curves(
    config: ExperimentConfig, frame: pd.DataFrame, format_curves: pd.DataFrame, chance: float
) -> plt.Figure:
    """The formats' learning curves, each format's mean step to the convergence accuracy
    marked."""
    return plot_plateaus(
        format_curves,
        f"Validation accuracy during training by explanation, {config.format_model}",
        plateaus=steps_to_accuracy(format_claims.by_model(frame), config.convergence_accuracy),
        chance=chance,
    )


def curve_values(config: ExperimentConfig, format_curves: pd.DataFrame) -> dict[str, str]:
    """Which curves still rose at their last evaluation, over how many steps, and where the
    formats end on the training range."""
    last_two = format_curves.sort_values("step").groupby("level")["mean"].apply(list)
    rising = still_rising(format_curves, ["level"])
    steps = sorted(set(format_curves["step"]))
    final = last_two[[lv for lv in candidates(config) if lv in last_two.index]].map(lambda v: v[-1])
    return {
        "formats_rising": ", ".join(rising) if rising else "none",
        "last_eval_gap": f"{steps[-1] - steps[-2]:,}" if len(steps) > 1 else "–",
        "formats_ceiling": ceiling_text(final.min(), final.max()),
    }


def ceiling_text(low: float, high: float) -> str:
    """Where the formats' validation curves end (``low`` to ``high``, fractions)."""
    span = f"{100 * low:.1f}–{100 * high:.1f} %"
    if low >= CEILING:
        return f"on the training range, where every format ends near its ceiling, at {span}"
    return f"on the training range, where the formats end at {span}"


def gains(config: ExperimentConfig, frame: pd.DataFrame, correct: pd.DataFrame) -> pd.DataFrame:
    """Every format against ``none`` and ``long``, paired, on test_long then test (fractions);
    a verdict resting on a cell still learning is ``stats.STILL_LEARNING``."""
    unfinished = still_learning(config)
    return pd.concat(
        [
            format_claims.format_contrasts(frame, correct, config.formats, split, unfinished)
            for split in ("test_long", "test")
        ]
    )


def gains_table(format_gains: pd.DataFrame) -> pd.DataFrame:
    """The contrasts in points (one decimal) with their verdicts."""
    points = {c: (100 * format_gains[c]).round(1) for c in ("diff", "ci_low", "ci_high")}
    return format_gains.assign(**points).set_index(["split", "contrast"])[
        ["diff", "ci_low", "ci_high", "verdict"]
    ]


def _contrast_text(rows: pd.DataFrame) -> str:
    """``name +1.2 [-3.4, +5.6] points (inconclusive: …), …`` for contrasts of one base."""
    return (
        ", ".join(
            f"{contrast.split(' − ')[0]} {100 * diff:+.1f} [{100 * low:+.1f}, {100 * high:+.1f}] "
            f"points ({AHEAD.get(verdict, verdict)})"
            for contrast, diff, low, high, verdict in rows[
                ["contrast", "diff", "ci_low", "ci_high", "verdict"]
            ].values
        )
        or "not measured"
    )


def comparison_values(format_gains: pd.DataFrame) -> dict[str, str]:
    """Each format against ``none`` and ``long`` on test_long, and against ``long`` on the training
    range (``test``), in words; the headline from the test_long verdicts against ``long``."""

    def rows(split: str, base: str) -> pd.DataFrame:
        at = format_gains[format_gains["split"] == split]
        return at[at["contrast"].str.endswith(f" − {base}")]

    vs_long = rows("test_long", "long")
    return {
        "formats_headline": formats_headline(
            dict(zip(vs_long["contrast"].str.split(" − ").str[0], vs_long["verdict"], strict=True))
        ),
        "formats_vs_none": _contrast_text(rows("test_long", "none")),
        "formats_vs_long": _contrast_text(vs_long),
        "formats_in_range": _contrast_text(rows("test", "long")),
    }


def formats_headline(verdicts: Mapping[str, str]) -> str:
    """Whether a book format carries further than ``long``: ``verdicts`` of each format − long on
    test_long."""
    if not verdicts:
        return "The book's formats were not compared with the long level in this run."
    ahead = [f"{name}" for name, verdict in verdicts.items() if verdict == HOLDS]
    if ahead:
        return (
            "A book format carries further than the long level on the longer split: "
            f"{listed(ahead)}."
        )
    if all(verdict == REVERSED for verdict in verdicts.values()):
        return (
            "No book format carries further than the long level: on the longer split every one "
            "falls behind it."
        )
    return "No book format clearly carries further than the long level on the longer split."


def depth_values(config: ExperimentConfig) -> dict[str, str]:
    """How deep test_long's expressions are against training's (notebook 01's data card)."""
    card = read_data_card(config.data_dir / "listops")["splits"]
    long = sorted(int(d) for d in card["test_long"]["depth"])
    deepest_train = max(int(d) for d in card["train"]["depth"])
    return {"long_depth_sentence": depth_sentence(long, deepest_train)}


def depth_sentence(long_depths: Sequence[int], deepest_train: int) -> str:
    """Why test_long is longer, from its depths and the deepest training expression."""
    why = "more operators (steps) or longer argument lists (wider steps)"
    if max(long_depths) > deepest_train:
        return (
            f"The expressions of test_long reach depth {max(long_depths)}, deeper than any in "
            f"training ({deepest_train}; notebook 01): they are longer because they are deeper, or "
            f"have {why}"
        )
    if len(long_depths) == 1:
        return (
            f"Every expression of test_long has depth {long_depths[0]}, no deeper than in "
            f"training (notebook 01); it is longer because it has {why}"
        )
    return (
        f"The expressions of test_long have depth {long_depths[0]}–{long_depths[-1]}, no deeper "
        f"than in training (notebook 01); they are longer because they have {why}"
    )


def plot_breakdowns(
    config: ExperimentConfig,
    first_wrong: pd.DataFrame,
    chance: float,
    long_lines: Mapping[str, float],
) -> plt.Figure:
    """test_long accuracy by the number of operators and by the longest list, per format."""
    shown = first_wrong[first_wrong["level"].isin(["none", "long", *config.formats])]
    fig, axes = stacked_axes(len(BREAKDOWNS))
    for ax, (column, label) in zip(axes, BREAKDOWNS, strict=True):
        plot_accuracy_by_group(
            step_errors.accuracy_by(shown, column),
            column,
            label,
            f"test_long accuracy by {label}, {config.format_model}",
            chance,
            baselines=long_lines,
            ax=ax,
        )
    return fig


def where_steps_break(first_wrong: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Per format on test_long: where the first wrong step falls (% of outputs), step accuracy and
    faithfulness (%, mean over seeds)."""
    where = step_errors.where_wrong(first_wrong).set_index("level").round(1)
    own = pd.concat(
        [
            metric_table(
                format_claims.by_model(frame), metric, ["model", "level"], split="test_long"
            ).assign(metric=metric)
            for metric in ("step_accuracy", "faithfulness")
        ]
    )
    return where.join(level_pivot(own, ["metric"]).T)[
        [*step_errors.WHERE, "step_accuracy", "faithfulness"]
    ]


def best_format_outputs(
    config: ExperimentConfig, format_results: Sequence[RunResult], best: str | None
) -> pd.DataFrame:
    """A right and a wrong output of the best format on test_long (the first seed)."""
    best_run = next(
        r
        for r in format_results
        if r.config["level"] == best and r.config["seed"] == config.seeds[0]
    )
    return step_errors.worked_outputs(best_run, "test_long", n_right=1, n_wrong=1)


def train_granularity(config: ExperimentConfig) -> list[RunResult]:
    """The modular sum at every SM granularity; writes their tidy results and per-row table."""
    results = run_study(granularity_grid(config), config, "granularity runs")
    write_tidy(results, config.results_dir, GRANULARITY_NAME)
    return results


def granularity_accuracy(frame: pd.DataFrame) -> pd.DataFrame:
    """Modular-sum accuracy (%) per granularity level on test and test_long."""
    if frame.empty:  # ``granularity_levels`` is [] (the quick profile leaves it out, for time)
        return pd.DataFrame({"granularity": [NOT_COMPARED]})
    table = pd.concat(
        [
            accuracy_table(
                format_claims.by_model(frame), ["model", "level"], split=split, task="modular_sum"
            ).assign(split=split)
            for split in SPLITS
        ]
    )
    return level_pivot(table, ["model", "split"])


def granularity_values(config: ExperimentConfig, granularity: pd.DataFrame) -> dict[str, str]:
    """The running sum against the paper's SM step: every pair's difference, and in words."""
    gains = "; ".join(
        f"{r.contrast} {100 * r.diff:+.1f} [{100 * r.ci_low:+.1f}, {100 * r.ci_high:+.1f}] points "
        f"on {r.split} ({r.verdict})"
        for r in granularity.itertuples()
    )
    pairs = [
        (contrast.split(" − ")[1], split, verdict)
        for contrast, split, verdict in granularity[["contrast", "split", "verdict"]].values
    ]
    return {
        "granularity_model": config.modsum_models[0],
        "granularity_gains": gains or "no pair was measured",
        "granularity_sentence": granularity_sentence(pairs),
    }


def granularity_sentence(pairs: Sequence[tuple[str, str, str]]) -> str:
    """Where writing SM's running sum helps and hurts: ``pairs`` of (the paper's level, split,
    verdict of running − paper)."""
    if not pairs:
        return NOT_COMPARED
    helps = [f"{level} on {split}" for level, split, verdict in pairs if verdict == HOLDS]
    hurts = [f"{level} on {split}" for level, split, verdict in pairs if verdict == REVERSED]
    subject = "writing the SM step as its running sum"
    if not helps and not hurts:
        return f"{subject} makes no clear difference anywhere"
    said = [*([f"helps {', '.join(helps)}"] if helps else ["helps nowhere"])]
    said += [f"hurts {', '.join(hurts)}"] if hurts else []
    unclear = len(pairs) > len(helps) + len(hurts)
    return f"{subject} {' and '.join(said)}" + (
        "; elsewhere the difference is not clear" if unclear else ""
    )
