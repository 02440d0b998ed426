"""Chapter 5 (prompt-loss weight and IM): the runs the notebook trains, in its order, the tables it
shows, and the values and sentences it glues beside each figure, computed from this run's numbers.

The runs are ``studies.prompt_loss``'s grids handed to ``engine.grid.run_grid``; the claims and the
intervals are ``claims.prompt_loss``'s. What the chapter concludes from them (the headlines of
"What we found") is ``chapters.prompt_loss_findings``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from explain_utils.analysis import baselines, plw_fit
from explain_utils.analysis.plw_fit import QuadraticFit
from explain_utils.chapters.notebook import Stopwatch
from explain_utils.claims import prompt_loss as prompt_loss_claims
from explain_utils.claims.prompt_loss import difference_sentence, fit_sentence
from explain_utils.engine.grid import run_grid
from explain_utils.engine.run_store import RunResult
from explain_utils.engine.train_config import TrainConfig
from explain_utils.profiles.checks import from_notebook
from explain_utils.profiles.prompt_loss import PromptLossConfig, prompt_loss_config
from explain_utils.studies import capability as capability_check
from explain_utils.studies import prompt_loss as study
from explain_utils.tasks import prompt_loss_data

DATA_FOLDER = "05_prompt_loss_data"  # under runs_dir: the data types and the corpus
NORMALIZERS: tuple[str, ...] = ("weights", "completion")
# the rule every accuracy of the chapter is read against
RULE = baselines.BASELINE_LABELS["root_op_flat"]
SELECTION_TITLE = "Completion-only fine-tuning (PLW = 0) on validation"
SWEEP_TITLE = "Test accuracy against the prompt-loss weight"
NORMALIZATION_TITLE = f"{study.LOWEST} data: the two loss normalisers"
CURVES_TITLE = f"{study.LOWEST} data: completion loss during fine-tuning"
GAINS_TITLE = "IM − IT: by training-set size (instruction data) and by data type (sweep size)"
CAPABILITY_TITLE = "The pre-trained model before fine-tuning, in its own format"
MECHANISM_TITLE = "PLW − IT on the same rows: prompts in words against prompts of expressions"
# the conditions of the mechanism experiment: (data type, prompt tokens the prompt loss covers)
MECHANISM: tuple[tuple[str, str], ...] = (
    (study.LOWEST, "all"),
    (study.LOWEST, "words"),
    (study.SAME_RATIO, "all"),
    (study.SAME_RATIO, "words"),
    (study.HIGHEST, "all"),
)


def configure(namespace: Mapping[str, Any]) -> PromptLossConfig:
    """The chapter's validated config from the notebook's parameters (its ``globals()``)."""
    return from_notebook(prompt_loss_config, namespace)


# ------------------------------------------------------------------------------- the data types


def write_data(config: PromptLossConfig) -> dict[str, Path]:
    """The three data types and the pre-training corpus, written once under ``runs_dir``."""
    return prompt_loss_data.write_ablation_data(
        config.data_dir,
        config.runs_dir / DATA_FOLDER,
        finetune_pool=config.finetune_pool,
        demo_pool=config.demo_pool,
        pretrain_size=config.pretrain_size,
        n_test=config.n_test,
        n_validation=config.eval_examples,
    )


def ratio_table(dirs: Mapping[str, Path], config: PromptLossConfig) -> pd.DataFrame:
    """Prompt and completion tokens and R_g of each data type's sweep rows, in R_g order."""
    return pd.DataFrame(
        [
            prompt_loss_data.completion_ratio(dirs[t], t, config.sweep_train_size)
            for t in prompt_loss_data.DATA_TYPES
        ]
    ).set_index("data type")


def ratio_values(ratios: pd.DataFrame) -> dict[str, str]:
    """R_g per data type, the completion's share of the loss at PLW = 1 (R_g / (1 + R_g)), and
    the data type where that share is least."""
    share = ratios["R_g"] / (1 + ratios["R_g"])
    values = {}
    for name, row in ratios.iterrows():
        values[f"rg_{name}"] = f"{row['R_g']:.2f}"
        values[f"share_{name}"] = f"{share[name]:.2f}"
    least = share.idxmin()
    values["share_least"] = f"least on the {least} data ({share[least]:.2f})"
    return values


