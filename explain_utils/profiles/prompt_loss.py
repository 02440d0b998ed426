"""Chapter 5's parameters, the prompt-loss study (``studies.prompt_loss``): pre-training, the choice of
the fine-tuning rate and steps on validation, the PLW sweeps on each data type, the words-only
control, IM vs IT; validated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explain_utils.common.checks import check_float, check_float_list, check_int, check_int_list
from explain_utils.common.names import DEFAULT_PROFILE
from explain_utils.engine.models import PRESETS
from explain_utils.profiles.checks import check_dirs, check_model, check_workers, profile_values

# Huerta-Enochian & Ko's ten prompt-loss weights
PAPER_PLW_VALUES: tuple[float, ...] = (
    0.0,
    5e-4,
    2.236e-3,
    1e-2,
    2.463e-2,
    5e-2,
    1e-1,
    2.463e-1,
    5e-1,
    1.0,
)
# a one-shot prompt draws a solved example from the smallest training set, never its own row
MIN_TRAIN_SIZE = 2
_WEIGHT_LISTS = (
    "plw_values",
    "other_plw_values",
    "masked_plw_values",
    "normalization_plw_values",
)
_FITTED = ("plw_values", "other_plw_values")  # the quadratic fit needs 3 weights

PROFILE_VALUES: dict[str, dict[str, Any]] = {
    "smoke": dict(
        model="llama-250k",
        pretrain_steps=10,
        pretrain_size=150,
        pretrain_batch_size=16,
        pretrain_learning_rate=4e-3,
        learning_rates=[3e-3],
        max_steps=10,
        plw_values=[0.0, 1e-1, 1.0],
        other_plw_values=[0.0, 1e-1, 1.0],
        masked_plw_values=[1.0],
        normalization_plw_values=[1.0],
        capability_rows=20,
        seeds=[0],
        batch_size=16,
        sweep_train_size=20,
        train_sizes=[20, 40],
        eval_every=5,
        eval_examples=20,
        max_new_tokens=100,
        n_test=40,
        workers=1,
    ),
    # measured on the 2-core CPU: pre-training (llama-250k, 1 200 steps of 32 two-expression
    # documents) and a fine-tuning run of 10-40 s, most of it the 1 000 test rows' generation.
    # The rates bracket the optimum (a prototype: 1e-3 59 %, 2e-4 85.5 %, 1e-4 83.5 % on the
    # expression-only data, 100 examples); 30-300 examples overfit within the step budget. Curve
    # points cost more than training (200 validation rows generated: ~8 s of a run's ~16 s of
    # training per point at 25 steps apart), so they are 40 steps apart and the second normaliser
    # and the masked control get fewer weights, to keep the chapter near its 20 minutes
    "quick": dict(
        model="llama-250k",
        pretrain_steps=1200,
        pretrain_size=9000,
        pretrain_batch_size=32,
        pretrain_learning_rate=4e-3,
        learning_rates=[1e-4, 2e-4, 5e-4, 1e-3],
        max_steps=200,
        plw_values=list(PAPER_PLW_VALUES),
        other_plw_values=[0.0, 1e-2, 1e-1, 5e-1, 1.0],
        masked_plw_values=[1e-2, 1e-1, 1.0],
        normalization_plw_values=[1.0],
        capability_rows=200,
        seeds=[0, 1, 2],
        batch_size=16,
        sweep_train_size=100,
        train_sizes=[30, 100, 300],
        eval_every=40,
        eval_examples=200,
        max_new_tokens=100,
        n_test=1000,
        workers=None,
    ),
    # Huerta-Enochian & Ko: the ten weights, a pretrained decoder-only model from the hub
    # (no pre-training of our own), Shi et al.'s learning rate
    "paper": dict(
        model="gpt2",
        pretrain_steps=0,
        pretrain_size=0,
        pretrain_batch_size=32,
        pretrain_learning_rate=2e-3,
        learning_rates=[2e-5, 5e-5],
        max_steps=2_000,
        plw_values=list(PAPER_PLW_VALUES),
        other_plw_values=list(PAPER_PLW_VALUES),
        masked_plw_values=list(PAPER_PLW_VALUES[1:]),
        normalization_plw_values=list(PAPER_PLW_VALUES[1:]),
        capability_rows=500,
        seeds=[0, 1, 2],
        batch_size=32,
        sweep_train_size=2_000,
        train_sizes=[500, 2_000, 8_000],
        eval_every=250,
        eval_examples=500,
        max_new_tokens=128,
        n_test=1_000,
        workers=1,
    ),
}


@dataclass(frozen=True)
class PromptLossConfig:
    """Chapter 5's grid: pre-training, the rate/steps choice, the PLW sweeps, IM vs IT by size."""

    profile: str
    data_dir: Path
    runs_dir: Path
    results_dir: Path
    model: str  # decoder-only preset (pre-trained here first) or a hub checkpoint
    pretrain_steps: int  # 0: fine-tune ``model`` as it is (a pretrained checkpoint)
    pretrain_size: int  # corpus expressions (train rows after the fine-tuning pool)
    pretrain_batch_size: int
    pretrain_learning_rate: float
    learning_rates: tuple[float, ...]  # fine-tuning rates tried at PLW 0 (first seed), validation
    max_steps: int  # every curve runs this far; the steps are chosen along the selection curves
    plw_values: tuple[float, ...]  # the instruction data (C7's verdict rests on it); 0 is IT
    other_plw_values: tuple[float, ...]  # the one-shot and expression-only data
    masked_plw_values: tuple[float, ...]  # prompt loss on the words only (expressions masked)
    normalization_plw_values: tuple[float, ...]  # loss / completion tokens, instruction data
    capability_rows: int  # test rows per probe of the pre-trained model's capability check
    seeds: tuple[int, ...]
    batch_size: int  # fine-tuning
    sweep_train_size: int  # training examples of the sweeps (and of IM along R_g)
    train_sizes: tuple[int, ...]  # IM vs IT on the instruction data
    eval_every: int  # steps between curve points (validation accuracy, completion losses)
    eval_examples: int  # validation rows of a curve point
    max_new_tokens: int  # generation budget of a completion (the longest is 87 tokens + eos)
    n_test: int  # test rows scored at the end of each run
    workers: int | None

    @property
    def finetune_pool(self) -> int:
        """Training rows reserved for fine-tuning (pre-training uses the rows after them)."""
        return max(self.sweep_train_size, *self.train_sizes)

    @property
    def demo_pool(self) -> int:
        """Rows the few-shot prompts draw their solved examples from: the smallest training set."""
        return min(self.sweep_train_size, *self.train_sizes)


