"""Explanation formats beyond the paper's four levels: each a function from a parsed expression to
its target text, an optional rewrite of the source, and the reader that gets its steps back.

The paper's levels (``explanations``) are formats too; ``FORMATS`` names the book's own ones
(chapter 4 asks which form of explanation lets a small model execute a longer input):

- ``long_rewrite``: ``long``, each step followed by the expression that remains once the step's
  result replaces its sub-expression: ``the smallest of 4 7 is 4 rest [MAX 2 4 9 ] ; ...``;
- ``fixed_width``: every multi-argument operator folded pairwise with a running value, so a step
  reads two numbers: ``MIN 4 7 is 4 , 4 3 is 3``; MED grows its sorted list one operand at a time:
  ``MED 5 , 5 7 , 3 5 7 is 5``;
- ``index_hint``: every argument slot of the source gets a tag (``a`` … ``h``, cycling), and the
  ``long`` steps copy the tag before each operand: source ``[MAX a 2 b [MIN c 4 d 7 ] ]``, steps
  ``the smallest of c 4 d 7 is 4 ; the largest of a 2 b 4 is 4``;
- ``short_running`` / ``medium_running``: ``short`` and ``medium`` with the SM step decomposed
  into its running sum (``SM 5 2 3 0``, ``SM ( 5 7 1 7 ) 5 2 3 0 = 0``); other operators as in
  the paper.

``read_steps(name, text)`` returns one ``Step`` per ``;``-separated step of any format's text: the
operator, the operands the step shows (sorted for MED in ``fixed_width``; None where the format
shows none) and the result it claims; the tests check that every format reads back its own gold
steps exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from explain_utils.common.names import FORMATS, LEVELS
from explain_utils.tasks.explanations import explain_expr, steps
from explain_utils.tasks.listops import Expr, apply, parse, to_brackets

TAGS: tuple[str, ...] = tuple("abcdefgh")  # index hints, cycling over the argument slots
_ANSWER_SPLIT = re.compile(r"\banswer\b")
_NUMBER = re.compile(r"-?\d+")
_LONG_OPS = {"smallest": "MIN", "largest": "MAX", "median": "MED", "sum": "SM"}


@dataclass(frozen=True)
class Step:
    """One step as a text shows it: operator, operands (None: not shown), claimed result."""

    op: str | None
    operands: tuple[int, ...] | None
    result: int | None


# --- writers ---------------------------------------------------------------------------------


def _nums(values: list[int]) -> str:
    return " ".join(map(str, values))


def _substitute(expr: Expr, value: int) -> Expr | int:
    """``expr`` with its innermost-leftmost operator (``_innermost_leftmost``) replaced by ``value``,
    found by position, not identity: an Expr may hold one sub-expression object twice."""
    for i, arg in enumerate(expr.args):
        if isinstance(arg, Expr):
            return Expr(expr.op, (*expr.args[:i], _substitute(arg, value), *expr.args[i + 1 :]))
    return value


def _long_rewrite(expr: Expr, modulus: int) -> str:
    long_steps = explain_expr(expr, "long", modulus).split(" ; ")[:-1]
    current: Expr | int = expr
    parts = []
    for text in long_steps:
        node = _innermost_leftmost(current)
        value = apply(node.op, list(node.args), modulus)  # innermost: every argument is a value
        current = _substitute(current, value)
        parts.append(f"{text} rest {to_brackets(current)}" if isinstance(current, Expr) else text)
    return " ; ".join([*parts, f"answer {current}"])


def _innermost_leftmost(expr: Expr) -> Expr:
    """The first operator in evaluation order: the leftmost one whose arguments are all values."""
    for arg in expr.args:
        if isinstance(arg, Expr):
            return _innermost_leftmost(arg)
    return expr


def _fixed_width_step(op: str, values: list[int], result: int, modulus: int) -> str:
    if op == "MED":
        grown = [_nums(sorted(values[: i + 1])) for i in range(len(values))]
        return f"MED {' , '.join(grown)} is {result}"
    if len(values) == 1:
        return f"{op} {values[0]} is {result}"
    running, parts = values[0], []
    for v in values[1:]:
        new = apply(op, [running, v], modulus)
        parts.append(f"{running} {v} is {new}")
        running = new
    return f"{op} {' , '.join(parts)}"


def _fixed_width(expr: Expr, modulus: int) -> str:
    trace = steps(expr, modulus)
    return " ; ".join(
        [*(_fixed_width_step(op, v, r, modulus) for op, v, r in trace), f"answer {trace[-1][2]}"]
    )


def _tagged(expr: Expr) -> tuple[str, dict[int, list[str]]]:
    """Tagged source and, per operator (by visit order, innermost first), its operands' tags."""
    slots = iter(range(10**9))  # argument slots in reading order
    tags_of: dict[int, list[str]] = {}

    def visit(node: Expr) -> str:
        parts, tags = [], []
        for arg in node.args:
            tag = TAGS[next(slots) % len(TAGS)]
            tags.append(tag)
            parts.append(f"{tag} {visit(arg) if isinstance(arg, Expr) else arg}")
        tags_of[len(tags_of)] = tags  # operators complete innermost first, as in ``steps``
        return f"[{node.op} {' '.join(parts)} ]"

    return visit(expr), tags_of


