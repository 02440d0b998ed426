"""The prompt-loss ablation (chapter 5): pre-training, the fine-tuning rate and steps chosen on
validation, the grid of fine-tuning runs, and their tidy results.

Huerta-Enochian & Ko (2024) weight the loss on prompt tokens by PLW in [0, 1]; Shi et al. (2024)
take the loss over instruction and output with the template masked (Instruction Modelling, IM).
Both fine-tune *pretrained* models, and both explain their effect as regularisation towards what
the model already knows. So the ablation has three stages:

1. **pre-training** — one decoder-only model learns language modelling of a corpus of ListOps
   documents (``tasks.prompt_loss_data``: an instruction, then other expressions worked step by
   step in prose), keeping a copy every quarter of its steps for the capability check
   (``studies.capability``);
2. **the fine-tuning rate and steps**, chosen per data type on the validation split for
   completion-only training (PLW = 0, first seed): one run per learning rate with a constant rate,
   so the run's first S steps *are* the run of S steps, and the best (rate, step) of its curve wins;
3. **fine-tuning** — that checkpoint tuned on each data type (``prompt_loss_data.DATA_TYPES``) at
   every prompt-loss weight, with the rate and steps of stage 2 held fixed. IT and IM runs train
   on to ``max_steps`` for their curves and are scored on test at the chosen step. On the
   instruction data (``LOWEST``, where the verdicts rest) ten weights, the loss divided by the
   completion tokens alone as well (PLW then adds prompt gradient without shrinking the
   completion's), and IM against IT at several training-set sizes; on both low-R_g types the
   control with the prompt loss on the words alone (``prompt_loss_tokens="words"``).
"""

from __future__ import annotations

import pandas as pd

from explain_utils.analysis.plw_fit import METHODS
from explain_utils.analysis.results import correct_frame, results_frame
from explain_utils.engine.run_store import RunResult
from explain_utils.engine.train_config import TrainConfig
from explain_utils.profiles.prompt_loss import PromptLossConfig
from explain_utils.tasks.prompt_loss_data import (
    DATA_TYPES,
)

# the data the verdicts rest on: an instruction in words, the papers' kind of prompt (C7, C8);
# the one-shot data at the same R_g, whose prompt is an expression and its solution; the
# expression alone, the highest R_g
LOWEST, SAME_RATIO, HIGHEST = "instruction", "oneshot", "long"
MASKED = (LOWEST, SAME_RATIO)  # the words-only control runs on the two low-R_g types
CHECKPOINTS = 4  # copies of the pre-trained model kept along its run, for the capability curve


