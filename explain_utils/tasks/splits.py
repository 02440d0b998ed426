"""Data sets: disjoint train/validation/test splits of explained ListOps, saved as Parquet + a data card.

One row per expression with the source, its answer, its shape and the target text at every
explanation level (``target_none`` … ``target_long``), so later notebooks train on any level from
one build. Splits never share an expression.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from explain_utils.common.checks import check_choice
from explain_utils.common.files import atomic_write, write_json, write_text
from explain_utils.common.names import FORMATS, LEVELS, TASKS
from explain_utils.common.progress import progress_bar
from explain_utils.tasks.explanations import explain_expr
from explain_utils.tasks.formats import write_source, write_target
from explain_utils.tasks.listops import (
    GeneratorConfig,
    evaluate_expr,
    generate_in_range,
    parse,
    to_brackets,
)

TASK_OPERATORS: dict[str, tuple[str, ...]] = {
    "listops": ("MIN", "MAX", "MED", "SM"),
    "modular_sum": ("SM",),
}
CARD_NAME = "data_card.json"
# duplicates are skipped; give up (with a clear error) after this many draws per wanted row
_MAX_DRAWS_PER_ROW = 50


@dataclass(frozen=True)
class DataConfig:
    """Everything notebook 01 needs to build the data sets (``profiles.data_config`` validates it)."""

    profile: str
    seed: int
    output_dir: Path
    modulus: int
    tasks: tuple[str, ...]
    n_train: int
    n_validation: int
    n_test: int
    n_test_long: int
    n_validation_long: int  # chapter 4: chooses an explanation format on long inputs
    train_length: tuple[int, int]
    test_long_length: tuple[int, int]
    max_depth: int
    min_args: int
    max_args: int


@dataclass(frozen=True)
class SplitSpec:
    """How many expressions a split holds and their length range in tokens (inclusive)."""

    size: int
    min_length: int
    max_length: int


def n_tokens(text: str) -> int:
    """Length in whitespace-separated tokens (the unit of every length in this book)."""
    return len(text.split())


def splits_for(config: DataConfig) -> dict[str, SplitSpec]:
    """The standard splits: train/validation/test on the train lengths, test_long and
    validation_long (for choices about long inputs, never test_long) on longer ones."""
    lo, hi = config.train_length
    return {
        "train": SplitSpec(config.n_train, lo, hi),
        "validation": SplitSpec(config.n_validation, lo, hi),
        "test": SplitSpec(config.n_test, lo, hi),
        "test_long": SplitSpec(config.n_test_long, *config.test_long_length),
        # drawn last, so adding it left the other splits unchanged; disjoint from test_long
        "validation_long": SplitSpec(config.n_validation_long, *config.test_long_length),
    }


def generator_for(task: str, config: DataConfig) -> GeneratorConfig:
    """Expression shape for a task: all four operators, or SM alone for the modular-sum task."""
    check_choice("task", task, TASKS)
    return GeneratorConfig(
        modulus=config.modulus,
        operators=TASK_OPERATORS[task],
        max_depth=config.max_depth,
        min_args=config.min_args,
        max_args=config.max_args,
    )


def build_splits(
    generator: GeneratorConfig, splits: dict[str, SplitSpec], seed: int, desc: str = ""
) -> datasets.DatasetDict:
    """Generate every split, in order, never repeating an expression across (or within) splits."""
    for name, spec in splits.items():  # fail before any work if a range is impossible
        if spec.size and not generator.feasible_lengths(spec.min_length, spec.max_length):
            raise ValueError(
                f"split {name!r}: no expression of {spec.min_length}-{spec.max_length} tokens exists with "
                f"max_depth={generator.max_depth} and {generator.min_args}-{generator.max_args} arguments"
            )
    seen: set[str] = set()
    out = {}
    for name, spec in splits.items():
        rng = random.Random(f"{seed}/{name}")
        rows = []
        with progress_bar(total=spec.size, desc=f"{desc} {name}".strip(), leave=False) as bar:
            for _ in range(spec.size * _MAX_DRAWS_PER_ROW):
                if len(rows) == spec.size:
                    break
                expr = generate_in_range(rng, generator, spec.min_length, spec.max_length)
                source = to_brackets(expr)
                if source in seen:
                    continue
                seen.add(source)
                rows.append(_row(expr, source, generator.modulus))
                bar.update()
        if len(rows) < spec.size:
            raise ValueError(
                f"split {name!r}: only {len(rows)} distinct expressions of {spec.min_length}-{spec.max_length} "
                f"tokens found for {spec.size} wanted; widen the length range or lower the size"
            )
        out[name] = datasets.Dataset.from_list(rows) if rows else _empty()
    return datasets.DatasetDict(out)


def _row(expr, source: str, modulus: int) -> dict:
    row = {
        "source": source,
        "answer": evaluate_expr(expr, modulus),
        "depth": expr.depth,
        "length": expr.n_tokens,
    }
    for level in LEVELS:
        row[f"target_{level}"] = explain_expr(expr, level, modulus)
    return row


def _empty() -> datasets.Dataset:
    columns = {
        "source": [],
        "answer": [],
        "depth": [],
        "length": [],
        **{f"target_{lv}": [] for lv in LEVELS},
    }
    features = datasets.Features(
        {
            "source": datasets.Value("string"),
            "answer": datasets.Value("int64"),
            "depth": datasets.Value("int64"),
            "length": datasets.Value("int64"),
            **{f"target_{lv}": datasets.Value("string") for lv in LEVELS},
        }
    )
    return datasets.Dataset.from_dict(columns, features=features)


def data_card(dataset: datasets.DatasetDict, task: str, modulus: int, seed: int) -> dict:
    """Counts, token-length statistics per split and level, and the label distribution."""
    card: dict = {
        "task": task,
        "modulus": modulus,
        "seed": seed,
        "levels": list(LEVELS),
        "splits": {},
    }
    for name, split in dataset.items():
        lengths = {"source": split["length"]}
        for level in LEVELS:
            lengths[f"target_{level}"] = [n_tokens(t) for t in split[f"target_{level}"]]
        card["splits"][name] = {
            "rows": len(split),
            "token_length": {key: _stats(vals) for key, vals in lengths.items()},
            "depth": dict(sorted(Counter(split["depth"]).items())),
            "labels": {str(k): v for k, v in sorted(Counter(split["answer"]).items())},
        }
    return card


def _stats(values: list[int]) -> dict:
    if not values:
        return {"min": None, "mean": None, "median": None, "max": None}
    arr = np.asarray(values)
    return {
        "min": int(arr.min()),
        "mean": round(float(arr.mean()), 2),
        "median": float(np.median(arr)),
        "max": int(arr.max()),
    }


def _card_markdown(card: dict) -> str:
    levels = card.get("levels", LEVELS)  # own data (own_data): the levels the file has
    origin = (
        f"modulus {card['modulus']}"
        if card.get("modulus") is not None
        else f"file {card.get('source_file')}"
    )
    lines = [f"# Data card: {card['task']} ({origin}, seed {card['seed']})", ""]
    lines += [
        "| split | rows | source tokens (mean) | "
        + " | ".join(f"{lv} target tokens (mean)" for lv in levels)
        + " |"
    ]
    lines += ["|---" * (3 + len(levels)) + "|"]
    for name, s in card["splits"].items():
        tl = s["token_length"]
        cells = [name, str(s["rows"]), str(tl["source"]["mean"])] + [
            str(tl[f"target_{lv}"]["mean"]) for lv in levels
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def save_splits(dataset: datasets.DatasetDict, out_dir: str | Path, card: dict) -> Path:
    """Write ``<split>.parquet`` files and the data card, each atomically; a split file left from
    an earlier write with other splits is removed (``load_splits`` and the run keys read every
    ``*.parquet`` there, so a stale one would change both)."""
    out_dir = Path(out_dir)
    for name, split in dataset.items():
        atomic_write(out_dir / f"{name}.parquet", lambda tmp, s=split: s.to_parquet(str(tmp)))
    for stale in set(out_dir.glob("*.parquet")) - {out_dir / f"{n}.parquet" for n in dataset}:
        stale.unlink()
    write_json(out_dir / CARD_NAME, card)
    write_text(out_dir / "data_card.md", _card_markdown(card))
    return out_dir


def load_splits(data_dir: str | Path) -> datasets.DatasetDict:
    """Load the splits that ``save_splits`` wrote."""
    data_dir = Path(data_dir)
    files = sorted(data_dir.glob("*.parquet"))
    if not files:
        raise FileNotFoundError(
            f"no data set in {data_dir}: run notebooks/01_data_generation.ipynb first"
        )
    # read with pyarrow: Dataset.from_parquet refuses a file with no rows (an empty split)
    return datasets.DatasetDict({f.stem: datasets.Dataset(pq.read_table(f)) for f in files})


def build_task_dataset(config: DataConfig, task: str) -> datasets.DatasetDict:
    """Build and save one task's splits under ``config.output_dir / task``; return them."""
    generator = generator_for(task, config)
    dataset = build_splits(generator, splits_for(config), seed=config.seed, desc=task)
    save_splits(
        dataset,
        Path(config.output_dir) / task,
        data_card(dataset, task, config.modulus, config.seed),
    )
    return dataset


