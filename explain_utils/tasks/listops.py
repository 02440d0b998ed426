"""ListOps expressions: parse (bracket and original notation), evaluate, format, generate, read TSV.

Semantics follow the original ListOps generator (Nangia & Bowman 2018): ``MIN`` and ``MAX`` as
usual, ``MED`` is the median truncated to an integer (``int(numpy.median(args))``), ``SM`` is the
sum modulo ``modulus``. Values are integers ``0 … modulus-1``.

Length is counted in tokens of the bracket notation: ``[MAX 2 9 [MIN 4 7 ] 0 ]`` has 9 tokens.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

OPERATORS: tuple[str, ...] = ("MIN", "MAX", "MED", "SM")
_TOKEN = re.compile(r"\[\w*|\]|\(|\)|[^\s\[\]()]+")


class ListOpsSyntaxError(ValueError):
    """Malformed ListOps text; the message names the problem and the token position."""


@dataclass(frozen=True)
class Expr:
    """One operator applied to a list of values and sub-expressions."""

    op: str
    args: tuple[Expr | int, ...]

    @property
    def depth(self) -> int:
        """Nesting depth: 1 for a flat list such as ``[MIN 4 7 ]``."""
        return 1 + max((a.depth for a in self.args if isinstance(a, Expr)), default=0)

    @property
    def n_operators(self) -> int:
        """Number of operators, this one included (one explanation step each)."""
        return 1 + sum(a.n_operators for a in self.args if isinstance(a, Expr))

    @property
    def widest(self) -> int:
        """The longest argument list of any operator in the expression."""
        return max([len(self.args), *(a.widest for a in self.args if isinstance(a, Expr))])

    @property
    def n_tokens(self) -> int:
        """Number of tokens in bracket notation."""
        return 2 + sum(a.n_tokens if isinstance(a, Expr) else 1 for a in self.args)

    def __str__(self) -> str:
        return to_brackets(self)


def check_modulus(modulus: int) -> None:
    """Raise ValueError unless ``modulus`` is an integer >= 2."""
    if isinstance(modulus, bool) or not isinstance(modulus, int) or modulus < 2:
        raise ValueError(f"modulus must be an integer >= 2, got {modulus!r}")


def _fail(problem: str, position: int, token: str | None, source: str) -> ListOpsSyntaxError:
    where = f"at token {position}" + (f" ({token!r})" if token is not None else " (end of input)")
    shown = source if len(source) <= 80 else source[:77] + "..."
    return ListOpsSyntaxError(f"{problem} {where} in {shown!r}")


def _tokens(source: str) -> list[str]:
    """Split into tokens, dropping the original notation's parse parentheses (after checking them)."""
    if not isinstance(source, str):
        raise TypeError(f"ListOps source must be a str, got {type(source).__name__}")
    raw = _TOKEN.findall(source)
    depth = 0
    for i, tok in enumerate(raw):
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
            if depth < 0:
                raise _fail("unbalanced parenthesis: ')' without '('", i, tok, source)
    if depth:
        raise _fail(f"unbalanced parentheses: {depth} '(' never closed", len(raw), None, source)
    return [t for t in raw if t not in "()"]


def parse(source: str, modulus: int = 10) -> Expr:
    """Parse bracket notation ``[MAX 2 9 [MIN 4 7 ] 0 ]`` or the original parenthesised form."""
    check_modulus(modulus)
    tokens = _tokens(source)
    if not tokens:
        raise _fail("empty expression", 0, None, source)
    expr, end = _parse_expr(tokens, 0, modulus, source)
    if end != len(tokens):
        raise _fail("trailing tokens after the expression", end, tokens[end], source)
    return expr


