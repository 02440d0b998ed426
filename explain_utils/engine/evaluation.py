"""Evaluation: batched greedy generation and exact metrics on the parsed answer and steps.

The answer is read with ``explanations.final_answer`` (the last ``answer N``) and compared as a
whole number — not by its last character, which is what the paper's public code compares and which
counts 13 as a correct 3 when there are 30 classes.

Metrics per split (means over examples):

- ``accuracy``: the parsed final answer equals the gold answer;
- ``exact_match``: the whole generated text equals the gold target;
- ``answer_parsed``: the output contains an ``answer N`` at all;
- explained levels only — ``step_accuracy``: generated step results compared with the gold ones
  position by position, divided by the longer of the two step lists (so missing and extra steps
  both count as wrong); ``faithfulness``: the final answer equals the result of the model's own
  last step (steps are in post-order, so the last step is the root), whether or not it is right.

Accuracy is also broken down by expression depth and by source-length bucket.

One's own data (``own_data``) have word labels: a text answer is read with
``explanations.final_label`` (the word after the last ``answer``) and compared as text, so an
answer outside the label set is wrong; their explanations are free text with no steps to read,
so ``step_accuracy`` and ``faithfulness`` are NaN (not applicable) there.
"""

from __future__ import annotations

import contextlib
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field

import datasets
import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from explain_utils.common.checks import check_choice
from explain_utils.common.names import LEVELS, TARGET_FORMATS, bucket_order
from explain_utils.common.progress import progress_bar
from explain_utils.engine.batching import Encoded, encode, prompt_batch
from explain_utils.engine.decoding import greedy_decode
from explain_utils.tasks.explanations import final_answer, final_label, step_results
from explain_utils.tasks.formats import step_results_of

# upper ends of the source-length buckets (tokens): fine steps over the quick ranges (5-14 train,
# 15-28 longer test), coarse ones over the paper's (50-100 train, 101-200 longer test)
LENGTH_EDGES: tuple[int, ...] = (7, 10, 14, 18, 22, 28, 40, 50, 75, 100, 150, 200)


@dataclass
class EvalResult:
    """Overall metrics, accuracy by depth and by length bucket, and one record per example."""

    metrics: dict[str, float]
    by_depth: dict[str, dict[str, float]]
    by_length: dict[str, dict[str, float]]
    predictions: list[dict] = field(default_factory=list)

    def to_dict(self, with_predictions: bool = False) -> dict:
        """Metrics and breakdowns; ``correct`` holds one '0'/'1' per row, in row order (paired tests)."""
        out = asdict(self)
        if not with_predictions:
            out.pop("predictions")
        out["correct"] = "".join(str(int(p["accuracy"])) for p in self.predictions)
        return out


def length_bucket(length: int, edges: tuple[int, ...] = LENGTH_EDGES) -> str:
    """Bucket label such as ``"11-20"`` for a source length in tokens (``">200"`` past the last edge)."""
    low = 1
    for edge in edges:
        if length <= edge:
            return f"{low}-{edge}"
        low = edge + 1
    return f">{edges[-1]}"


def _results(level: str, text: str) -> list[int | None]:
    """Each step's claimed result: the paper's levels read the last number of a step (as always),
    the book's formats their own reader (a rewritten expression follows a step's result)."""
    return step_results(text) if level in LEVELS else step_results_of(level, text)


def score_example(prediction: str, target: str, answer: int | str, level: str) -> dict[str, float]:
    """Metrics of one generated text against its gold target and answer (see module docstring)."""
    if isinstance(answer, str):
        return _score_label(prediction, target, answer, level)
    predicted = final_answer(prediction)
    row = {
        "accuracy": float(predicted is not None and predicted == answer),
        "exact_match": float(prediction.strip() == target.strip()),
        "answer_parsed": float(predicted is not None),
    }
    if level != "none":
        gold, own = _results(level, target), _results(level, prediction)
        matches = sum(p is not None and p == g for p, g in zip(own, gold, strict=False))
        row["step_accuracy"] = matches / max(len(gold), len(own), 1)
        row["faithfulness"] = float(bool(own) and predicted is not None and own[-1] == predicted)
    return row


def _score_label(prediction: str, target: str, label: str, level: str) -> dict[str, float]:
    """``score_example`` for a word label (own data): answers compared as text, no steps."""
    predicted = final_label(prediction)
    row = {
        "accuracy": float(predicted == label),
        "exact_match": float(prediction.strip() == target.strip()),
        "answer_parsed": float(predicted is not None),
    }
    if level != "none":
        row["step_accuracy"] = row["faithfulness"] = math.nan
    return row


