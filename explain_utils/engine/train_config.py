"""``TrainConfig``: everything that defines a training run, validated once before any work."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from explain_utils.common.checks import check_choice, check_choices, check_float, check_int
from explain_utils.common.names import (
    DEVICES,
    LOSS_MODES,
    LOSS_NORMALIZATIONS,
    SCHEDULERS,
    TARGET_FORMATS,
    TRAIN_TASKS,
)
from explain_utils.engine.models import resolve_model

EVAL_SPLITS: tuple[str, ...] = ("validation", "test", "test_long", "validation_long", "train")
# fields that do not change a run's numbers, so they stay out of its cache key
_NOT_HASHED = frozenset({"progress", "checkpoint_every", "save_model"})
# fields added after runs were cached: left out of the key at their default, so old keys still hold
_HASHED_UNLESS_DEFAULT: dict[str, Any] = {
    "eval_loss": False,
    "cpu_threads": 1,
    "loss_normalization": "weights",
    "prompt_loss_tokens": "all",
    "score_step": None,
    "save_model_every": 0,
    "score_at_best": False,
}
PROMPT_LOSS_TOKENS: tuple[str, ...] = ("all", "words")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (``validate`` checks it before any work)."""

    model: str = "t5-1m"  # preset (models.PRESETS), checkpoint directory or hub name
    task: str = "listops"  # sub-directory of data_dir (common.names.TRAIN_TASKS)
    level: str = "none"  # the targets: a paper level or a book format (common.names.TARGET_FORMATS)
    train_size: int | None = None  # first N rows of the train split; None = all
    steps: int = 1000  # optimizer steps
    batch_size: int = 32  # examples per optimizer step (all processes and micro-batches together)
    grad_accum_steps: int = 1  # micro-batches per step (memory, not maths: the loss is the same)
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    scheduler: str = "linear"
    warmup_ratio: float = 0.05
    max_grad_norm: float = 1.0
    seed: int = 0
    loss_mode: str = (
        "completion"  # decoder-only: completion | plw | im; encoder-decoder: completion
    )
    prompt_loss_weight: float = 0.0  # weight of prompt tokens in "plw" mode, in [0, 1]
    # "weights": the loss is divided by the sum of the token weights (the PLW paper);
    # "completion": by the completion tokens alone (PLW then only adds prompt gradient)
    loss_normalization: str = "weights"
    # which prompt tokens a prompt loss (plw, im) covers: "all", or "words" — the tokens the data
    # mark as part of an expression (a ``prompt_expression`` column) are left out of it
    prompt_loss_tokens: str = "all"
    eval_every: int = 250  # steps between learning-curve points (0 = only at the end)
    eval_examples: int = 200  # validation rows per learning-curve point
    eval_splits: tuple[str, ...] = ("test", "test_long")  # evaluated in full at the end
    # evaluate ``eval_splits`` at this step instead of the end, and train on to ``steps`` for the
    # learning curve (None: at the end); with a constant rate the model at step S is the run of S
    score_step: int | None = None
    # evaluate ``eval_splits`` with the model of the curve point of highest validation accuracy
    # (ties: the earlier point), not the final one: early stopping chosen on validation alone, for
    # small training sets that overfit before ``steps``; the run still trains on for its curve
    score_at_best: bool = False
    save_model_every: int = 0  # also keep the model every so many steps (model-step-N), 0: never
    eval_batch_size: int = 128
    # None: from the train split, the longest target per source token times the input's length
    max_new_tokens: int | None = None
    # decoder-only: at every curve point also the completion-only loss on train and validation rows
    eval_loss: bool = False
    bf16: bool = False  # bfloat16 autocast (CPU with AVX-512 BF16, or GPU)
    # intra-op threads of a CPU run: part of the run's definition, because the thread count
    # changes the order of float sums and so the numbers (measured: one seed's test accuracy
    # moved by 5 points between 1 and 2 threads); 1 = what the grid's parallel workers use
    cpu_threads: int = 1
    device: str = "auto"  # auto (GPU when present) | cpu | cuda
    checkpoint_every: int | None = None  # steps; None = at every evaluation
    save_model: bool = True
    progress: bool = True

    def validate(self) -> None:
        """Raise ValueError (or FileNotFoundError for a checkpoint path) naming the bad parameter."""
        encoder_decoder = resolve_model(self.model).is_encoder_decoder
        check_choice("task", self.task, TRAIN_TASKS)
        check_choice("level", self.level, TARGET_FORMATS)
        if self.train_size is not None:
            check_int("train_size", self.train_size, minimum=1)
        check_int("steps", self.steps, minimum=1)
        check_int("batch_size", self.batch_size, minimum=1)
        check_int("grad_accum_steps", self.grad_accum_steps, minimum=1, maximum=self.batch_size)
        if self.batch_size % self.grad_accum_steps:
            raise ValueError(
                f"batch_size must be a multiple of grad_accum_steps ({self.grad_accum_steps}); "
                f"got {self.batch_size}"
            )
        check_float("learning_rate", self.learning_rate, 0.0, 1.0)
        check_float("weight_decay", self.weight_decay, 0.0, 1.0)
        check_choice("scheduler", self.scheduler, SCHEDULERS)
        check_float("warmup_ratio", self.warmup_ratio, 0.0, 1.0)
        check_float("max_grad_norm", self.max_grad_norm, 0.0, 1e9)
        check_int("seed", self.seed, minimum=0)
        modes = ("completion",) if encoder_decoder else LOSS_MODES
        check_choice("loss_mode", self.loss_mode, modes)
        check_float("prompt_loss_weight", self.prompt_loss_weight, 0.0, 1.0)
        check_choice("loss_normalization", self.loss_normalization, LOSS_NORMALIZATIONS)
        check_choice("prompt_loss_tokens", self.prompt_loss_tokens, PROMPT_LOSS_TOKENS)
        if self.score_step is not None:
            check_int("score_step", self.score_step, minimum=1, maximum=self.steps)
        check_int("save_model_every", self.save_model_every, minimum=0)
        self._validate_evaluation(encoder_decoder)
        check_choice("bf16", self.bf16, (False, True))
        check_int("cpu_threads", self.cpu_threads, minimum=1, maximum=256)
        check_choice("device", self.device, DEVICES)
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                "device must be one of 'auto', 'cpu' on this machine (no CUDA device); got 'cuda'"
            )
        if self.checkpoint_every is not None:
            check_int("checkpoint_every", self.checkpoint_every, minimum=1)

    def _validate_evaluation(self, encoder_decoder: bool) -> None:
        check_int("eval_every", self.eval_every, minimum=0)
        check_int("eval_examples", self.eval_examples, minimum=1)
        check_choices("eval_splits", list(self.eval_splits), EVAL_SPLITS)
        check_int("eval_batch_size", self.eval_batch_size, minimum=1)
        check_choice("score_at_best", self.score_at_best, (False, True))
        if self.score_at_best:
            if self.score_step is not None:
                raise ValueError(
                    "score_at_best must be False when score_step is set (one scored step); "
                    f"got score_step={self.score_step}"
                )
            if not 0 < self.eval_every <= self.steps:  # the best point needs a curve point
                raise ValueError(
                    f"score_at_best needs eval_every in [1, steps={self.steps}] (a learning "
                    f"curve to choose from); got eval_every={self.eval_every}"
                )
        if self.max_new_tokens is not None:
            check_int("max_new_tokens", self.max_new_tokens, minimum=1)
        check_choice("eval_loss", self.eval_loss, (False, True))
        if self.eval_loss and encoder_decoder:
            raise ValueError(
                "eval_loss must be False for an encoder-decoder model (decoder-only only)"
            )

    def hashed(self) -> dict[str, Any]:
        """The fields that decide the run's numbers (the cache key's config part)."""
        return {
            k: v
            for k, v in dataclasses.asdict(self).items()
            if k not in _NOT_HASHED
            and not (k in _HASHED_UNLESS_DEFAULT and v == _HASHED_UNLESS_DEFAULT[k])
        }
