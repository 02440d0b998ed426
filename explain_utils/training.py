"""Training: one entry point, ``train(config, data_dir, runs_dir)``, for every experiment.

A hand-written loop over length-bucketed batches (see ``batching``): on our tiny models it is
faster than ``Seq2SeqTrainer`` (``python -m explain_utils.bench`` measures both side by side).
``accelerate`` places the model and, under ``accelerate launch``, wraps it for data parallelism;
every process builds the same batches and takes its share of each, so ``batch_size`` means
examples per optimizer step whatever the hardware. ``torch.optim.AdamW`` and ``transformers``'
``get_scheduler`` do the rest.

A run evaluates on (part of) the validation split every ``eval_every`` steps — learning curves
against steps, examples seen and target tokens seen — checkpoints atomically, resumes after a
kill, and caches its finished result under a key that hashes its config and data (``runs``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import get_scheduler, set_seed

from explain_utils import runs
from explain_utils.batching import bucketed_batches, collate, encode
from explain_utils.data import load_splits
from explain_utils.evaluation import evaluate
from explain_utils.explanations import LEVELS
from explain_utils.losses import (
    LOSS_MODES,
    completion_loss,
    example_weights,
    prompt_weighted_loss,
    weighted_token_loss,
)
from explain_utils.models import build_model, count_parameters, resolve_model
from explain_utils.profiles import TASKS
from explain_utils.progress import progress_bar
from explain_utils.tokenization import tokenizer_for_dataset
from explain_utils.validation import check_choice, check_choices, check_float, check_int

__all__ = [
    "DEVICES",
    "LOSS_MODES",
    "SCHEDULERS",
    "TrainConfig",
    "clear_run",
    "prompt_weighted_loss",
    "train",
]

DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
SCHEDULERS: tuple[str, ...] = ("linear", "cosine", "constant", "constant_with_warmup")
# fields that do not change a run's numbers, so they stay out of its cache key
_NOT_HASHED = frozenset({"progress", "checkpoint_every", "save_model"})
# fields added after runs were cached: left out of the key at their default, so old keys still hold
_HASHED_UNLESS_DEFAULT: dict[str, Any] = {"eval_loss": False, "cpu_threads": 1}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (validated by ``validate`` before any work)."""

    model: str = "t5-1m"  # preset (models.PRESETS), checkpoint directory or hub name
    task: str = "listops"  # sub-directory of data_dir (profiles.TASKS)
    level: str = "none"  # explanation level of the targets (explanations.LEVELS)
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
    # decoder-only: completion | plw | im; encoder-decoder: completion
    loss_mode: str = "completion"
    prompt_loss_weight: float = 0.0  # weight of prompt tokens in "plw" mode, in [0, 1]
    eval_every: int = 250  # steps between learning-curve points (0 = only at the end)
    eval_examples: int = 200  # validation rows per learning-curve point
    eval_splits: tuple[str, ...] = ("test", "test_long")  # evaluated in full at the end
    eval_batch_size: int = 128
    max_new_tokens: int | None = None  # None: longest gold target of the split + 25 %
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
        spec = resolve_model(self.model)
        check_choice("task", self.task, TASKS)
        check_choice("level", self.level, LEVELS)
        if self.train_size is not None:
            check_int("train_size", self.train_size, minimum=1)
        check_int("steps", self.steps, minimum=1)
        check_int("batch_size", self.batch_size, minimum=1)
        check_int("grad_accum_steps", self.grad_accum_steps, minimum=1, maximum=self.batch_size)
        check_float("learning_rate", self.learning_rate, 0.0, 1.0)
        check_float("weight_decay", self.weight_decay, 0.0, 1.0)
        check_choice("scheduler", self.scheduler, SCHEDULERS)
        check_float("warmup_ratio", self.warmup_ratio, 0.0, 1.0)
        check_float("max_grad_norm", self.max_grad_norm, 0.0, 1e9)
        check_int("seed", self.seed, minimum=0)
        check_choice(
            "loss_mode",
            self.loss_mode,
            LOSS_MODES if not spec.is_encoder_decoder else ("completion",),
        )
        check_float("prompt_loss_weight", self.prompt_loss_weight, 0.0, 1.0)
        check_int("eval_every", self.eval_every, minimum=0)
        check_int("eval_examples", self.eval_examples, minimum=1)
        check_choices(
            "eval_splits", list(self.eval_splits), ("validation", "test", "test_long", "train")
        )
        check_int("eval_batch_size", self.eval_batch_size, minimum=1)
        if self.max_new_tokens is not None:
            check_int("max_new_tokens", self.max_new_tokens, minimum=1)
        check_choice("eval_loss", self.eval_loss, (False, True))
        if self.eval_loss and spec.is_encoder_decoder:
            raise ValueError(
                "eval_loss must be False for an encoder-decoder model (decoder-only only)"
            )
        check_choice("bf16", self.bf16, (False, True))
        check_int("cpu_threads", self.cpu_threads, minimum=1, maximum=256)
        check_choice("device", self.device, DEVICES)
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                "device must be one of 'auto', 'cpu' on this machine (no CUDA device); got 'cuda'"
            )
        if self.checkpoint_every is not None:
            check_int("checkpoint_every", self.checkpoint_every, minimum=1)

    def hashed(self) -> dict[str, Any]:
        """The fields that decide the run's numbers (the cache key's config part)."""
        return {
            k: v
            for k, v in dataclasses.asdict(self).items()
            if k not in _NOT_HASHED
            and not (k in _HASHED_UNLESS_DEFAULT and v == _HASHED_UNLESS_DEFAULT[k])
        }