def examples_text(dirs: Mapping[str, Path]) -> str:
    """One training row of every data type and of the corpus, prompt and completion verbatim."""
    return "\n".join(
        f"[{row.data}]\n  prompt:     {row.prompt}\n  completion: {row.completion}\n"
        for row in prompt_loss_data.examples(dirs).itertuples()
    )


def baseline_table(dirs: Mapping[str, Path], config: PromptLossConfig) -> pd.DataFrame:
    """The rules that need no model, scored on the chapter's test rows (those of every data type)."""
    return baselines.baseline_rows(
        dirs[study.HIGHEST], "listops", ("test",), config.sweep_train_size
    )


def baseline_values(floor: pd.DataFrame) -> dict[str, str]:
    """The number of test rows and the one-line rule's accuracy on them."""
    rule = floor.set_index("baseline").loc["root_op_flat", "accuracy"]
    return {"n_test": f"{int(floor['n'].iloc[0]):,}", "flat_rule": f"{100 * rule:.1f} %"}


# ---------------------------------------------------------------------------------- the runs


@dataclass(frozen=True)
class Pretraining:
    """The model fine-tuning starts from: the pre-training run's checkpoint, or a hub model as it
    is (``result`` None)."""

    base_model: str
    model_label: str  # the model as the tables name it
    config: TrainConfig | None = None
    result: RunResult | None = None

    @property
    def loss(self) -> float:
        """The held-out documents' loss at the end of pre-training (nats per token)."""
        if self.result is None:
            return math.nan
        return self.result.curve[-1]["validation_completion_loss"]

    def describe(self) -> str:
        """Parameters, steps and held-out loss of the pre-training run ("" for a hub model)."""
        if self.result is None or self.config is None:
            return ""
        return (
            f"{self.result.params:,} parameters, {self.config.steps} steps; "
            f"held-out document loss {self.loss:.3f} nats per token"
        )


def pretrain(config: PromptLossConfig, dirs: Mapping[str, Path]) -> Pretraining:
    """Stage 1: language modelling of the corpus (cached), or nothing for a hub checkpoint."""
    run = study.pretrain_config(config)
    if run is None:  # a hub checkpoint is pretrained already
        return Pretraining(config.model, config.model)
    (result,) = run_grid(
        [run], dirs[prompt_loss_data.PRETRAIN], config.runs_dir, workers=1, desc="pre-training"
    )
    model = str(Path(result.run_dir) / "model")
    return Pretraining(model, f"{config.model}, pre-trained", run, result)


@dataclass(frozen=True)
class Capability:
    """What the pre-trained model does before fine-tuning (``studies.capability``)."""

    table: pd.DataFrame  # by query position in its own format, and zero-shot per layout
    criterion: pd.DataFrame  # per data type: the query's position and whether it passes
    curve: pd.DataFrame  # along pre-training (empty for a hub checkpoint)


def capability(
    config: PromptLossConfig, pretraining: Pretraining, dirs: Mapping[str, Path]
) -> Capability:
    """The capability check on ``capability_rows`` test rows (generation, a minute or two)."""
    table = capability_check.capability_table(pretraining.base_model, dirs, config.capability_rows)
    curve = (
        capability_check.capability_curve(pretraining.result.run_dir, dirs, config.capability_rows)
        if pretraining.result is not None
        else pd.DataFrame()
    )
    return Capability(table, capability_check.criterion(table), curve)


def capability_frame(found: Capability) -> pd.DataFrame:
    """The capability check as one tidy table: the probes at the end of pre-training
    (``step`` empty) and the curve along it."""
    return pd.concat([found.table.assign(step=pd.NA), found.curve], ignore_index=True)


