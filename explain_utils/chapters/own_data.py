"""Chapter 6 (your own explained data): the tables the notebook shows."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from explain_utils.analysis.results import final_metric, summarize
from explain_utils.analysis.tables import accuracy_table, gain_table
from explain_utils.common.names import LEVELS, OWN_DATA_TASK
from explain_utils.engine.run_store import RunResult
from explain_utils.profiles.own_data import OwnDataConfig
from explain_utils.tasks import own_data

METRICS: dict[str, str] = {
    "accuracy": "accuracy",
    "exact_match": "exact match",
    "answer_parsed": "answer given",
}


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
    if pd.isna(low):
        return f"{100 * mean:.1f}"
    return f"{100 * mean:.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def accuracy_by_level(frame: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy per level, mean and 95 % t-interval over seeds (for the figure)."""
    return accuracy_table(frame, ["level"], task=OWN_DATA_TASK)


def gains(frame: pd.DataFrame, correct: pd.DataFrame) -> pd.DataFrame:
    """Each explained level − none on test (points), paired over seeds and rows."""
    table = gain_table(frame, correct, task=OWN_DATA_TASK)
    table = table[table["contrast"].str.endswith("− none")]
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
