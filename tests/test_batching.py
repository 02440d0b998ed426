"""Encoding layouts and collation."""

from __future__ import annotations

import pytest

from explain_utils.common.names import ANSWER, QUESTION
from explain_utils.engine import run_store
from explain_utils.engine.batching import IGNORE, collate, encode
from explain_utils.engine.tokenization import tokenizer_for_dataset
from explain_utils.engine.train_config import TrainConfig
from explain_utils.engine.training import locate_run
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


def test_t5_batches_group_by_the_long_explanation_and_decoder_only_by_the_source(setup):
    splits, tokenizer = setup
    t5 = encode(splits["train"], tokenizer, "none", is_encoder_decoder=True)
    causal = encode(splits["train"], tokenizer, "none", is_encoder_decoder=False)
    long_words = [len(t.split()) for t in splits["train"]["target_long"]]
    assert [k // 1000 for k in t5.batch_lengths()] == long_words
    assert causal.batch_lengths() == [len(s) for s in causal.inputs]


def test_decoder_only_runs_keep_the_engine_version_whose_batches_they_still_use(tmp_path):
    data_dir = small_listops(tmp_path)
    for model, engine in (
        ("t5-50k", run_store.ENGINE_VERSION),
        ("llama-250k", run_store.DECODER_ONLY_ENGINE_VERSION),
    ):
        config = TrainConfig(model=model)
        run_dir, fingerprint = locate_run(config, data_dir, tmp_path / "runs")
        hashed = config.hashed() | {"model_files": None}
        assert run_dir.name.endswith(run_store.run_key(hashed, fingerprint, engine))
