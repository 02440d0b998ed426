"""Chapter 6's runs: one per level and seed through the book's engine."""

from __future__ import annotations

from explain_utils.common.names import OWN_DATA_TASK
from explain_utils.engine.train_config import TrainConfig
from explain_utils.profiles.own_data import OwnDataConfig


def run_configs(config: OwnDataConfig) -> list[TrainConfig]:
    """One run per level and seed, every level at the same rate, steps and batches."""
    return [
        TrainConfig(
            model=config.model,
            task=OWN_DATA_TASK,
            level=level,
            seed=seed,
            steps=config.steps,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            eval_every=config.eval_every,
            # in sorted order: a cached result.json has its splits sorted, so a fresh run and
            # a cache hit give their tidy rows in the same order
            eval_splits=("test", "validation"),
            progress=False,
        )
        for level in config.levels
        for seed in config.seeds
    ]
