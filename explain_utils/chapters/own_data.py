"""Chapter 6 (your own explained data): its config from the notebook's parameters, the tables it
shows and the sentences it glues, each computed from this run, so that the findings read right on
any data file and profile."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from explain_utils.analysis.results import (
    final_metric,
    summarize,
    write_tidy,
)
from explain_utils.analysis.tables import accuracy_table, curve_table, gain_table
from explain_utils.chapters.prose import listed, params_text
from explain_utils.claims.claim import pct
from explain_utils.common.names import LEVELS, OWN_DATA_TASK
from explain_utils.engine.run_store import RunResult
from explain_utils.profiles.checks import from_notebook
from explain_utils.profiles.own_data import RESULTS_NAME, OwnDataConfig, own_data_config
from explain_utils.tasks import own_data

METRICS: dict[str, str] = {
    "accuracy": "accuracy",
    "exact_match": "exact match",
    "answer_parsed": "answer given",
}


def configure(namespace: Mapping[str, Any]) -> OwnDataConfig:
    """The validated config from the notebook's parameters (its ``globals()``); checks and writes
    the data file as the ``own_data`` task."""
    return from_notebook(own_data_config, namespace)


def examples(config: OwnDataConfig, n: int = 3) -> pd.DataFrame:
    """The first ``n`` train rows as the engine sees them: input, label and the target per level."""
    train = pd.read_parquet(config.task_dir / "train.parquet").head(n)
    columns = ["line", "source", "answer", *(f"target_{lv}" for lv in config.levels)]
    return train[columns].rename(columns={"source": "input", "answer": "label"})


def split_summary(config: OwnDataConfig) -> pd.DataFrame:
    """Rows and label counts per split (from the data card)."""
    card = own_data.read_card(config.task_dir)
    splits = {s: card["splits"][s] for s in own_data.SPLITS}  # the card's keys are sorted
    table = pd.DataFrame({s: v["labels"] for s, v in splits.items()}).fillna(0).astype(int)
    rows = pd.DataFrame({s: [v["rows"]] for s, v in splits.items()}, index=["rows"])
    return pd.concat([rows, table.sort_index()])


def tidy_results(
    results: list[RunResult], config: OwnDataConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs' tidy rows and per-row correctness, written to ``results/06_own_data.csv`` and
    ``results/06_own_data_rows.csv``."""
    return write_tidy(results, config.results_dir, RESULTS_NAME)


def level_table(frame: pd.DataFrame, lines: dict[str, float]) -> pd.DataFrame:
    """Test metrics per level (%, mean [95 % CI] over seeds), then the baselines' accuracy."""
    cells: dict[str, dict[str, str]] = {}
    for metric, label in METRICS.items():
        table = summarize(final_metric(frame, metric, "test", OWN_DATA_TASK), ["level"])
        for row in table.itertuples():
            cells.setdefault(row.level, {})[label] = _pct(row.mean, row.ci_low, row.ci_high)
    levels = [lv for lv in LEVELS if lv in cells]
    out = pd.DataFrame([cells[lv] for lv in levels], index=levels)
    baselines = pd.DataFrame(
        [{"accuracy": f"{100 * value:.1f}"} for value in lines.values()], index=list(lines)
    )
    return pd.concat([out, baselines]).fillna("")


def _pct(mean: float, low: float, high: float) -> str:
    """``mean [low, high]`` in percent, the interval cut to 0–100 (every metric here is a share)."""
    if pd.isna(low):
        return f"{100 * mean:.1f}"
    return f"{100 * mean:.1f} [{100 * max(low, 0.0):.1f}, {100 * min(high, 1.0):.1f}]"


