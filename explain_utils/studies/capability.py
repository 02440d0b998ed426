"""The capability check of chapter 5: what the pre-trained model can do before any fine-tuning.

Both prompt-loss papers fine-tune models that can already do their tasks in some form, so the
chapter first measures that of its own model, by generating (greedy, as every score in the
book), on the chapter's test rows:

- in its own format, by the query's position in a corpus document (after the opening
  instruction and ``position - 1`` worked expressions): the continuation's first value in prose
  (``tasks.prompt_loss_data.read_value``) against the query's value. Documents held two
  expressions, so positions past 2 show how far the skill carries beyond its training;
- zero-shot in each fine-tuning data type's layout (``Question: … Answer:``), verbatim: the
  pre-trained model as a baseline on exactly the prompts the fine-tuned ones read;
- along pre-training, at the copies the run kept (``save_model_every``), the positions the
  fine-tuning prompts use: the pre-training curve by generating.

A data type's prompt passes the criterion when its query sits at a position the corpus
documents hold (``EXPRESSIONS_PER_DOCUMENT``) and the pre-trained model's accuracy there is at
least ``MARGIN`` above the one-line rule on the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from explain_utils.analysis.baselines import baseline_predictions
from explain_utils.engine.batching import Encoded, prompt_batch
from explain_utils.engine.decoding import greedy_decode
from explain_utils.engine.models import load_model
from explain_utils.tasks.prompt_loss_data import (
    DATA_TYPES,
    EXPRESSIONS_PER_DOCUMENT,
    layout_prompts,
    position_prompts,
    read_value,
)
from explain_utils.tasks.splits import load_splits, read_data_card

# above the one-line rule: the pre-trained model at a query position, the best fine-tuned cell
MARGIN = 0.10
POSITIONS = (1, 2, 3, 4)  # query positions probed in the model's own format
# where each data type's query sits: after its solved examples, or first (after an instruction)
QUERY_POSITION = {name: kind.shots + 1 for name, kind in DATA_TYPES.items()}
BATCH = 64
NEW_TOKENS = 100  # the longest worked expression is under 90 tokens


def generate_texts(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, texts: list[str]
) -> list[str]:
    """Greedy continuations of whole prompt texts (``evaluation.generate`` reads a split's rows
    through the fine-tuning template; these prompts are the model's own documents)."""
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    data = Encoded(False, ids, [[] for _ in ids])
    order = np.argsort([len(i) for i in ids], kind="stable").tolist()
    out = [""] * len(texts)
    for start in range(0, len(order), BATCH):
        rows = order[start : start + BATCH]
        batch = prompt_batch(data, rows, tokenizer.pad_token_id)
        new = greedy_decode(
            model, batch["input_ids"], batch["attention_mask"], NEW_TOKENS, tokenizer.eos_token_id
        )
        decoded = tokenizer.batch_decode(new, skip_special_tokens=True)
        for row, text in zip(rows, decoded, strict=True):
            out[row] = " ".join(text.split())
    return out


def _probe_rows(dirs: Mapping[str, Path], n_rows: int) -> tuple[datasets.Dataset, list[str], int]:
    """The first ``n_rows`` test rows of the expression-only data (their query alone), the
    fine-tuning pool's expressions (the worked ones placed before a query) and the modulus."""
    listops = Path(dirs["long"]) / "listops"
    splits = load_splits(listops)
    test = splits["test"].select(range(min(n_rows, len(splits["test"]))))
    return test, list(splits["train"]["source"]), read_data_card(listops)["modulus"]


def _score(
    probe: str, position: int | None, texts: list[str], test: datasets.Dataset, modulus: int
) -> dict:
    values = [read_value(t) for t in texts]
    answers = list(test["answer"])
    rule = baseline_predictions({"source": test["source"]}, answers, modulus)["root_op_flat"]
    return {
        "probe": probe,
        "query position": position,
        "rows": len(texts),
        "accuracy": float(np.mean([v == a for v, a in zip(values, answers, strict=True)])),
        "answered": float(np.mean([v is not None for v in values])),
        "one-line rule": float(np.mean([r == a for r, a in zip(rule, answers, strict=True)])),
    }


def capability_table(model_dir: str | Path, dirs: Mapping[str, Path], n_rows: int) -> pd.DataFrame:
    """Accuracy of the pre-trained model by the query's position in its own format, and
    zero-shot in each data type's fine-tuning layout, beside the one-line rule on the same rows."""
    test, pool, modulus = _probe_rows(dirs, n_rows)
    queries = list(test["source"])
    model, tokenizer = load_model(model_dir)
    rows = []
    for position in POSITIONS:
        prompts = position_prompts(queries, pool, modulus, position)
        texts = generate_texts(model, tokenizer, prompts)
        rows.append(_score("own format", position, texts, test, modulus))
    for name in DATA_TYPES:
        sources = load_splits(Path(dirs[name]) / "listops")["test"]["source"][: len(queries)]
        texts = generate_texts(model, tokenizer, layout_prompts(list(sources)))
        rows.append(_score(f"{name} layout, zero-shot", QUERY_POSITION[name], texts, test, modulus))
    return pd.DataFrame(rows)


def capability_curve(run_dir: str | Path, dirs: Mapping[str, Path], n_rows: int) -> pd.DataFrame:
    """Accuracy in the model's own format at the positions the fine-tuning prompts use, at every
    copy the pre-training run kept (``model-step-N``) and at its end (``model``)."""
    test, pool, modulus = _probe_rows(dirs, n_rows)
    queries = list(test["source"])
    copies = sorted(Path(run_dir).glob("model-step-*"), key=lambda p: int(p.name.rsplit("-", 1)[1]))
    rows = []
    for copy in copies:
        step = int(copy.name.rsplit("-", 1)[1])
        model, tokenizer = load_model(copy)
        for position in sorted(set(QUERY_POSITION.values())):
            prompts = position_prompts(queries, pool, modulus, position)
            texts = generate_texts(model, tokenizer, prompts)
            rows.append({"step": step, **_score("own format", position, texts, test, modulus)})
    return pd.DataFrame(rows)


def criterion(table: pd.DataFrame) -> pd.DataFrame:
    """Per data type: its query position, the pre-trained model's accuracy there in its own
    format, the rule's, and whether the prompt passes (position within the documents, accuracy
    at least ``MARGIN`` above the rule)."""
    own = table[table["probe"] == "own format"].set_index("query position")
    rows = []
    for name, position in QUERY_POSITION.items():
        accuracy, rule = own.loc[position, "accuracy"], own.loc[position, "one-line rule"]
        rows.append(
            {
                "data type": name,
                "query position": position,
                "accuracy there": accuracy,
                "one-line rule": rule,
                "passes": bool(position <= EXPRESSIONS_PER_DOCUMENT and accuracy >= rule + MARGIN),
            }
        )
    return pd.DataFrame(rows)