def _loss(
    model, batch: dict[str, torch.Tensor], config: TrainConfig, normalizer: float
) -> torch.Tensor:
    if "prompt_mask" not in batch:  # encoder-decoder: plain cross-entropy over the target
        labels = batch["labels"]
        # shifted here rather than by passing labels, so the model does not compute a second loss
        shift = getattr(model, "module", model).prepare_decoder_input_ids_from_labels  # DDP wraps
        decoder_input_ids = shift(labels=labels)
        logits = model(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            decoder_input_ids=decoder_input_ids,
        ).logits
        return weighted_token_loss(logits, labels, (labels != -100).float(), normalizer)
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    labels, weight = batch["labels"], config.prompt_loss_weight
    if config.loss_mode == "completion":
        weight = 0.0
    elif config.loss_mode == "im":  # Shi et al.: loss over instruction and output, template masked
        labels, weight = labels.masked_fill(batch["template_mask"], -100), 1.0
    return prompt_weighted_loss(logits, labels, batch["prompt_mask"], weight, normalizer)


@dataclass
class _Progress:
    step: int = 0
    examples_seen: int = 0
    target_tokens_seen: int = 0
    tokens_seen: int = 0
    train_seconds: float = 0.0
    loss_sum: float = 0.0  # since the last evaluation
    loss_steps: int = 0
    curve: list[dict[str, Any]] = field(default_factory=list)


def make_optimizer(
    model: torch.nn.Module, lr: float, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """``torch.optim.AdamW``, fused where this torch build supports it (4x faster steps on small CPU models)."""
    try:
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, ValueError):  # an older torch without fused CPU kernels
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)


def _accelerator(device: str):
    from accelerate import Accelerator

    # mixed precision is applied with torch.autocast below rather than by accelerate, whose global
    # state refuses a second, different setting in one process (a notebook runs both)
    # cpu=True also lets `accelerate launch`/torchrun processes find each other (gloo) without a GPU
    return Accelerator(cpu=_on_cpu(device))


def _on_cpu(device: str) -> bool:
    """Whether a run with this ``device`` setting trains on the CPU."""
    return device == "cpu" or (device == "auto" and not torch.cuda.is_available())


def locate_run(config: TrainConfig, data_dir: str | Path, runs_dir: str | Path) -> tuple[Path, str]:
    """The run's directory (named after the hash of its config, its data and the engine version)
    and the data's fingerprint."""
    task_dir = Path(data_dir) / config.task
    if not task_dir.is_dir():
        raise FileNotFoundError(
            f"data_dir: no data set for task {config.task!r} at {str(task_dir)!r}; build it first (notebooks/01)"
        )
    fingerprint = runs.dataset_fingerprint(task_dir)
    key = runs.run_key(
        config.hashed() | {"model_files": runs.checkpoint_stamp(config.model)}, fingerprint
    )
    run_dir = Path(runs_dir) / runs.run_name(
        config.model, config.task, config.level, config.seed, key
    )
    return run_dir, fingerprint


def cached_result(
    config: TrainConfig, data_dir: str | Path, runs_dir: str | Path
) -> runs.RunResult | None:
    """The finished run's result if it is in the cache, else None (nothing is trained)."""
    run_dir, _ = locate_run(config, data_dir, runs_dir)
    return runs.RunResult.load(run_dir) if runs.is_finished(run_dir) else None


