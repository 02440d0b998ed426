"""Benchmark of the training and evaluation engine: ``python -m explain_utils.bench``.

Measured side by side in one process, on the same model (same initial weights), data, batch size,
precision and thread count:

- ``engine_vs_trainer_group_by_length``: training tokens/s of ``training.train`` (our
  ``Trainer`` subclass: prompt-weighted loss, source-length batches, learning-curve callback) ÷ a
  stock ``Seq2SeqTrainer`` with ``train_sampling_strategy="group_by_length"`` and the model's own
  loss. The engine is ``Trainer``; this ratio is the cost of what we add to it (goal ≥ 0.9);
- ``engine_vs_trainer_default``: ÷ ``Seq2SeqTrainer`` with random batches;
- ``padding_fraction``: padding share of the engine's batches (goal ≤ 0.10 on source-length
  grouping), beside random batches and ``group_by_length`` on the total length;
- ``eval_batched_speedup``: batched generation ÷ one example at a time (goal ≥ 10);
- ``peak_memory_mb``: the process's peak resident memory.

Tokens are real (non-padding) input plus target tokens. Each contender runs ``--rounds`` times,
interleaved, and its best round counts, which damps noise from other work on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import torch
from transformers import TrainerCallback
from transformers.trainer_pt_utils import get_length_grouped_indices

from explain_utils.common.files import write_json
from explain_utils.engine.batching import Encoded, encode, padding_fraction
from explain_utils.engine.evaluation import decode_budget, decode_ratio, generate
from explain_utils.engine.models import build_model, resolve_model
from explain_utils.engine.tokenization import tokenizer_for_dataset
from explain_utils.engine.train_config import TrainConfig
from explain_utils.engine.trainer import grouped_batches
from explain_utils.engine.training import train
from explain_utils.profiles.data import data_config
from explain_utils.tasks.splits import build_task_dataset, load_splits


class _StepClock(TrainerCallback):
    """Seconds spent in optimizer steps 2..N (the first step pays one-off warm-up costs)."""

    def __init__(self) -> None:
        self.seconds, self._start = 0.0, 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step > 1:
            self.seconds += time.perf_counter() - self._start


def _stock_trainer(
    model, tokenizer, data: Encoded, steps, batch_size, out: Path, strategy
) -> float:
    """Seconds for steps 2..N of a stock ``Seq2SeqTrainer`` (the model's own loss)."""
    from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments

    rows = [{"input_ids": a, "labels": b} for a, b in zip(data.inputs, data.targets, strict=True)]
    args = Seq2SeqTrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=batch_size,
        max_steps=steps,
        learning_rate=1e-3,
        optim="adamw_torch_fused",
        train_sampling_strategy=strategy,
        report_to="none",
        save_strategy="no",
        disable_tqdm=True,
        logging_strategy="no",
        use_cpu=not torch.cuda.is_available(),
    )
    clock = _StepClock()
    collator = DataCollatorForSeq2Seq(tokenizer, model=model, padding=True)
    trainer = Seq2SeqTrainer(
        model=model, args=args, train_dataset=rows, data_collator=collator, callbacks=[clock]
    )
    trainer.train()
    return clock.seconds


def _engine(data_dir: Path, runs_dir: Path, config: TrainConfig) -> tuple[float, float]:
    """Tokens/s of ``train`` (its own clock, steps 1..N) and its seconds."""
    result = train(config, data_dir, runs_dir)
    return result.tokens_per_second, result.train_seconds


def _tokens(data: Encoded, steps: int, batch_size: int) -> float:
    """Real tokens per step on average (inputs + targets), for the stock trainers' tokens/s."""
    total = sum(len(a) + len(b) for a, b in zip(data.inputs, data.targets, strict=True))
    return total / len(data) * batch_size * (steps - 1)


def _padding(data: Encoded, batch_size: int) -> dict[str, float]:
    """Padding share of one epoch: ours (source length), random, grouped by total length."""
    n, cut = len(data), lambda order: [order[i : i + batch_size] for i in range(0, n, batch_size)]
    random_order = torch.randperm(n, generator=torch.Generator().manual_seed(0)).tolist()
    total = get_length_grouped_indices(
        data.lengths().tolist(), batch_size, generator=torch.Generator().manual_seed(0)
    )
    return {
        "engine_grouped": padding_fraction(data, grouped_batches(data, batch_size, 0)),
        "random": padding_fraction(data, cut(random_order)),
        "group_by_total_length": padding_fraction(data, cut(total)),
    }


def _eval_speed(model, tokenizer, test, level: str, ratio: float, n_eval: int) -> dict:
    """Batched against one-at-a-time greedy decoding, with one fixed budget so outputs compare."""
    budget = decode_budget(max(test["length"]) + 1, ratio)
    started = time.perf_counter()
    batched = generate(model, tokenizer, test, level, batch_size=n_eval, max_new_tokens=budget)
    batched_s = time.perf_counter() - started
    started = time.perf_counter()
    single = generate(model, tokenizer, test, level, batch_size=1, max_new_tokens=budget)
    single_s = time.perf_counter() - started
    return {
        "eval_batched_speedup": single_s / batched_s,
        "eval_outputs_identical": batched == single,
        "eval_examples_per_second": {"batched": len(test) / batched_s, "one": len(test) / single_s},
    }


def _machine() -> dict:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "load_average_1_5_15min": [round(x, 2) for x in os.getloadavg()],
    }


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
    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shape = dict(n_train=2000, n_validation=n_eval, n_test=n_eval, tasks=["listops"])
        build_task_dataset(data_config("smoke", output_dir=tmp / "data", **shape), "listops")
        splits = load_splits(tmp / "data" / "listops")
        tokenizer = tokenizer_for_dataset(splits["train"])
        spec = resolve_model(model_name)
        data = encode(splits["train"], tokenizer, level, spec.is_encoder_decoder)
        config = TrainConfig(
            model=model_name, level=level, steps=steps, batch_size=batch_size, eval_every=0,
            eval_splits=("validation",), save_model=False, progress=False, cpu_threads=threads, device="auto",
        )  # fmt: skip
        seconds: dict[str, list[float]] = {"engine": [], "group_by_length": [], "default": []}
        engine_speed = []
        for r in range(rounds):
            speed, _ = _engine(tmp / "data", tmp / f"runs{r}", config)
            engine_speed.append(speed)
            for strategy, key in (("group_by_length", "group_by_length"), ("random", "default")):
                torch.manual_seed(0)
                model, _ = build_model(spec, tokenizer)
                seconds[key].append(
                    _stock_trainer(model, tokenizer, data, steps, batch_size, tmp / key, strategy)
                )
        stock = {k: _tokens(data, steps, batch_size) / min(v) for k, v in seconds.items() if v}
        best = max(engine_speed)
        torch.manual_seed(0)
        model, _ = build_model(spec, tokenizer)
        figures = {
            "engine_vs_trainer_group_by_length": best / stock["group_by_length"],
            "engine_vs_trainer_default": best / stock["default"],
            "tokens_per_second": {"engine": best, **{f"trainer_{k}": v for k, v in stock.items()}},
            "padding_fraction": _padding(data, batch_size),
            **_eval_speed(model, tokenizer, splits["test"], level, decode_ratio(data), n_eval),
            "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "setup": dict(
                model=model_name,
                level=level,
                steps=steps,
                batch_size=batch_size,
                rounds=rounds,
                threads=threads,
            ),  # fmt: skip
            "machine": _machine(),
        }
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