def index_hint_source(source: str, modulus: int = 10) -> str:
    """The source with a tag before every argument: ``[MAX a 2 b [MIN c 4 d 7 ] ]``."""
    return _tagged(parse(source, modulus))[0]


def _index_hint(expr: Expr, modulus: int) -> str:
    _, tags_of = _tagged(expr)
    parts = []
    for i, (op, values, result) in enumerate(steps(expr, modulus)):
        shown = " ".join(f"{t} {v}" for t, v in zip(tags_of[i], values, strict=True))
        text = _long_step(op, values, result, modulus)
        parts.append(text.replace(_nums(values), shown, 1))
    return " ; ".join([*parts, f"answer {steps(expr, modulus)[-1][2]}"])


def _long_step(op: str, values: list[int], result: int, modulus: int) -> str:
    return explain_expr(Expr(op, tuple(values)), "long", modulus).split(" ; ")[0]


def _running(level: str) -> Callable[[Expr, int], str]:
    def write(expr: Expr, modulus: int) -> str:
        trace = steps(expr, modulus)
        parts = []
        for op, values, result in trace:
            if op != "SM":
                parts.append(explain_expr(Expr(op, tuple(values)), level, modulus).split(" ; ")[0])
                continue
            running, sums = 0, []
            for v in values:
                running = (running + v) % modulus
                sums.append(running)
            middle = (
                f"( {_nums(values)} ) {_nums(sums)} = {result}"
                if level == "medium"
                else _nums(sums)
            )
            parts.append(f"SM {middle}")
        return " ; ".join([*parts, f"answer {trace[-1][2]}"])

    return write


# --- readers ---------------------------------------------------------------------------------


def _int(text: str) -> int | None:
    found = _NUMBER.findall(text)
    return int(found[-1]) if found else None


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in _NUMBER.findall(text))


def _read_short(segment: str) -> Step:
    words = segment.split()
    return Step(words[0] if words else None, None, _int(segment))


def _read_medium(segment: str) -> Step:
    words = segment.split()
    inside = re.search(r"\((.*?)\)", segment)
    result = segment.rsplit("=", 1)[1] if "=" in segment else ""
    return Step(
        words[0] if words else None, _ints(inside.group(1)) if inside else None, _int(result)
    )


def _read_long(segment: str) -> Step:
    words = segment.split()
    op = _LONG_OPS.get(words[1]) if len(words) > 1 and words[0] == "the" else None
    head = re.split(r"\b(?:is|modulo|:)\b|:", segment, maxsplit=1)[0]
    operands = _ints(head.split(" of ", 1)[1]) if " of " in head else None
    result = segment.rsplit(" is ", 1)[1] if " is " in segment else ""
    return Step(op, operands, _int(result))


def _read_rewrite(segment: str) -> Step:
    return _read_long(segment.split(" rest ", 1)[0])


def _read_fixed_width(segment: str) -> Step:
    op, _, body = segment.partition(" ")
    parts = [part.split(" is ")[0] for part in body.split(" , ")]
    result = _int(segment.rsplit(" is ", 1)[1]) if " is " in segment else None
    if op == "MED":  # the last sorted list holds every operand
        return Step(op, _ints(parts[-1]), result)
    operands = [n for i, part in enumerate(parts) for n in _ints(part)[0 if i == 0 else 1 :]]
    return Step(op or None, tuple(operands) or None, result)


