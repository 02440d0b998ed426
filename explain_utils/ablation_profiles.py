"""Chapter 5's parameters, the prompt-loss ablation (``prompt_loss``): pre-training, then the PLW
sweep and IM vs completion-only at several train sizes, decoder-only models; validated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explain_utils.models import PRESETS
from explain_utils.profile_checks import check_dirs, check_model, check_workers, profile_values
from explain_utils.validation import check_float, check_float_list, check_int, check_int_list
from explain_utils.vocabulary import DEFAULT_PROFILE

_ABLATION: dict[str, dict[str, Any]] = {
    "smoke": dict(
        model="llama-250k",
        pretrain_steps=10,
        pretrain_size=150,
        pretrain_learning_rate=2e-3,
        plw_values=[0.0, 1e-2, 1e-1, 1.0],
        seeds=[0],
        steps=10,
        batch_size=16,
        learning_rate=1e-3,
        sweep_train_size=50,
        train_sizes=[50, 100],
        eval_every=5,
        eval_examples=20,
        n_test=40,
        workers=1,
    ),
    # calibrated on one core (issue #5): pre-training ~0.13 s/step (llama-500k, batch 32), a
    # fine-tuning run ~15-20 s (short) / ~20-25 s (long, longer generation); 45 runs + pre-training
    # ≈ 10 min wall on 2 cores. 150 steps on 200 examples (24 epochs) already overfit: the held-out
    # completion loss rises after ~50 steps, the regime in which the papers' regulariser matters
    "quick": dict(
        model="llama-500k",
        pretrain_steps=800,
        pretrain_size=8000,
        pretrain_learning_rate=2e-3,
        plw_values=[0.0, 2.236e-3, 2.463e-2, 1e-1, 2.463e-1, 1.0],
        seeds=[0, 1, 2],
        steps=150,
        batch_size=32,
        learning_rate=5e-4,
        sweep_train_size=200,
        train_sizes=[200, 1000],
        eval_every=50,
        eval_examples=100,
        n_test=300,
        workers=None,
    ),
    # Huerta-Enochian & Ko: the ten weights, a pretrained decoder-only model from the hub
    # (no pre-training of our own), Shi et al.'s learning rate
    "paper": dict(
        model="gpt2",
        pretrain_steps=0,
        pretrain_size=0,
        pretrain_learning_rate=2e-3,
        plw_values=[0.0, 5e-4, 2.236e-3, 1e-2, 2.463e-2, 5e-2, 1e-1, 2.463e-1, 5e-1, 1.0],
        seeds=[0, 1, 2],
        steps=2_000,
        batch_size=32,
        learning_rate=2e-5,
        sweep_train_size=2_000,
        train_sizes=[500, 2_000, 10_000],
        eval_every=500,
        eval_examples=500,
        n_test=2_000,
        workers=1,
    ),
}


@dataclass(frozen=True)
class AblationConfig:
    """Chapter 5's grid: pre-training, the PLW sweep per data type, IM vs completion-only by size."""

    profile: str
    data_dir: Path
    runs_dir: Path
    results_dir: Path
    model: str  # decoder-only preset (trained from scratch, then pre-trained) or hub checkpoint
    pretrain_steps: int  # 0: fine-tune ``model`` as it is (a pretrained checkpoint)
    pretrain_size: int  # corpus rows (train rows after the fine-tuning pool)
    pretrain_learning_rate: float
    plw_values: tuple[float, ...]  # PLW 0 is run as completion-only training
    seeds: tuple[int, ...]
    steps: int  # fine-tuning optimizer steps
    batch_size: int
    learning_rate: float
    sweep_train_size: int  # training examples of the PLW sweep
    train_sizes: tuple[int, ...]  # IM vs completion-only, short-completion data
    eval_every: int
    eval_examples: int
    n_test: int  # test rows scored at the end of each run
    workers: int | None

    @property
    def finetune_pool(self) -> int:
        """Training rows reserved for fine-tuning (pre-training uses the rows after them)."""
        return max(self.sweep_train_size, *self.train_sizes)


def ablation_config(
    profile: str = DEFAULT_PROFILE,
    data_dir: str | Path = "../data",
    runs_dir: str | Path = "../runs",
    results_dir: str | Path = "../results",
    **overrides: Any,
) -> AblationConfig:
    """Validated parameters of chapter 5: the profile's values with non-None ``overrides`` on top."""
    values = profile_values(profile, _ABLATION, AblationConfig, "ablation", overrides)
    data = check_dirs(data_dir, runs_dir, results_dir)
    _check_ablation_model(values["model"], values["pretrain_steps"], values["pretrain_size"])
    _check_ablation(values)
    return AblationConfig(
        profile=profile,
        data_dir=data,
        runs_dir=Path(runs_dir),
        results_dir=Path(results_dir),
        model=values["model"],
        pretrain_steps=values["pretrain_steps"],
        pretrain_size=values["pretrain_size"],
        pretrain_learning_rate=float(values["pretrain_learning_rate"]),
        plw_values=tuple(sorted({float(w) for w in values["plw_values"]})),
        seeds=tuple(values["seeds"]),
        steps=values["steps"],
        batch_size=values["batch_size"],
        learning_rate=float(values["learning_rate"]),
        sweep_train_size=values["sweep_train_size"],
        train_sizes=tuple(sorted(values["train_sizes"])),
        eval_every=values["eval_every"],
        eval_examples=values["eval_examples"],
        n_test=values["n_test"],
        workers=values["workers"],
    )


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
    check_float("pretrain_learning_rate", values["pretrain_learning_rate"], 1e-8, 1.0)
    weights = values["plw_values"]
    check_float_list("plw_values", weights, 0.0, 1.0)
    if len({float(w) for w in weights}) < 3:
        raise ValueError(
            f"plw_values must hold at least 3 distinct weights (the quadratic fit); got {weights!r}"
        )
    check_int_list("seeds", values["seeds"], minimum=0)
    check_int("steps", values["steps"], minimum=1)
    check_int("batch_size", values["batch_size"], minimum=1)
    check_float("learning_rate", values["learning_rate"], 1e-8, 1.0)
    check_int("sweep_train_size", values["sweep_train_size"], minimum=1)
    check_int_list("train_sizes", values["train_sizes"], minimum=1)
    check_int("eval_every", values["eval_every"], minimum=0)
    check_int("eval_examples", values["eval_examples"], minimum=1)
    check_int("n_test", values["n_test"], minimum=1)
    check_workers(values["workers"])