def score(
    predictions: list[str],
    split: datasets.Dataset,
    level: str,
    edges: tuple[int, ...] = LENGTH_EDGES,
) -> EvalResult:
    """Score generated texts against a split (rows in the same order) at an explanation level."""
    check_choice("level", level, TARGET_FORMATS)
    if len(predictions) != len(split):
        raise ValueError(
            f"predictions has {len(predictions)} texts but the split has {len(split)} rows"
        )
    targets, answers = split[f"target_{level}"], split["answer"]
    depths, lengths, sources = split["depth"], split["length"], split["source"]
    records, by_depth, by_length = [], defaultdict(list), defaultdict(list)
    for i, text in enumerate(predictions):
        row = score_example(text, targets[i], answers[i], level)
        by_depth[str(depths[i])].append(row["accuracy"])
        by_length[length_bucket(lengths[i], edges)].append(row["accuracy"])
        records.append(
            {
                "source": sources[i],
                "target": targets[i],
                "prediction": text,
                "answer": answers[i],
                "depth": depths[i],
                "length": lengths[i],
                **row,
            }
        )
    keys = (
        records[0].keys() - {"source", "target", "prediction", "answer", "depth", "length"}
        if records
        else []
    )
    metrics = {k: float(np.mean([r[k] for r in records])) for k in sorted(keys)}
    metrics["n"] = len(records)

    def group(values: dict[str, list[float]]) -> dict[str, dict[str, float]]:
        return {k: {"accuracy": float(np.mean(v)), "n": len(v)} for k, v in values.items()}

    return EvalResult(
        metrics,
        group({d: by_depth[d] for d in sorted(by_depth, key=bucket_order)}),
        group({b: by_length[b] for b in sorted(by_length, key=bucket_order)}),
        records,
    )


def decode_ratio(data: Encoded) -> float:
    """Most target tokens per source token in an encoded (training) split: with the source's length
    it bounds how long an output may run, and it never looks at the rows being evaluated."""
    return max(
        (len(t) / max(len(s), 1) for s, t in zip(data.inputs, data.targets, strict=True)),
        default=1.0,
    )


def decode_budget(source_tokens: int, ratio: float) -> int:
    """New tokens allowed for a source of ``source_tokens``: the training ratio plus a 25 % margin."""
    return int(math.ceil(1.25 * ratio * source_tokens)) + 4


@torch.inference_mode()
def generate(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    split: datasets.Dataset,
    level: str,
    batch_size: int = 128,
    max_new_tokens: int | None = None,
    bf16: bool = False,
    progress: bool = False,
    ratio: float = 8.0,
) -> list[str]:
    """Greedy outputs for every row of ``split`` (in row order), batched with a KV cache, stopping at eos.

    Rows are generated in order of prompt length, so batches need little padding; a row leaves its
    batch once it has emitted eos (``decoding.greedy_decode``). Each batch may generate
    ``max_new_tokens``, or when that is None ``decode_budget`` of its longest prompt with ``ratio``
    target tokens per source token (``decode_ratio`` of the training split).
    """
    if len(split) == 0:
        return []
    data = encode(split, tokenizer, level, model.config.is_encoder_decoder)
    order = np.argsort([len(s) for s in data.inputs], kind="stable")
    device = next(model.parameters()).device
    autocast = (
        torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    )
    was_training = model.training
    model.eval()
    out: list[str] = [""] * len(split)
    batches = [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    for rows in progress_bar(batches, desc="generate", leave=False, disable=not progress):
        batch = {
            k: v.to(device) for k, v in prompt_batch(data, rows, tokenizer.pad_token_id).items()
        }
        budget = max_new_tokens or decode_budget(batch["input_ids"].shape[1], ratio)
        with autocast:
            # our own loop, not ``model.generate``: that one decodes every row of a batch until the
            # longest ends (45-54 % of its row-steps were rows already done); dropping finished rows
            # took 0.69x (one-shot) and 0.74x (few-shot) the time on 500 of chapter 5's test
            # prompts with its pre-trained llama-250k, one thread, and wrote identical texts
            ids = greedy_decode(
                model, batch["input_ids"], batch["attention_mask"], budget, tokenizer.eos_token_id
            )
        for row, text in zip(
            rows, tokenizer.batch_decode(ids, skip_special_tokens=True), strict=True
        ):
            out[row] = " ".join(text.split())
    model.train(was_training)
    return out


def evaluate(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    split: datasets.Dataset,
    level: str,
    batch_size: int = 128,
    max_new_tokens: int | None = None,
    bf16: bool = False,
    progress: bool = False,
    ratio: float = 8.0,
) -> EvalResult:
    """Generate for every row of ``split`` and score the outputs (see ``score`` and ``generate``)."""
    texts = generate(
        model, tokenizer, split, level, batch_size, max_new_tokens, bf16, progress, ratio
    )
    return score(texts, split, level)
