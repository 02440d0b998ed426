"""Encoding examples once, and padding lists of rows into tensors.

Examples are tokenized once into lists of ids; a batch is a list of row indices (which rows go
together is the sampler's concern: ``trainer.GroupedLengthSampler``).

Layouts:

- encoder-decoder: ``input_ids`` = source + eos, ``labels`` = target + eos;
- decoder-only: one sequence ``Question: source Answer: target eos``; ``prompt_mask`` marks the
  prompt (everything up to ``Answer:``), ``template_mask`` the template words alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import datasets
import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from explain_utils.common.names import ANSWER, QUESTION

IGNORE = -100
GROUP_COLUMN = "target_long"  # the explanation whose length groups rows into batches


@dataclass
class Encoded:
    """Token ids of a split at one explanation level (lists of python ints, one per example)."""

    is_encoder_decoder: bool
    inputs: list[list[int]]  # encoder input, or the decoder-only prompt
    targets: list[list[int]]  # completion ending in eos
    template: list[list[bool]] = field(
        default_factory=list
    )  # decoder-only: template words in ``inputs``
    # decoder-only, where the data mark them (``prompt_expression``): expression tokens in ``inputs``
    expression: list[list[bool]] = field(default_factory=list)
    # what batches are grouped by, one length per row and the same at every level (``encode``)
    group_lengths: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.inputs)

    def lengths(self) -> np.ndarray:
        """Sort key for bucketing: total tokens of an example."""
        return np.array([len(a) + len(b) for a, b in zip(self.inputs, self.targets, strict=True)])

    def batch_lengths(self) -> list[int]:
        """The length that groups rows into batches: ``group_lengths``, else the source's."""
        return self.group_lengths or [len(s) for s in self.inputs]

    def target_tokens(self, rows: list[int]) -> int:
        """Target (completion) tokens in ``rows``, eos included."""
        return sum(len(self.targets[i]) for i in rows)


