import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explain_utils.common.names import LEVELS
from explain_utils.tasks.explanations import (
    explain,
    explain_expr,
    final_answer,
    step_results,
    steps,
)
from explain_utils.tasks.listops import evaluate_expr, parse, to_brackets
from tests.test_listops import exprs

SOURCE = "[MAX 2 9 [MIN 4 7 ] [SM 5 7 ] 0 ]"


def test_four_levels_of_one_expression():
    assert explain(SOURCE, "none") == "answer 9"
    assert explain(SOURCE, "short") == "MIN 4 ; SM 2 ; MAX 9 ; answer 9"
    assert (
        explain(SOURCE, "medium")
        == "MIN ( 4 7 ) = 4 ; SM ( 5 7 ) sum 12 = 2 ; MAX ( 2 9 4 2 0 ) = 9 ; answer 9"
    )
    assert explain(SOURCE, "long") == (
        "the smallest of 4 7 is 4 ; the sum of 5 7 modulo 10 : 5 + 7 = 2 so the result is 2 ; "
        "the largest of 2 9 4 2 0 is 9 ; answer 9"
    )


def test_steps_are_innermost_first_left_to_right():
    trace = steps(parse("[SM [MIN [MAX 1 2 ] 3 ] [MED 4 5 6 ] ]"), 10)
    assert [op for op, _, _ in trace] == ["MAX", "MIN", "MED", "SM"]
    assert trace[-1] == ("SM", [2, 5], 7)


def test_long_median_and_modulus_30():
    assert (
        explain("[MED 7 1 4 ]", "long")
        == "the median of 7 1 4 : sorted 1 4 7 so the result is 4 ; answer 4"
    )
    assert explain("[SM 25 27 ]", "medium", modulus=30) == "SM ( 25 27 ) sum 52 = 22 ; answer 22"


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("answer 7", 7),
        ("MIN 4 ; answer 13", 13),
        ("answer 1 ; answer 2", 2),
        ("the answer is 12", 12),
        ("answer: 3", 3),
        ("MIN 4 ; MAX 9", None),
        ("", None),
        ("answer", None),
        ("answerable 5", None),
    ],
)
def test_final_answer_parses_whole_number(text, answer):
    assert final_answer(text) == answer


def test_step_results():
    assert step_results(explain(SOURCE, "medium")) == [4, 2, 9]
    assert step_results(explain(SOURCE, "long")) == [4, 2, 9]
    assert step_results("MIN ; MAX 3 ; answer 3") == [None, 3]
    assert step_results("answer 3") == []


def test_unknown_level():
    with pytest.raises(ValueError, match="level must be one of none, short, medium, long"):
        explain(SOURCE, "verbose")


@settings(max_examples=200)
@given(exprs(), st.sampled_from(LEVELS))
def test_final_answer_of_explanation_is_the_value(expr, level):
    text = explain_expr(expr, level)
    assert final_answer(text) == evaluate_expr(expr)
    assert explain(to_brackets(expr), level) == text
    if level != "none":
        assert step_results(text) == [r for _, _, r in steps(expr, 10)]


@settings(max_examples=100)
@given(st.integers(2, 100), st.data())
def test_every_modulus(modulus, data):
    expr = data.draw(exprs(modulus))
    for level in LEVELS:
        assert final_answer(explain_expr(expr, level, modulus)) == evaluate_expr(expr, modulus)
