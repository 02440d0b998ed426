"""The Trainer-based engine: its losses equal transformers' own where they should, its batches do
not depend on the explanation level, and the vocabulary and decoding length come from training."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import TrainingArguments

from explain_utils.engine.batching import collate, encode
from explain_utils.engine.evaluation import decode_budget, decode_ratio
from explain_utils.engine.models import build_model, resolve_model
from explain_utils.engine.tokenization import UNK, tokenizer_for_dataset
from explain_utils.engine.train_config import TrainConfig
from explain_utils.engine.trainer import (
    PROGRESS_NAME,
    Counters,
    ExplainTrainer,
    GroupedLengthSampler,
    RowDataset,
)
from explain_utils.tasks.splits import load_splits
from tests.engine_data import small_listops

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    return load_splits(small_listops(tmp_path_factory.mktemp("data"), n_train=200) / "listops")


def _trainer_loss(model, data, rows, pad_id, tmp_path, **config) -> torch.Tensor:
    """The loss ExplainTrainer computes for one optimizer step over ``rows`` (one micro-batch)."""
    run = TrainConfig(model="llama-250k", **config)
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none")
    dataset = RowDataset(data, pad_id)
    trainer = ExplainTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=dataset.collate,
        run_config=run,
        counters=Counters(),
    )
    batch = collate(data, rows, pad_id)
    normalizer = trainer._get_num_items_in_batch([batch], torch.device("cpu"))
    with torch.no_grad():
        return trainer.compute_loss(model, batch, num_items_in_batch=normalizer)


@pytest.fixture(scope="module")
def causal(splits):
    tokenizer = tokenizer_for_dataset(splits["train"])
    torch.manual_seed(0)
    model, tokenizer = build_model(resolve_model("llama-250k"), tokenizer)
    data = encode(splits["train"], tokenizer, "short", is_encoder_decoder=False)
    return model.eval(), tokenizer, data


def _hf_loss(model, batch, labels) -> torch.Tensor:
    with torch.no_grad():
        out = model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels
        )
    return out.loss


def test_plw_zero_is_completion_only_and_plw_one_is_the_full_lm_loss(causal, tmp_path):
    model, tokenizer, data = causal
    rows = list(range(16))
    batch = collate(data, rows, tokenizer.pad_token_id)
    pad = tokenizer.pad_token_id
    completion_only = _hf_loss(
        model, batch, batch["labels"].masked_fill(batch["prompt_mask"], -100)
    )
    full = _hf_loss(model, batch, batch["labels"])
    plw0 = _trainer_loss(model, data, rows, pad, tmp_path, loss_mode="plw", prompt_loss_weight=0.0)
    plw1 = _trainer_loss(model, data, rows, pad, tmp_path, loss_mode="plw", prompt_loss_weight=1.0)
    completion = _trainer_loss(model, data, rows, pad, tmp_path, loss_mode="completion")
    assert abs(float(plw0 - completion_only)) < TOLERANCE
    assert abs(float(completion - completion_only)) < TOLERANCE
    assert abs(float(plw1 - full)) < TOLERANCE
    im = _trainer_loss(model, data, rows, pad, tmp_path, loss_mode="im")
    no_template = batch["labels"].masked_fill(batch["template_mask"], -100)
    assert abs(float(im - _hf_loss(model, batch, no_template))) < TOLERANCE


def test_completion_normalisation_only_adds_prompt_gradient(causal, tmp_path):
    """Divided by the completion tokens, PLW w gives completion loss + w x prompt loss x ratio."""
    model, tokenizer, data = causal
    rows, pad = list(range(16)), tokenizer.pad_token_id
    batch = collate(data, rows, pad)
    labels = batch["labels"][:, 1:]
    prompt = batch["prompt_mask"][:, 1:] & (labels != -100)
    completion = (~batch["prompt_mask"][:, 1:]) & (labels != -100)
    n_prompt, n_completion = float(prompt.sum()), float(completion.sum())
    prompt_only = _hf_loss(model, batch, batch["labels"].masked_fill(~batch["prompt_mask"], -100))
    completion_only = _hf_loss(
        model, batch, batch["labels"].masked_fill(batch["prompt_mask"], -100)
    )
    for weight in (0.0, 0.1, 1.0):
        ours = _trainer_loss(
            model, data, rows, pad, tmp_path, loss_mode="plw", prompt_loss_weight=weight,
            loss_normalization="completion",
        )  # fmt: skip
        expected = completion_only + weight * prompt_only * n_prompt / n_completion
        assert abs(float(ours - expected)) < 1e-4


def test_t5_loss_is_the_models_own(splits, tmp_path):
    tokenizer = tokenizer_for_dataset(splits["train"])
    torch.manual_seed(0)
    model, tokenizer = build_model(resolve_model("t5-50k"), tokenizer)
    data = encode(splits["train"], tokenizer, "medium", is_encoder_decoder=True)
    rows = list(range(12))
    batch = collate(data, rows, tokenizer.pad_token_id)
    run = TrainConfig(model="t5-50k")
    dataset = RowDataset(data, tokenizer.pad_token_id)
    trainer = ExplainTrainer(
        model=model.eval(),
        args=TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none"),
        train_dataset=dataset,
        data_collator=dataset.collate,
        run_config=run,
        counters=Counters(),
    )
    with torch.no_grad():
        ours = trainer.compute_loss(model, batch, num_items_in_batch=None)
        hf = model(**batch).loss
    assert abs(float(ours - hf)) < TOLERANCE


def test_batches_are_the_same_at_every_level(splits):
    tokenizer = tokenizer_for_dataset(splits["train"])
    orders = {}
    for level in ("none", "long"):
        data = encode(splits["train"], tokenizer, level, is_encoder_decoder=True)
        sampler = GroupedLengthSampler(16, data.batch_lengths(), seed=3)
        orders[level] = list(sampler)
    assert orders["none"] == orders["long"]
    assert sorted(orders["none"]) == list(range(len(splits["train"])))
    # keyed on the long explanation's length, so long batches hold targets of similar length
    data = encode(splits["train"], tokenizer, "none", is_encoder_decoder=True)
    rows = zip(splits["train"]["target_long"], splits["train"]["source"], strict=True)
    assert data.batch_lengths() == [1000 * len(t.split()) + len(s.split()) for t, s in rows]


def test_sampler_order_is_a_function_of_seed_and_epoch():
    lengths = torch.randint(3, 30, (500,), generator=torch.Generator().manual_seed(0)).tolist()
    a = GroupedLengthSampler(32, lengths, seed=1)
    first = list(a)
    assert first == list(GroupedLengthSampler(32, lengths, seed=1))
    a.set_epoch(1)
    assert list(a) != first
    a.set_epoch(0)
    assert list(a) == first
    assert list(GroupedLengthSampler(32, lengths, seed=2)) != first


def test_vocabulary_comes_from_the_train_split_and_unseen_words_are_unknown(splits):
    tokenizer = tokenizer_for_dataset(splits["train"])
    ids = tokenizer("[MIN 3 never_seen ]", add_special_tokens=False)["input_ids"]
    assert tokenizer.convert_ids_to_tokens(ids)[2] == UNK
    # every word of the longer test split was seen in training (same symbols, longer expressions)
    for text in splits["test_long"]["source"]:
        assert tokenizer.unk_token_id not in tokenizer(text, add_special_tokens=False)["input_ids"]


def test_decoding_length_comes_from_the_train_split(splits):
    tokenizer = tokenizer_for_dataset(splits["train"])
    data = encode(splits["train"], tokenizer, "long", is_encoder_decoder=True)
    ratio = decode_ratio(data)
    assert all(len(t) <= ratio * len(s) for s, t in zip(data.inputs, data.targets, strict=True))
    assert decode_budget(20, ratio) > decode_budget(10, ratio)  # longer inputs, longer outputs


def test_counters_of_an_older_checkpoint_load(tmp_path):
    counters = Counters(examples_seen=8, best={"step": 4, "accuracy": 0.5})
    counters.save(tmp_path)
    assert Counters.load(tmp_path) == counters
    saved = json.loads((tmp_path / PROGRESS_NAME).read_text())
    del saved["best"]  # written before the field existed
    (tmp_path / PROGRESS_NAME).write_text(json.dumps(saved))
    assert Counters.load(tmp_path).best == {}
