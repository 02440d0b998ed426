"""Benchmark of the training and evaluation engine: ``python -m explain_utils.bench``.

Measured side by side in one process, on the same model (same initial weights) and data:

- ``engine_vs_torch_loop``: training tokens/s of ``training.train`` ÷ a bare PyTorch loop
  (``model(**batch).loss.backward(); optimizer.step()``) over the very same batches (goal ≥ 0.95);
- ``engine_vs_seq2seq_trainer``: ÷ ``Seq2SeqTrainer`` with default settings (goal ≥ 1.5);
- ``padding_fraction``: padding share of the engine's training batches (goal ≤ 0.10);
- ``eval_batched_speedup``: batched generation ÷ one example at a time (goal ≥ 10);
- ``peak_memory_mb``: the process's peak resident memory (and GPU memory where there is one).

Tokens are real (non-padding) input plus target tokens. Each contender runs ``--rounds`` times,
interleaved, and its best round counts, which damps noise from other work on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from explain_utils.batching import (
    bucketed_batches,
    collate,
    encode,
    padding_fraction,
    random_batches,
)
from explain_utils.data import build_task_dataset, load_splits
from explain_utils.evaluation import generate
from explain_utils.models import build_model, count_parameters, resolve_model
from explain_utils.profiles import data_config
from explain_utils.storage import write_json
from explain_utils.tokenization import tokenizer_for_dataset
from explain_utils.training import TrainConfig, make_optimizer, train


def _real_tokens(batch: dict[str, torch.Tensor]) -> int:
    return int(batch["attention_mask"].sum()) + int((batch["labels"] != -100).sum())


class _StepClock:
    """Wall time from the end of the first optimizer step to the end of the last (warm-up excluded)."""

    def __init__(self) -> None:
        self.first = self.last = 0.0

    def __call__(self, step: int) -> None:
        now = time.perf_counter()
        if step == 1:
            self.first = now
        self.last = now

    @property
    def seconds(self) -> float:
        return self.last - self.first


def _torch_loop(model, batches: list[dict[str, torch.Tensor]], lr: float) -> float:
    """Seconds for steps 2..N of the plainest correct loop over prepared batches."""
    optimizer = make_optimizer(
        model, lr
    )  # the same optimizer as the engine: this measures the loop
    model.train()
    clock = _StepClock()
    for step, batch in enumerate(batches, start=1):
        model(**batch).loss.backward()
        # the same maths as the engine (and Seq2SeqTrainer's default): clip at norm 1.0
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0, foreach=True)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        clock(step)
    return clock.seconds


def _seq2seq_trainer(
    model, tokenizer, data, steps: int, batch_size: int, lr: float, out: Path, **extra
) -> float:
    """Seconds for steps 2..N of ``Seq2SeqTrainer`` with default settings (unless ``extra``)."""
    from transformers import (
        DataCollatorForSeq2Seq,
        Seq2SeqTrainer,
        Seq2SeqTrainingArguments,
        TrainerCallback,
    )

    clock = _StepClock()

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            clock(state.global_step)

    rows = [{"input_ids": a, "labels": b} for a, b in zip(data.inputs, data.targets, strict=True)]
    args = Seq2SeqTrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=batch_size,
        max_steps=steps,
        learning_rate=lr,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
        logging_strategy="no",
        use_cpu=not torch.cuda.is_available(),
        **extra,
    )
    collator = DataCollatorForSeq2Seq(tokenizer, model=model, padding=True)
    trainer = Seq2SeqTrainer(
        model=model, args=args, train_dataset=rows, data_collator=collator, callbacks=[Clock()]
    )
    trainer.train()
    return clock.seconds


def run(
    model_name: str = "t5-1m",
    level: str = "medium",
    steps: int = 60,
    batch_size: int = 32,
    rounds: int = 2,
    n_eval: int = 64,
    out: str | Path = "bench.json",
) -> dict:
    """Run every measurement and write ``out``; returns the figures."""
    lr = 1e-3
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        config = data_config(
            "smoke",
            output_dir=tmp / "data",
            n_train=2000,
            n_validation=n_eval,
            n_test=n_eval,
            n_test_long=8,
        )
        build_task_dataset(config, "listops")
        splits = load_splits(tmp / "data" / "listops")
        tokenizer = tokenizer_for_dataset(splits)
        spec = resolve_model(model_name)
        torch.manual_seed(0)
        model, _ = build_model(spec, tokenizer)
        initial = {k: v.clone() for k, v in model.state_dict().items()}
        data = encode(splits["train"], tokenizer, level, spec.is_encoder_decoder)
        # the engine's own batch stream for seed 0, epoch 0: the bare loop gets exactly these
        order = bucketed_batches(data.lengths(), batch_size, seed=0, epoch=0)[:steps]
        batches = [collate(data, rows, tokenizer.pad_token_id) for rows in order]
        timed_tokens = sum(_real_tokens(b) for b in batches[1:])  # steps 2..N
        trainer_tokens = (steps - 1) * batch_size * float(np.mean(data.lengths()))  # uniform draws
        device = "cpu" if not torch.cuda.is_available() else "auto"
        base = TrainConfig(
            model=model_name,
            level=level,
            steps=steps,
            batch_size=batch_size,
            learning_rate=lr,
            eval_every=0,
            eval_splits=("test",),
            progress=False,
            save_model=False,
            max_new_tokens=4,
            device=device,
            cpu_threads=torch.get_num_threads(),  # the bare loop's and the trainer's threads
        )

        def engine_seconds(name: str, **changes) -> float:
            clock = _StepClock()
            train(dataclasses.replace(base, **changes), tmp / "data", tmp / name, on_step=clock)
            return clock.seconds

        seconds: dict[str, list[float]] = {
            k: [] for k in ("engine", "loop", "trainer", "grouped", "bf16", "one_thread")
        }
        for r in range(rounds):  # interleaved, so background load hits every contender alike
            seconds["engine"].append(engine_seconds(f"engine{r}"))
            model.load_state_dict(initial)
            seconds["loop"].append(_torch_loop(model, batches, lr))
            model.load_state_dict(initial)
            seconds["trainer"].append(
                _seq2seq_trainer(model, tokenizer, data, steps, batch_size, lr, tmp / "hf")
            )
            model.load_state_dict(initial)
            seconds["grouped"].append(
                _seq2seq_trainer(
                    model,
                    tokenizer,
                    data,
                    steps,
                    batch_size,
                    lr,
                    tmp / "hf",
                    train_sampling_strategy="group_by_length",
                )
            )
            seconds["bf16"].append(engine_seconds(f"bf16_{r}", bf16=True))
            seconds["one_thread"].append(engine_seconds(f"one_thread{r}", cpu_threads=1))
        best = {k: min(v) for k, v in seconds.items()}
        speed = {
            k: (trainer_tokens if k in ("trainer", "grouped") else timed_tokens) / v
            for k, v in best.items()
        }
        params = count_parameters(model)

        # evaluation: a briefly trained model (so it stops at eos as a trained one does)
        model.load_state_dict(initial)
        _torch_loop(model, batches, lr)
        test = splits["test"]
        started = time.perf_counter()
        batched_out = generate(model, tokenizer, test, level, batch_size=n_eval)
        batched_s = time.perf_counter() - started
        started = time.perf_counter()
        single_out = generate(model, tokenizer, test, level, batch_size=1)
        single_s = time.perf_counter() - started

        figures = {
            "engine_vs_torch_loop": speed["engine"] / speed["loop"],
            "engine_vs_seq2seq_trainer": speed["engine"] / speed["trainer"],
            "padding_fraction": padding_fraction(
                data, bucketed_batches(data.lengths(), batch_size, 0, 0)
            ),
            "eval_batched_speedup": single_s / batched_s,
            "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "tokens_per_second": {
                "engine": speed["engine"],
                "torch_loop": speed["loop"],
                "seq2seq_trainer": speed["trainer"],
                "seq2seq_trainer_group_by_length": speed["grouped"],
                "engine_bf16_autocast": speed["bf16"],
                "engine_one_thread": speed["one_thread"],
            },
            "padding_fraction_random_batches": padding_fraction(
                data, random_batches(len(data), batch_size, 0, 0)
            ),
            "eval_examples_per_second": {
                "batched": len(test) / batched_s,
                "one_at_a_time": len(test) / single_s,
            },
            "eval_outputs_identical": batched_out == single_out,
            "setup": {
                "model": model_name,
                "params": params,
                "level": level,
                "steps": steps,
                "batch_size": batch_size,
                "rounds": rounds,
                "eval_examples": len(test),
            },
            "machine": {
                "platform": platform.platform(),
                "processor": platform.processor() or platform.machine(),
                "cpus": os.cpu_count(),
                "torch_threads": torch.get_num_threads(),
                "torch": torch.__version__,
                "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                "load_average_1_5_15min": [
                    round(x, 2) for x in os.getloadavg()
                ],  # other work skews figures
            },
        }
        if torch.cuda.is_available():
            figures["peak_gpu_memory_mb"] = torch.cuda.max_memory_allocated() / 2**20
    write_json(out, figures)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="t5-1m")
    parser.add_argument("--level", default="medium")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", default="bench.json")
    args = parser.parse_args(argv)
    figures = run(args.model, args.level, args.steps, args.batch_size, args.rounds, out=args.out)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
