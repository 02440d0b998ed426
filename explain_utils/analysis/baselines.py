"""Baselines every accuracy is read against: rules that need no model, scored on the same test rows.

- ``chance``: 1 / modulus (uniform guessing; an expected accuracy, not a prediction);
- ``majority``: always the most frequent answer of the *train* split;
- ``first_number``: the first number written in the expression;
- ``root_op_flat``: the root operator (MIN, MAX, MED or SM) applied to every number of the
  expression, nesting ignored. On depth-1 expressions this is the exact answer, and on the
  modular-sum task (SM all the way down, and a sum modulo m of sums modulo m is the flat sum
  modulo m) it is exact at every depth: a model there must beat a one-line rule.

Reads the Parquet splits directly (pandas), never torch.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from explain_utils.tasks.listops import Expr, apply, parse

BASELINES: tuple[str, ...] = ("chance", "majority", "first_number", "root_op_flat")
BASELINE_LABELS: dict[str, str] = {
    "chance": "chance (1/modulus)",
    "majority": "majority class of train",
    "first_number": "first number",
    "root_op_flat": "root operator over all numbers",
}
BASELINE_COLUMNS: tuple[str, ...] = ("task", "split", "baseline", "accuracy", "n")


def _numbers(expr: Expr) -> list[int]:
    """Every number of an expression in written order (nesting flattened)."""
    out: list[int] = []
    for arg in expr.args:
        out.extend(_numbers(arg) if isinstance(arg, Expr) else [arg])
    return out


def majority_answer(train_answers: Sequence[int]) -> int:
    """The most frequent answer (the smallest of tied ones)."""
    counts = Counter(int(a) for a in train_answers)
    if not counts:
        raise ValueError("majority_answer needs at least one training answer")
    top = max(counts.values())
    return min(a for a, c in counts.items() if c == top)


def baseline_predictions(
    split_rows: pd.DataFrame | Mapping[str, Sequence], train_answers: Sequence[int], modulus: int
) -> dict[str, list[int]]:
    """Each rule's answer for every row of a split (rows need a ``source`` column).

    Returns ``majority``, ``first_number`` and ``root_op_flat`` (``chance`` has no predictions).
    """
    exprs = [parse(str(source), modulus) for source in split_rows["source"]]
    flat = [_numbers(e) for e in exprs]
    majority = majority_answer(train_answers)
    return {
        "majority": [majority] * len(exprs),
        "first_number": [numbers[0] for numbers in flat],
        "root_op_flat": [
            apply(e.op, numbers, modulus) for e, numbers in zip(exprs, flat, strict=True)
        ],
    }


def _read_split(task_dir: Path, split: str) -> pd.DataFrame:
    path = task_dir / f"{split}.parquet"
    if not path.is_file():
        raise FileNotFoundError(
            f"data_dir: no split {split!r} at {str(path)!r}; run notebooks/01_data_generation.ipynb first"
        )
    return pd.read_parquet(path, columns=["source", "answer"])


def _modulus(task_dir: Path) -> int:
    card = task_dir / "data_card.json"  # data.CARD_NAME, read without importing data (datasets)
    if not card.is_file():
        raise FileNotFoundError(f"data_dir: no data card at {str(card)!r}; pass modulus=")
    return int(json.loads(card.read_text())["modulus"])


def baseline_rows(
    data_dir: str | Path,
    task: str,
    splits: Sequence[str] = ("test", "test_long"),
    train_size: int | None = None,
    modulus: int | None = None,
) -> pd.DataFrame:
    """Accuracy of every baseline on each split of ``data_dir/task`` (``BASELINE_COLUMNS``).

    The majority class is the most frequent answer of the first ``train_size`` training rows
    (all of them when None), the rows a run trained on. ``modulus``: None reads the data card.
    """
    task_dir = Path(data_dir) / task
    modulus = modulus if modulus is not None else _modulus(task_dir)
    train = _read_split(task_dir, "train")
    answers = train["answer"].tolist()[: train_size or len(train)]
    rows = []
    for split in splits:
        table = _read_split(task_dir, split)
        gold = table["answer"].tolist()
        n = len(gold)
        rows.append(
            {"task": task, "split": split, "baseline": "chance", "accuracy": 1 / modulus, "n": n}
        )
        for name, predicted in baseline_predictions(table, answers, modulus).items():
            hits = sum(p == g for p, g in zip(predicted, gold, strict=True))
            accuracy = hits / n if n else float("nan")
            rows.append(
                {"task": task, "split": split, "baseline": name, "accuracy": accuracy, "n": n}
            )
    return pd.DataFrame(rows, columns=list(BASELINE_COLUMNS))


def baseline_table(
    data_dir: str | Path,
    tasks: Sequence[str] = ("listops", "modular_sum"),
    splits: Sequence[str] = ("test", "test_long"),
    train_size: int | None = None,
) -> pd.DataFrame:
    """``baseline_rows`` for several tasks stacked (write it with ``results.write_results``)."""
    frames = [baseline_rows(data_dir, task, splits, train_size) for task in tasks]
    return pd.concat(frames, ignore_index=True)


def baseline_lines(
    table: pd.DataFrame, task: str = "listops", split: str = "test"
) -> dict[str, float]:
    """``{label: accuracy}`` of one task and split, in ``BASELINES`` order, for a figure's lines."""
    rows = table[(table["task"] == task) & (table["split"] == split)].set_index("baseline")
    return {
        BASELINE_LABELS[name]: float(rows.loc[name, "accuracy"])
        for name in BASELINES
        if name in rows.index
    }


def with_baselines(table: pd.DataFrame, lines: Mapping[str, float]) -> pd.DataFrame:
    """A (pivoted) accuracy table with one more column per baseline, the same value on every row."""
    return table.assign(**{label: value for label, value in lines.items()})
