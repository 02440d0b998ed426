"""Run a grid of training runs (cache hits first, the rest in parallel worker processes).

Tiny models leave the cores half idle inside one process (their matrices are too small for
intra-op threading to pay), so a grid runs as several single-threaded worker processes;
``python -m explain_utils.bench`` and the closing notes of the experiments record the gain.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import os
from collections.abc import Iterable
from pathlib import Path

from explain_utils.experiment_profiles import ExperimentConfig, chosen_learning_rate
from explain_utils.models import preset_scale
from explain_utils.progress import progress_bar
from explain_utils.runs import RunResult
from explain_utils.training import TrainConfig, cached_result, train
from explain_utils.vocabulary import TARGET_FORMATS


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


def fine_tuning_grid(config: ExperimentConfig) -> list[TrainConfig]:
    """Chapter 2's runs (reused by chapters 3 and 4): ListOps models x levels x seeds, then the
    modular sum; each cell at its calibrated learning rate (``chosen_learning_rate``)."""
    cells = [("listops", m, lv) for m in config.models for lv in config.levels]
    cells += [("modular_sum", m, lv) for m in config.modsum_models for lv in config.modsum_levels]
    return [
        _run(config, model, task, level, seed, train_size=max(config.train_sizes))
        for task, model, level in cells
        for seed in config.seeds
    ]


def data_efficiency_grid(config: ExperimentConfig) -> list[TrainConfig]:
    """Chapter 3's runs: one model at every train size x level x seed (same steps for all).

    The model is the largest of chapter 2 unless set (the paper used T5-large); its runs at the
    largest train size are chapter 2's (cache hits when the parameters agree).
    """
    return [
        _run(config, config.data_efficiency_model, "listops", lv, s, train_size=n)
        for n in config.train_sizes
        for lv in config.data_efficiency_levels
        for s in config.seeds
    ]


def format_grid(config: ExperimentConfig) -> list[TrainConfig]:
    """Chapter 4's formats: ``format_model`` at ``long`` and every format x seed, chapter 2's train
    size, steps and (each format's base level's) learning rate, scored on validation_long as well,
    where the book chooses its best format (never on test_long). Its ``long`` runs are chapter
    2's (``_eval_splits``)."""
    return [
        _run(config, config.format_model, "listops", fmt, s, max(config.train_sizes))
        for fmt in dict.fromkeys(("long", *config.formats))
        for s in config.seeds
    ]


def granularity_grid(config: ExperimentConfig) -> list[TrainConfig]:
    """Chapter 4's SM granularity: the modular sum's first model at every granularity level x seed."""
    model = config.modsum_models[0]
    return [
        _run(config, model, "modular_sum", lv, s, max(config.train_sizes))
        for lv in config.granularity_levels
        for s in config.seeds
    ]


def calibration_grid(config: ExperimentConfig) -> list[TrainConfig]:
    """``make calibrate``'s runs: every ListOps model x level at every rate of ``learning_rates``,
    the first seed, chapter 2's train size, steps and schedule; scored on the validation split
    only, so choosing a rate never touches a test split."""
    return [
        dataclasses.replace(
            _run(config, m, "listops", lv, config.seeds[0], train_size=max(config.train_sizes)),
            learning_rate=lr,
            eval_splits=("validation",),
        )
        for m in config.models
        for lv in config.levels
        for lr in config.learning_rates
    ]


def _run(
    config: ExperimentConfig, model: str, task: str, level: str, seed: int, train_size: int
) -> TrainConfig:
    """One run of chapters 2-4 at its cell's calibrated learning rate."""
    return TrainConfig(
        model=model,
        task=task,
        level=level,
        seed=seed,
        train_size=train_size,
        steps=config.steps,
        batch_size=config.batch_size,
        learning_rate=chosen_learning_rate(config, model, task, level),
        scheduler=config.scheduler,
        warmup_ratio=config.warmup_ratio,
        eval_every=config.eval_every,
        eval_examples=config.eval_examples,
        eval_splits=_eval_splits(config, model, task, level, train_size),
        save_model=False,
    )


def _eval_splits(
    config: ExperimentConfig, model: str, task: str, level: str, train_size: int
) -> tuple[str, ...]:
    """The splits a run is scored on: test and test_long, and validation_long too for the runs
    chapter 4 chooses its best format among (``format_grid``), so that chapter 2's ``long`` run
    there is the same run, read from the cache, not trained again."""
    chooses_format = (
        task == "listops"
        and model == config.format_model
        and level in ("long", *config.formats)
        and train_size == max(config.train_sizes)
    )
    return ("validation_long", "test", "test_long") if chooses_format else ("test", "test_long")