def prompt_loss_config(
    profile: str = DEFAULT_PROFILE,
    data_dir: str | Path = "../data",
    runs_dir: str | Path = "../runs",
    results_dir: str | Path = "../results",
    **overrides: Any,
) -> PromptLossConfig:
    """Validated parameters of chapter 5: the profile's values with non-None ``overrides`` on top."""
    values = profile_values(profile, PROFILE_VALUES, PromptLossConfig, "ablation", overrides)
    data = check_dirs(data_dir, runs_dir, results_dir)
    _check_ablation_model(values["model"], values["pretrain_steps"], values["pretrain_size"])
    _check_ablation(values)
    return PromptLossConfig(
        profile=profile,
        data_dir=data,
        runs_dir=Path(runs_dir),
        results_dir=Path(results_dir),
        model=values["model"],
        pretrain_steps=values["pretrain_steps"],
        pretrain_size=values["pretrain_size"],
        pretrain_batch_size=values["pretrain_batch_size"],
        pretrain_learning_rate=float(values["pretrain_learning_rate"]),
        learning_rates=_sorted_floats(values["learning_rates"]),
        max_steps=values["max_steps"],
        capability_rows=values["capability_rows"],
        seeds=tuple(values["seeds"]),
        batch_size=values["batch_size"],
        sweep_train_size=values["sweep_train_size"],
        train_sizes=tuple(sorted(values["train_sizes"])),
        eval_every=values["eval_every"],
        eval_examples=values["eval_examples"],
        max_new_tokens=values["max_new_tokens"],
        n_test=values["n_test"],
        workers=values["workers"],
        **{name: _sorted_floats(values[name]) for name in _WEIGHT_LISTS},
    )


def _sorted_floats(values: list) -> tuple[float, ...]:
    return tuple(sorted({float(v) for v in values}))


def _check_ablation_model(model: Any, pretrain_steps: Any, pretrain_size: Any) -> None:
    """A decoder-only model, and pre-training for a preset (which starts from random weights)."""
    spec = check_model("model", model)
    if isinstance(model, str) and (model.startswith("t5") or "/t5" in model):
        raise ValueError(
            f"model must be a decoder-only model (llama-* preset, gpt2, ...); got {model!r}"
        )
    if spec is not None and not spec.is_preset and spec.is_encoder_decoder:
        raise ValueError(f"model must be a decoder-only checkpoint; {model!r} is encoder-decoder")
    check_int("pretrain_steps", pretrain_steps, minimum=0)
    check_int("pretrain_size", pretrain_size, minimum=0)
    if pretrain_steps and pretrain_size < 1:
        raise ValueError("pretrain_size must be >= 1 when pretrain_steps > 0")
    if model in PRESETS and not pretrain_steps:
        raise ValueError(
            f"pretrain_steps must be > 0 for a preset model ({model!r} starts from random weights); "
            "0 is only for a pretrained checkpoint"
        )


def _check_ablation(values: dict[str, Any]) -> None:
    """The other values of chapter 5, each error naming its parameter."""
    check_int("pretrain_batch_size", values["pretrain_batch_size"], minimum=1)
    check_float("pretrain_learning_rate", values["pretrain_learning_rate"], 1e-8, 1.0)
    check_float_list("learning_rates", values["learning_rates"], 1e-8, 1.0)
    check_int("max_steps", values["max_steps"], minimum=1)
    for name in _WEIGHT_LISTS:
        check_float_list(name, values[name], 0.0, 1.0)
    check_int("capability_rows", values["capability_rows"], minimum=1)
    for name in _FITTED:
        if len({float(w) for w in values[name]}) < 3:
            raise ValueError(
                f"{name} must hold at least 3 distinct weights (the quadratic fit); "
                f"got {values[name]!r}"
            )
    check_int_list("seeds", values["seeds"], minimum=0)
    check_int("batch_size", values["batch_size"], minimum=1)
    check_int("sweep_train_size", values["sweep_train_size"], minimum=MIN_TRAIN_SIZE)
    check_int_list("train_sizes", values["train_sizes"], minimum=MIN_TRAIN_SIZE)
    check_int("eval_every", values["eval_every"], minimum=1, maximum=values["max_steps"])
    check_int("eval_examples", values["eval_examples"], minimum=1)
    check_int("max_new_tokens", values["max_new_tokens"], minimum=1)
    check_int("n_test", values["n_test"], minimum=1)
    check_workers(values["workers"])
