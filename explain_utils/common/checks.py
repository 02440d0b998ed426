"""Checks for user-facing parameters: each error names the parameter and what is allowed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> None:
    """``value`` must be one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def check_choices(name: str, values: Any, allowed: Iterable[Any]) -> None:
    """``values`` must be a non-empty list whose items are all in ``allowed``."""
    allowed = list(allowed)
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{name} must be a non-empty list drawn from {allowed!r}; got {values!r}")
    for v in values:
        if v not in allowed:
            raise ValueError(f"{name} must only contain {', '.join(map(repr, allowed))}; got {v!r}")


def check_int(
    name: str, value: Any, minimum: int | None = None, maximum: int | None = None
) -> None:
    """``value`` must be an integer within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}; got {value}")


def check_int_list(name: str, values: Any, minimum: int | None = None) -> None:
    """``values`` must be a non-empty list of integers, each ``>= minimum``."""
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise ValueError(
            f"{name} must be a non-empty list of integers >= {minimum}; got {values!r}"
        )
    for value in values:
        check_int(f"{name}[]", value, minimum=minimum)


def check_float(name: str, value: Any, minimum: float, maximum: float) -> None:
    """``value`` must be a number within ``[minimum, maximum]``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not minimum <= value <= maximum
    ):
        raise ValueError(f"{name} must be a number in [{minimum}, {maximum}]; got {value!r}")


def check_float_list(name: str, values: Any, minimum: float, maximum: float) -> None:
    """``values`` must be a non-empty list of numbers, each within ``[minimum, maximum]``."""
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise ValueError(
            f"{name} must be a non-empty list of numbers in [{minimum}, {maximum}]; got {values!r}"
        )
    for value in values:
        check_float(f"{name}[]", value, minimum, maximum)


def check_length_range(name: str, value: Any, minimum: int = 1) -> tuple[int, int]:
    """``value`` must be a pair ``[low, high]`` of integers with ``minimum <= low <= high``."""
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(f"{name} must be a pair [min, max] of token counts; got {value!r}")
    low, high = value
    check_int(f"{name}[0]", low, minimum)
    check_int(f"{name}[1]", high, minimum)
    if low > high:
        raise ValueError(f"{name} is an empty or inverted range: [{low}, {high}] (need min <= max)")
    return int(low), int(high)


def check_output_dir(name: str, value: Any) -> Path:
    """``value`` must be a path that is a directory or can become one (not an existing file)."""
    if not isinstance(value, str | Path) or not str(value).strip():
        raise ValueError(f"{name} must be a directory path; got {value!r}")
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name} must be a directory, but {path} is a file")
    return path
