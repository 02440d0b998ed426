"""Explanations of a ListOps evaluation at four levels, and parsing answers and steps back out.

Every level is a sequence of steps in evaluation order (innermost first, left to right), one
step per operator, joined by `` ; `` and ending in the final answer as ``answer N``:

- ``none``:   ``answer 9``
- ``short``:  operator and result per step: ``MIN 4 ; MAX 9 ; answer 9``
- ``medium``: operator, operands, intermediate value, result:
  ``MIN ( 4 7 ) = 4 ; SM ( 5 7 1 7 ) sum 20 = 0 ; answer 0``
- ``long``:   one sentence per step, the sum spelled out as a running sum modulo the modulus:
  ``the smallest of 4 7 is 4 ; the sum of 5 7 modulo 10 : 5 + 7 = 2 so the result is 2 ; answer 2``

Every step ends in its result, so a model's own steps can be read back (``step_results``).
"""

from __future__ import annotations

import re

from explain_utils.common.names import LEVELS
from explain_utils.tasks.listops import Expr, apply, parse

__all__ = [
    "LEVELS",
    "check_level",
    "explain",
    "explain_expr",
    "final_answer",
    "final_label",
    "step_results",
    "steps",
]
_ANSWER = re.compile(r"\banswer\s*(?:is\s+|:\s*|=\s*)?(-?\d+)\b")
_NUMBER = re.compile(r"-?\d+")
_LABEL = re.compile(r"\banswer\s+(\S+)")


def check_level(level: str) -> None:
    """Raise ValueError unless ``level`` is one of LEVELS."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")


def steps(expr: Expr, modulus: int) -> list[tuple[str, list[int], int]]:
    """(operator, operand values, result) for each operator, innermost first, left to right."""
    out: list[tuple[str, list[int], int]] = []

    def visit(node: Expr) -> int:
        values = [visit(a) if isinstance(a, Expr) else a for a in node.args]
        result = apply(node.op, values, modulus)
        out.append((node.op, values, result))
        return result

    visit(expr)
    return out


def _nums(values: list[int]) -> str:
    return " ".join(map(str, values))


def _step_text(op: str, values: list[int], result: int, level: str, modulus: int) -> str:
    if level == "short":
        return f"{op} {result}"
    if level == "medium":
        middle = f" sum {sum(values)}" if op == "SM" else ""
        return f"{op} ( {_nums(values)} ){middle} = {result}"
    # long: a sentence per step
    if op == "MIN":
        return f"the smallest of {_nums(values)} is {result}"
    if op == "MAX":
        return f"the largest of {_nums(values)} is {result}"
    if op == "MED":
        return f"the median of {_nums(values)} : sorted {_nums(sorted(values))} so the result is {result}"
    running, parts = values[0], []
    for v in values[1:]:
        new = (running + v) % modulus
        parts.append(f"{running} + {v} = {new}")
        running = new
    return f"the sum of {_nums(values)} modulo {modulus} : {' , '.join(parts) or str(running)} so the result is {result}"


def explain_expr(expr: Expr, level: str, modulus: int = 10) -> str:
    """Target text for a parsed expression at an explanation level."""
    check_level(level)
    return _explain(expr, level, modulus)


def _explain(expr: Expr, level: str, modulus: int) -> str:
    trace = steps(expr, modulus)
    answer = f"answer {trace[-1][2]}"
    if level == "none":
        return answer
    return " ; ".join(
        [*(_step_text(op, vals, res, level, modulus) for op, vals, res in trace), answer]
    )


def explain(source: str, level: str, modulus: int = 10) -> str:
    """Target text for a ListOps expression (either notation) at an explanation level."""
    check_level(level)  # before parsing: a bad level is named even when the source is bad too
    return _explain(parse(source, modulus), level, modulus)


def final_answer(text: str) -> int | None:
    """The final answer in any text a model might generate: the last ``answer N`` (None if absent)."""
    matches = _ANSWER.findall(text or "")
    return int(matches[-1]) if matches else None


def final_label(text: str) -> str | None:
    """The final answer as a word, for one's own data whose labels are words (``own_data``): the
    word after the last ``answer`` (None if absent), compared with the gold label as text."""
    matches = _LABEL.findall(text or "")
    return matches[-1] if matches else None


def step_results(text: str) -> list[int | None]:
    """The result each generated step claims (its last number), in order; None for a step without one."""
    body = _ANSWER.split(text or "")[0]
    segments = [s for s in body.split(";") if s.strip()]
    return [int(nums[-1]) if (nums := _NUMBER.findall(s)) else None for s in segments]
