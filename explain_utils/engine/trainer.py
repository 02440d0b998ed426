"""Our pieces of ``transformers``' ``Trainer``: the prompt-weighted loss, level-independent batches,
and the learning-curve callback.

- ``ExplainTrainer.compute_loss`` computes every loss of the book (target cross-entropy for T5;
  completion-only, PLW and IM for decoder-only models) from the masks the collator builds, divided
  by the sum of the step's weights (or its completion tokens), so gradient accumulation and data
  parallelism give the loss of the whole batch.
- ``GroupedLengthSampler``: ``transformers``' own length grouping (shuffle, sort inside
  mega-batches of 50 batches), keyed by a length every explanation level shares
  (``Encoded.batch_lengths``: the ``long`` explanation's, where the data have one): for one seed
  every level trains on the same batches of examples, whatever its targets' lengths. Its order is
  a pure function of (seed, epoch), so a resumed run replays it exactly.
- ``CurveCallback``: at every ``eval_every`` steps, greedy decoding on validation rows (and, for
  decoder-only runs, the completion loss on train and held-out rows); the points, the examples and
  tokens seen and the training time are written beside each checkpoint so a resume continues them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer, TrainerCallback
from transformers.trainer_pt_utils import LengthGroupedSampler

from explain_utils.common.files import write_json
from explain_utils.engine.batching import Encoded, collate
from explain_utils.engine.losses import loss_normalizer, token_weights, weighted_token_loss
from explain_utils.engine.train_config import TrainConfig

PROGRESS_NAME = "progress.json"


class RowDataset(torch.utils.data.Dataset):
    """Row indices of an encoded split; ``collate`` turns a list of them into padded tensors."""

    def __init__(self, data: Encoded, pad_id: int) -> None:
        self.data, self.pad_id = data, pad_id

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, row: int) -> dict[str, int]:
        return {"row": row}

    def collate(self, features: list[dict[str, int]]) -> dict[str, torch.Tensor]:
        return collate(self.data, [f["row"] for f in features], self.pad_id)


class GroupedLengthSampler(LengthGroupedSampler):
    """``LengthGroupedSampler`` on given lengths with a generator reseeded from (seed, epoch)."""

    def __init__(self, batch_size: int, lengths: list[int], seed: int) -> None:
        super().__init__(batch_size, lengths=lengths)
        self.seed = seed
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.generator = torch.Generator().manual_seed(self.seed * 100_003 + epoch)


def grouped_batches(data: Encoded, batch_size: int, seed: int) -> list[list[int]]:
    """The first epoch's batches (row indices) that ``GroupedLengthSampler`` gives ``data``."""
    order = list(GroupedLengthSampler(batch_size, data.batch_lengths(), seed))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


class ExplainTrainer(Trainer):
    """``Trainer`` with our loss (see the module docstring) and length-grouped batches."""

    loss_is_scaled_for_ga = True  # compute_loss divides by the whole step's normalizer

    def __init__(self, *args: Any, run_config: TrainConfig, counters: Counters, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.run_config, self.counters = run_config, counters

    def _get_train_sampler(self, train_dataset=None) -> torch.utils.data.Sampler:
        data = (train_dataset or self.train_dataset).data
        batch = self.args.train_batch_size * self.args.gradient_accumulation_steps
        return GroupedLengthSampler(batch, data.batch_lengths(), self.args.seed)

    def _get_num_items_in_batch(self, batch_samples: list, device: torch.device) -> torch.Tensor:
        c = self.run_config
        total = sum(
            loss_normalizer(
                b, c.loss_mode, c.prompt_loss_weight, c.loss_normalization, c.prompt_loss_tokens
            )
            for b in batch_samples
        )
        total = torch.as_tensor(total, dtype=torch.float32, device=device)
        if self.args.world_size > 1:  # every process divides by the step's total
            total = self.accelerator.gather(total[None]).sum()
        return total

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        c = self.run_config
        labels, weights = token_weights(
            inputs, c.loss_mode, c.prompt_loss_weight, c.prompt_loss_tokens
        )
        if "prompt_mask" in inputs:
            logits = model(
                input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]
            ).logits[:, :-1]
        else:  # shifted here rather than passing labels, so the model computes no loss of its own
            shift = self.accelerator.unwrap_model(model).prepare_decoder_input_ids_from_labels
            logits = model(
                input_ids=inputs["input_ids"],
                attention_mask=inputs["attention_mask"],
                decoder_input_ids=shift(labels=inputs["labels"]),
            ).logits
        normalizer = num_items_in_batch if num_items_in_batch is not None else weights.sum()
        loss = weighted_token_loss(logits, labels, weights, normalizer)
        if self.args.world_size > 1:  # DDP averages gradients; the normalizer is already global
            loss = loss * self.args.world_size
        if model.training:
            self.counters.count(inputs)
        return (loss, logits) if return_outputs else loss