def train(
    config: TrainConfig,
    data_dir: str | Path,
    runs_dir: str | Path,
    on_step: Callable[[int], None] | None = None,
) -> runs.RunResult:
    """Train (or resume, or load from cache) one run and return its result.

    ``data_dir`` holds one sub-directory per task (as ``data.build_task_dataset`` writes it);
    ``runs_dir`` collects run directories. ``on_step(step)`` is called after every optimizer step
    (and its checkpoint), e.g. to stop a run early; the tests use it to simulate a kill.
    """
    config.validate()
    run_dir, fingerprint = locate_run(config, data_dir, runs_dir)
    if runs.is_finished(run_dir):
        return runs.RunResult.load(run_dir)
    with _torch_threads(config.cpu_threads if _on_cpu(config.device) else None):
        return _train(config, Path(data_dir) / config.task, run_dir, fingerprint, on_step)


@contextlib.contextmanager
def _torch_threads(threads: int | None):
    """Run the block with ``threads`` intra-op threads (None: leave as is), then restore."""
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _train(
    config: TrainConfig,
    task_dir: Path,
    run_dir: Path,
    fingerprint: str,
    on_step: Callable[[int], None] | None,
) -> runs.RunResult:
    """The training loop of ``train`` for a run that is not finished yet (resumes a checkpoint)."""
    splits = load_splits(task_dir)
    n_train = len(splits["train"])
    if config.train_size is not None and config.train_size > n_train:
        raise ValueError(
            f"train_size must be <= {n_train} (rows in the train split of {str(task_dir)!r}); got {config.train_size}"
        )
    check_choices("eval_splits", list(config.eval_splits), list(splits))
    spec = resolve_model(config.model)

    accelerator = _accelerator(config.device)
    set_seed(config.seed)
    model, tokenizer = build_model(spec, tokenizer_for_dataset(splits) if spec.is_preset else None)
    train_data = encode(
        splits["train"].select(range(config.train_size or n_train)),
        tokenizer,
        config.level,
        spec.is_encoder_decoder,
    )
    weights = example_weights(train_data, config.loss_mode, config.prompt_loss_weight)
    lengths = train_data.lengths()
    validation = splits["validation"].select(
        range(min(config.eval_examples, len(splits["validation"])))
    )
    loss_samples = {}  # fixed rows whose completion loss is tracked (eval_loss), train vs held out
    if config.eval_loss:
        loss_samples = {
            "train": (train_data, list(range(min(config.eval_examples, len(train_data))))),
            "validation": (
                encode(validation, tokenizer, config.level, spec.is_encoder_decoder),
                list(range(len(validation))),
            ),
        }

    optimizer = make_optimizer(model, config.learning_rate, config.weight_decay)
    scheduler = get_scheduler(
        config.scheduler,
        optimizer,
        num_warmup_steps=int(config.warmup_ratio * config.steps),
        num_training_steps=config.steps,
    )
    model = accelerator.prepare(model)
    progress = _Progress()
    state = runs.load_checkpoint(run_dir)
    if state is not None:
        accelerator.unwrap_model(model).load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        progress = _Progress(**state["progress"])
        runs.set_rng_state(state["rng"])

    world, rank = accelerator.num_processes, accelerator.process_index
    autocast = (
        torch.autocast(accelerator.device.type, dtype=torch.bfloat16)
        if config.bf16
        else contextlib.nullcontext()
    )
    checkpoint_every = config.checkpoint_every or config.eval_every or config.steps
    epoch_cache: dict[int, list[list[int]]] = {}
    n_batches = -(-len(train_data) // config.batch_size)  # the last, smaller batch is kept
    bar = progress_bar(
        total=config.steps,
        initial=progress.step,
        desc=run_dir.name,
        disable=not (config.progress and accelerator.is_main_process),
    )

    def evaluate_point() -> None:
        unwrapped = accelerator.unwrap_model(model)
        result = evaluate(
            unwrapped,
            tokenizer,
            validation,
            config.level,
            config.eval_batch_size,
            config.max_new_tokens,
            config.bf16,
        )
        losses = {
            f"{name}_completion_loss": completion_loss(
                unwrapped, data, rows, tokenizer.pad_token_id, config.eval_batch_size
            )
            for name, (data, rows) in loss_samples.items()
        }
        progress.curve.append(
            {
                "step": progress.step,
                "examples_seen": progress.examples_seen,
                "target_tokens_seen": progress.target_tokens_seen,
                "tokens_seen": progress.tokens_seen,
                "train_loss": progress.loss_sum / max(progress.loss_steps, 1),
                "split": "validation",
                **{k: v for k, v in result.metrics.items()},
                **losses,
                "elapsed_seconds": progress.train_seconds,
            }
        )
        progress.loss_sum, progress.loss_steps = 0.0, 0

    model.train()
    while progress.step < config.steps:
        started = time.perf_counter()
        epoch, index = divmod(progress.step, n_batches)
        if epoch not in epoch_cache:
            epoch_cache.clear()
            epoch_cache[epoch] = bucketed_batches(lengths, config.batch_size, config.seed, epoch)
        rows = epoch_cache[epoch][index]
        # the loss of the step is normalised by its total weight; DDP averages gradients over processes
        normalizer = float(weights[rows].sum()) / world
        micro = [m for m in np.array_split(np.array(rows), config.grad_accum_steps) if len(m)]
        step_loss = 0.0
        for j, part in enumerate(micro):
            local, scale = part[rank::world].tolist(), 1.0
            if not local:  # fewer rows than processes: join the all-reduce with a zero loss
                local, scale = part[:1].tolist(), 0.0
            batch = {
                k: v.to(accelerator.device)
                for k, v in collate(train_data, local, tokenizer.pad_token_id).items()
            }
            sync = contextlib.nullcontext() if j == len(micro) - 1 else accelerator.no_sync(model)
            with sync:
                with autocast:
                    loss = _loss(model, batch, config, normalizer) * scale
                accelerator.backward(loss)
            step_loss += loss.item()
        if world > 1:  # each process holds its share of the step's loss; log the whole
            step_loss = (
                accelerator.reduce(torch.tensor(step_loss, device=accelerator.device), "sum").item()
                / world
            )
        if config.max_grad_norm:
            # torch's own (foreach) clipping: gradients are whole on every process under DDP
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm, foreach=True)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)

        target_tokens = train_data.target_tokens(rows)
        progress.step += 1
        progress.examples_seen += len(rows)
        progress.target_tokens_seen += target_tokens
        progress.tokens_seen += target_tokens + sum(len(train_data.inputs[i]) for i in rows)
        progress.loss_sum += step_loss
        progress.loss_steps += 1
        progress.train_seconds += time.perf_counter() - started
        bar.update()
        if progress.step % 10 == 0 or progress.step == config.steps:
            bar.set_postfix(
                loss=f"{step_loss:.3f}",
                tok_s=f"{progress.tokens_seen / max(progress.train_seconds, 1e-9):.0f}",
            )

        if (
            config.eval_every
            and progress.step % config.eval_every == 0
            and progress.step < config.steps
            and accelerator.is_main_process
        ):
            evaluate_point()
        if progress.step % checkpoint_every == 0 and progress.step < config.steps:
            if accelerator.is_main_process:
                runs.save_checkpoint(
                    run_dir,
                    {
                        "model": accelerator.unwrap_model(model).state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "rng": runs.rng_state(),
                        "progress": dataclasses.asdict(progress),
                    },
                )
            accelerator.wait_for_everyone()
        if on_step is not None:
            on_step(progress.step)
    bar.close()

    result = None
    if accelerator.is_main_process:
        evaluate_point()  # the curve's last point, at the final step
        unwrapped = accelerator.unwrap_model(model)
        metrics = {}
        for name in config.eval_splits:
            evaluated = evaluate(
                unwrapped,
                tokenizer,
                splits[name],
                config.level,
                config.eval_batch_size,
                config.max_new_tokens,
                config.bf16,
            )
            metrics[name] = evaluated.to_dict()
            runs.write_predictions(run_dir, name, evaluated.predictions)
        if config.save_model:
            unwrapped.save_pretrained(run_dir / "model")
            tokenizer.save_pretrained(run_dir / "model")
        result = runs.RunResult(
            run_id=run_dir.name,
            config=dataclasses.asdict(config) | {"eval_splits": list(config.eval_splits)},
            data_fingerprint=fingerprint,
            params=count_parameters(unwrapped),
            metrics=metrics,
            curve=progress.curve,
            train_seconds=progress.train_seconds,
            tokens_per_second=progress.tokens_seen / max(progress.train_seconds, 1e-9),
            run_dir=str(run_dir),
            extra={
                "train_size": len(train_data),
                "device": str(accelerator.device),
                "processes": world,
                "torch_threads": torch.get_num_threads(),
            },
        )
        result.save(run_dir)
        (run_dir / runs.CHECKPOINT_NAME).unlink(missing_ok=True)
    accelerator.wait_for_everyone()
    return result if result is not None else runs.RunResult.load(run_dir)


def clear_run(run_dir: str | Path) -> None:
    """Delete a run directory (to force a recompute of a cached run)."""
    shutil.rmtree(run_dir, ignore_errors=True)
