"""Training: one entry point, ``train(config, data_dir, runs_dir)``, for every experiment.

The loop is ``transformers``' ``Trainer`` (``explain_utils.engine.trainer`` holds our loss, the batches
and the learning-curve callback): AdamW (fused where torch has it), the scheduler, gradient
clipping and accumulation, ``accelerate`` for devices and ``accelerate launch`` for several
processes, and its checkpoints for resume. What stays ours: the run cache keyed by content,
the CPU thread count of a run, the evaluation by greedy decoding, and the result record.

A run evaluates on (part of) the validation split every ``eval_every`` steps — learning curves
against steps, examples seen and target tokens seen — checkpoints, resumes after a kill, and
caches its finished result under a key that hashes its config and data (``run_store``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import torch
from transformers import PrinterCallback, ProgressCallback, TrainingArguments, set_seed
from transformers.utils import logging as hf_logging

from explain_utils.common.checks import check_choices
from explain_utils.common.files import write_json
from explain_utils.engine import run_store
from explain_utils.engine.batching import encode, padding_fraction
from explain_utils.engine.evaluation import decode_ratio, evaluate
from explain_utils.engine.losses import completion_loss
from explain_utils.engine.models import build_model, count_parameters, resolve_model
from explain_utils.engine.tokenization import tokenizer_for_dataset
from explain_utils.engine.train_config import TrainConfig
from explain_utils.engine.trainer import (
    Counters,
    CurveCallback,
    ExplainTrainer,
    RowDataset,
    grouped_batches,
    last_checkpoint,
)
from explain_utils.tasks.splits import load_splits, read_data_card, with_format

__all__ = ["TrainConfig", "cached_result", "clear_run", "locate_run", "train"]

TRAINER_DIR = "trainer"  # the Trainer's checkpoints inside a run directory, removed at the end
BEST_DIR = "model-best"  # the model of the best curve point so far (``score_at_best``)
BEST_NAME = "best.json"  # beside it: which point it is, checked against the counters at the end


def _on_cpu(device: str) -> bool:
    """Whether a run with this ``device`` setting trains on the CPU."""
    return device == "cpu" or (device == "auto" and not torch.cuda.is_available())


def locate_run(config: TrainConfig, data_dir: str | Path, runs_dir: str | Path) -> tuple[Path, str]:
    """The run's directory (named after the hash of its config, its data, the content of the
    checkpoint it starts from and the engine version) and the data's fingerprint."""
    task_dir = Path(data_dir) / config.task
    if not task_dir.is_dir():
        raise FileNotFoundError(
            f"data_dir: no data set for task {config.task!r} at {str(task_dir)!r}; build it first (notebooks/01)"
        )
    fingerprint = run_store.dataset_fingerprint(task_dir, tuple(config.eval_splits))
    stamp = run_store.checkpoint_stamp(config.model)
    hashed = config.hashed() | {"model_files": stamp}
    if stamp is not None:  # a local checkpoint is its content, wherever it lies
        hashed["model"] = "local checkpoint"
    engine = (
        run_store.ENGINE_VERSION
        if resolve_model(config.model).is_encoder_decoder
        else run_store.DECODER_ONLY_ENGINE_VERSION
    )
    key = run_store.run_key(hashed, fingerprint, engine)
    run_dir = Path(runs_dir) / run_store.run_name(
        config.model, config.task, config.level, config.seed, key
    )
    return run_dir, fingerprint


def cached_result(
    config: TrainConfig, data_dir: str | Path, runs_dir: str | Path
) -> run_store.RunResult | None:
    """The finished run's result if it is in the cache, else None (nothing is trained)."""
    run_dir, _ = locate_run(config, data_dir, runs_dir)
    return run_store.RunResult.load(run_dir) if run_store.is_finished(run_dir) else None


def train(
    config: TrainConfig,
    data_dir: str | Path,
    runs_dir: str | Path,
    on_step: Callable[[int], None] | None = None,
) -> run_store.RunResult:
    """Train (or resume, or load from cache) one run and return its result.

    ``data_dir`` holds one sub-directory per task (as ``data.build_task_dataset`` writes it);
    ``runs_dir`` collects run directories. ``on_step(step)`` is called after every optimizer step,
    e.g. to stop a run early; the tests use it to simulate a kill.
    """
    config.validate()
    run_dir, fingerprint = locate_run(config, data_dir, runs_dir)
    if run_store.is_finished(run_dir):
        return run_store.RunResult.load(run_dir)
    task_dir = Path(data_dir) / config.task
    splits = with_format(load_splits(task_dir), config.level, read_data_card(task_dir)["modulus"])
    n_train = len(splits["train"])
    if config.train_size is not None and config.train_size > n_train:
        raise ValueError(
            f"train_size must be <= {n_train} (rows in the train split of "
            f"{str(Path(data_dir) / config.task)!r}); got {config.train_size}"
        )
    check_choices("eval_splits", list(config.eval_splits), list(splits))
    with _torch_threads(config.cpu_threads if _on_cpu(config.device) else None):
        return _train(config, splits, run_dir, fingerprint, on_step)


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