def accuracy_by_level(frame: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy per level, mean and 95 % t-interval over seeds (for the figure)."""
    return accuracy_table(frame, ["level"], task=OWN_DATA_TASK)


def accuracy_title(config: OwnDataConfig) -> str:
    """The accuracy figure's title: the data file and the model."""
    return f"{config.data_file.name}: test accuracy by explanation level ({config.model})"


def learning_curves(frame: pd.DataFrame) -> pd.DataFrame:
    """Validation accuracy per level and step, mean and 95 % t-interval over seeds."""
    return curve_table(frame, task=OWN_DATA_TASK)


def gain_rows(frame: pd.DataFrame, correct: pd.DataFrame) -> pd.DataFrame:
    """Each explained level − none on test (fractions), paired over seeds and rows (``gain_table``'s
    columns)."""
    table = gain_table(frame, correct, task=OWN_DATA_TASK)
    return table[table["contrast"].str.endswith("− none")]


def gains(frame: pd.DataFrame, correct: pd.DataFrame) -> pd.DataFrame:
    """Each explained level − none on test (points), paired over seeds and rows, as shown."""
    return gain_display(gain_rows(frame, correct))


def gain_display(table: pd.DataFrame) -> pd.DataFrame:
    """``gain_rows`` in points with the interval as text."""
    return pd.DataFrame(
        {
            "contrast": table["contrast"],
            "difference (points)": (100 * table["diff"]).round(1),
            "95 % CI": [
                f"[{100 * lo:+.1f}, {100 * hi:+.1f}]"
                for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
            ],
        }
    ).reset_index(drop=True)


def sample_outputs(results: list[RunResult], rows: int = 2) -> pd.DataFrame:
    """What the seed-0 model of every level wrote for the first ``rows`` test rows."""
    records = []
    for result in results:
        if result.config["seed"] != min(r.config["seed"] for r in results):
            continue
        path = Path(result.run_dir) / "predictions_test.jsonl"
        for i, line in enumerate(path.read_text().splitlines()[:rows]):
            record = json.loads(line)
            records.append(
                {
                    "test row": i + 1,
                    "level": result.config["level"],
                    "label": record["answer"],
                    "output": record["prediction"],
                    "correct": bool(record["accuracy"]),
                }
            )
    return pd.DataFrame(records).sort_values(["test row"], kind="stable").reset_index(drop=True)


# Sentences to glue: every finding the chapter states, computed from this run's rows.


def run_values(results: list[RunResult], config: OwnDataConfig) -> dict[str, str]:
    """What ran: the runs, the model's size and the training rows each run saw."""
    rows = own_data.read_card(config.task_dir)["splits"]["train"]["rows"]
    runs = (
        f"{_count(len(results), 'run')} ({_count(len(config.levels), 'level')} × "
        f"{_count(len(config.seeds), 'seed')}) of a model of {params_text(results[0].params)} "
        f"parameters ({config.model}), each trained on the {rows:,} rows of the train split"
    )
    return {"runs_text": runs}


def findings(
    config: OwnDataConfig, frame: pd.DataFrame, gains: pd.DataFrame, lines: Mapping[str, float]
) -> dict[str, str]:
    """The sentences of "What we found": accuracy of ``none`` against the majority label, the best
    explained level, the gains over ``none`` (``gains``: ``gain_rows``) and what they show, and
    how often each explained level writes its whole target right."""
    accuracy = _mean_by_level(frame, "accuracy")
    majority_label, majority = _majority(lines)
    return {
        "none_text": none_text(config.data_file.name, accuracy, majority_label, majority),
        "best_text": best_text(accuracy),
        "gains_text": gains_text(gains),
        "gains_shown": gains_shown(gains),
        "writing_text": writing_text(_mean_by_level(frame, "exact_match")),
    }


def none_text(file_name: str, accuracy: pd.Series, majority_label: str, majority: float) -> str:
    """Answer-only accuracy on test, and on which side of always answering the train split's most
    frequent label (``majority_label``, scoring ``majority`` on test) it falls."""
    if "none" not in accuracy:
        return (
            f"On {file_name}, answer-only training (none) did not run, so there is no baseline "
            "for the explained levels."
        )
    points = 100 * (accuracy["none"] - majority)
    if round(points, 1) == 0:
        side = "level with"
    else:
        side = f"{abs(points):.1f} points {'above' if points > 0 else 'below'}"
    return (
        f"On {file_name}, answer-only training (none) reaches {pct(accuracy['none'])} on "
        f"test, {side} always answering the most frequent label of train ({majority_label}: "
        f"{pct(majority)})."
    )


def best_text(accuracy: pd.Series) -> str:
    """The explained level with the highest test accuracy (mean over seeds)."""
    explained = accuracy.drop("none", errors="ignore")
    if explained.empty:
        return "No explained level ran."
    best = explained.idxmax()
    which = "one explained level" if len(explained) == 1 else "best explained level"
    return f"The {which}, {best}, reaches {pct(explained[best])} on test."


def gains_text(gains: pd.DataFrame) -> str:
    """``short +7.0 [-6.7, +21.9]; long …``: each gain over none in points with its interval."""
    shown = gain_display(gains)
    return (
        "; ".join(f"{c.split()[0]} {d:+.1f} {ci}" for c, d, ci in shown.itertuples(index=False))
        or "not measured (a gain needs none and an explained level)"
    )


def gains_shown(gains: pd.DataFrame) -> str:
    """Which gains over none the paired intervals show: above 0, below 0, or not shown either way."""
    if gains.empty:
        return "There is no gain to judge."
    level = gains["contrast"].str.split().str[0]
    above = list(level[gains["ci_low"] > 0])
    below = list(level[gains["ci_high"] < 0])
    unclear = [lv for lv in level if lv not in above and lv not in below]
    n_seeds, n_rows = int(gains["n_seeds"].max()), int(gains["n_rows"].max())
    basis = (
        f"With {_count(n_rows, 'test row')} and {_count(n_seeds, 'seed')}"
        if n_rows
        else f"With {_count(n_seeds, 'seed')} and no per-row results"
    )
    if not above and not below:
        return (
            f"{basis}, no explained level is shown to beat answer-only training or to fall "
            "below it: every interval includes 0."
        )
    parts = []
    if above:
        parts.append(f"{listed(above)} {_is(above)} shown to beat answer-only training")
    if below:
        parts.append(f"{listed(below)} {_is(below)} shown to fall below answer-only training")
    if unclear:
        interval = "interval of" if len(unclear) == 1 else "intervals of"
        includes = "includes" if len(unclear) == 1 else "include"
        parts.append(f"the {interval} {listed(unclear)} {includes} 0 (no gain shown)")
    return f"{basis}, {'; '.join(parts)}."


def writing_text(exact_match: pd.Series) -> str:
    """How often each explained level writes its whole target right (exact match on test)."""
    explained = [lv for lv in LEVELS if lv != "none" and lv in exact_match]
    if not explained:
        return "No explained level ran, so no explanation was written."
    shares = ", ".join(f"{lv} {pct(exact_match[lv])}" for lv in explained)
    return (
        "Exact match of the explained levels on test (explanation and answer both right, mean "
        f"over seeds): {shares}."
    )


def _majority(lines: Mapping[str, float]) -> tuple[str, float]:
    """The majority baseline of ``label_baselines``: its label (named in its key) and its share."""
    name = next(name for name in lines if name.startswith("majority"))
    found = re.search(r"\((.+)\)$", name)
    return (found.group(1) if found else name), lines[name]


def _mean_by_level(frame: pd.DataFrame, metric: str) -> pd.Series:
    """A test metric per level, mean over seeds."""
    table = summarize(final_metric(frame, metric, "test", OWN_DATA_TASK), ["level"])
    return table.set_index("level")["mean"]


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _is(levels: list[str]) -> str:
    return "is" if len(levels) == 1 else "are"
