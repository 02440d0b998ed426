"""Greedy decoding that drops finished rows writes exactly what ``model.generate`` writes."""

from __future__ import annotations

import datasets
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from explain_utils.engine.batching import encode, prompt_batch
from explain_utils.engine.decoding import greedy_decode
from explain_utils.engine.evaluation import generate
from explain_utils.engine.models import build_model, resolve_model
from explain_utils.engine.tokenization import tokenizer_for_dataset
from explain_utils.tasks.splits import load_splits
from tests.engine_data import small_listops

BUDGET = 24


def _gpt2(tokenizer) -> GPT2LMHeadModel:
    """A tiny GPT-2 (learned absolute positions, as the hub's ``gpt2`` checkpoints)."""
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_embd=32,
        n_layer=2,
        n_head=4,
        n_positions=128,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return GPT2LMHeadModel(config)


def _writing_model(preset: str, tokenizer):
    """A random model whose rows stop at varied steps (an untrained one emits eos at once or never):
    large weights make its outputs vary from step to step, a larger eos row makes eos come."""
    torch.manual_seed(0)
    if preset == "gpt2-tiny":
        model = _gpt2(tokenizer)
    else:
        model, _ = build_model(resolve_model(preset), tokenizer)
    with torch.no_grad():
        for weight in (p for p in model.parameters() if p.dim() == 2):
            weight.normal_(0.0, 4.0 / weight.shape[1] ** 0.5)
        head = model.get_output_embeddings().weight
        head.normal_(0.0, 1.0)
        head[tokenizer.pad_token_id] = 0.0
        head[tokenizer.eos_token_id] *= 1.6
    return model.eval()


def _library_texts(model, tokenizer, batch, **cache) -> list[str]:
    ids = model.generate(
        **batch,
        max_new_tokens=BUDGET,
        do_sample=False,
        num_beams=1,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **cache,
    )
    if not model.config.is_encoder_decoder:
        ids = ids[:, batch["input_ids"].shape[1] :]
    return tokenizer.batch_decode(ids, skip_special_tokens=True)


@pytest.mark.parametrize("preset", ["llama-250k", "t5-50k", "gpt2-tiny"])
def test_greedy_decode_writes_what_generate_writes(preset, tmp_path):
    splits = load_splits(small_listops(tmp_path) / "listops")
    tokenizer = tokenizer_for_dataset(splits)
    model = _writing_model(preset, tokenizer)
    split = datasets.concatenate_datasets([splits["test"], splits["test_long"]])  # 4-20 tokens
    data = encode(split, tokenizer, "long", model.config.is_encoder_decoder)
    batch = prompt_batch(data, list(range(len(split))), tokenizer.pad_token_id)
    ids = greedy_decode(
        model, batch["input_ids"], batch["attention_mask"], BUDGET, tokenizer.eos_token_id
    )
    ours = tokenizer.batch_decode(ids, skip_special_tokens=True)
    assert ours == _library_texts(model, tokenizer, batch, cache_implementation="static")
    assert ours == _library_texts(model, tokenizer, batch)  # the default, growing cache
    # rows left the batch at different steps, and some ran to the budget
    lengths = [len(row) for row in ids]
    stopped = [n for n, row in zip(lengths, ids, strict=True) if row[-1] == tokenizer.eos_token_id]
    assert len(set(stopped)) >= 3 and BUDGET in lengths and all(n <= BUDGET for n in lengths)
    # ``generate`` returns the same texts, in row order, whatever the batches
    texts = [" ".join(t.split()) for t in ours]
    assert generate(model, tokenizer, split, "long", batch_size=5, max_new_tokens=BUDGET) == texts