def _training_arguments(config: TrainConfig, output_dir: Path) -> TrainingArguments:
    log_every = config.eval_every or config.steps
    return TrainingArguments(
        output_dir=str(output_dir),
        max_steps=config.steps,
        per_device_train_batch_size=config.batch_size // config.grad_accum_steps,
        gradient_accumulation_steps=config.grad_accum_steps,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        lr_scheduler_type=config.scheduler,
        warmup_steps=int(config.warmup_ratio * config.steps),
        max_grad_norm=config.max_grad_norm,
        # fused AdamW: 4x faster steps than the for-loop version on our small CPU models
        optim="adamw_torch_fused",
        seed=config.seed,
        bf16=config.bf16,
        use_cpu=_on_cpu(config.device),
        logging_strategy="steps",
        logging_steps=log_every,
        save_strategy="steps",
        save_steps=config.checkpoint_every or log_every,
        save_total_limit=1,
        eval_strategy="no",
        report_to="none",
        disable_tqdm=not config.progress,
        dataloader_pin_memory=False,
        remove_unused_columns=False,
    )


def _train(
    config: TrainConfig,
    splits: dict,
    run_dir: Path,
    fingerprint: str,
    on_step: Callable[[int], None] | None,
) -> run_store.RunResult:
    """Build the model and the Trainer, train (resuming a checkpoint), evaluate and save."""
    spec = resolve_model(config.model)
    set_seed(config.seed)
    # the vocabulary comes from the train split alone: nothing of the test splits flows in
    tokenizer = tokenizer_for_dataset(splits["train"]) if spec.is_preset else None
    model, tokenizer = build_model(spec, tokenizer)
    train_rows = splits["train"].select(range(config.train_size or len(splits["train"])))
    train_data = encode(train_rows, tokenizer, config.level, spec.is_encoder_decoder)
    ratio = decode_ratio(train_data)
    output_dir = run_dir / TRAINER_DIR
    resume = last_checkpoint(output_dir)
    counters = Counters.load(resume) if resume is not None else Counters()
    dataset = RowDataset(train_data, tokenizer.pad_token_id)
    curve = CurveCallback(
        counters,
        _curve_evaluator(config, splits, model, tokenizer, train_data, ratio),
        on_step,
        _step_actions(config, splits, run_dir, counters, tokenizer, ratio),
        _keep_best(run_dir, counters, tokenizer) if config.score_at_best else None,
    )
    trainer = ExplainTrainer(
        model=model,
        args=_training_arguments(config, output_dir),
        train_dataset=dataset,
        data_collator=dataset.collate,
        callbacks=[curve],
        run_config=config,
        counters=counters,
    )
    for quiet in (PrinterCallback, ProgressCallback) if not config.progress else (PrinterCallback,):
        trainer.remove_callback(quiet)
    if not config.progress:  # e.g. the "Writing model shards" bar of every checkpoint
        hf_logging.disable_progress_bar()
    trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    result = None
    if trainer.is_world_process_zero():
        extra = {
            "train_size": len(train_data),
            "device": str(trainer.args.device),
            "processes": trainer.args.world_size,
            "torch_threads": torch.get_num_threads(),
            "decode_ratio": ratio,
            "padding_fraction": padding_fraction(
                train_data, grouped_batches(train_data, config.batch_size, config.seed)
            ),
        }
        result = _finish(
            config, splits, run_dir, fingerprint, model, tokenizer, counters, ratio, extra
        )
    trainer.accelerator.wait_for_everyone()
    return result if result is not None else run_store.RunResult.load(run_dir)


def _curve_evaluator(config, splits, model, tokenizer, train_data, ratio):
    """The metrics of one curve point: validation rows decoded, and decoder-only losses."""
    validation = splits["validation"].select(
        range(min(config.eval_examples, len(splits["validation"])))
    )
    loss_rows = {}  # fixed rows whose completion loss is tracked (eval_loss), train vs held out
    if config.eval_loss:
        held_out = encode(validation, tokenizer, config.level, False)
        loss_rows = {
            "train": (train_data, list(range(min(config.eval_examples, len(train_data))))),
            "validation": (held_out, list(range(len(held_out)))),
        }

    def evaluate_point(trained: torch.nn.Module) -> dict[str, float]:
        trained = trained if trained is not None else model
        result = evaluate(
            trained,
            tokenizer,
            validation,
            config.level,
            config.eval_batch_size,
            config.max_new_tokens,
            config.bf16,
            ratio=ratio,
        )
        losses = {
            f"{name}_completion_loss": completion_loss(
                trained, data, rows, tokenizer.pad_token_id, config.eval_batch_size
            )
            for name, (data, rows) in loss_rows.items()
        }
        return {**result.metrics, **losses}

    return evaluate_point