def pretrain_config(config: PromptLossConfig) -> TrainConfig | None:
    """Stage 1: language modelling of the corpus documents (the engine's IM mode: every token but
    the two template words, which frame an empty prompt); None when ``pretrain_steps`` is 0."""
    if not config.pretrain_steps:
        return None
    return TrainConfig(
        model=config.model,
        task="listops",
        level="none",  # any level: the corpus stores its documents in every target column
        steps=config.pretrain_steps,
        batch_size=config.pretrain_batch_size,
        learning_rate=config.pretrain_learning_rate,
        loss_mode="im",
        eval_every=max(config.pretrain_steps // CHECKPOINTS, 1),
        eval_examples=min(config.eval_examples, 100),
        eval_splits=("validation",),
        eval_loss=True,  # the held-out documents' loss; accuracy comes from the capability check
        max_new_tokens=1,  # a document has no answer to decode
        save_model_every=max(config.pretrain_steps // CHECKPOINTS, 1),
        cpu_threads=2,  # the one run of its stage: both cores
        seed=0,
        save_model=True,
    )


def _common(config: PromptLossConfig, model: str) -> dict:
    """What every fine-tuning run shares: a constant rate without warm-up (so a run's first S steps
    are the run of S steps), the completion-loss curves, scoring on test at the end."""
    return dict(
        model=model,
        task="listops",
        batch_size=config.batch_size,
        scheduler="constant",
        warmup_ratio=0.0,
        eval_examples=config.eval_examples,
        eval_splits=("test",),
        eval_loss=True,
        max_new_tokens=config.max_new_tokens,
        save_model=False,
    )


def selection_grid(config: PromptLossConfig, model: str) -> dict[str, list[TrainConfig]]:
    """Stage 2: per data type, completion-only runs (the first seed, the sweep's train size) of
    ``max_steps`` steps at each of ``learning_rates``, scored on validation only."""
    grid = {}
    for name, kind in DATA_TYPES.items():
        base = _common(config, model) | dict(eval_splits=("validation",))
        grid[name] = [
            TrainConfig(
                **base,
                level=kind.level,
                seed=config.seeds[0],
                train_size=config.sweep_train_size,
                steps=config.max_steps,
                learning_rate=rate,
                eval_every=config.eval_every,
                loss_mode="completion",
            )
            for rate in config.learning_rates
        ]
    return grid


def selection_table(results: dict[str, list[RunResult]]) -> pd.DataFrame:
    """Every curve point of the selection runs: data type, rate, step, validation accuracy and the
    completion losses on training and held-out rows."""
    rows = []
    for name, runs in results.items():
        for run in runs:
            for point in run.curve:
                rows.append(
                    {
                        "data_type": name,
                        "learning_rate": run.config["learning_rate"],
                        "step": point["step"],
                        "validation_accuracy": point["accuracy"],
                        "train_completion_loss": point.get("train_completion_loss"),
                        "validation_completion_loss": point.get("validation_completion_loss"),
                    }
                )
    return pd.DataFrame(rows)


def chosen_settings(table: pd.DataFrame) -> pd.DataFrame:
    """Per data type the (rate, steps) of the best validation accuracy; ties go to fewer steps,
    then to the smaller rate. One row per data type, in R_g order; ``last_step`` marks a choice
    at the end of the runs (a longer run might have done better)."""
    ranked = table.sort_values(
        ["data_type", "validation_accuracy", "step", "learning_rate"],
        ascending=[True, False, True, True],
    )
    best = ranked.groupby("data_type", sort=False).head(1).set_index("data_type")
    order = [name for name in DATA_TYPES if name in best.index]
    best = best.assign(last_step=best["step"] == table["step"].max())  # the grid's edge
    return best.loc[order, ["learning_rate", "step", "validation_accuracy", "last_step"]].rename(
        columns={"step": "steps"}
    )


def _sweep(base: dict, weights, seed: int, **loss) -> list[TrainConfig]:
    """One PLW run per non-zero weight (PLW 0 is the IT run, with its curves)."""
    return [
        TrainConfig(**base, seed=seed, loss_mode="plw", prompt_loss_weight=weight, **loss)
        for weight in weights
        if weight > 0
    ]


def fine_tuning_grid(
    config: PromptLossConfig, model: str, chosen: pd.DataFrame
) -> dict[str, list[TrainConfig]]:
    """Stage 3, per data type and seed, at the rate and steps ``chosen`` for it: IT and IM (curves
    to ``max_steps``, scored at the chosen step), the PLW sweep at ``sweep_train_size`` (scored
    once, at the chosen step: all the fit needs); on the instruction data ``plw_values``, the
    completion-normalised sweep and IT and IM at every size of ``train_sizes``, elsewhere
    ``other_plw_values``; on the two low-R_g types the words-only control."""
    grid: dict[str, list[TrainConfig]] = {}
    for name, kind in DATA_TYPES.items():
        steps = int(chosen.loc[name, "steps"])
        base = _common(config, model) | dict(
            level=kind.level, learning_rate=float(chosen.loc[name, "learning_rate"])
        )
        curves = base | dict(steps=config.max_steps, score_step=steps, eval_every=config.eval_every)
        once = base | dict(steps=steps, eval_every=steps, train_size=config.sweep_train_size)
        weights = config.plw_values if name == LOWEST else config.other_plw_values
        sizes = config.train_sizes if name == LOWEST else ()
        runs: list[TrainConfig] = []
        for seed in config.seeds:
            for size in sorted({config.sweep_train_size, *sizes}):
                for mode in ("completion", "im"):
                    runs.append(TrainConfig(**curves, train_size=size, seed=seed, loss_mode=mode))
            runs += _sweep(once, weights, seed)
            if name in MASKED:
                runs += _sweep(once, config.masked_plw_values, seed, prompt_loss_tokens="words")
            if name == LOWEST:
                runs += _sweep(
                    once, config.normalization_plw_values, seed, loss_normalization="completion"
                )
        grid[name] = runs
    return grid


def _run_fields(results: dict[str, list[RunResult]]) -> pd.DataFrame:
    """Per run: data type, method (it / plw / im), the loss normaliser and the prompt tokens the
    prompt loss covers (all, or the words alone)."""
    return pd.DataFrame(
        [
            {
                "run_id": run.run_id,
                "data_type": name,
                "method": METHODS[run.config["loss_mode"]],
                "normalization": run.config.get("loss_normalization", "weights"),
                "prompt_tokens": run.config.get("prompt_loss_tokens", "all"),
            }
            for name, runs in results.items()
            for run in runs
        ]
    ).drop_duplicates("run_id")


def _unique(results: dict[str, list[RunResult]]) -> list[RunResult]:
    return list({r.run_id: r for rs in results.values() for r in rs}.values())


def ablation_frame(
    results: dict[str, list[RunResult]], model_label: str | None = None
) -> pd.DataFrame:
    """Tidy rows of every fine-tuning run with ``data_type``, ``method`` and ``normalization``.

    ``model_label`` replaces the ``model`` column (the pre-trained checkpoint's path) with a name.
    """
    frame = results_frame(_unique(results))
    if model_label is not None:
        frame["model"] = model_label
    return _run_fields(results).merge(frame, on="run_id", how="right")


def ablation_correct(results: dict[str, list[RunResult]]) -> pd.DataFrame:
    """Per-row correctness on test of every fine-tuning run (``results.correct_frame``) with the
    run's data type, method, normaliser and prompt-loss weight, for the paired comparisons."""
    runs = _unique(results)
    weights = pd.DataFrame(
        [{"run_id": r.run_id, "prompt_loss_weight": r.config["prompt_loss_weight"]} for r in runs]
    )
    return _run_fields(results).merge(weights, on="run_id").merge(correct_frame(runs), on="run_id")
