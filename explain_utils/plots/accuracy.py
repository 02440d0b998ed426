"""Accuracy figures: by model size, by level, by a breakdown (depth, length bucket), the paired
gains by size, and the step metrics of explained outputs.

Levels always read none → short → medium → long and models smallest first. Accuracy figures take
``baselines`` (``{label: accuracy}``, from ``baselines.baseline_lines``) and draw each as a
labelled horizontal line, so every accuracy is seen against rules that need no model.
Figures are returned, never shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from explain_utils.common.names import LEVELS
from explain_utils.plots.style import (
    GAIN_COLORS,
    LEVEL_COLORS,
    SPLIT_ORDER,
    by_size,
    errorbar,
    finish,
    legend_beside,
    levels_in,
    lines_with_ci,
    size_ticks,
    split_baseline_lines,
    yerr,
)


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
    split_baselines: Mapping[str, Mapping[str, float]] | None = None,
) -> plt.Figure:
    """Test accuracy vs a categorical ``x`` (expression depth, length bucket) per level, mean ± 95 % CI.

    ``boundary_after``: a value of ``x`` after which a dotted line marks the end of the training
    range (for length buckets). ``ax``: draw into this panel (of ``stacked_axes``) instead of a
    new figure. ``split_baselines`` (``{split: {label: accuracy}}``, instead of ``baselines``):
    the groups of ``table`` come from several splits (its ``split`` column), and each baseline is
    drawn only over the groups of the split it was scored on, at its accuracy there.
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
    ax.set_xlim(-0.5, len(order) - 0.5)
    ax.set(xlabel=xlabel, ylabel="accuracy (%, mean ± 95 % CI)", title=title)
    if split_baselines is None:
        return finish(fig, ax, chance, baselines)
    if baselines is not None:
        raise ValueError("pass baselines or split_baselines, not both")
    positions = {
        split: sorted(set(table.loc[table["split"] == split, "_pos"]))
        for split in dict.fromkeys(table["split"])
    }
    split_baseline_lines(ax, positions, chance, split_baselines)
    return finish(fig, ax)


def plot_accuracy_by_level(
    table: pd.DataFrame,
    title: str,
    chance: float,
    baselines: Mapping[str, float] | None = None,
    xlabel: str = "explanation level",
    ylabel: str = "test accuracy (%, mean ± 95 % CI)",
) -> plt.Figure:
    """Bars of accuracy per level or format (mean ± 95 % CI) against chance and the baselines.

    Each bar is named in the legend beside the baselines; names longer than a level's are slanted
    so that they do not run into each other, and the y label is broken before its bracket so that
    it fits the axes' height.
    """
    levels = levels_in(table)
    rows = table.set_index("level").loc[levels]
    fig, ax = plt.subplots(figsize=(9.5, 4.2))
    ax.bar(
        levels,
        100 * rows["mean"],
        yerr=yerr(rows, share=True),
        color=[LEVEL_COLORS[lv] for lv in levels],
        capsize=4,
        label=levels,
    )
    if max(map(len, levels), default=0) > max(map(len, LEVELS)):
        ax.set_xticks(range(len(levels)), levels, rotation=25, ha="right", rotation_mode="anchor")
    ax.set(xlabel=xlabel, ylabel=ylabel.replace(" (", "\n(", 1), title=title)
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
                    yerr=yerr(rows, share=True),
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


def plot_groups_by_model(
    table: pd.DataFrame,
    models: Sequence[str],
    group: str,
    xlabel: str,
    title: str,
    chance: float,
    **kwargs: Any,
) -> plt.Figure:
    """``plot_accuracy_by_group`` once per model of ``models``, stacked (each panel titled
    "``title``, model"); ``kwargs`` go to every panel (baselines, a boundary)."""
    models = list(dict.fromkeys(models))
    fig, axes = stacked_axes(len(models))
    for ax, model in zip(axes, models, strict=True):
        rows = table[table["model"] == model]
        plot_accuracy_by_group(rows, group, xlabel, f"{title}, {model}", chance, ax=ax, **kwargs)
    return fig
