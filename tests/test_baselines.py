"""Baselines: each rule is right where it must be, and scored on the same rows as the models."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explain_utils.analysis.baselines import (
    BASELINE_COLUMNS,
    BASELINE_LABELS,
    baseline_lines,
    baseline_predictions,
    baseline_rows,
    baseline_table,
    majority_answer,
    with_baselines,
)
from explain_utils.tasks.listops import OPERATORS, Expr, evaluate, evaluate_expr, to_brackets

MODULUS = 10
digits = st.integers(0, MODULUS - 1)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(OPERATORS), st.lists(digits, min_size=1, max_size=8))
def test_root_operator_rule_is_exact_on_depth_one(op, values):
    expr = Expr(op, tuple(values))
    predicted = baseline_predictions({"source": [to_brackets(expr)]}, [0], MODULUS)
    assert predicted["root_op_flat"] == [evaluate_expr(expr, MODULUS)]


def sm_trees(max_leaves: int = 12):
    return st.recursive(
        digits,
        lambda children: st.lists(children, min_size=1, max_size=4).map(
            lambda args: Expr("SM", tuple(args))
        ),
        max_leaves=max_leaves,
    ).filter(lambda e: isinstance(e, Expr))


@settings(max_examples=100, deadline=None)
@given(sm_trees())
def test_root_operator_rule_solves_modular_sum_at_any_depth(expr):
    predicted = baseline_predictions({"source": [to_brackets(expr)]}, [0], MODULUS)
    assert predicted["root_op_flat"] == [evaluate_expr(expr, MODULUS)]


def test_rules_on_nested_expressions():
    sources = ["[MAX [MIN 4 7 ] 2 ]", "[SM 3 [MAX 9 1 ] ]", "[MED 5 [SM 6 6 ] 1 ]"]
    predicted = baseline_predictions(pd.DataFrame({"source": sources}), [3, 3, 1], MODULUS)
    assert predicted["first_number"] == [4, 3, 5]
    # MAX(4, 7, 2) = 7 (truth: MAX(4, 2) = 4); SM(3, 9, 1) = 3 (truth 2); MED(5, 6, 6, 1) = 5
    assert predicted["root_op_flat"] == [7, 3, 5]
    assert predicted["majority"] == [3, 3, 3]
    assert [evaluate(s) for s in sources] == [4, 2, 2]


def test_majority_breaks_ties_towards_the_smaller_answer():
    assert majority_answer([4, 2, 4, 2, 7]) == 2
    with pytest.raises(ValueError, match="at least one"):
        majority_answer([])


def write_task(tmp_path, task="listops", modulus=MODULUS):
    task_dir = tmp_path / task
    task_dir.mkdir(parents=True)
    splits = {
        "train": ["[MAX 1 2 ]", "[MIN 3 4 ]", "[MAX 0 3 ]", "[SM 5 5 ]"],  # answers 2 3 3 0
        "test": ["[MAX 3 1 ]", "[MIN 4 5 ]", "[SM 2 [MAX 1 3 ] ]", "[MED 3 3 8 ]"],
        "test_long": ["[MIN 3 [MAX 1 9 ] ]", "[MAX 0 [MIN 3 4 ] ]"],
    }
    for split, sources in splits.items():
        answers = [evaluate(s, modulus) for s in sources]
        pd.DataFrame({"source": sources, "answer": answers}).to_parquet(
            task_dir / f"{split}.parquet"
        )
    (task_dir / "data_card.json").write_text(json.dumps({"modulus": modulus}))
    return tmp_path


def test_baseline_rows_on_the_test_splits(tmp_path):
    data_dir = write_task(tmp_path)
    table = baseline_rows(data_dir, "listops")
    assert list(table.columns) == list(BASELINE_COLUMNS)
    acc = table.set_index(["split", "baseline"])["accuracy"]
    assert acc["test", "chance"] == pytest.approx(0.1)
    assert acc["test", "majority"] == pytest.approx(0.5)  # train majority 3: rows 1 and 4
    assert acc["test", "first_number"] == pytest.approx(0.75)  # 3, 4, 2 (truth 5), 3
    assert acc["test", "root_op_flat"] == pytest.approx(0.75)  # SM(2, 1, 3) = 6, truth 5
    assert acc["test_long", "first_number"] == pytest.approx(0.5)
    assert set(table["n"]) == {4, 2}
    # the majority of the first two training rows only: answers 2 and 3 tie -> 2
    first_two = baseline_rows(data_dir, "listops", ("test",), train_size=2)
    assert first_two.set_index("baseline").loc["majority", "accuracy"] == 0.0


def test_baseline_table_lines_and_table_columns(tmp_path):
    data_dir = write_task(write_task(tmp_path), task="modular_sum")
    table = baseline_table(data_dir, splits=("test",))
    assert set(table["task"]) == {"listops", "modular_sum"}
    lines = baseline_lines(table, "listops", "test")
    assert list(lines) == list(BASELINE_LABELS.values())
    assert lines[BASELINE_LABELS["chance"]] == pytest.approx(0.1)
    pivot = pd.DataFrame({"none": [0.3], "long": [0.6]}, index=["t5-50k"])
    wide = with_baselines(pivot, lines)
    assert list(wide.columns) == ["none", "long", *lines]


def test_missing_split_names_notebook_01(tmp_path):
    data_dir = write_task(tmp_path)
    with pytest.raises(FileNotFoundError, match="01_data_generation"):
        baseline_rows(data_dir, "listops", ("validation",))
