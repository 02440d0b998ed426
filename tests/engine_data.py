"""Small data sets for the engine tests (built in a temporary directory in well under a second)."""

from __future__ import annotations

from pathlib import Path

from explain_utils.profiles.data import data_config
from explain_utils.tasks.splits import build_task_dataset


def _build(root: Path, task: str = "listops", **shape) -> Path:
    build_task_dataset(data_config("smoke", output_dir=root, tasks=[task], **shape), task)
    return root


def copy_task(root: Path) -> Path:
    """A trivially learnable task: single-argument expressions such as ``[MIN 7 ]`` whose answer is 7."""
    return _build(
        root,
        n_train=24,
        n_validation=6,
        n_test=6,
        n_test_long=4,
        n_validation_long=0,
        train_length=[3, 3],
        test_long_length=[3, 3],
        max_depth=1,
        min_args=1,
        max_args=1,
    )


def small_listops(root: Path, n_train: int = 64, task: str = "listops") -> Path:
    """A few dozen short ListOps expressions (depth <= 2) for engine mechanics (``task``
    "modular_sum": the same shapes with SM only)."""
    return _build(
        root,
        task,
        n_train=n_train,
        n_validation=8,
        n_test=8,
        n_test_long=8,
        n_validation_long=8,
        train_length=[4, 12],
        test_long_length=[13, 20],
        max_depth=2,
        min_args=1,
        max_args=3,
    )
