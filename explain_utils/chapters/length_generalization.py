"""Chapter 4 (length generalization): chapter 2's ListOps runs scored past the training range, C5,
and the sentences the notebook glues, each chosen from this run's numbers and verdicts.

The book's own explanation formats and the SM step's granularity, the chapter's second half, are
in ``chapters.explanation_formats``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from explain_utils.analysis import baselines, step_errors
from explain_utils.analysis.results import write_tidy
from explain_utils.analysis.stats import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, REVERSED
from explain_utils.analysis.tables import (
    accuracy_table,
    breakdown_table,
    level_pivot,
    metric_table,
)
from explain_utils.chapters.notebook import run_study
from explain_utils.chapters.prose import by_verdict, listed
from explain_utils.claims.claim import NOT_MEASURED, Claim, pct, write_claims
from explain_utils.engine.evaluation import length_bucket
from explain_utils.engine.run_store import RunResult
from explain_utils.plots.accuracy import plot_groups_by_model
from explain_utils.profiles.checks import from_notebook
from explain_utils.profiles.explanations import ExperimentConfig, experiment_config
from explain_utils.studies.explanations import fine_tuning_grid
from explain_utils.tasks.listops import parse
from explain_utils.tasks.splits import read_data_card

# results/<name>.csv and <name>_rows.csv, and the claims under results/claims/<name>.csv
RESULTS_NAME = "04_length_generalization"
SPLITS: tuple[str, ...] = ("test", "test_long")
RULE = baselines.BASELINE_LABELS["root_op_flat"]
OWN_STEP_METRICS: tuple[str, ...] = ("step_accuracy", "faithfulness")
# How the prose words a difference of accuracies (fractions): within NEAR of a baseline is "at
# its level"; a fall of BREAK or more is a break; an answer that follows from the model's own
# last step in FAITHFUL of the outputs or more means the model executes what it wrote.
NEAR, BREAK, FAITHFUL = 0.05, 0.20, 0.90
# the paper's length jump: train 50-100 tokens, test 100-200, midpoints 75 and 150
PAPER_JUMP = 150 / 75
# C5's verdict in words (``prose.by_verdict`` adds the verdict itself)
C5_TEXT = {
    HOLDS: "At the largest model the best explained level beats the answer-only level on the "
    "longer split, its 95 % interval above 0",
    INCONCLUSIVE: "At the largest model the 95 % interval of the best explained level's lead over "
    "the answer-only level on the longer split includes 0, so this run cannot tell which is ahead",
    DOES_NOT_HOLD: "At the largest model the best explained level is not ahead of the answer-only "
    "level on the longer split",
    REVERSED: "At the largest model the answer-only level beats the best explained level on the "
    "longer split, its 95 % interval below 0",
    NOT_MEASURED: "This run's grid cannot compare the best explained level with the answer-only "
    "level on the longer split",
}
C5_UNSETTLED = (
    "Whether the best explained level beats the answer-only level on the longer split is not "
    "settled"
)


def configure(namespace: Mapping[str, Any]) -> ExperimentConfig:
    """The chapter's validated config from the notebook's parameters (its ``globals()``)."""
    return from_notebook(experiment_config, namespace)


def train(config: ExperimentConfig) -> list[RunResult]:
    """Chapter 2's ListOps runs (cache hits with chapter 2's parameters); writes their tidy
    results and per-row table."""
    listops = [c for c in fine_tuning_grid(config) if c.task == "listops"]
    results = run_study(listops, config, "length-generalization runs")
    write_tidy(results, config.results_dir, RESULTS_NAME)
    return results


def write_chapter_claims(config: ExperimentConfig, claims: Sequence[Claim]) -> Path:
    """The chapter's claim rows, for the claims chapter."""
    return write_claims(list(claims), config.results_dir / "claims" / f"{RESULTS_NAME}.csv")


def baseline_lines(config: ExperimentConfig) -> dict[str, dict[str, float]]:
    """The rules that need no model, ``{split: {label: accuracy}}`` on test and test_long."""
    trivial = baselines.baseline_table(config.data_dir, tasks=["listops"])
    return {split: baselines.baseline_lines(trivial, "listops", split) for split in SPLITS}


