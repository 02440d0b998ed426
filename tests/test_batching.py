"""Encoding layouts and collation."""

from __future__ import annotations

import pytest

from explain_utils.common.names import ANSWER, QUESTION
from explain_utils.engine.batching import IGNORE, collate, encode
from explain_utils.engine.tokenization import tokenizer_for_dataset
from explain_utils.tasks.splits import load_splits
from tests.engine_data import small_listops


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    splits = load_splits(small_listops(tmp_path_factory.mktemp("data"), n_train=300) / "listops")
    return splits, tokenizer_for_dataset(splits)


def test_encoder_decoder_layout(setup):
    splits, tokenizer = setup
    data = encode(splits["train"], tokenizer, "short", is_encoder_decoder=True)
    row = splits["train"][0]
    assert tokenizer.decode(data.inputs[0]) == row["source"] + " </s>"
    assert tokenizer.decode(data.targets[0]) == row["target_short"] + " </s>"
    batch = collate(data, [0, 1, 2], tokenizer.pad_token_id)
    assert set(batch) == {"input_ids", "attention_mask", "labels"}
    assert (batch["labels"] == IGNORE).sum() == batch["labels"].numel() - sum(
        len(data.targets[i]) for i in range(3)
    )


def test_decoder_only_layout_marks_prompt_and_template(setup):
    splits, tokenizer = setup
    data = encode(splits["train"], tokenizer, "none", is_encoder_decoder=False)
    row = splits["train"][0]
    batch = collate(data, [0, 1], tokenizer.pad_token_id)
    ids = batch["input_ids"][0].tolist()
    words = tokenizer.convert_ids_to_tokens(ids)
    n = len(data.inputs[0]) + len(data.targets[0])
    assert " ".join(words[:n]) == f"{QUESTION} {row['source']} {ANSWER} {row['target_none']} </s>"
    prompt = batch["prompt_mask"][0].tolist()
    assert prompt[: len(data.inputs[0])] == [True] * len(data.inputs[0]) and not any(
        prompt[len(data.inputs[0]) :]
    )
    template = [w for w, t in zip(words, batch["template_mask"][0].tolist(), strict=True) if t]
    assert template == [QUESTION, ANSWER]
