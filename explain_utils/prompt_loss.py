"""The prompt-loss ablation (chapter 5): data types, the pre-training and fine-tuning grid, the fit.

Huerta-Enochian & Ko (2024) weight the loss on prompt tokens by PLW in [0, 1]; Shi et al. (2024)
take the loss over instruction and output with the template masked (Instruction Modelling, IM).
Both fine-tune *pretrained* models, and both explain their effect as regularisation towards what
the model already knows. So the ablation has two stages:

1. **pre-training** — one decoder-only model learns plain language modelling (PLW = 1) on a
   ListOps corpus of worked solutions (short, medium and long explanations, half of them after
   the instruction) on expressions that no fine-tuning run sees;
2. **fine-tuning** — that checkpoint is tuned on prompt/completion pairs of one data type:

   - ``short`` completion: the long instruction + the expression → the bare answer
     (``answer 9``), R_g well below 1; answer-only is a format the corpus never showed;
   - ``long`` completion: the expression alone → the long explanation, R_g well above 1.

R_g is the PLW paper's generation ratio, completion tokens / prompt tokens. Each data type is
written as a small data directory of its own (``write_ablation_data``), so the training engine
needs no special case: the instruction is simply part of the prompt's source text (prompt
tokens, not template tokens, so IM and PLW both see it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import pandas as pd

from explain_utils.ablation_profiles import AblationConfig
from explain_utils.data import load_splits, n_tokens, read_data_card, save_splits
from explain_utils.plw_fit import METHODS
from explain_utils.results import results_frame
from explain_utils.runs import RunResult
from explain_utils.training import TrainConfig
from explain_utils.vocabulary import LEVELS

# Huerta-Enochian & Ko's ten prompt-loss weights
PAPER_PLW_VALUES: tuple[float, ...] = (
    0.0,
    5e-4,
    2.236e-3,
    1e-2,
    2.463e-2,
    5e-2,
    1e-1,
    2.463e-1,
    5e-1,
    1.0,
)
COMPLETIONS: tuple[str, ...] = ("short", "long")
# the long instruction of the short-completion data: every word is an ordinary prompt token
INSTRUCTION = (
    "Evaluate the ListOps expression below . MIN gives the smallest value , MAX the largest , "
    "MED the median and SM the sum modulo 10 . Reply with the final answer only ."
)


@dataclass(frozen=True)
class DataType:
    """How a fine-tuning data type is built from the ListOps rows."""

    name: str
    level: str  # the target column (explanation level) used as completion
    instruction: bool  # the instruction is prepended to the expression


DATA_TYPES: dict[str, DataType] = {
    "short": DataType("short", "none", True),
    "long": DataType("long", "long", False),
}
PRETRAIN = "pretrain"
PRETRAIN_LEVELS: tuple[str, ...] = ("short", "medium", "long")


def _with_instruction(sources: list[str]) -> list[str]:
    return [f"{INSTRUCTION} {s}" for s in sources]


def _fine_tuning_split(split: datasets.Dataset, data_type: DataType) -> datasets.Dataset:
    if not data_type.instruction:
        return split
    return split.remove_columns("source").add_column(
        "source", _with_instruction(list(split["source"]))
    )


def _corpus_split(split: datasets.Dataset) -> datasets.Dataset:
    """Worked solutions at mixed levels (row i: level i mod 3, instruction on odd rows).

    A corpus has no single target level, so every ``target_<level>`` column holds the same mixed
    text and the pre-training run may name any level.
    """
    sources, texts = [], []
    for i, row in enumerate(split):
        level = PRETRAIN_LEVELS[i % len(PRETRAIN_LEVELS)]
        texts.append(row[f"target_{level}"])
        sources.append(f"{INSTRUCTION} {row['source']}" if i % 2 else row["source"])
    split = split.remove_columns(["source", *(f"target_{lv}" for lv in LEVELS)])
    split = split.add_column("source", sources)
    for level in LEVELS:
        split = split.add_column(f"target_{level}", texts)
    return split


def write_ablation_data(
    data_dir: str | Path,
    out_dir: str | Path,
    finetune_pool: int,
    pretrain_size: int,
    n_test: int,
    n_validation: int,
) -> dict[str, Path]:
    """Write the pre-training corpus and one data directory per fine-tuning data type.

    From ``data_dir/listops``: fine-tuning uses the first ``finetune_pool`` training rows (each run
    takes its first ``train_size``), pre-training the next ``pretrain_size`` rows, so the two never
    share an expression. Validation and test are the first ``n_validation``/``n_test`` rows of
    those splits. Returns ``{"pretrain": dir, "short": dir, "long": dir}``; pass a dir as a run's
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
    card = read_data_card(source)
    heads = {
        "validation": splits["validation"].select(
            range(min(n_validation, len(splits["validation"])))
        ),
        "test": splits["test"].select(range(min(n_test, len(splits["test"])))),
    }
    out: dict[str, Path] = {}
    pretrain = {
        "train": splits["train"].select(range(finetune_pool, finetune_pool + pretrain_size)),
        **heads,
    }
    target = Path(out_dir) / PRETRAIN
    save_splits(
        datasets.DatasetDict({k: _corpus_split(v) for k, v in pretrain.items()}),
        target / "listops",
        card | {"ablation": PRETRAIN},
    )
    out[PRETRAIN] = target
    finetune = {"train": splits["train"].select(range(finetune_pool)), **heads}
    for name, data_type in DATA_TYPES.items():
        target = Path(out_dir) / name
        save_splits(
            datasets.DatasetDict(
                {k: _fine_tuning_split(v, data_type) for k, v in finetune.items()}
            ),
            target / "listops",
            card | {"ablation": name},
        )
        out[name] = target
    return out