def capability_values(found: Capability) -> dict[str, str]:
    """The capability table and the criterion in words."""
    own = found.table[found.table["probe"] == "own format"]
    by_position = ", ".join(
        f"{100 * accuracy:.1f} % at position {int(position)}"
        for position, accuracy in zip(own["query position"], own["accuracy"], strict=True)
    )
    rule = float(own["one-line rule"].iloc[0])
    layouts = found.table[found.table["probe"] != "own format"]
    zero_shot = ", ".join(
        f"{r.probe.split(' ')[0]} {100 * r.accuracy:.1f} %" for r in layouts.itertuples()
    )
    passing = list(found.criterion.loc[found.criterion["passes"], "data type"])
    failing = list(found.criterion.loc[~found.criterion["passes"], "data type"])
    met = (
        f"every data type's query sits where the model is capable ({', '.join(passing)})"
        if not failing
        else f"the criterion fails for {', '.join(failing)}: their verdicts cannot be read as "
        "evidence about prompt loss"
    )
    return {
        "capability_positions": f"{by_position} (the one-line rule: {100 * rule:.1f} %)",
        "capability_zero_shot": zero_shot,
        "capability_met": met,
    }


def pretraining_values(pretraining: Pretraining) -> dict[str, str]:
    """The sentence on what pre-training taught, by its held-out loss."""
    if pretraining.result is None:
        text = (
            f"The model, {pretraining.base_model}, is a hub checkpoint, pretrained already: this "
            "chapter does not pre-train it, so there is no held-out document loss of its own."
        )
    else:
        text = (
            f"The pre-trained model predicts held-out documents at {pretraining.loss:.2f} nats "
            "per token."
        )
    return {"pretrain_sentence": text}


def run_grids(
    grids: Mapping[str, list[TrainConfig]],
    dirs: Mapping[str, Path],
    config: PromptLossConfig,
    what: str,
) -> dict[str, list[RunResult]]:
    """Every data type's grid on its own data (cache hits first, the rest in parallel)."""
    return {
        name: run_grid(
            configs, dirs[name], config.runs_dir, workers=config.workers, desc=f"{name}: {what}"
        )
        for name, configs in grids.items()
    }


def every_run(pretraining: Pretraining, *grids: Mapping[str, list[RunResult]]) -> list[RunResult]:
    """The chapter's runs: pre-training (if any) and every grid's, for the run-cost sentence."""
    runs = [pretraining.result] if pretraining.result is not None else []
    return runs + [r for grid in grids for rs in grid.values() for r in rs]


def grid_note(results: Mapping[str, list[RunResult]], stopwatch: Stopwatch) -> str:
    """How many fine-tuning runs, how many from the cache, and this execution's wall time so far."""
    runs = [r for rs in results.values() for r in rs]
    cached = sum(r.cached for r in runs)
    return (
        f"{len(runs)} fine-tuning runs ({cached} from the cache), "
        f"{stopwatch.minutes():.1f} min so far"
    )


# ----------------------------------------------------------------- rate and steps on validation


def selection_trend(selection: pd.DataFrame, chosen: pd.DataFrame, data_type: str) -> str:
    """Where the chosen rate's selection run stands at its end: the step of its lowest held-out
    completion loss, and its validation accuracy at the last three points (the reader weighs
    them against the noise of ``eval_examples`` rows)."""
    rate = chosen.loc[data_type, "learning_rate"]
    run = selection[(selection["data_type"] == data_type) & (selection["learning_rate"] == rate)]
    run = run.sort_values("step")
    lowest = int(run.loc[run["validation_completion_loss"].idxmin(), "step"])
    tail = ", ".join(f"{100 * a:.1f}" for a in run["validation_accuracy"].tail(3))
    loss = (
        f"its held-out completion loss is lowest at step {lowest} and has risen since"
        if lowest < int(run["step"].max())
        else "its held-out completion loss still falls at the last step"
    )
    return f"{loss}; validation accuracy at its last three points: {tail} %"


def _edge(selection: pd.DataFrame, chosen: pd.DataFrame, data_type: str) -> str:
    """A choice at the runs' last step, with where its run stands there."""
    return (
        f"for {data_type} the best accuracy point is the runs' last step: "
        f"{selection_trend(selection, chosen, data_type)}"
    )