def _parse_expr(tokens: list[str], i: int, modulus: int, source: str) -> tuple[Expr, int]:
    tok = tokens[i]
    if not tok.startswith("["):
        raise _fail("expected an operator such as '[MAX'", i, tok, source)
    op = tok[1:]
    if op not in OPERATORS:
        allowed = ", ".join("[" + o for o in OPERATORS)
        raise _fail(f"unknown operator {op!r} (allowed: {allowed})", i, tok, source)
    start, i = i, i + 1
    args: list[Expr | int] = []
    while True:
        if i >= len(tokens):
            raise _fail(
                f"unbalanced brackets: '{tok}' opened at token {start} is never closed",
                i,
                None,
                source,
            )
        tok_i = tokens[i]
        if tok_i == "]":
            if not args:
                raise _fail(f"empty list after '{tok}'", i, tok_i, source)
            return Expr(op, tuple(args)), i + 1
        if tok_i.startswith("["):
            sub, i = _parse_expr(tokens, i, modulus, source)
            args.append(sub)
            continue
        args.append(_parse_value(tok_i, i, modulus, source))
        i += 1


def _parse_value(tok: str, i: int, modulus: int, source: str) -> int:
    if not re.fullmatch(r"-?\d+", tok):
        raise _fail(
            f"expected an integer value 0..{modulus - 1}, ']' or an operator", i, tok, source
        )
    value = int(tok)
    if not 0 <= value < modulus:
        raise _fail(
            f"value {value} out of range 0..{modulus - 1} (modulus {modulus})", i, tok, source
        )
    return value


def apply(op: str, values: list[int], modulus: int) -> int:
    """Apply one operator to already-evaluated operands."""
    if op == "MIN":
        return min(values)
    if op == "MAX":
        return max(values)
    if op == "MED":
        ordered = sorted(values)
        mid = len(ordered) // 2
        # int(numpy.median(...)) of non-negative integers: the mean of the middle two, floored
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) // 2
    if op == "SM":
        return sum(values) % modulus
    raise ValueError(f"unknown operator {op!r}; allowed: {', '.join(OPERATORS)}")


def evaluate_expr(expr: Expr, modulus: int = 10) -> int:
    """Value of a parsed expression."""
    values = [evaluate_expr(a, modulus) if isinstance(a, Expr) else a for a in expr.args]
    return apply(expr.op, values, modulus)


def evaluate(source: str, modulus: int = 10) -> int:
    """Value of a ListOps expression in either notation."""
    return evaluate_expr(parse(source, modulus), modulus)


def to_brackets(expr: Expr) -> str:
    """Bracket notation: ``[MAX 2 9 [MIN 4 7 ] 0 ]``."""
    inner = " ".join(to_brackets(a) if isinstance(a, Expr) else str(a) for a in expr.args)
    return f"[{expr.op} {inner} ]"


def to_original(expr: Expr) -> str:
    """The original data set's left-branching parenthesised form: ``( ( [MAX 2 ) 9 ) ] )``."""
    text = f"[{expr.op}"
    for item in [*expr.args, "]"]:
        part = to_original(item) if isinstance(item, Expr) else str(item)
        text = f"( {text} {part} )"
    return text