def _ids(tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> list[list[int]]:
    return tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []


def encode(
    split: datasets.Dataset,
    tokenizer: PreTrainedTokenizerBase,
    level: str,
    is_encoder_decoder: bool,
) -> Encoded:
    """Tokenize a split's sources (``source_<level>`` where a format rewrites them, e.g. index
    hints) and ``target_<level>`` texts in the model family's layout."""
    eos = tokenizer.eos_token_id
    source_column = f"source_{level}" if f"source_{level}" in split.column_names else "source"
    sources, targets = list(split[source_column]), list(split[f"target_{level}"])
    # a leading space keeps sub-word tokenizers (GPT-2, T5) from gluing words; word-level ignores it
    target_ids = [t + [eos] for t in _ids(tokenizer, [" " + t for t in targets])]
    # decoder-only prompts (chapter 5's solved examples, instructions) vary in length far more
    # than the explanations of their answers, so those batches stay grouped by the source
    groups = _group_lengths(split) if is_encoder_decoder else []
    if is_encoder_decoder:
        inputs = [s + [eos] for s in _ids(tokenizer, sources)]
        return Encoded(True, inputs, target_ids, group_lengths=groups)
    # tokenized in pieces so the template tokens are known for any tokenizer
    question = _ids(tokenizer, [QUESTION])[0]
    answer = _ids(tokenizer, [" " + ANSWER])[0]
    inputs, template = [], []
    for body in _ids(tokenizer, [" " + s for s in sources]):
        inputs.append(question + body + answer)
        template.append([True] * len(question) + [False] * len(body) + [True] * len(answer))
    expression = []
    if "prompt_expression" in split.column_names:
        body = [len(i) - len(question) - len(answer) for i in inputs]
        expression = [
            [False] * len(question) + _marked(tokenizer, s, m, n) + [False] * len(answer)
            for s, m, n in zip(sources, split["prompt_expression"], body, strict=True)
        ]
    return Encoded(False, inputs, target_ids, template, expression, groups)


def _group_lengths(split: datasets.Dataset) -> list[int]:
    """Per row, a sort key for batching that every level shares: the words of its ``long``
    explanation (where the data have one), ties broken by the source's words. Measured on the
    quick ListOps train split (t5 tokenizer, batches of 32), padding share of batch positions
    grouped by the source / by this key: ``long`` 0.308 / 0.053, ``medium`` 0.098 / 0.134,
    ``short`` 0.034 / 0.132, ``none`` 0.008 / 0.113. Training time of a 300-step t5-100k run, one
    thread, median of 3 interleaved pairs: ``long`` 0.78x, ``medium`` 1.04x, ``none`` 1.08x; a
    ``long`` step costs three ``none`` steps, so a chapter's grid gains."""
    if GROUP_COLUMN not in split.column_names:
        return []
    sources = split["source"]
    return [
        1000 * len(t.split()) + len(s.split())
        for t, s in zip(split[GROUP_COLUMN], sources, strict=True)
    ]


def _marked(
    tokenizer: PreTrainedTokenizerBase, source: str, marks: str, n_tokens: int
) -> list[bool]:
    """Per token of a prompt, whether its word is marked ``1``; words tokenized one by one, which
    gives the whole text's ``n_tokens`` tokens for a word-level or a space-split (GPT-2)
    tokenizer, and an error for any other."""
    words = source.split()
    if len(words) != len(marks):
        raise ValueError(f"prompt_expression has {len(marks)} marks for {len(words)} words")
    pieces = _ids(tokenizer, [" " + w for w in words])
    out = [m == "1" for piece, m in zip(pieces, marks, strict=True) for _ in piece]
    if len(out) != n_tokens:
        raise ValueError(
            "prompt_expression needs a tokenizer that splits a prompt word by word "
            f"(the prompt has {n_tokens} tokens, its words {len(out)})"
        )
    return out


def _pad(seqs: list[list], value, left: bool = False) -> torch.Tensor:
    # filling a preallocated array is several times faster than torch.tensor on ragged lists
    width = max(len(s) for s in seqs)
    dtype = np.bool_ if isinstance(value, bool) else np.int64
    out = np.full((len(seqs), width), value, dtype=dtype)
    for row, seq in zip(out, seqs, strict=True):
        if left:
            row[width - len(seq) :] = seq
        else:
            row[: len(seq)] = seq
    return torch.from_numpy(out)


def collate(data: Encoded, rows: list[int], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded training tensors for ``rows``.

    Encoder-decoder: ``input_ids``, ``attention_mask``, ``labels`` (-100 on padding).
    Decoder-only: ``input_ids``, ``attention_mask``, ``labels`` (= ids, -100 on padding),
    ``prompt_mask`` and ``template_mask`` (bool).
    """
    if data.is_encoder_decoder:
        inputs = [data.inputs[i] for i in rows]
        return {
            "input_ids": _pad(inputs, pad_id),
            "attention_mask": _pad([[1] * len(s) for s in inputs], 0),
            "labels": _pad([data.targets[i] for i in rows], IGNORE),
        }
    seqs = [data.inputs[i] + data.targets[i] for i in rows]
    return {
        "input_ids": _pad(seqs, pad_id),
        "attention_mask": _pad([[1] * len(s) for s in seqs], 0),
        "labels": _pad(seqs, IGNORE),
        "prompt_mask": _pad(
            [[True] * len(data.inputs[i]) + [False] * len(data.targets[i]) for i in rows], False
        ),
        "template_mask": _pad(
            [data.template[i] + [False] * len(data.targets[i]) for i in rows], False
        ),
    } | (
        {
            "expression_mask": _pad(
                [data.expression[i] + [False] * len(data.targets[i]) for i in rows], False
            )
        }
        if data.expression
        else {}
    )


def padding_fraction(data: Encoded, batches: list[list[int]]) -> float:
    """Share of padding among all token positions of ``batches`` (inputs and targets)."""
    real = padded = 0
    for rows in batches:
        if data.is_encoder_decoder:
            parts = [[len(data.inputs[i]) for i in rows], [len(data.targets[i]) for i in rows]]
        else:
            parts = [[len(data.inputs[i]) + len(data.targets[i]) for i in rows]]
        for lens in parts:
            real += sum(lens)
            padded += max(lens) * len(lens)
    return 1.0 - real / padded if padded else 0.0


def prompt_batch(data: Encoded, rows: list[int], pad_id: int) -> dict[str, torch.Tensor]:
    """Generation inputs: encoder inputs right-padded, or decoder-only prompts left-padded."""
    inputs = [data.inputs[i] for i in rows]
    left = (
        not data.is_encoder_decoder
    )  # a causal LM continues from the last position, so pad on the left
    return {
        "input_ids": _pad(inputs, pad_id, left),
        "attention_mask": _pad([[1] * len(s) for s in inputs], 0, left),
    }
