import random
import re
from itertools import accumulate

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explain_utils.common.names import LEVELS
from explain_utils.tasks import formats
from explain_utils.tasks.explanations import explain_expr, final_answer, step_results, steps
from explain_utils.tasks.listops import (
    OPERATORS,
    Expr,
    GeneratorConfig,
    evaluate_expr,
    generate_in_range,
    parse,
    to_brackets,
)

NAMES = tuple(formats.REGISTRY)
STEPPED = tuple(n for n in NAMES if n != "none")


@st.composite
def exprs(draw):
    """Random expressions: depth 1-4, 1-5 arguments, all four operators or SM alone, modulus 10."""
    config = GeneratorConfig(
        operators=draw(st.sampled_from([OPERATORS, ("SM",)])),
        max_depth=draw(st.integers(1, 4)),
        min_args=1,
        max_args=5,
        nest_probability=draw(st.sampled_from([0.2, 0.5, 0.9])),
    )
    return generate_in_range(random.Random(draw(st.integers(0, 2**32))), config, 3, 40)


def expected_operands(name, op, values):
    if name in ("short", "short_running"):
        return None
    return tuple(sorted(values)) if name == "fixed_width" and op == "MED" else tuple(values)


@settings(max_examples=150, deadline=None)
@given(exprs())
def test_every_format_reads_back_its_gold_steps(expr):
    """read_steps(write_target) is the gold trace: operator, shown operands and result per step."""
    trace = steps(expr, 10)
    for name in STEPPED:
        got = formats.read_steps(name, formats.write_target(name, expr))
        assert len(got) == len(trace), name
        for step, (op, values, result) in zip(got, trace, strict=True):
            assert step == formats.Step(op, expected_operands(name, op, values), result), name
    none = formats.write_target("none", expr)
    assert formats.read_steps("none", none) == []
    assert final_answer(none) == evaluate_expr(expr)


@settings(max_examples=100, deadline=None)
@given(exprs())
def test_every_target_ends_in_the_answer(expr):
    for name in NAMES:
        text = formats.write_target(name, expr)
        assert text.endswith(f"answer {evaluate_expr(expr)}"), name
        assert final_answer(text) == evaluate_expr(expr), name


@settings(max_examples=100, deadline=None)
@given(exprs())
def test_paper_levels_are_the_explanations(expr):
    for level in LEVELS:
        text = formats.write_target(level, expr)
        assert text == explain_expr(expr, level)
        assert formats.step_results_of(level, text) == step_results(text)


def test_documented_examples():
    expr = parse("[MAX 2 [MIN 4 7 ] [MED 5 7 3 ] [SM 5 7 1 7 ] ]")
    text = formats.write_target("fixed_width", expr)
    assert text.startswith("MIN 4 7 is 4 ; MED 5 , 5 7 , 3 5 7 is 5 ; SM 5 7 is 2 , 2 1 is 3")
    assert "SM 5 2 3 0 ;" in formats.write_target("short_running", expr)
    assert "SM ( 5 7 1 7 ) 5 2 3 0 = 0 ;" in formats.write_target("medium_running", expr)
    nested = parse("[MAX 2 [MIN 4 7 ] ]")
    assert formats.write_source("index_hint", nested) == "[MAX a 2 b [MIN c 4 d 7 ] ]"
    assert formats.write_target("index_hint", nested) == (
        "the smallest of c 4 d 7 is 4 ; the largest of a 2 b 4 is 4 ; answer 4"
    )
    assert formats.write_target("long_rewrite", nested) == (
        "the smallest of 4 7 is 4 rest [MAX 2 4 ] ; the largest of 2 4 is 4 ; answer 4"
    )