def selection_values(selection: pd.DataFrame, chosen: pd.DataFrame) -> dict[str, str]:
    """Whether a choice sits at the runs' last step, and whether the selection runs overfit."""
    edge = list(chosen.index[chosen["last_step"]])
    edge_note = (
        "; ".join(_edge(selection, chosen, name) for name in edge).capitalize() + "."
        if edge
        else "Every choice lies inside the runs' length."
    )
    return {"edge_note": edge_note, "selection_regime": selection_regime(selection)}


def selection_regime(selection: pd.DataFrame) -> str:
    """How many selection runs overfit (``plw_fit.overfitting``: held-out completion loss up from
    its minimum while the training loss fell), the papers' regime."""
    metrics = ["train_completion_loss", "validation_completion_loss"]
    if selection.empty or selection[metrics].isna().any().any():
        return "The selection runs recorded no completion losses to read the papers' regime from."
    long = selection.melt(
        id_vars=["data_type", "learning_rate", "step"],
        value_vars=metrics,
        var_name="metric",
        value_name="mean",
    )
    overfit = plw_fit.overfitting(long)
    k, n = int(overfit["overfits"].sum()), len(overfit)
    regime = "the papers' regime (a model that keeps fitting its few training examples)"
    where = "(lower panels; the fine-tuning runs' training loss is in the loss-curve figure below)"
    if k == n:
        return (
            f"In every one of the {n} selection runs the held-out completion loss falls to its "
            f"lowest point and turns up again while the training loss still falls {where}: {regime}."
        )
    if k == 0:
        return (
            f"In none of the {n} selection runs does the held-out completion loss turn up again "
            f"while the training loss falls {where}: within these runs' length {regime} is not "
            "reached."
        )
    return (
        f"In {k} of the {n} selection runs the held-out completion loss falls to its lowest point "
        f"and turns up again while the training loss still falls {where}: {regime}; in the others "
        "it does not turn up within the runs' length."
    )


# -------------------------------------------------------------------------------- the sweeps