def completion_ratio(data_dir: str | Path, completion: str, n: int | None = None) -> dict:
    """Mean prompt and completion tokens and R_g = completion / prompt of a data type's train rows.

    Tokens as the decoder sees them: the prompt includes the template words ``Question:`` and
    ``Answer:``, the completion its end-of-sequence token.
    """
    data_type = DATA_TYPES[completion]
    split = load_splits(Path(data_dir) / "listops")["train"]
    split = split.select(range(min(n or len(split), len(split))))
    prompt = np.mean([n_tokens(s) + 2 for s in split["source"]])
    target = np.mean([n_tokens(t) + 1 for t in split[f"target_{data_type.level}"]])
    return {
        "completion": completion,
        "level": data_type.level,
        "instruction": data_type.instruction,
        "prompt_tokens": float(prompt),
        "completion_tokens": float(target),
        "R_g": float(target / prompt),
    }


def pretrain_config(config: AblationConfig) -> TrainConfig | None:
    """Stage 1: plain language modelling (PLW = 1) on the corpus; None when ``pretrain_steps`` is 0."""
    if not config.pretrain_steps:
        return None
    return TrainConfig(
        model=config.model,
        task="listops",
        level="medium",  # any level: the corpus stores its mixed text in every target column
        steps=config.pretrain_steps,
        batch_size=config.batch_size,
        learning_rate=config.pretrain_learning_rate,
        loss_mode="plw",
        prompt_loss_weight=1.0,
        eval_every=0,
        eval_examples=config.eval_examples,
        eval_splits=("test",),
        seed=0,
        save_model=True,
    )


def fine_tuning_grid(config: AblationConfig, model: str) -> dict[str, list[TrainConfig]]:
    """Stage 2, per data type: the PLW sweep (PLW 0 is completion-only training, ``it``) at
    ``sweep_train_size`` for every seed, and on the short-completion data (the long instruction)
    IM and completion-only at every train size of ``train_sizes``."""
    common = dict(
        model=model,
        task="listops",
        steps=config.steps,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        eval_every=config.eval_every,
        eval_examples=config.eval_examples,
        eval_splits=("test",),
        eval_loss=True,
        save_model=False,
    )
    weights = sorted({float(w) for w in config.plw_values} - {0.0})
    grid: dict[str, list[TrainConfig]] = {}
    for completion in COMPLETIONS:
        level = DATA_TYPES[completion].level
        runs: list[TrainConfig] = []
        for seed in config.seeds:
            sweep = dict(common, level=level, seed=seed, train_size=config.sweep_train_size)
            runs.append(TrainConfig(loss_mode="completion", **sweep))
            runs += [TrainConfig(loss_mode="plw", prompt_loss_weight=w, **sweep) for w in weights]
            if completion != "short":
                continue
            for size in config.train_sizes:
                sized = dict(common, level=level, seed=seed, train_size=size)
                runs.append(TrainConfig(loss_mode="im", **sized))
                if size != config.sweep_train_size:
                    runs.append(TrainConfig(loss_mode="completion", **sized))
        grid[completion] = runs
    return grid


def ablation_frame(
    results: dict[str, list[RunResult]], model_label: str | None = None
) -> pd.DataFrame:
    """Tidy rows of every fine-tuning run with ``completion`` (data type) and ``method`` (it/plw/im).

    ``model_label`` replaces the ``model`` column (the pre-trained checkpoint's path) with a name.
    """
    frames = []
    for completion, runs in results.items():
        frame = results_frame(runs)
        if model_label is not None:
            frame["model"] = model_label
        frame.insert(0, "method", frame["loss_mode"].map(METHODS))
        frame.insert(1, "completion", completion)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