def split_accuracies(frame: pd.DataFrame) -> pd.DataFrame:
    """Accuracy per model and level (mean and 95 % CI over seeds) on test and test_long."""
    return pd.concat(
        [
            accuracy_table(frame, ["model", "params", "level"], split=split).assign(split=split)
            for split in SPLITS
        ]
    )


def largest_level(config: ExperimentConfig) -> str:
    """Who the prose follows: the largest model with the last (longest) level."""
    return f"the largest model ({config.models[-1]}) with {config.levels[-1]} explanations"


def rule_values(
    config: ExperimentConfig, accuracies: pd.DataFrame, long_lines: Mapping[str, float]
) -> dict[str, str]:
    """The one-line rule on test_long against every model and level there, and the largest model's
    last level on both sides of the end of the training range."""
    rule = long_lines[RULE]
    means = accuracies.loc[accuracies["split"] == "test_long", "mean"]
    at = accuracies[
        (accuracies["model"] == config.models[-1]) & (accuracies["level"] == config.levels[-1])
    ].set_index("split")["mean"]
    return {
        "rule_long": pct(rule),
        "rule_headline": rule_headline(means.min(), means.max(), rule),
        "long_split_range": f"the models, whatever their level, end between {pct(means.min())} "
        f"and {pct(means.max())}",
        "range_summary": range_summary(largest_level(config), at["test"], at["test_long"]),
    }


def rule_headline(low: float, high: float, rule: float) -> str:
    """Where the models' test_long accuracies (``low`` to ``high``) stand against the rule's."""
    if high < rule - NEAR:
        return "On the longer split every level falls below a one-line rule."
    if high <= rule + NEAR:
        if low >= rule - NEAR:
            return "On the longer split every level falls to the level of a one-line rule."
        return "On the longer split every level falls to or below the level of a one-line rule."
    if low > rule + NEAR:
        return "On the longer split every level stays above a one-line rule."
    return "On the longer split some levels stay above a one-line rule and others do not."


def range_summary(who: str, test: float, test_long: float) -> str:
    """``who``'s accuracy on the training range (``test``) and past it (``test_long``)."""
    if test_long <= test - BREAK:
        how = "loses most of its accuracy" if test_long < test / 2 else "loses part of its accuracy"
        verb = f"{how} past the training range"
    elif test_long >= test + BREAK:
        verb = "scores better past the training range than inside it"
    else:
        verb = "scores about as well past the training range as inside it"
    return f"{who[0].upper()}{who[1:]} {verb}: {pct(test)} on test, {pct(test_long)} on test_long"


def length_buckets(frame: pd.DataFrame) -> pd.DataFrame:
    """Accuracy by length bucket on test and test_long (mean and 95 % CI over seeds)."""
    return breakdown_table(frame, "length_bucket", splits=SPLITS)


def _train_max_length(config: ExperimentConfig) -> int:
    card = read_data_card(config.data_dir / "listops")
    return card["splits"]["train"]["token_length"]["source"]["max"]


def plot_length_buckets(
    config: ExperimentConfig,
    buckets: pd.DataFrame,
    lines: Mapping[str, Mapping[str, float]],
) -> plt.Figure:
    """Accuracy by length bucket, the smallest model above the largest, the end of the training
    range dotted. ``lines``: the baselines of each split (``baseline_lines``), each drawn only
    over the buckets of the split it was scored on (test's in the training range, test_long's
    past it), so that a bucket is read against the rules on rows of its own lengths."""
    return plot_groups_by_model(
        buckets,
        (config.models[0], config.models[-1]),
        "length_bucket",
        "expression length (tokens)",
        "Test accuracy by expression length",
        config.chance,
        boundary_after=length_bucket(_train_max_length(config)),
        split_baselines={split: lines[split] for split in SPLITS if split in lines},
    )