def token_lengths(dataset: datasets.DatasetDict) -> pd.DataFrame:
    """Tidy lengths: one row per (split, example, field) with field ``source`` or a level name."""
    frames = []
    for name, split in dataset.items():
        frames.append(pd.DataFrame({"split": name, "field": "source", "tokens": split["length"]}))
        for level in LEVELS:
            tokens = [n_tokens(t) for t in split[f"target_{level}"]]
            frames.append(pd.DataFrame({"split": name, "field": level, "tokens": tokens}))
    return pd.concat(frames, ignore_index=True)


def label_shares(
    datasets_by_task: dict[str, datasets.DatasetDict], split: str = "train"
) -> pd.DataFrame:
    """Share of each answer in one split, per task."""
    frames = []
    for task, dataset in datasets_by_task.items():
        counts = pd.Series(dataset[split]["answer"]).value_counts(normalize=True).sort_index()
        frames.append(
            pd.DataFrame({"task": task, "answer": counts.index, "share": counts.to_numpy()})
        )
    return pd.concat(frames, ignore_index=True)


def with_format(splits: datasets.DatasetDict, name: str, modulus: int) -> datasets.DatasetDict:
    """``splits`` with ``target_<name>`` (and ``source_<name>`` for a format that rewrites the
    source) for a book format; the paper's levels are stored columns, returned as they are.

    The formats are written on the fly rather than stored, so adding one leaves the Parquet files,
    hence the keys of every earlier run, unchanged."""
    if f"target_{name}" in splits["train"].column_names:
        return splits
    if name not in FORMATS or modulus is None:  # own data: no ListOps to write a format from
        levels = [
            c[len("target_") :] for c in splits["train"].column_names if c.startswith("target_")
        ]
        raise ValueError(
            f"level must be one of {', '.join(levels)} for this data set; got {name!r}"
        )
    out = {}
    for split_name, split in splits.items():
        exprs = [parse(source, modulus) for source in split["source"]]
        split = split.add_column(f"target_{name}", [write_target(name, e, modulus) for e in exprs])
        sources = [write_source(name, e) for e in exprs]
        if exprs and sources[0] is not None:
            split = split.add_column(f"source_{name}", sources)
        out[split_name] = split
    return datasets.DatasetDict(out)


def read_data_card(
    task_dir: str | Path, missing: str = "run notebooks/01_data_generation.ipynb first"
) -> dict:
    """The data card ``save_splits`` wrote for one task (modulus, seed, lengths, labels);
    ``missing`` says in the error how to write it."""
    path = Path(task_dir) / CARD_NAME
    if not path.is_file():
        raise FileNotFoundError(f"data_dir: no data card at {str(path)!r}; {missing}")
    return json.loads(path.read_text())


def train_target_tokens(
    task_dir: str | Path, levels: list[str], train_sizes: list[int]
) -> pd.DataFrame:
    """Target tokens in the first ``train_size`` training rows per level: the supervision a run can see."""
    targets = pq.read_table(Path(task_dir) / "train.parquet").to_pandas()
    rows = []
    for level in levels:
        tokens = targets[f"target_{level}"].map(n_tokens).cumsum()
        for size in train_sizes:
            rows.append(
                {
                    "level": level,
                    "train_size": size,
                    "train_target_tokens": int(tokens.iloc[min(size, len(tokens)) - 1]),
                }
            )
    return pd.DataFrame(rows)
