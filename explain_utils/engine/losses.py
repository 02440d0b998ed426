"""Token losses: plain cross-entropy over targets and the prompt-weighted causal-LM loss.

Loss modes of a decoder-only run (Huerta-Enochian & Ko 2024; Shi et al. 2024):

- ``completion``: loss on the completion only (prompt weight 0, "instruction tuning");
- ``plw``: prompt tokens weighted by ``prompt_loss_weight`` in [0, 1] (1 = plain language modelling);
- ``im``: Instruction Modelling — loss on instruction and output tokens, the template
  (``Question:``/``Answer:``) masked.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from explain_utils.common.names import LOSS_MODES
from explain_utils.engine.batching import Encoded, collate

__all__ = [
    "LOSS_MODES",
    "completion_loss",
    "loss_normalizer",
    "prompt_weighted_loss",
    "token_weights",
    "weighted_token_loss",
]


def weighted_token_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    weights: torch.Tensor,
    normalizer: float | torch.Tensor | None,
) -> torch.Tensor:
    """sum(weight × token cross-entropy) / normalizer (default: the sum of the weights)."""
    losses = F.cross_entropy(
        logits.float().flatten(0, 1), labels.flatten().clamp(min=0), reduction="none"
    )
    total = (losses * weights.flatten()).sum()
    denominator = weights.sum() if normalizer is None else normalizer
    # an all-zero batch (e.g. PLW 0 with no completion) gives 0, not NaN, and keeps the graph
    return total / denominator if float(denominator) > 0 else total * 0.0


def prompt_weighted_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    prompt_mask: torch.Tensor,
    prompt_loss_weight: float,
    normalizer: float | torch.Tensor | None = None,
) -> torch.Tensor:
    """Causal-LM cross-entropy with prompt tokens weighted by ``prompt_loss_weight``.

    ``logits`` [B, T, V] and ``labels`` [B, T] as a Hugging Face causal LM takes them (unshifted,
    -100 where ignored); this function shifts them so position t predicts token t+1.
    ``prompt_mask`` [B, T] is True on prompt positions (judged at the predicted token). Weights:
    completion tokens 1, prompt tokens ``prompt_loss_weight``, ignored/padding 0.

    Normalisation: the weighted sum is divided by the **sum of the weights** in the batch (as the
    public PLW implementation does), so weight 0 is exactly completion-only training and weight 1
    exactly plain language modelling (both equal to ``transformers``' own loss). Under gradient
    accumulation (or data parallelism) pass ``normalizer`` = the sum of the weights over the whole
    optimizer step (divided by the number of processes, whose gradients are averaged): the
    micro-batch losses then add up to the loss of the full batch, not to a mean of per-micro-batch
    means that would over-weight short micro-batches.
    """
    labels, prompt_mask = labels[:, 1:], prompt_mask[:, 1:]
    logits = logits[:, :-1]
    weights = torch.where(prompt_mask, float(prompt_loss_weight), 1.0) * (labels != -100)
    return weighted_token_loss(logits, labels, weights, normalizer)


def token_weights(
    batch: dict[str, torch.Tensor],
    loss_mode: str,
    prompt_loss_weight: float,
    prompt_loss_tokens: str = "all",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Labels and loss weights of a collated batch, aligned with the positions that predict them.

    Encoder-decoder: every target token weighs 1. Decoder-only (shifted, so position t predicts
    token t+1): completion tokens 1; prompt tokens 0 (``completion``), ``prompt_loss_weight``
    (``plw``) or 1 with the template words masked (``im``); padding 0. ``prompt_loss_tokens``
    ``"words"``: prompt tokens marked as expression (``expression_mask``) weigh 0 as well.
    """
    labels = batch["labels"]
    if "prompt_mask" not in batch:
        return labels, (labels != -100).float()
    labels, prompt = labels[:, 1:], batch["prompt_mask"][:, 1:]
    if loss_mode == "im":  # Shi et al.: loss over instruction and output, template masked
        labels = labels.masked_fill(batch["template_mask"][:, 1:], -100)
    weight = {"completion": 0.0, "plw": float(prompt_loss_weight), "im": 1.0}[loss_mode]
    weights = torch.where(prompt, weight, 1.0) * (labels != -100)
    if prompt_loss_tokens == "words":
        if "expression_mask" not in batch:
            raise ValueError(
                "prompt_loss_tokens 'words' needs data that mark expression words "
                "(a prompt_expression column)"
            )
        weights = weights * ~batch["expression_mask"][:, 1:]
    return labels, weights


def loss_normalizer(
    batch: dict[str, torch.Tensor],
    loss_mode: str,
    prompt_loss_weight: float,
    normalization: str,
    prompt_loss_tokens: str = "all",
) -> torch.Tensor:
    """What a batch's weighted loss is divided by: the sum of its weights, or its completion tokens."""
    labels, weights = token_weights(batch, loss_mode, prompt_loss_weight, prompt_loss_tokens)
    if normalization == "weights" or "prompt_mask" not in batch:
        return weights.sum()
    return ((labels != -100) & ~batch["prompt_mask"][:, 1:]).sum().float()


@torch.inference_mode()
def completion_loss(
    model: torch.nn.Module, data: Encoded, rows: list[int], pad_id: int, batch_size: int = 128
) -> float:
    """Mean cross-entropy per completion token (eos included) of decoder-only ``rows``, teacher-forced.

    The quantity both prompt-loss papers compare between training and held-out data: whatever
    the training loss weighted, this counts only the completion, so runs are comparable.
    """
    if data.is_encoder_decoder:
        raise ValueError("completion_loss needs decoder-only data (is_encoder_decoder=False)")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for start in range(0, len(rows), batch_size):
        batch = {
            k: v.to(device)
            for k, v in collate(data, rows[start : start + batch_size], pad_id).items()
        }
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        labels, prompt = batch["labels"][:, 1:], batch["prompt_mask"][:, 1:]
        weights = ((labels != -100) & ~prompt).float()
        total += float(weighted_token_loss(logits[:, :-1], labels, weights, 1.0))
        count += int(weights.sum())
    model.train(was_training)
    return total / max(count, 1)