def bucket_values(config: ExperimentConfig, buckets: pd.DataFrame) -> dict[str, str]:
    """The largest model's last level by length bucket, and where its accuracy falls."""
    largest = buckets[
        (buckets["model"] == config.models[-1]) & (buckets["level"] == config.levels[-1])
    ]
    largest = largest.assign(start=largest["length_bucket"].str.split("-").str[0].astype(int))
    largest = largest.sort_values("start")
    inside = largest["start"] <= _train_max_length(config)
    buckets_in, buckets_past = largest[inside], largest[~inside]
    return {
        "largest_level": largest_level(config),
        "last_level_by_bucket": ", ".join(
            f"{b} tokens {100 * m:.0f} %" for b, m in largest[["length_bucket", "mean"]].values
        ),
        **break_texts(
            config.levels[-1],
            list(zip(buckets_in["length_bucket"], buckets_in["mean"], strict=True)),
            list(zip(buckets_past["length_bucket"], buckets_past["mean"], strict=True)),
        ),
    }


def break_texts(
    level: str, inside: Sequence[tuple[str, float]], past: Sequence[tuple[str, float]]
) -> dict[str, str]:
    """Whether accuracy breaks at the end of the training range: ``inside`` and ``past`` are
    (bucket, accuracy) in length order, in and past the training range."""
    if not inside or not past:
        missing = "this run has no length buckets on both sides of the end of the training range"
        return {
            "break_headline": "Accuracy by length is not measured on both sides of the range.",
            "break_detail": missing[0].upper() + missing[1:],
            "break_short": missing,
        }
    (last_bucket, last_in), (first_bucket, first_past) = inside[-1], past[0]
    low, high = min(m for _, m in inside), max(m for _, m in inside)
    spread = (
        f"{100 * low:.0f} %"
        if round(100 * low) == round(100 * high)
        else f"{100 * low:.0f}–{100 * high:.0f} %"
    )
    detail = (
        f"It scores {spread} in the buckets of the training range and {100 * first_past:.0f} % "
        f"in the first bucket past its end ({first_bucket} tokens)"
    )
    who = f"the largest model's {level} explanations"
    if last_in - first_past < BREAK:
        return {
            "break_headline": "Accuracy does not fall sharply at the end of the training range.",
            "break_detail": detail,
            "break_short": f"{who} score {100 * last_in:.0f} % in the last bucket of the training "
            f"range ({last_bucket} tokens) and {100 * first_past:.0f} % in the first past it",
        }
    shape = (
        "; it does not fade gradually with length: it holds on the training range and collapses "
        "within a few tokens past its end"
        if high - low < BREAK
        else "; it already falls within the training range, and falls further past its end"
    )
    return {
        "break_headline": "Execution breaks a few tokens past the training range.",
        "break_detail": detail + shape,
        "break_short": f"{who} fall from {100 * last_in:.0f} % in the last bucket of the training "
        f"range ({last_bucket} tokens) to {100 * first_past:.0f} % in the first past it",
    }


def data_values(config: ExperimentConfig) -> dict[str, str]:
    """From notebook 01's data: the length ranges of train and test_long and their ``long``
    targets' mean length (the data card), what makes a test_long expression longer (its operators
    and argument lists, read from the splits), and how the length jump compares with the paper's."""
    card = read_data_card(config.data_dir / "listops")
    splits = card["splits"]
    values = {}
    for split, name in (("train", "train"), ("test_long", "long")):
        lengths = splits[split]["token_length"]
        values[f"long_target_{name}"] = f"{lengths['target_long']['mean']:.0f}"
        values[f"{name}_range"] = f"{lengths['source']['min']}–{lengths['source']['max']}"
    train, long = (splits[s]["token_length"] for s in ("train", "test_long"))
    growth = long["target_long"]["mean"] / train["target_long"]["mean"]
    depths = {s: max(int(d) for d in splits[s]["depth"]) for s in ("train", "test_long")}
    middle = {
        s: (splits[s]["token_length"]["source"]["min"] + splits[s]["token_length"]["source"]["max"])
        / 2
        for s in ("train", "test_long")
    }
    shapes = {
        s: expression_shapes(config.data_dir / "listops", s, card["modulus"])
        for s in ("train", "test_long")
    }
    return {
        **values,
        "target_growth": f"a long target of the longer split has {values['long_target_long']} "
        f"tokens on average, {growth:.1f} times the {values['long_target_train']} of training "
        "(notebook 01's data card)",
        "jump_sentence": jump_sentence(
            values["train_range"],
            values["long_range"],
            middle["test_long"] / middle["train"],
            depths["test_long"] <= depths["train"],
            operators=(
                shapes["train"]["operators"].mean(),
                shapes["test_long"]["operators"].mean(),
            ),
            widest=(int(shapes["train"]["widest"].max()), int(shapes["test_long"]["widest"].max())),
        ),
    }


