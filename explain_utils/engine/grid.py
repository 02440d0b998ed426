"""Run a grid of training runs (cache hits first, the rest in parallel worker processes).

Tiny models leave the cores half idle inside one process (their matrices are too small for
intra-op threading to pay), so a grid runs as several single-threaded worker processes;
``python -m explain_utils.bench`` records the gain.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import os
from collections.abc import Iterable
from pathlib import Path

from explain_utils.common.names import TARGET_FORMATS
from explain_utils.common.progress import progress_bar
from explain_utils.engine.models import preset_scale
from explain_utils.engine.run_store import RunResult
from explain_utils.engine.train_config import TrainConfig
from explain_utils.engine.training import cached_result, train


def default_workers() -> int:
    """One worker per available core."""
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


def _cost(config: TrainConfig) -> tuple[int, int, int]:
    """A rough ordering of run time: model size (preset order), target length (level, then the
    book's formats, all longer than ``long``), steps."""
    size = preset_scale(config.model)
    return size, TARGET_FORMATS.index(config.level), config.steps


def _run_one(config: TrainConfig, data_dir: str, runs_dir: str) -> RunResult:
    return train(dataclasses.replace(config, progress=False), data_dir, runs_dir)


def run_grid(
    configs: Iterable[TrainConfig],
    data_dir: str | Path,
    runs_dir: str | Path,
    workers: int | None = None,
    desc: str = "runs",
) -> list[RunResult]:
    """Train every config (validated up front; finished ones come from the cache), in input order."""
    configs = list(configs)
    for config in configs:  # every bad parameter is reported before any training starts
        config.validate()
    workers = workers or default_workers()
    data_dir, runs_dir = str(data_dir), str(runs_dir)
    # cache hits are read here, so a rerun with nothing changed starts no worker process
    results: list[RunResult | None] = [cached_result(c, data_dir, runs_dir) for c in configs]
    todo = [i for i, result in enumerate(results) if result is None]
    with progress_bar(total=len(configs), initial=len(configs) - len(todo), desc=desc) as bar:
        if workers == 1 or len(todo) <= 1:
            for i in todo:
                results[i] = _run_one(configs[i], data_dir, runs_dir)
                bar.update()
            return results  # type: ignore[return-value]
        # each run sets its own intra-op threads (TrainConfig.cpu_threads, 1 by default)
        context = multiprocessing.get_context("spawn")  # fork + torch threads can deadlock
        with concurrent.futures.ProcessPoolExecutor(
            min(workers, len(todo)),
            mp_context=context,
        ) as pool:
            # longest runs first, so the last core is not left idle at the end (a grid's tail
            # otherwise runs on one single-threaded worker while the other core waits)
            slowest_first = sorted(todo, key=lambda i: _cost(configs[i]), reverse=True)
            futures = {
                pool.submit(_run_one, configs[i], data_dir, runs_dir): i for i in slowest_first
            }
            for future in concurrent.futures.as_completed(futures):
                results[futures[future]] = future.result()
                bar.update()
    return results  # type: ignore[return-value]
