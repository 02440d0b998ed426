"""Chapters 2-4's grids of runs, built from their profile (``profiles.explanations``): every
model x level x seed at its cell's calibrated learning rate, the data-efficiency sweep, the
book's explanation formats, the modular sum's granularity, and ``make calibrate``'s rate grid.
"""

from __future__ import annotations

import dataclasses

from explain_utils.engine.train_config import TrainConfig
from explain_utils.profiles.explanations import (
    ExperimentConfig,
    chosen_learning_rate,
    chosen_steps,
)


def fine_tuning_grid(config: ExperimentConfig) -> list[TrainConfig]:
    """Chapter 2's runs (reused by chapters 3 and 4): ListOps models x levels x seeds, then the
    modular sum; each cell at its calibrated learning rate and steps (``chosen_learning_rate``,
    ``chosen_steps``)."""
    cells = [("listops", m, lv) for m in config.models for lv in config.levels]
    cells += [("modular_sum", m, lv) for m in config.modsum_models for lv in config.modsum_levels]
    return [
        _run(config, model, task, level, seed, train_size=max(config.train_sizes))
        for task, model, level in cells
        for seed in config.seeds
    ]


def data_efficiency_grid(config: ExperimentConfig) -> list[TrainConfig]:
    """Chapter 3's runs: one model at every train size x level x seed.

    The model is the largest of chapter 2 unless set (the paper used T5-large); its runs at the
    largest train size are chapter 2's (cache hits when the parameters agree). A smaller set
    overfits sooner, so its runs keep chapter 2's schedule but are scored at their best point on
    the validation curve (``score_at_best``): the steps per size are chosen on validation.
    """
    largest = max(config.train_sizes)
    return [
        _run(config, config.data_efficiency_model, "listops", lv, s, train_size=n)
        if n == largest
        else dataclasses.replace(
            _run(config, config.data_efficiency_model, "listops", lv, s, train_size=n),
            score_at_best=True,
        )
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
            steps=config.steps,  # the rates are compared at the profile's steps, then doubled
            eval_every=config.calibration_eval_every,
            eval_splits=("validation",),
        )
        for m in config.models
        for lv in config.levels
        for lr in config.learning_rates
    ]


def plateau_run(
    config: ExperimentConfig, model: str, task: str, level: str, learning_rate: float, steps: int
) -> TrainConfig:
    """The plateau check's longer run of a cell: chapter 2's run of its first seed at
    ``learning_rate`` and ``steps``. Being that run (it is scored on validation and, unread by the
    check, on test), the cell's chosen run is a cache hit in chapter 2, not trained twice."""
    run = _run(config, model, task, level, config.seeds[0], train_size=max(config.train_sizes))
    return dataclasses.replace(run, learning_rate=learning_rate, steps=steps)


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
        steps=chosen_steps(config, model, task, level),
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
    """The splits a run is scored on: validation (in full: the plateau check compares runs on it),
    test and test_long, and validation_long too for the runs chapter 4 chooses its best format
    among (``format_grid``), so that chapter 2's ``long`` run there is the same run, read from the
    cache, not trained again."""
    chooses_format = (
        task == "listops"
        and model == config.format_model
        and level in ("long", *config.formats)
        and train_size == max(config.train_sizes)
    )
    if chooses_format:
        return ("validation", "validation_long", "test", "test_long")
    return ("validation", "test", "test_long")