def expression_shapes(task_dir: Path, split: str, modulus: int) -> pd.DataFrame:
    """Per expression of one split of notebook 01's data: its operators (one explanation step
    each) and its longest argument list."""
    sources = pd.read_parquet(task_dir / f"{split}.parquet", columns=["source"])["source"]
    exprs = [parse(source, modulus) for source in sources]
    return pd.DataFrame(
        {"operators": [e.n_operators for e in exprs], "widest": [e.widest for e in exprs]}
    )


def jump_sentence(
    train_range: str,
    long_range: str,
    jump: float,
    no_deeper: bool,
    operators: tuple[float, float],
    widest: tuple[int, int],
) -> str:
    """How far the longer split reaches past training (``jump``: the ratio of the middles of the
    two length ranges) against the paper's (100-200 tokens after training on 50-100), and what
    makes its expressions longer: depth, ``operators`` (the mean number per expression, training
    then test_long) and ``widest`` (the longest argument list of each split)."""
    if jump > PAPER_JUMP * 1.05:
        size = "also a larger relative jump than the paper's"
    elif jump < PAPER_JUMP / 1.05:
        size = "a smaller relative jump than the paper's"
    else:
        size = "a relative jump about as large as the paper's"
    depth = "at no greater depth" if no_deeper else "deeper than any training expression"
    if widest[1] <= widest[0]:
        lists = (
            f"with argument lists no longer than in training (at most {widest[1]} operands in both)"
            if widest[1] == widest[0]
            else f"with argument lists shorter than in training (at most {widest[1]} operands, "
            f"against {widest[0]})"
        )
    else:
        lists = f"with longer argument lists than any in training ({widest[1]} operands against {widest[0]})"
    if operators[1] > operators[0] + 0.05:
        steps = "more steps"
    elif operators[1] < operators[0] - 0.05:
        steps = "fewer steps"
    else:
        steps = "about as many steps"
    return (
        f"The longer split is {size} ({train_range} → {long_range} tokens: the middle of the "
        f"range {jump:.1f} times that of training, against {PAPER_JUMP:.1f} in the paper), "
        f"{depth} and {lists}: an expression holds {operators[1]:.1f} operators on average "
        f"against {operators[0]:.1f} in training, so its explanation has {steps}"
    )


def c5_values(c5: Claim) -> dict[str, str]:
    """C5's verdict in a sentence, and its numbers."""
    return {"c5_sentence": by_verdict(c5, C5_TEXT, C5_UNSETTLED), "c5_ours": c5.ours}


def own_step_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    """Step accuracy and faithfulness per model and level on test and test_long (mean and 95 % CI
    over seeds), one row per model, level, metric and split."""
    return pd.concat(
        [
            metric_table(frame, metric, ["model", "params", "level"], split=split).assign(
                metric=metric, split=split
            )
            for metric in OWN_STEP_METRICS
            for split in SPLITS
        ]
    )


def own_step_values(config: ExperimentConfig, own_steps: pd.DataFrame) -> dict[str, str]:
    """The largest model's last level: its step accuracy and faithfulness on both splits (% as the
    table shows them), and what they say."""
    table = level_pivot(own_steps, ["params", "model", "metric", "split"])
    largest = table.loc[table.index.get_level_values("model") == config.models[-1]]
    last = config.levels[-1]
    if last not in largest.columns:
        return {
            **{f"{m}_{s}": "–" for m in OWN_STEP_METRICS for s in SPLITS},
            "steps_headline": f"The {last} outputs have no steps to measure.",
            "steps_detail": "there is nothing to compare",
        }
    values = {
        (metric, split): largest.xs((metric, split), level=("metric", "split"))[last].iloc[0]
        for metric in OWN_STEP_METRICS
        for split in SPLITS
    }
    return {
        **{f"{m}_{s}": f"{v:.1f} %" for (m, s), v in values.items()},
        **steps_texts(
            values[("step_accuracy", "test")] / 100,
            values[("step_accuracy", "test_long")] / 100,
            values[("faithfulness", "test_long")] / 100,
        ),
    }


