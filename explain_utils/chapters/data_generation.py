"""Chapter 1 (the data): its config from the notebook's parameters, the data sets it writes, the
tables it shows and the sentences it glues about sizes, lengths and label balance."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import datasets
import pandas as pd

from explain_utils.profiles.checks import from_notebook
from explain_utils.profiles.data import data_config
from explain_utils.tasks import splits
from explain_utils.tasks.listops import evaluate, parse, to_original
from explain_utils.tasks.splits import DataConfig

# a set is "close to balanced" while no answer reaches this multiple of the uniform share: then
# always giving the most frequent answer scores about chance, and chance is the floor to beat
BALANCED_RATIO = 2.0
TASK_NAMES = {"listops": "ListOps", "modular_sum": "modular-sum"}


def configure(namespace: Mapping[str, Any]) -> DataConfig:
    """The validated data config from the notebook's parameters (its ``globals()``)."""
    return from_notebook(data_config, namespace)


def notations(example: str) -> pd.DataFrame:
    """One expression in the bracket and the original (parenthesised) notation, with its value."""
    original = to_original(parse(example))
    return pd.DataFrame(
        {
            "notation": ["bracket", "original (parenthesised)"],
            "expression": [example, original],
            "value": [evaluate(example), evaluate(original)],
        }
    )


def build_datasets(config: DataConfig) -> dict[str, datasets.DatasetDict]:
    """Every task's splits, written under ``config.output_dir`` with their data cards."""
    return {task: splits.build_task_dataset(config, task) for task in config.tasks}


def split_table(built: Mapping[str, datasets.DatasetDict]) -> pd.DataFrame:
    """Rows and mean expression length (tokens) per task and split."""
    return pd.DataFrame(
        [
            {
                "task": task,
                "split": split,
                "rows": len(ds[split]),
                "mean length": round(sum(ds[split]["length"]) / max(len(ds[split]), 1), 1),
            }
            for task, ds in built.items()
            for split in ds
        ]
    )


def size_values(
    config: DataConfig, built: Mapping[str, datasets.DatasetDict], lengths: pd.DataFrame
) -> dict[str, str]:
    """Split sizes, the length ranges as drawn (not as asked), and the mean target lengths on
    the training split of the first task (``lengths``: its ``splits.token_lengths``)."""
    first = built[config.tasks[0]]
    values = {
        "n_train": str(config.n_train),
        "n_test_long": str(config.n_test_long),
        "modulus": str(config.modulus),
        "output_dir": str(config.output_dir),
    }
    for name, split in (("train_range", "train"), ("long_range", "test_long")):
        drawn = first[split]["length"]
        values[name] = f"{min(drawn)}–{max(drawn)}"
    mean_target = lengths[lengths["split"] == "train"].groupby("field")["tokens"].mean()
    values["mean_none"] = f"{mean_target['none']:.1f}"
    values["mean_long"] = f"{mean_target['long']:.1f}"
    values["long_ratio"] = f"{mean_target['long'] / mean_target['none']:.0f}"
    return values


def label_values(shares: pd.DataFrame, modulus: int) -> dict[str, str]:
    """The most frequent answer's share per task against chance, and what that makes the floor
    (``shares``: ``splits.label_shares`` of the training split)."""
    majority = shares.groupby("task")["share"].max()
    return {
        "majority_listops": f"{100 * majority.get('listops', float('nan')):.0f} %",
        "majority_modsum": f"{100 * majority.get('modular_sum', float('nan')):.0f} %",
        "chance": f"{100 / modulus:.0f} %",
        "label_balance": balance_text(majority.to_dict(), 1 / modulus),
    }


def balance_text(majority: Mapping[str, float], chance: float) -> str:
    """Whether every task's labels are close to balanced, and so whether chance is the floor."""
    measured = {task: share for task, share in majority.items() if not math.isnan(share)}
    skewed = [
        TASK_NAMES.get(t, t) for t, share in measured.items() if share >= BALANCED_RATIO * chance
    ]
    if not skewed:
        sets = "both sets are" if len(measured) == 2 else "every set is"
        return (
            f"{sets} close to balanced (no answer covers twice the uniform share), so chance is "
            "the right floor for the accuracies in the later chapters"
        )
    names = " and ".join(skewed)
    verb = "sets are" if len(skewed) > 1 else "set is"
    return (
        f"the {names} {verb} not balanced (an answer covers at least twice the uniform share), so "
        "there the most frequent answer's share, not chance, is the floor that the later chapters' "
        "accuracies must beat"
    )