@settings(max_examples=100, deadline=None)
@given(exprs())
def test_index_hint_tags_every_argument(expr):
    """One tag before every argument, cycling a..h in reading order; untagged it is the source."""
    source = formats.write_source("index_hint", expr)
    tokens = source.split()
    untagged = [t for t in tokens if t not in formats.TAGS]
    assert " ".join(untagged) == to_brackets(expr)
    for i, token in enumerate(tokens[1:], start=1):
        if token != "]" and token not in formats.TAGS:
            assert tokens[i - 1] in formats.TAGS, (i, source)
    n_args = len([t for t in untagged if t != "]"]) - 1  # every value and operator but the root
    tags = [t for t in tokens if t in formats.TAGS]
    assert tags == ["abcdefgh"[i % 8] for i in range(n_args)]
    assert formats.index_hint_source(to_brackets(expr)) == source
    for name in NAMES:
        if name != "index_hint":
            assert formats.write_source(name, expr) is None


@settings(max_examples=100, deadline=None)
@given(exprs())
def test_long_rewrite_rests_keep_the_value(expr):
    segments = formats.write_target("long_rewrite", expr).split(" ; ")[:-1]
    for segment in segments[:-1]:
        rest = segment.split(" rest ", 1)[1]
        assert evaluate_expr(parse(rest)) == evaluate_expr(expr), segment
    assert " rest " not in segments[-1]


@settings(max_examples=100, deadline=None)
@given(exprs())
def test_running_formats_differ_only_on_sm(expr):
    """Non-SM steps as in short/medium; an SM step shows its running sums mod 10, ending in the result."""
    trace = steps(expr, 10)
    for level in ("short", "medium"):
        plain = formats.write_target(level, expr).split(" ; ")
        running = formats.write_target(f"{level}_running", expr).split(" ; ")
        assert len(plain) == len(running) == len(trace) + 1
        assert plain[-1] == running[-1]
        for (op, values, result), a, b in zip(trace, plain, running, strict=False):
            if op != "SM":
                assert a == b
                continue
            sums = [s % 10 for s in accumulate(values)]
            assert sums[-1] == result
            shown = b.split(")")[1].split("=")[0] if level == "medium" else b[len("SM") :]
            assert [int(n) for n in shown.split()] == sums, b


def corrupt(segment):
    """The segment with its claimed result (the last number before any ' rest ') changed."""
    head, sep, tail = segment.partition(" rest ")
    old = re.findall(r"\d+", head)[-1]
    pos = head.rfind(old)
    return head[:pos] + str((int(old) + 1) % 10) + head[pos + len(old) :] + sep + tail


@settings(max_examples=100, deadline=None)
@given(exprs(), st.integers(0, 100))
def test_first_wrong_step(expr, k):
    assert formats.first_wrong_step("none", "", formats.write_target("none", expr)) is None
    for name in STEPPED:
        gold = formats.write_target(name, expr)
        segments = gold.split(" ; ")
        n = len(segments) - 1
        assert formats.first_wrong_step(name, gold, gold) is None, name
        assert formats.first_wrong_step(name, "", gold) == 0, name
        i = k % n
        wrong = " ; ".join([*segments[:i], corrupt(segments[i]), *segments[i + 1 :]])
        assert formats.first_wrong_step(name, wrong, gold) == i, (name, wrong)
        short = " ; ".join([*segments[:i], segments[-1]])
        assert formats.first_wrong_step(name, short, gold) == i, (name, short)


def test_shared_subexpression():
    """An Expr may hold the same sub-expression object twice; every format still steps through it."""
    sub = Expr("MIN", (4, 7))
    expr = Expr("SM", (sub, 2, sub))
    trace = steps(expr, 10)
    for name in STEPPED:
        got = formats.read_steps(name, formats.write_target(name, expr))
        assert [s.result for s in got] == [r for _, _, r in trace], name
    assert formats.write_target("long_rewrite", expr).startswith(
        "the smallest of 4 7 is 4 rest [SM 4 2 [MIN 4 7 ] ] ; the smallest of 4 7 is 4 rest [SM 4 2 4 ] ; "
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: formats.write_target("bogus", parse("[MIN 1 ]")),
        lambda: formats.read_steps("bogus", ""),
    ],
)
def test_unknown_format(call):
    with pytest.raises(
        ValueError, match=r"level must be one of none, short, .*medium_running; got 'bogus'"
    ):
        call()