def steps_texts(step_test: float, step_long: float, faithful_long: float) -> dict[str, str]:
    """Whether the steps go wrong past the training range (step accuracy falls by ``BREAK`` or
    more) and whether the answer still follows from them (faithfulness at least ``FAITHFUL``)."""
    steps_break, follows = step_long <= step_test - BREAK, faithful_long >= FAITHFUL
    headline = {
        (True, True): "The steps go wrong, not the link from steps to answer.",
        (True, False): "The steps go wrong, and so does the link from steps to answer.",
        (False, True): "The steps change little past the training range, and the answer follows "
        "from them.",
        (False, False): "The steps change little past the training range, but the answer often "
        "does not follow from them.",
    }[(steps_break, follows)]
    detail = (
        "the model still executes what it wrote"
        if follows
        else "its answer often does not follow from what it wrote"
    )
    if steps_break:
        detail += (
            ", but what it writes on a longer expression is wrong"
            if follows
            else ", and what it writes on a longer expression is wrong"
        )
    return {"steps_headline": headline, "steps_detail": detail}


def slip_values(config: ExperimentConfig, results: Sequence[RunResult]) -> dict[str, str]:
    """What is wrong at the first wrong step of the largest model's last level on test_long."""
    runs = [
        r
        for r in results
        if r.config["model"] == config.models[-1] and r.config["level"] == config.levels[-1]
    ]
    modulus = read_data_card(config.data_dir / "listops")["modulus"]
    shares = step_errors.slip_shares(runs, "test_long", modulus) if runs else pd.DataFrame()
    if shares.empty:
        return {"slips_sentence": "None of its outputs on test_long has a wrong step to read"}
    return {"slips_sentence": slips_sentence(shares.iloc[0][list(step_errors.SLIPS)] / 100)}


def slips_sentence(shares: Mapping[str, float]) -> str:
    """``shares`` (fractions of the outputs with a wrong step, by ``step_errors.SLIPS``), said."""
    said = {
        "wrong operands": "applies its operator correctly to operands other than the gold step's "
        "(a wrong copy, or a skipped, merged or reordered step)",
        "wrong arithmetic": "gets its own arithmetic wrong",
        "missing": "is missing (the output stopped short)",
        "unreadable": "cannot be read as an operator applied to operands",
    }
    parts = [
        f"{said[slip]} in {100 * shares[slip]:.0f} %"
        for slip in said
        if shares[slip] or slip != "unreadable"
    ]
    most = {
        "missing": "the output stops too early",
        "wrong operands": "a step takes the wrong operands, not the wrong arithmetic",
        "wrong arithmetic": "the arithmetic inside a step is wrong",
        "unreadable": "the step cannot be read as an operator applied to operands",
    }[max(step_errors.SLIPS, key=lambda s: shares[s])]
    return (
        f"Where its outputs on test_long go wrong, the first wrong step {listed(parts)} of them: "
        f"most often, {most}"
    )


def worked_outputs_by_level(config: ExperimentConfig, results: Sequence[RunResult]) -> pd.DataFrame:
    """The first right and the first wrong output on test_long of the smallest and the largest
    model at every explained level (the first seed), beside the gold."""
    first_seed = [r for r in results if r.config["seed"] == config.seeds[0]]
    shown_models = list(dict.fromkeys((config.models[0], config.models[-1])))
    examples = pd.concat(
        [
            step_errors.worked_outputs(run, "test_long", n_right=1, n_wrong=1).assign(
                model=run.config["model"], level=run.config["level"]
            )
            for model in shown_models
            for level in config.levels[1:]
            for run in first_seed
            if run.config["model"] == model and run.config["level"] == level
        ],
        ignore_index=True,
    )
    return examples.set_index(["model", "level", "answer"])
