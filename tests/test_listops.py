import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explain_utils.tasks.listops import (
    OPERATORS,
    Expr,
    GeneratorConfig,
    evaluate,
    evaluate_expr,
    generate,
    generate_in_range,
    parse,
    read_listops_tsv,
    to_brackets,
    to_original,
)


@pytest.mark.parametrize(
    ("source", "modulus", "value"),
    [
        ("[MAX 2 9 [MIN 4 7 ] 0 ]", 10, 9),
        ("[MED 1 4 ]", 10, 2),  # int(numpy.median([1, 4])) == 2
        ("[MED 1 2 ]", 10, 1),
        ("[MED 5 1 3 ]", 10, 3),
        ("[SM 5 7 1 7 ]", 10, 0),
        ("[SM 25 27 ]", 30, 22),
        ("[MIN 3 ]", 10, 3),
        ("( ( ( [MAX 2 ) 9 ) ] )", 10, 9),
        ("[SM 1 1 ]", 2, 0),
    ],
)
def test_evaluate_known_values(source, modulus, value):
    assert evaluate(source, modulus) == value


def test_med_matches_numpy_median():
    np = pytest.importorskip("numpy")
    rng = random.Random(0)
    for _ in range(500):
        values = [rng.randrange(10) for _ in range(rng.randint(1, 6))]
        source = "[MED " + " ".join(map(str, values)) + " ]"
        assert evaluate(source) == int(np.median(values))


def test_original_sample_all_twenty_lines(listops_sample):
    rows = read_listops_tsv(listops_sample)
    assert len(rows) == 20
    for source, label in rows:
        assert evaluate(source, 10) == label


def test_original_sample_round_trips_through_our_formatter(listops_sample):
    for source, _ in read_listops_tsv(listops_sample):
        expr = parse(source)
        assert to_original(expr) == " ".join(source.split())
        assert parse(to_brackets(expr)) == expr


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("[MAX 2 9 [MIN 4 7 ] 0", "unbalanced brackets"),
        ("[MAX 2 9 ] ]", "trailing tokens"),
        ("[MAX 2 9 ] 3", "trailing tokens"),
        ("[FOO 2 9 ]", "unknown operator"),
        ("[ 2 9 ]", "unknown operator"),
        ("[MAX ]", "empty list"),
        ("[MAX 2 x ]", "expected an integer"),
        ("[MAX 2 2.5 ]", "expected an integer"),
        ("[MAX 2 12 ]", "out of range"),
        ("[MAX 2 -1 ]", "out of range"),
        ("", "empty expression"),
        ("   ", "empty expression"),
        ("7", "expected an operator"),
        ("] [MAX 1 ]", "expected an operator"),
        ("( [MAX 2 ) ] ) )", "unbalanced parenthesis"),
        ("( ( [MAX 2 ) ]", "unbalanced parentheses"),
    ],
)
def test_malformed_input_raises_value_error_with_position(source, message):
    with pytest.raises(ValueError, match=message) as info:
        evaluate(source)
    assert "at token" in str(info.value)


@pytest.mark.parametrize("modulus", [0, 1, -3, 2.5, "10", True])
def test_bad_modulus(modulus):
    with pytest.raises(ValueError, match="modulus"):
        evaluate("[MAX 1 ]", modulus)


def test_read_tsv_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_listops_tsv(tmp_path / "missing.tsv")
    bad = tmp_path / "bad.tsv"
    bad.write_text("Src\tTgt\n")
    with pytest.raises(ValueError, match="header"):
        read_listops_tsv(bad)
    bad.write_text("Source\tTarget\n[MAX 1 ]\tx\n")
    with pytest.raises(ValueError, match=":2:"):
        read_listops_tsv(bad)


def exprs(modulus: int = 10, max_depth: int = 3) -> st.SearchStrategy[Expr]:
    values = st.integers(0, modulus - 1)

    def node(children):
        return st.builds(
            lambda op, args: Expr(op, tuple(args)),
            st.sampled_from(OPERATORS),
            st.lists(children, min_size=1, max_size=5),
        )

    base = node(values)
    return st.recursive(base, lambda inner: node(st.one_of(values, inner)), max_leaves=20)


@given(exprs())
def test_both_notations_round_trip(expr):
    assert parse(to_brackets(expr)) == expr
    assert parse(to_original(expr)) == expr
    assert evaluate(to_brackets(expr)) == evaluate(to_original(expr)) == evaluate_expr(expr)


@settings(max_examples=60)
@given(
    seed=st.integers(0, 10_000),
    modulus=st.integers(2, 40),
    max_depth=st.integers(1, 5),
    min_args=st.integers(1, 3),
    extra_args=st.integers(0, 3),
    low=st.integers(3, 60),
    width=st.integers(0, 60),
    operators=st.lists(st.sampled_from(OPERATORS), min_size=1, unique=True),
)
def test_generator_respects_every_constraint(
    seed, modulus, max_depth, min_args, extra_args, low, width, operators
):
    config = GeneratorConfig(modulus, tuple(operators), max_depth, min_args, min_args + extra_args)
    rng = random.Random(seed)
    if not config.feasible_lengths(low, low + width):
        with pytest.raises(ValueError, match="no expression length"):
            generate_in_range(rng, config, low, low + width)
        return
    expr = generate_in_range(rng, config, low, low + width)
    assert low <= expr.n_tokens <= low + width
    assert len(to_brackets(expr).split()) == expr.n_tokens
    assert expr.depth <= max_depth
    stack = [expr]
    while stack:
        node = stack.pop()
        assert node.op in operators
        assert min_args <= len(node.args) <= min_args + extra_args
        for a in node.args:
            if isinstance(a, Expr):
                stack.append(a)
            else:
                assert 0 <= a < modulus
    assert evaluate(to_brackets(expr), modulus) == evaluate_expr(expr, modulus)


def test_generator_is_deterministic_and_hits_paper_lengths():
    config = GeneratorConfig(modulus=30, max_depth=6, min_args=2, max_args=5)
    a = [to_brackets(generate_in_range(random.Random(7), config, 100, 200)) for _ in range(3)]
    b = [to_brackets(generate_in_range(random.Random(7), config, 100, 200)) for _ in range(3)]
    assert a == b
    assert all(100 <= len(s.split()) <= 200 for s in a)


def test_generate_impossible_length():
    config = GeneratorConfig(min_args=2, max_args=2, max_depth=1)
    with pytest.raises(ValueError, match="no expression of 5 tokens"):
        generate(random.Random(0), config, 5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"operators": ("ADD",)}, "operators"),
        ({"operators": ()}, "operators"),
        ({"max_depth": 0}, "max_depth"),
        ({"min_args": 3, "max_args": 2}, "min_args"),
        ({"modulus": 1}, "modulus"),
        ({"nest_probability": 2.0}, "nest_probability"),
    ],
)
def test_generator_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GeneratorConfig(**kwargs)


@pytest.mark.parametrize(
    ("source", "operators", "widest"),
    [
        ("[MIN 4 7 ]", 1, 2),
        ("[MAX 2 9 [MIN 4 7 ] 0 ]", 2, 4),
        ("[MAX 2 [MIN 4 7 1 3 5 ] [SM 5 7 ] ]", 3, 5),
    ],
)
def test_operators_and_the_longest_list(source, operators, widest):
    expr = parse(source)
    assert (expr.n_operators, expr.widest) == (operators, widest)
