"""What every chapter's notebook does the same way: glue the values and sentences its chapter module
computed, and say what its runs cost and what this execution took.

A run's cost is its training time as recorded when it trained (``RunResult.train_seconds``), kept
with the run, so a notebook read back from the cache still shows what its runs cost (the grids
run one single-threaded worker per core, so on an idle machine that time is CPU time; chapter 5's
pre-training uses two threads). This execution's wall time is measured separately and labelled as
such: on a cached rerun it is seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from explain_utils.engine.grid import run_grid
from explain_utils.engine.run_store import RunResult
from explain_utils.engine.train_config import TrainConfig


def glue_all(values: Mapping[str, Any]) -> None:
    """``myst_nb.glue`` each value under its name, without displaying it (the text shows it)."""
    from myst_nb import glue  # the book's builder; imported here so the package runs without it

    for name, value in values.items():
        glue(name, value, display=False)


def run_study(train_configs: list[TrainConfig], config: Any, desc: str) -> list[RunResult]:
    """A study's runs through the engine's grid, with the chapter config's folders and workers
    (cache hits first, the rest in parallel workers)."""
    return run_grid(
        train_configs, config.data_dir, config.runs_dir, workers=config.workers, desc=desc
    )


@dataclass
class Stopwatch:
    """This execution's wall time, from the notebook's first cell on."""

    started: float = field(default_factory=time.perf_counter)

    def minutes(self) -> float:
        return (time.perf_counter() - self.started) / 60


def run_cost_text(results: Iterable[RunResult], stopwatch: Stopwatch) -> str:
    """What the runs cost when they trained (cached or not) and what this execution took."""
    results = list(dict((r.run_dir, r) for r in results).values())  # a run shared by two grids once
    cached = sum(r.cached for r in results)
    train_minutes = sum(r.train_seconds for r in results) / 60
    return (
        f"{len(results)} runs, {train_minutes:,.1f} minutes of training summed over the runs, as "
        f"each recorded it when it trained (evaluation not counted); this execution: "
        f"{stopwatch.minutes():.1f} minutes of wall time, {cached} of the {len(results)} runs "
        "read from the cache"
    )