def _score(config, splits, run_dir, model, tokenizer, ratio) -> dict:
    """Evaluate ``model`` on ``eval_splits``; write its predictions; the metrics per split."""
    metrics = {}
    for name in config.eval_splits:
        evaluated = evaluate(
            model,
            tokenizer,
            splits[name],
            config.level,
            config.eval_batch_size,
            config.max_new_tokens,
            config.bf16,
            ratio=ratio,
        )
        metrics[name] = evaluated.to_dict()
        run_store.write_predictions(run_dir, name, evaluated.predictions)
    return metrics


def _step_actions(config, splits, run_dir, counters, tokenizer, ratio):
    """What happens after a given optimizer step: the score at ``score_step`` (kept in the
    counters, so a resumed run has it) and a copy of the model every ``save_model_every``."""

    def act(step: int, model: torch.nn.Module) -> None:
        if step == config.score_step and not counters.scored:
            counters.scored = _score(config, splits, run_dir, model, tokenizer, ratio)
        if config.save_model_every and step % config.save_model_every == 0:
            model.save_pretrained(run_dir / f"model-step-{step}")
            tokenizer.save_pretrained(run_dir / f"model-step-{step}")

    return act


def _keep_best(run_dir, counters, tokenizer):
    """After each curve point: a point of higher validation accuracy than every earlier one (ties
    keep the earlier) is saved as ``BEST_DIR-<step>`` and becomes ``counters.best``.

    The counters travel with the checkpoints, the model does not: a run killed after a new best
    and resumed from an older checkpoint replays that point and writes it again. A new best is
    written in full before the older ones are removed, so a kill at any moment leaves a complete
    copy of every best the counters can name."""

    def act(point: dict, model: torch.nn.Module) -> None:
        if counters.best and not point["accuracy"] > counters.best["accuracy"]:
            return
        best = {"step": point["step"], "accuracy": point["accuracy"]}
        partial = run_dir / f"{BEST_DIR}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        write_json(partial / BEST_NAME, best)
        folder = _best_folder(run_dir, best["step"])
        shutil.rmtree(folder, ignore_errors=True)  # a replayed point after a resume
        partial.rename(folder)
        for older in run_dir.glob(f"{BEST_DIR}-*"):
            if older != folder:
                shutil.rmtree(older, ignore_errors=True)
        counters.best = best

    return act


def _best_folder(run_dir: Path, step: int) -> Path:
    return run_dir / f"{BEST_DIR}-{step}"


def _best_model(run_dir, model, counters) -> torch.nn.Module:
    """The model saved at ``counters.best``'s point, on ``model``'s device and in its dtype."""
    folder = _best_folder(run_dir, counters.best["step"])
    if not (folder / BEST_NAME).is_file():  # only if a resumed run took another path
        raise RuntimeError(
            f"{folder} is missing: the run's best point is step {counters.best['step']}, whose "
            f"model a resumed run did not write again; delete the run directory ({run_dir}) and "
            "train again"
        )
    best = type(model).from_pretrained(folder, dtype=model.dtype)
    return best.to(model.device)


def _finish(config, splits, run_dir, fingerprint, model, tokenizer, counters, ratio, extra):
    """Evaluate the trained model on ``eval_splits`` (or take the score at ``score_step``, or
    evaluate the model of the best curve point), save it, write ``result.json``."""
    if config.score_at_best:
        best = _best_model(run_dir, model, counters)
        metrics = _score(config, splits, run_dir, best, tokenizer, ratio)
        extra = extra | {"scored_step": counters.best["step"]}
    else:
        metrics = counters.scored or _score(config, splits, run_dir, model, tokenizer, ratio)
    if config.save_model:
        model.save_pretrained(run_dir / "model")
        tokenizer.save_pretrained(run_dir / "model")
    result = run_store.RunResult(
        run_id=run_dir.name,
        config=dataclasses.asdict(config) | {"eval_splits": list(config.eval_splits)},
        data_fingerprint=fingerprint,
        params=count_parameters(model),
        metrics=metrics,
        curve=counters.curve,
        train_seconds=counters.train_seconds,
        tokens_per_second=counters.tokens_seen / max(counters.train_seconds, 1e-9),
        run_dir=str(run_dir),
        extra=extra,
    )
    result.save(run_dir)
    shutil.rmtree(run_dir / TRAINER_DIR, ignore_errors=True)
    if not config.save_model:
        # the scored model is kept as the final one is: only when models are asked for (a
        # data-efficiency grid runs many seeds and sizes and reads their results alone)
        for folder in run_dir.glob(f"{BEST_DIR}-*"):
            shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(run_dir / f"{BEST_DIR}.partial", ignore_errors=True)
    return result


def clear_run(run_dir: str | Path) -> None:
    """Delete a run directory (to force a recompute of a cached run)."""
    shutil.rmtree(run_dir, ignore_errors=True)