@dataclass
class Counters:
    """What a run has seen and its learning curve so far (saved beside every checkpoint)."""

    examples_seen: int = 0
    target_tokens_seen: int = 0
    tokens_seen: int = 0
    train_seconds: float = 0.0
    curve: list[dict[str, Any]] = field(default_factory=list)
    scored: dict[str, Any] = field(default_factory=dict)  # eval_splits at ``score_step``, if set
    # the curve point of highest validation accuracy so far ("step", "accuracy"), if
    # ``score_at_best``; a default, so the counters of checkpoints saved before it still load
    best: dict[str, Any] = field(default_factory=dict)

    def count(self, batch: dict[str, torch.Tensor]) -> None:
        """Add one micro-batch: its examples, completion tokens and all real tokens."""
        tokens = int(batch["attention_mask"].sum())
        if "prompt_mask" in batch:
            target = int((batch["attention_mask"].bool() & ~batch["prompt_mask"]).sum())
        else:
            target = int((batch["labels"] != -100).sum())
            tokens += target
        self.examples_seen += int(batch["input_ids"].shape[0])
        self.target_tokens_seen += target
        self.tokens_seen += tokens

    def save(self, checkpoint_dir: Path) -> None:
        write_json(checkpoint_dir / PROGRESS_NAME, asdict(self))

    @classmethod
    def load(cls, checkpoint_dir: Path) -> Counters:
        return cls(**json.loads((checkpoint_dir / PROGRESS_NAME).read_text(encoding="utf-8")))


class CurveCallback(TrainerCallback):
    """Learning-curve points at every logging step, counters saved with each checkpoint.

    ``evaluate_point(model)`` returns the metrics of one curve point; ``on_step`` is called after
    every optimizer step (the tests use it to simulate a kill); ``at_step(step, model)`` after
    every step too, before that step's point exists; ``at_point(point, model)`` once a point is
    on the curve (e.g. keep the model of the best point).
    """

    def __init__(
        self,
        counters: Counters,
        evaluate_point: Callable[[torch.nn.Module], dict[str, float]],
        on_step: Callable[[int], None] | None = None,
        at_step: Callable[[int, torch.nn.Module], None] | None = None,
        at_point: Callable[[dict[str, Any], torch.nn.Module], None] | None = None,
    ) -> None:
        self.counters, self.evaluate_point, self.on_step = counters, evaluate_point, on_step
        self.at_step = at_step  # e.g. score or keep the model at chosen steps
        self.at_point = at_point
        self._started = time.perf_counter()

    def on_step_begin(self, args, state, control, **kwargs):
        self._started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.counters.train_seconds += time.perf_counter() - self._started
        if self.at_step is not None and state.is_world_process_zero:
            self.at_step(state.global_step, kwargs["model"])
        if self.on_step is not None:
            self.on_step(state.global_step)

    def on_log(self, args, state, control, logs=None, model=None, **kwargs):
        if not logs or "loss" not in logs or not state.is_world_process_zero:
            return
        c = self.counters
        point = {
            "step": state.global_step,
            "examples_seen": c.examples_seen,
            "target_tokens_seen": c.target_tokens_seen,
            "tokens_seen": c.tokens_seen,
            "train_loss": float(logs["loss"]),
            "learning_rate": float(logs.get("learning_rate", 0.0)),
            "split": "validation",
            **self.evaluate_point(model),
            "elapsed_seconds": c.train_seconds,
        }
        c.curve.append(point)
        if self.at_point is not None:
            self.at_point(point, model)

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            self.counters.save(checkpoint)


def last_checkpoint(output_dir: Path) -> Path | None:
    """The newest checkpoint that was saved to the end (its counters are written last)."""
    done = [p for p in output_dir.glob("checkpoint-*") if (p / PROGRESS_NAME).is_file()]
    return max(done, key=lambda p: int(p.name.split("-")[1]), default=None)