def _read_index_hint(segment: str) -> Step:
    return _read_long(" ".join(w for w in segment.split() if w not in TAGS))


@dataclass(frozen=True)
class Format:
    """A target format: its writer, its step reader and (index hints) a rewrite of the source."""

    name: str
    summary: str  # one line for the book
    write: Callable[[Expr, int], str]
    read: Callable[[str], Step]
    source: Callable[[Expr], str] | None = None  # None: the bracket notation, unchanged
    base: str | None = None  # the paper level it extends (its learning rate is that level's)


def _paper(level: str) -> Callable[[Expr, int], str]:
    return lambda expr, modulus: explain_expr(expr, level, modulus)


REGISTRY: dict[str, Format] = {
    "none": Format("none", "the answer alone", _paper("none"), _read_short),
    "short": Format("short", "operator and result per step", _paper("short"), _read_short),
    "medium": Format(
        "medium", "operator, operands, raw sum, result", _paper("medium"), _read_medium
    ),
    "long": Format("long", "a sentence per step, SM as a running sum", _paper("long"), _read_long),
    "long_rewrite": Format(
        "long_rewrite",
        "long, each step followed by the expression that remains",
        _long_rewrite,
        _read_rewrite,
        base="long",
    ),
    "fixed_width": Format(
        "fixed_width",
        "operators folded pairwise with a running value (MED: its sorted list grown one by one)",
        _fixed_width,
        _read_fixed_width,
        base="long",
    ),
    "index_hint": Format(
        "index_hint",
        "every argument tagged a-h in the source, the tags copied into long's steps",
        _index_hint,
        _read_index_hint,
        source=lambda expr: _tagged(expr)[0],
        base="long",
    ),
    "short_running": Format(
        "short_running",
        "short with SM's running sum",
        _running("short"),
        _read_short,
        base="short",
    ),
    "medium_running": Format(
        "medium_running",
        "medium with SM's running sum",
        _running("medium"),
        _read_medium,
        base="medium",
    ),
}
assert tuple(REGISTRY) == (*LEVELS, *FORMATS), "REGISTRY and common.names.FORMATS disagree"


def format_examples(source: str, names: Sequence[str], modulus: int = 10) -> list[dict[str, str]]:
    """One worked example per format: what it writes, the source it reads and its target text."""
    expr = parse(source, modulus)
    return [
        {
            "format": name,
            "what it writes": REGISTRY[name].summary,
            "source": write_source(name, expr) or to_brackets(expr),
            "target": write_target(name, expr, modulus),
        }
        for name in names
    ]


def check_format(name: str) -> None:
    """Raise ValueError unless ``name`` is a paper level or one of the book's formats."""
    if name not in REGISTRY:
        raise ValueError(f"level must be one of {', '.join(REGISTRY)}; got {name!r}")


def base_level(name: str) -> str:
    """The paper level a format extends (a paper level is its own)."""
    check_format(name)
    return REGISTRY[name].base or name


def write_target(name: str, expr: Expr, modulus: int = 10) -> str:
    """Target text of a parsed expression in a format."""
    check_format(name)
    return REGISTRY[name].write(expr, modulus)


def write_source(name: str, expr: Expr) -> str | None:
    """The rewritten source of a format that rewrites it (index hints), else None."""
    check_format(name)
    rewrite = REGISTRY[name].source
    return rewrite(expr) if rewrite else None


def read_steps(name: str, text: str) -> list[Step]:
    """The steps a text in format ``name`` shows (everything before ``answer``), in order."""
    check_format(name)
    body = _ANSWER_SPLIT.split(text or "")[0]
    return [REGISTRY[name].read(s.strip()) for s in body.split(";") if s.strip()]


def step_results_of(name: str, text: str) -> list[int | None]:
    """The result each step of a format's text claims (step accuracy and faithfulness read these)."""
    return [step.result for step in read_steps(name, text)]


def first_wrong_step(name: str, prediction: str, target: str) -> int | None:
    """Index of the first step whose result differs from the gold one (a missing step counts as
    wrong); None when every gold step is right."""
    own, gold = step_results_of(name, prediction), step_results_of(name, target)
    for i, value in enumerate(gold):
        if i >= len(own) or own[i] != value:
            return i
    return None