def read_listops_tsv(path: str | Path) -> list[tuple[str, int]]:
    """Read an original ListOps TSV file (header ``Source<TAB>Target``) into (source, label) pairs."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ListOps TSV file not found: {path}")
    rows: list[tuple[str, int]] = []
    with path.open(encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header != ["Source", "Target"]:
            raise ValueError(f"{path}: expected the header 'Source<TAB>Target', got {header!r}")
        for line_no, line in enumerate(f, start=2):
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 2 or not fields[1].strip().isdigit():
                raise ValueError(f"{path}:{line_no}: expected 'source<TAB>integer label'")
            rows.append((fields[0], int(fields[1])))
    return rows


@dataclass(frozen=True)
class GeneratorConfig:
    """Shape of generated expressions: operators, depth, list sizes, value range."""

    modulus: int = 10
    operators: tuple[str, ...] = OPERATORS
    max_depth: int = 3
    min_args: int = 2
    max_args: int = 4
    nest_probability: float = 0.35

    def __post_init__(self) -> None:
        check_modulus(self.modulus)
        unknown = set(self.operators) - set(OPERATORS)
        if not self.operators or unknown:
            raise ValueError(
                f"operators must be a non-empty subset of {OPERATORS}, got {self.operators!r}"
            )
        if self.max_depth < 1:
            raise ValueError(f"max_depth must be >= 1, got {self.max_depth}")
        if not 1 <= self.min_args <= self.max_args:
            raise ValueError(
                f"need 1 <= min_args <= max_args, got {self.min_args}, {self.max_args}"
            )
        if not 0.0 <= self.nest_probability <= 1.0:
            raise ValueError(f"nest_probability must be in [0, 1], got {self.nest_probability}")

    def feasible_lengths(self, min_length: int, max_length: int) -> list[int]:
        """Token lengths in ``[min_length, max_length]`` that an expression of this shape can have."""
        return [
            n
            for n in range(min_length, max_length + 1)
            if _feasible_op(self._shape, n, self.max_depth)
        ]

    @property
    def _shape(self) -> tuple[int, int]:
        return (self.min_args, self.max_args)


# Exact-length generation: feasibility tables say which token counts a subtree can have, so
# lengths are hit exactly instead of by rejection sampling (which starves long-length buckets).
@cache
def _feasible_op(shape: tuple[int, int], n: int, depth: int) -> bool:
    """Can an operator node of depth <= ``depth`` have exactly ``n`` tokens?"""
    if depth < 1:
        return False
    return any(_feasible_split(shape, n - 2, k, depth - 1) for k in range(shape[0], shape[1] + 1))


@cache
def _feasible_child(shape: tuple[int, int], n: int, depth: int) -> bool:
    return n == 1 or _feasible_op(shape, n, depth)


@cache
def _feasible_split(shape: tuple[int, int], total: int, k: int, depth: int) -> bool:
    """Can ``total`` tokens be split into ``k`` children of depth <= ``depth``?"""
    if k == 0:
        return total == 0
    if total < k:
        return False
    return any(
        _feasible_child(shape, t, depth) and _feasible_split(shape, total - t, k - 1, depth)
        for t in range(1, total - k + 2)
    )


def generate(rng: random.Random, config: GeneratorConfig, n_tokens: int) -> Expr:
    """A random expression with exactly ``n_tokens`` tokens (raises ValueError if impossible)."""
    shape = config._shape
    if not _feasible_op(shape, n_tokens, config.max_depth):
        raise ValueError(
            f"no expression of {n_tokens} tokens with max_depth={config.max_depth}, "
            f"{config.min_args}..{config.max_args} arguments per operator"
        )
    return _generate_op(rng, config, n_tokens, config.max_depth)


def _generate_op(rng: random.Random, config: GeneratorConfig, n: int, depth: int) -> Expr:
    shape = config._shape
    ks = [k for k in range(shape[0], shape[1] + 1) if _feasible_split(shape, n - 2, k, depth - 1)]
    k = rng.choice(ks)
    remaining, args = n - 2, []
    for i in range(k):
        left = k - i - 1
        sizes = [
            t
            for t in range(1, remaining - left + 1)
            if _feasible_child(shape, t, depth - 1)
            and _feasible_split(shape, remaining - t, left, depth - 1)
        ]
        nested = [t for t in sizes if t > 1]
        if nested and (1 not in sizes or rng.random() < config.nest_probability):
            t = rng.choice(nested)
            args.append(_generate_op(rng, config, t, depth - 1))
        else:
            t = 1
            args.append(rng.randrange(config.modulus))
        remaining -= t
    return Expr(rng.choice(config.operators), tuple(args))


def generate_in_range(
    rng: random.Random, config: GeneratorConfig, min_length: int, max_length: int
) -> Expr:
    """A random expression whose length is drawn uniformly from the feasible lengths in the range."""
    lengths = config.feasible_lengths(min_length, max_length)
    if not lengths:
        raise ValueError(
            f"no expression length in [{min_length}, {max_length}] tokens is possible with "
            f"max_depth={config.max_depth}, {config.min_args}..{config.max_args} arguments per operator"
        )
    return generate(rng, config, rng.choice(lengths))
