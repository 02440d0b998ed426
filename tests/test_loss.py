"""The prompt-weighted loss against transformers' own losses, and under gradient accumulation."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers.loss.loss_utils import ForCausalLMLoss

from explain_utils.engine.losses import prompt_weighted_loss, weighted_token_loss


def _batch(seed: int, batch: int, length: int, vocab: int):
    """Random logits, labels with right padding (-100) and a prompt prefix of random length per row."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(batch, length, vocab, generator=g, dtype=torch.float64).float()
    labels = torch.randint(0, vocab, (batch, length), generator=g)
    real = torch.randint(2, length + 1, (batch,), generator=g)  # tokens before padding
    prompt = torch.stack([torch.randint(1, int(r), (1,), generator=g)[0] for r in real])
    positions = torch.arange(length)
    labels = labels.masked_fill(positions >= real[:, None], -100)
    prompt_mask = positions < prompt[:, None]
    return logits, labels, prompt_mask


shapes = dict(
    seed=st.integers(0, 10_000),
    batch=st.integers(1, 5),
    length=st.integers(2, 12),
    vocab=st.integers(2, 30),
)


@settings(max_examples=40, deadline=None)
@given(**shapes)
def test_weight_zero_is_completion_only_loss(seed, batch, length, vocab):
    logits, labels, prompt_mask = _batch(seed, batch, length, vocab)
    ours = prompt_weighted_loss(logits, labels, prompt_mask, 0.0)
    hf = ForCausalLMLoss(logits, labels.masked_fill(prompt_mask, -100), vocab_size=vocab)
    if torch.isnan(hf):  # nothing to predict in the completion: HF gives NaN, we give 0
        assert ours.item() == 0.0
    else:
        torch.testing.assert_close(ours, hf, atol=1e-5, rtol=1e-5)


@settings(max_examples=40, deadline=None)
@given(**shapes)
def test_weight_one_is_plain_language_modelling(seed, batch, length, vocab):
    logits, labels, prompt_mask = _batch(seed, batch, length, vocab)
    ours = prompt_weighted_loss(logits, labels, prompt_mask, 1.0)
    torch.testing.assert_close(
        ours, ForCausalLMLoss(logits, labels, vocab_size=vocab), atol=1e-5, rtol=1e-5
    )


@settings(max_examples=40, deadline=None)
@given(**shapes, weight=st.floats(0.0, 1.0))
def test_intermediate_weight_matches_explicit_formula(seed, batch, length, vocab, weight):
    logits, labels, prompt_mask = _batch(seed, batch, length, vocab)
    ce = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, vocab),
        labels[:, 1:].reshape(-1),
        ignore_index=-100,
        reduction="none",
    )
    w = torch.where(prompt_mask[:, 1:], weight, 1.0).reshape(-1) * (
        labels[:, 1:].reshape(-1) != -100
    )
    expected = (ce * w).sum() / w.sum() if w.sum() > 0 else torch.tensor(0.0)
    torch.testing.assert_close(
        prompt_weighted_loss(logits, labels, prompt_mask, weight), expected, atol=1e-5, rtol=1e-5
    )


@settings(max_examples=25, deadline=None)
@given(**shapes, weight=st.floats(0.0, 1.0), split=st.integers(1, 4))
def test_accumulated_micro_batches_add_up_to_the_full_batch(
    seed, batch, length, vocab, weight, split
):
    logits, labels, prompt_mask = _batch(seed, batch + split, length, vocab)
    full = prompt_weighted_loss(logits, labels, prompt_mask, weight)
    shifted = torch.where(prompt_mask[:, 1:], weight, 1.0) * (labels[:, 1:] != -100)
    total = shifted.sum()
    parts = torch.tensor_split(torch.arange(len(labels)), split)
    summed = sum(
        prompt_weighted_loss(logits[p], labels[p], prompt_mask[p], weight, normalizer=total)
        for p in parts
    )
    torch.testing.assert_close(summed, full, atol=1e-5, rtol=1e-5)


def test_gradient_flows_only_through_weighted_tokens():
    logits, labels, prompt_mask = _batch(0, 2, 6, 5)
    logits.requires_grad_(True)
    prompt_weighted_loss(logits, labels, prompt_mask, 0.0).backward()
    # the logit at t predicts token t+1: no gradient where t+1 is prompt or padding
    predicts_prompt = prompt_mask[:, 1:] | (labels[:, 1:] == -100)
    assert torch.all(logits.grad[:, :-1][predicts_prompt] == 0)
    assert torch.all(logits.grad[:, -1] == 0)


def test_seq2seq_loss_matches_t5():
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)
    model = T5ForConditionalGeneration(
        T5Config(
            vocab_size=20,
            d_model=16,
            d_ff=32,
            d_kv=8,
            num_heads=2,
            num_layers=1,
            decoder_start_token_id=0,
            pad_token_id=0,
            dropout_rate=0.0,
        )
    )
    inputs = torch.randint(3, 20, (3, 7))
    labels = torch.randint(3, 20, (3, 5))
    labels[1, 3:] = -100
    out = model(input_ids=inputs, labels=labels)
    ours = weighted_token_loss(out.logits, labels, (labels != -100).float(), None)
    torch.testing.assert_close(ours, out.loss, atol=1e-5, rtol=1e-5)
