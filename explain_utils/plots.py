"""Figures for the book: one colour per explanation level everywhere, labelled axes, CIs.

Levels always read none → short → medium → long and models smallest first. Accuracy figures take
``baselines`` (``{label: accuracy}``, from ``baselines.baseline_lines``) and draw each as a
labelled horizontal line, so every accuracy is seen against rules that need no model.
Figures are returned, never shown.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from explain_utils.plots_claims import plot_claims
from explain_utils.plots_core import (
    GAIN_COLORS,
    LEVEL_COLORS,
    SPLIT_ORDER,
    baseline_lines,
    by_size,
    errorbar,
    finish,
    legend_beside,
    levels_in,
    lines_with_ci,
    size_ticks,
    use_book_style,
    yerr,
)
from explain_utils.plots_prompt_loss import (
    COMPLETION_COLORS,
    METHOD_COLORS,
    plot_completion_loss_curves,
    plot_im_vs_train_size,
    plot_plw_sweep,
)
from explain_utils.vocabulary import LEVELS

__all__ = [  # the notebooks' import point: chapter 5's figures live in plots_prompt_loss
    "COMPLETION_COLORS",
    "GAIN_COLORS",
    "LEVEL_COLORS",
    "METHOD_COLORS",
    "accuracy_vs_compute",
    "gain_vs_size",
    "plot_accuracy_by_group",
    "plot_accuracy_by_level",
    "plot_accuracy_vs",
    "plot_claims",
    "plot_completion_loss_curves",
    "plot_im_vs_train_size",
    "plot_label_distribution",
    "plot_learning_curves",
    "plot_plateaus",
    "plot_plw_sweep",
    "plot_source_lengths",
    "plot_step_metrics",
    "plot_target_lengths",
    "stacked_axes",
    "use_book_style",
]


def plot_target_lengths(lengths: pd.DataFrame, title: str) -> plt.Figure:
    """Distribution of target lengths (tokens) per explanation level; ``lengths`` from ``data.token_lengths``."""
    targets = lengths[lengths["field"] != "source"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    sns.boxplot(
        data=targets,
        x="tokens",
        y="field",
        hue="field",
        palette=LEVEL_COLORS,
        order=LEVELS,
        legend=False,
        ax=ax,
    )
    ax.set(xlabel="target length (tokens)", ylabel="explanation level", title=title)
    fig.tight_layout()
    return fig


def plot_source_lengths(lengths: pd.DataFrame, title: str) -> plt.Figure:
    """Histogram of expression lengths (tokens) per split: the train range and the longer test range."""
    sources = lengths[lengths["field"] == "source"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    order = [s for s in SPLIT_ORDER if s in set(sources["split"])]
    sns.histplot(
        data=sources,
        x="tokens",
        hue="split",
        hue_order=order,
        element="step",
        stat="density",
        common_norm=False,
        discrete=True,
        ax=ax,
    )
    ax.set(xlabel="expression length (tokens)", ylabel="density", title=title)
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.tight_layout()
    return fig


def plot_label_distribution(labels: pd.DataFrame, title: str) -> plt.Figure:
    """Share of each answer per task (train split); chance is 1/modulus."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    sns.barplot(data=labels, x="answer", y="share", hue="task", ax=ax)
    modulus = labels["answer"].max() + 1
    ax.axhline(
        1 / modulus, color="black", linestyle="--", linewidth=1, label=f"uniform (1/{modulus})"
    )
    ax.set(xlabel="answer", ylabel="share of training examples", title=title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.tight_layout()
    return fig


def plot_accuracy_vs(
    table: pd.DataFrame,
    x: str,
    xlabel: str,
    title: str,
    chance: float,
    logx: bool = True,
    baselines: Mapping[str, float] | None = None,
) -> plt.Figure:
    """Test accuracy vs a numeric ``x`` (model size, train size, tokens) per level, mean ± 95 % CI."""
    fig, ax = plt.subplots(figsize=(9, 4))
    lines_with_ci(ax, table, x)
    if logx:
        ax.set_xscale("log")
    if x == "params" and "model" in table:
        size_ticks(ax, table)
    ax.set(xlabel=xlabel, ylabel="test accuracy (%, mean ± 95 % CI)", title=title)
    return finish(fig, ax, chance, baselines)


_X_LABELS = {"step": "optimizer steps", "target_tokens_seen": "target tokens seen"}


def _plateau_marks(ax: plt.Axes, curves: pd.DataFrame, plateaus: pd.DataFrame) -> None:
    """A triangle on each level's curve at its mean step to the plateau (``steps_to_plateau``)."""
    for level in levels_in(plateaus):
        step = plateaus.loc[plateaus["level"] == level, "steps_to_plateau"].mean()
        rows = curves[curves["level"] == level].sort_values("step")
        if rows.empty:
            continue
        y = np.interp(step, rows["step"], 100 * rows["mean"])
        ax.plot(step, y, marker="v", markersize=9, color=LEVEL_COLORS[level], linestyle="none")


def _curve_panels(
    curves: pd.DataFrame,
    models: list[str] | None,
    title: str,
    x: str,
    chance: float | None,
    baselines: Mapping[str, float] | None,
    plateaus: pd.DataFrame | None = None,
) -> plt.Figure:
    models = by_size(curves, models)
    fig, axes = plt.subplots(
        1, len(models), figsize=(4.5 * len(models) + 3.5, 3.8), sharey=True, squeeze=False
    )
    for ax, model in zip(axes[0], models, strict=True):
        rows = curves[curves["model"] == model]
        lines_with_ci(ax, rows, x, band=True)
        if plateaus is not None:
            _plateau_marks(ax, rows, plateaus[plateaus["model"] == model])
        baseline_lines(ax, chance, baselines)
        if x != "step":
            ax.set_xscale("log")
        ax.set(xlabel=_X_LABELS.get(x, x) + (" (log scale)" if x != "step" else ""), title=model)
        ax.set_ylim(0, 101.5)  # a baseline at 100 % stays visible
    axes[0][0].set_ylabel("validation accuracy (%, mean ± 95 % CI)")
    if plateaus is not None and not plateaus.empty:  # one grey legend entry for the triangles
        axes[0][-1].plot([], [], marker="v", color="0.4", ls="none", label="plateau reached (mean)")
    legend_beside(axes[0][-1])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_learning_curves(
    curves: pd.DataFrame,
    models: list[str],
    title: str,
    x: str = "step",
    chance: float | None = None,
    baselines: Mapping[str, float] | None = None,
) -> plt.Figure:
    """Validation accuracy vs ``x`` per level, one panel per model (smallest first);
    ``curves`` from ``claims.curve_table``."""
    return _curve_panels(curves, models, title, x, chance, baselines)


def plot_plateaus(
    curves: pd.DataFrame,
    title: str,
    plateaus: pd.DataFrame | None = None,
    chance: float | None = None,
    baselines: Mapping[str, float] | None = None,
) -> plt.Figure:
    """Validation accuracy against steps for every model size and level (mean and 95 % CI band
    over seeds), to show where the curves flatten; ``plateaus`` (``claims.steps_to_plateau``)
    adds a triangle at each level's mean step to its own plateau."""
    return _curve_panels(curves, None, title, "step", chance, baselines, plateaus)


def accuracy_vs_compute(
    curves: pd.DataFrame,
    title: str,
    models: list[str] | None = None,
    chance: float | None = None,
    baselines: Mapping[str, float] | None = None,
) -> plt.Figure:
    """Validation accuracy against training target tokens seen (log scale) per level, one panel
    per model; ``curves`` from ``claims.curve_table(frame, x="target_tokens_seen")``."""
    return _curve_panels(curves, models, title, "target_tokens_seen", chance, baselines)


def gain_vs_size(gains: pd.DataFrame, title: str) -> plt.Figure:
    """Explanation gain (each level − none, and long − short) against model size, with the paired
    95 % CIs; ``gains`` from ``claims.gain_table``. Points of one size are spread a little."""
    fig, ax = plt.subplots(figsize=(7, 4))
    contrasts = [c for c in GAIN_COLORS if c in set(gains["contrast"])]
    for i, name in enumerate(contrasts):
        rows = gains[gains["contrast"] == name].sort_values("params")
        dodge = 1.06 ** (i - (len(contrasts) - 1) / 2)
        errorbar(
            ax,
            rows["params"] * dodge,
            rows.rename(columns={"diff": "mean"}),
            color=GAIN_COLORS[name],
            linestyle="--" if name == "long − short" else "-",
            label=name,
        )
    ax.axhline(0, color="black", linewidth=1)
    ax.set_xscale("log")
    size_ticks(ax, gains)
    ax.set(
        xlabel="model (parameters, log scale)",
        ylabel="test gain (points, paired 95 % CI)",
        title=title,
    )
    legend_beside(ax, title="contrast")
    fig.tight_layout()
    return fig


def stacked_axes(n: int, height: float = 4.0) -> tuple[plt.Figure, list[plt.Axes]]:
    """One figure of ``n`` panels stacked vertically, so related plots share one numbered figure."""
    fig, axes = plt.subplots(n, 1, figsize=(9, height * n), squeeze=False)
    return fig, list(axes[:, 0])


def plot_accuracy_by_group(
    table: pd.DataFrame,
    x: str,
    xlabel: str,
    title: str,
    chance: float | None = None,
    boundary_after: str | None = None,
    baselines: Mapping[str, float] | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Test accuracy vs a categorical ``x`` (expression depth, length bucket) per level, mean ± 95 % CI.

    ``boundary_after``: a value of ``x`` after which a dotted line marks the end of the training
    range (for length buckets). ``ax``: draw into this panel (of ``stacked_axes``) instead of a
    new figure.
    """
    fig, ax = plt.subplots(figsize=(9, 4)) if ax is None else (ax.figure, ax)
    order = list(dict.fromkeys(table[x]))
    table = table.assign(_pos=table[x].map({v: i for i, v in enumerate(order)}))
    lines_with_ci(ax, table, "_pos")
    if boundary_after in order:
        ax.axvline(
            order.index(boundary_after) + 0.5,
            color="grey",
            linestyle=":",
            label="end of training lengths",
        )
    ax.set_xticks(range(len(order)), order)
    ax.set(xlabel=xlabel, ylabel="accuracy (%, mean ± 95 % CI)", title=title)
    return finish(fig, ax, chance, baselines)


def plot_accuracy_by_level(
    table: pd.DataFrame,
    title: str,
    chance: float,
    baselines: Mapping[str, float] | None = None,
    xlabel: str = "explanation level",
    ylabel: str = "test accuracy (%, mean ± 95 % CI)",
) -> plt.Figure:
    """Bars of accuracy per level or format (mean ± 95 % CI) against chance and the baselines."""
    levels = levels_in(table)
    rows = table.set_index("level").loc[levels]
    fig, ax = plt.subplots(figsize=(8, 3.8))
    ax.bar(
        levels,
        100 * rows["mean"],
        yerr=yerr(rows),
        color=[LEVEL_COLORS[lv] for lv in levels],
        capsize=4,
    )
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    return finish(fig, ax, chance, baselines)


STEP_METRICS = {"step_accuracy": "step accuracy", "faithfulness": "faithfulness"}


def plot_step_metrics(table: pd.DataFrame, title: str) -> plt.Figure:
    """Step accuracy and faithfulness (%, mean ± 95 % CI over seeds) per explained level, one
    panel per metric (rows) and split (columns), one bar per model (smallest first).

    ``table``: ``claims.metric_table`` rows with ``metric`` and ``split`` columns.
    """
    splits = [s for s in SPLIT_ORDER if s in set(table["split"])]
    models = by_size(table)
    fig, axes = plt.subplots(
        len(STEP_METRICS), len(splits), figsize=(4.6 * len(splits), 6.4), squeeze=False
    )
    width = 0.8 / max(len(models), 1)
    greys = sns.color_palette("Greys", len(models) + 1)[1:]  # darker for larger models
    for row, (metric, label) in enumerate(STEP_METRICS.items()):
        for col, split in enumerate(splits):
            ax = axes[row, col]
            part = table[(table["metric"] == metric) & (table["split"] == split)]
            levels = levels_in(part)
            for k, model in enumerate(models):
                rows = part[part["model"] == model].set_index("level").reindex(levels)
                x = np.arange(len(levels)) + (k - (len(models) - 1) / 2) * width
                ax.bar(
                    x,
                    100 * rows["mean"],
                    width,
                    yerr=yerr(rows),
                    capsize=3,
                    label=model,
                    color=greys[k],
                )
            ax.set_xticks(range(len(levels)), levels)
            ax.set_ylim(0, 101.5)
            ax.set(title=f"{label}, {split}", ylabel=f"{label} (%)" if col == 0 else None)
    axes[0, -1].legend(title="model", loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.suptitle(title)
    fig.tight_layout()
    return fig