def sweep_percentages(sweep: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy (%) by prompt-loss weight, one column per data type in R_g order."""
    table = sweep.pivot_table(index="prompt_loss_weight", columns="data_type", values="mean")
    return table.mul(100).round(1)[list(prompt_loss_data.DATA_TYPES)]


def sweeps(
    frame: pd.DataFrame, correct: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, QuadraticFit | None]]:
    """Every data type's PLW sweep (accuracy per weight with its CI) and its quadratic fit."""
    table = pd.concat(
        [
            prompt_loss_claims.sweep_table(frame, correct, name)
            for name in prompt_loss_data.DATA_TYPES
        ],
        ignore_index=True,
    )
    fits = {
        name: prompt_loss_claims.fit_sweep(frame, correct, name)
        for name in prompt_loss_data.DATA_TYPES
    }
    return table, fits


def fit_table(fits: Mapping[str, QuadraticFit | None], ratios: pd.DataFrame) -> pd.DataFrame:
    """Each sweep's fit in the paper's units: a and the vertex with their intervals."""
    return pd.DataFrame(
        [
            {
                "data type": name,
                "R_g": ratios.loc[name, "R_g"],
                "a": f.a,
                "a 95 % CI": f"[{f.a_low:.3f}, {f.a_high:.3f}]",
                "vertex w_p": f.vertex_wp,
                "vertex 95 % CI": f"[{f.vertex_low:.2f}, {f.vertex_high:.2f}]",
                "vertex PLW": f.vertex_plw,
                "value at vertex": f.peak,
            }
            for name, f in fits.items()
        ]
    )


def best_in(sweep: pd.DataFrame, data_type: str) -> float:
    """The best mean test accuracy of one data type's sweep (0–1)."""
    return float(sweep[sweep["data_type"] == data_type]["mean"].max())


def sweep_values(
    sweep: pd.DataFrame, fits: Mapping[str, QuadraticFit | None], lines: Mapping[str, float]
) -> dict[str, str]:
    """What each fit says, the best cell of the sweeps, and the lowest-R_g data against the rule."""
    values = {f"fit_{name}": fit_sentence(name, f) for name, f in fits.items() if f is not None}
    best = sweep.loc[sweep["mean"].idxmax()]
    low_best, rule = best_in(sweep, study.LOWEST), lines[RULE]
    side = "above" if low_best > rule else "below"
    values["low_vs_rule"] = (
        f"the best {study.LOWEST} cell reaches {100 * low_best:.1f} %, {side} the rule"
    )
    values["best_run"] = (
        f"{100 * best['mean']:.1f} % ({best['data_type']}, PLW {best['prompt_loss_weight']:g})"
    )
    return values


def capable_values(
    sweep: pd.DataFrame,
    lines: Mapping[str, float],
    selection: pd.DataFrame,
    chosen: pd.DataFrame,
) -> dict[str, str]:
    """Whether the best fine-tuned cell of each data type (its best test mean over the sweep)
    clears the one-line rule by ``capability_check.MARGIN`` — below it a sweep may measure an optimisation
    failure, not prompt loss — and for a type that does not, where its selection run stood."""
    rule = lines[RULE]
    parts, short = [], []
    for name in prompt_loss_data.DATA_TYPES:
        best = best_in(sweep, name)
        parts.append(f"{name} {100 * best:.1f} %")
        if best < rule + capability_check.MARGIN:
            why = selection_trend(selection, chosen, name)
            short.append(
                f"{name} is less than {100 * capability_check.MARGIN:.0f} points above it ({why})"
            )
    verdict = (
        f"each {100 * capability_check.MARGIN:.0f} points or more above the rule"
        if not short
        else "; ".join(short)
    )
    return {
        "capable_cells": f"{'; '.join(parts)} against {100 * rule:.1f} % for the rule: {verdict}"
    }


def mechanism(frame: pd.DataFrame, correct: pd.DataFrame) -> pd.DataFrame:
    """PLW − IT at every weight of each condition of ``MECHANISM`` (paired, same seeds and rows)."""
    tables = [
        prompt_loss_claims.prompt_loss_effects(frame, correct, name, tokens)
        for name, tokens in MECHANISM
    ]
    tables = [t for t in tables if not t.empty]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def mechanism_contrasts(
    frame: pd.DataFrame, correct: pd.DataFrame
) -> dict[str, dict[str, float] | None]:
    """The two differences of effects the mechanism question asks about, paired: the kind of
    prompt (words − expressions) and masking the expressions (every token − words only)."""
    return {
        "kind": prompt_loss_claims.effect_contrast(
            frame, correct, (study.LOWEST, "all"), (study.SAME_RATIO, "all")
        ),
        "masking": prompt_loss_claims.effect_contrast(
            frame, correct, (study.SAME_RATIO, "all"), (study.SAME_RATIO, "words")
        ),
    }


def mechanism_values(effects: pd.DataFrame) -> dict[str, str]:
    """Per condition, PLW − IT at the largest weight it ran, in words (every weight is in the
    table: picking the best one on test rows would overstate it)."""
    values = {}
    for (name, tokens), group in effects.groupby(["data_type", "prompt_tokens"], sort=False):
        last = group.sort_values("prompt_loss_weight").iloc[-1]
        where = "every prompt token" if tokens == "all" else "the words alone"
        values[f"effect_{name}_{tokens}"] = difference_sentence(
            last["diff"],
            last["ci_low"],
            last["ci_high"],
            f"{name}, prompt loss on {where}: PLW {last['prompt_loss_weight']:g} − IT",
        )
    return values


def normalization_sweeps(
    frame: pd.DataFrame, correct: pd.DataFrame
) -> tuple[dict[str, pd.DataFrame], dict[str, QuadraticFit | None]]:
    """The lowest-R_g sweep under each loss normaliser, and their fits."""
    tables = {
        n: prompt_loss_claims.sweep_table(frame, correct, study.LOWEST, n) for n in NORMALIZERS
    }
    fits = {n: prompt_loss_claims.fit_sweep(frame, correct, study.LOWEST, n) for n in NORMALIZERS}
    return tables, fits


def normalization_values(
    contrast: pd.DataFrame, fits: Mapping[str, QuadraticFit | None]
) -> dict[str, str]:
    """The two normalisers compared at the largest weight both ran, and the completion one's fit."""
    if contrast.empty:
        at_one = "no weight was run with both loss normalisers"
    else:
        last = contrast.iloc[-1]
        at_one = difference_sentence(
            last["difference"],
            last["ci_low"],
            last["ci_high"],
            f"at PLW {last['prompt_loss_weight']:g}, dividing by the completion tokens instead "
            "of the weights",
        )
    fit = fits["completion"]
    return {
        "norm_at_one": at_one,
        "fit_norm": fit_sentence(f"{study.LOWEST} (loss / completion tokens)", fit)
        if fit
        else "not fitted (fewer than 3 weights)",
    }


# ------------------------------------------------------------------------- IM and IT


def im_it_curves(frame: pd.DataFrame) -> pd.DataFrame:
    """The completion-loss curves of the IT and IM runs (mean and CI over seeds)."""
    return plw_fit.loss_curves(frame[frame["method"].isin(["it", "im"])])


def curve_values(overfit: pd.DataFrame, smallest: int) -> dict[str, str]:
    """Whether IT overfits at the smallest training set, in how many curves it does, and IM's
    losses against IT's there (Shi et al.'s picture)."""
    it_overfit = overfit[overfit["method"] == "it"]
    at_small = overfit[
        (overfit["data_type"] == study.LOWEST) & (overfit["train_size"] == smallest)
    ].set_index("method")
    it, im = at_small.loc["it"], at_small.loc["im"]
    overfits = "overfits" if it["overfits"] else "does not overfit"
    lower = "lower" if im["held_out_at_last"] < it["held_out_at_last"] else "not lower"
    higher = "higher" if im["train_at_last"] > it["train_at_last"] else "not higher"
    return {
        "it_overfits": (
            f"IT {overfits} at {int(it['train_size'])} examples: its held-out loss is lowest "
            f"({it['held_out_at_best']:.3f}) at step {it['best_step']} and "
            f"{it['held_out_at_last']:.3f} at step {it['last_step']}, while its training loss "
            f"goes from {it['train_at_best']:.3f} to {it['train_at_last']:.3f}"
        ),
        "overfit_count": f"{int(it_overfit['overfits'].sum())} of {len(it_overfit)}",
        "im_vs_it_curves": (
            f"at the last step IM's held-out completion loss is {im['held_out_at_last']:.3f} "
            f"against IT's {it['held_out_at_last']:.3f} ({lower}), and its training loss "
            f"{im['train_at_last']:.3f} against {it['train_at_last']:.3f} ({higher})"
        ),
    }


def gains_by_size(gains: pd.DataFrame) -> pd.DataFrame:
    """IM − IT on the lowest-R_g data at every training-set size."""
    return gains[gains["data_type"] == study.LOWEST]


def gains_by_ratio(gains: pd.DataFrame, ratios: pd.DataFrame, sweep_size: int) -> pd.DataFrame:
    """IM − IT at the sweep's training-set size on every data type, in R_g order, with R_g."""
    return (
        gains[gains["train_size"] == sweep_size]
        .merge(ratios["R_g"], left_on="data_type", right_index=True)
        .sort_values("R_g")
    )


def gain_values(by_size: pd.DataFrame, by_ratio: pd.DataFrame) -> dict[str, str]:
    """IM − IT in words, by training-set size and along R_g."""
    return {
        "low_name": study.LOWEST,
        "im_by_size": "; ".join(
            difference_sentence(
                r.diff, r.ci_low, r.ci_high, f"{int(r.train_size):,} examples: IM − IT"
            )
            for r in by_size.itertuples()
        ),
        "im_by_ratio": "; ".join(
            difference_sentence(r.diff, r.ci_low, r.ci_high, f"{r.data_type}: IM − IT")
            for r in by_ratio.itertuples()
        ),
    }
