"""Chapter 5's data: the pre-training corpus and the fine-tuning data types along R_g.

Every data type is built from the same ListOps expressions and has the same completion, the long
explanation; what changes is how much of an example is prompt, i.e. the PLW paper's generation
ratio R_g = completion tokens / prompt tokens (template words and end-of-sequence included):

- ``fewshot`` (R_g ≈ 0.25): three solved examples — other expressions of the fine-tuning pool,
  each followed by its long explanation — then the query expression;
- ``oneshot`` (R_g ≈ 0.65): one solved example, then the query expression;
- ``long`` (R_g ≈ 3): the expression alone.

The solved examples of a prompt are drawn, deterministically per row, from the first
``demo_pool`` rows of the fine-tuning pool (the smallest training set of the chapter, so no run
ever reads a solved example outside its own training rows) and never include the row itself.

The **pre-training corpus** is fixed by one rule: what a pretrained model would plausibly know,
not the fine-tuning task's solutions in their exact format. Its documents are *other*
expressions (the training rows after the fine-tuning pool, two per document), each worked step by
step in the sentences of the long explanation and closed by its value in prose (``so the answer
to it , the result , is 2 .``): no ``Question:``/``Answer:`` template, no solved-example layout,
no ``answer N`` line, so no fine-tuning completion ever appears in it. A document is the
completion of an empty prompt, trained with the template masked.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import pandas as pd

from explain_utils.common.names import LEVELS, TEMPLATE_TOKENS
from explain_utils.tasks.explanations import explain
from explain_utils.tasks.listops import evaluate
from explain_utils.tasks.splits import load_splits, n_tokens, read_data_card, save_splits

PRETRAIN = "pretrain"
EXPRESSIONS_PER_DOCUMENT = 2  # a corpus document works several expressions, one after another
_SPLIT_SALT = {"train": 1, "validation": 2, "test": 3}  # a split's own stream of draws


@dataclass(frozen=True)
class DataType:
    """A fine-tuning data type: the completion (a target column) and the solved examples."""

    name: str
    level: str  # the explanation level written as the completion (``target_<level>``)
    shots: int  # solved examples before the query expression (0: the expression alone)
    description: str


DATA_TYPES: dict[str, DataType] = {  # ordered by R_g, lowest first
    "fewshot": DataType("fewshot", "long", 3, "3 solved examples + expression → long explanation"),
    "oneshot": DataType("oneshot", "long", 1, "1 solved example + expression → long explanation"),
    "long": DataType("long", "long", 0, "expression → long explanation"),
}


# ---------------------------------------------------------------- fine-tuning prompts


def demo_rows(n_rows: int, demo_pool: int, shots: int, salt: int, own: bool) -> list[list[int]]:
    """For each of ``n_rows`` rows, ``shots`` distinct row indices in ``range(demo_pool)``.

    Deterministic per (salt, row). ``own``: row i is itself a pool row (a training row), so it is
    never its own solved example.
    """
    if shots > demo_pool - 1:
        raise ValueError(f"demo_pool must be > shots ({shots}); got {demo_pool}")
    out = []
    for i in range(n_rows):
        rng = np.random.default_rng([salt, i])
        drawn = rng.choice(demo_pool, size=shots + 1, replace=False).tolist()
        out.append([j for j in drawn if not (own and j == i)][:shots])
    return out


def fewshot_prompt(demos: list[tuple[str, str]], query: str) -> str:
    """Solved examples (expression and worked solution, which ends in ``answer N``), then the query."""
    return " ".join([*(f"{source} {solution}" for source, solution in demos), query])


def _prompts(
    split: datasets.Dataset, pool: datasets.Dataset, kind: DataType, salt: int, own: bool
) -> list[str]:
    sources = list(split["source"])
    if not kind.shots:
        return sources
    demo_sources, demo_solutions = pool["source"], pool[f"target_{kind.level}"]
    picks = demo_rows(len(sources), len(pool), kind.shots, salt, own)
    return [
        fewshot_prompt([(demo_sources[j], demo_solutions[j]) for j in drawn], query)
        for drawn, query in zip(picks, sources, strict=True)
    ]


def _with_source(split: datasets.Dataset, sources: list[str]) -> datasets.Dataset:
    return split.remove_columns("source").add_column("source", sources)


# ---------------------------------------------------------------- the pre-training corpus


def corpus_document(sources: list[str], modulus: int) -> str:
    """A pre-training document: expressions one after another, each worked step by step in plain
    sentences and closed by its value in prose, never by an ``answer N`` line."""
    parts = []
    for source in sources:
        worked = explain(source, "long", modulus).split(" ; ")[:-1]  # the steps, not "answer N"
        value = evaluate(source, modulus)
        parts.append(
            f"{source} : {' ; '.join(worked)} . so the answer to it , the result , is {value} ."
        )
    return " ".join(parts)


def _corpus_split(split: datasets.Dataset, modulus: int, per_document: int) -> datasets.Dataset:
    """Documents of ``per_document`` consecutive expressions, as completions of an empty prompt;
    every ``target_<level>`` holds the document, so the pre-training run may name any level."""
    sources = list(split["source"])
    docs = [
        corpus_document(sources[i : i + per_document], modulus)
        for i in range(0, len(sources), per_document)
    ]
    split = split.select(range(len(docs)))
    split = split.remove_columns(["source", *(f"target_{lv}" for lv in LEVELS)])
    split = split.add_column("source", [""] * len(docs))
    for level in LEVELS:
        split = split.add_column(f"target_{level}", docs)
    return split


# ---------------------------------------------------------------- writing the data directories


def write_ablation_data(
    data_dir: str | Path,
    out_dir: str | Path,
    finetune_pool: int,
    demo_pool: int,
    pretrain_size: int,
    n_test: int,
    n_validation: int,
) -> dict[str, Path]:
    """Write the pre-training corpus and one data directory per fine-tuning data type.

    From ``data_dir/listops``: fine-tuning uses the first ``finetune_pool`` training rows (a run
    takes its first ``train_size``; solved examples come from the first ``demo_pool``),
    pre-training the next ``pretrain_size`` rows, so the two never share an expression.
    Validation and test are the first ``n_validation``/``n_test`` rows of those splits. Returns
    ``{"pretrain": dir, "fewshot": dir, "oneshot": dir, "long": dir}``; pass a dir as a run's
    ``data_dir`` with task ``listops``. Rewriting gives identical files (and cache keys).
    """
    source = Path(data_dir) / "listops"
    splits = load_splits(source)
    n_train = len(splits["train"])
    if finetune_pool + pretrain_size > n_train:
        raise ValueError(
            f"finetune_pool + pretrain_size must be <= {n_train} (train rows in {str(source)!r}); "
            f"got {finetune_pool} + {pretrain_size}"
        )
    heads = {
        "validation": splits["validation"].select(
            range(min(n_validation, len(splits["validation"])))
        ),
        "test": splits["test"].select(range(min(n_test, len(splits["test"])))),
    }
    corpus = {  # held-out documents (validation) only to follow the pre-training loss
        "train": splits["train"].select(range(finetune_pool, finetune_pool + pretrain_size)),
        "validation": heads["validation"],
    }
    finetune = {"train": splits["train"].select(range(finetune_pool)), **heads}
    with _quiet():
        return _write(corpus, finetune, demo_pool, read_data_card(source), Path(out_dir))


@contextlib.contextmanager
def _quiet():
    """The ``datasets`` progress bars off (one per Parquet file written), as they were after."""
    was_on = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was_on:
            datasets.enable_progress_bars()


def _write(corpus: dict, finetune: dict, demo_pool: int, card: dict, out_dir: Path) -> dict:
    out: dict[str, Path] = {PRETRAIN: out_dir / PRETRAIN}
    documents = {
        k: _corpus_split(v, card["modulus"], EXPRESSIONS_PER_DOCUMENT) for k, v in corpus.items()
    }
    save_splits(
        datasets.DatasetDict(documents), out[PRETRAIN] / "listops", card | {"ablation": PRETRAIN}
    )
    pool = finetune["train"].select(range(demo_pool))
    for name, kind in DATA_TYPES.items():
        out[name] = out_dir / name
        written = {
            split: _with_source(
                rows, _prompts(rows, pool, kind, _SPLIT_SALT[split], split == "train")
            )
            for split, rows in finetune.items()
        }
        save_splits(datasets.DatasetDict(written), out[name] / "listops", card | {"ablation": name})
    return out


# ---------------------------------------------------------------- what the data look like


def completion_ratio(data_dir: str | Path, data_type: str, n: int | None = None) -> dict:
    """Mean prompt and completion tokens and R_g = completion / prompt of a data type's train rows.

    Tokens as the decoder sees them: the prompt includes the template words ``Question:`` and
    ``Answer:``, the completion its end-of-sequence token.
    """
    kind = DATA_TYPES[data_type]
    split = load_splits(Path(data_dir) / "listops")["train"]
    split = split.select(range(min(n or len(split), len(split))))
    prompt = np.mean([n_tokens(s) + len(TEMPLATE_TOKENS) for s in split["source"]])
    target = np.mean([n_tokens(t) + 1 for t in split[f"target_{kind.level}"]])
    return {
        "data type": data_type,
        "completion": kind.level,
        "shots": kind.shots,
        "prompt tokens": float(prompt),
        "completion tokens": float(target),
        "R_g": float(target / prompt),
    }


def examples(dirs: dict[str, Path], row: int = 0) -> pd.DataFrame:
    """One training row of every data type (and the corpus), prompt and completion verbatim."""
    records = []
    for name in (PRETRAIN, *DATA_TYPES):
        split = load_splits(Path(dirs[name]) / "listops")["train"]
        level = DATA_TYPES[name].level if name in DATA_TYPES else "none"
        records.append(
            {
                "data": name,
                "prompt": split[row]["source"] or "(empty)",
                "completion": split[row][f"target_{level}"],
            }
        )
    return pd.DataFrame(records)
