"""Figures for the book: one colour per explanation level everywhere, labelled axes, CIs."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from explain_utils.explanations import LEVELS

# one fixed colour per explanation level, used by every figure in the book
LEVEL_COLORS: dict[str, str] = dict(
    zip(LEVELS, sns.color_palette("viridis_r", len(LEVELS)).as_hex(), strict=True)
)
SPLIT_ORDER = ("train", "validation", "test", "test_long")


def use_book_style() -> None:
    """Seaborn theme shared by every notebook."""
    sns.set_theme(style="whitegrid", context="notebook")


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


def _levels_in(table: pd.DataFrame) -> list[str]:
    return [lv for lv in LEVELS if lv in set(table["level"])]


def _yerr(rows: pd.DataFrame) -> list[pd.Series]:
    """Error-bar lengths (percent) below and above ``mean`` from the 95 % CI columns."""
    return [
        100 * (rows["mean"] - rows["ci_low"]).fillna(0),
        100 * (rows["ci_high"] - rows["mean"]).fillna(0),
    ]


def _errorbar(ax: plt.Axes, x, rows: pd.DataFrame, **style) -> None:
    ax.errorbar(x, 100 * rows["mean"], yerr=_yerr(rows), marker="o", capsize=3, **style)


def _lines_with_ci(ax: plt.Axes, table: pd.DataFrame, x: str, band: bool = False) -> None:
    """One line per explanation level: ``mean`` with its 95 % CI (error bars, or a band for curves)."""
    for level in _levels_in(table):
        rows = table[table["level"] == level].sort_values(x)
        color = LEVEL_COLORS[level]
        if band:
            ax.plot(rows[x], 100 * rows["mean"], color=color, label=level)
            ax.fill_between(
                rows[x], 100 * rows["ci_low"], 100 * rows["ci_high"], color=color, alpha=0.2
            )
        else:
            _errorbar(ax, rows[x], rows, color=color, label=level)


def _finish(fig: plt.Figure, ax: plt.Axes, chance: float | None = None) -> plt.Figure:
    if chance is not None:
        ax.axhline(100 * chance, color="black", linestyle="--", linewidth=1, label="chance")
    ax.set_ylim(0, 100)
    ax.legend(title="explanation", loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.tight_layout()
    return fig


def plot_accuracy_vs(
    table: pd.DataFrame, x: str, xlabel: str, title: str, chance: float, logx: bool = True
) -> plt.Figure:
    """Test accuracy vs a numeric ``x`` (model size, train size, tokens) per level, mean ± 95 % CI."""
    fig, ax = plt.subplots(figsize=(7, 4))
    _lines_with_ci(ax, table, x)
    if logx:
        ax.set_xscale("log")
    if x == "params" and "model" in table:  # name each model at its size
        sizes = table.drop_duplicates("params").sort_values("params")
        labels = [f"{m}\n{p:,}" for m, p in zip(sizes["model"], sizes["params"], strict=True)]
        ax.set_xticks(sizes["params"], labels)
        ax.minorticks_off()
    ax.set(xlabel=xlabel, ylabel="test accuracy (%, mean ± 95 % CI)", title=title)
    return _finish(fig, ax, chance)


def plot_learning_curves(
    curves: pd.DataFrame,
    models: list[str],
    title: str,
    x: str = "step",
    chance: float | None = None,
) -> plt.Figure:
    """Validation accuracy vs ``x`` per level, one panel per model; ``curves`` summarised by model, level, x."""
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 3.8), sharey=True)
    axes = [axes] if len(models) == 1 else list(axes)
    labels = {"step": "optimizer steps", "target_tokens_seen": "target tokens seen"}
    for ax, model in zip(axes, models, strict=True):
        _lines_with_ci(ax, curves[curves["model"] == model], x, band=True)
        ax.set(xlabel=labels.get(x, x), title=model, ylim=(0, 100))
        if chance is not None:
            ax.axhline(100 * chance, color="black", linestyle="--", linewidth=1, label="chance")
    axes[0].set_ylabel("validation accuracy (%, mean ± 95 % CI)")
    axes[-1].legend(title="explanation", loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_accuracy_by_group(
    table: pd.DataFrame,
    x: str,
    xlabel: str,
    title: str,
    chance: float | None = None,
    boundary_after: str | None = None,
) -> plt.Figure:
    """Test accuracy vs a categorical ``x`` (expression depth, length bucket) per level, mean ± 95 % CI.

    ``boundary_after``: a value of ``x`` after which a dotted line marks the end of the training
    range (for length buckets).
    """
    fig, ax = plt.subplots(figsize=(7, 4))
    order = list(dict.fromkeys(table[x]))
    table = table.assign(_pos=table[x].map({v: i for i, v in enumerate(order)}))
    _lines_with_ci(ax, table, "_pos")
    if boundary_after in order:
        ax.axvline(
            order.index(boundary_after) + 0.5,
            color="grey",
            linestyle=":",
            label="end of training lengths",
        )
    ax.set_xticks(range(len(order)), order)
    ax.set(xlabel=xlabel, ylabel="accuracy (%, mean ± 95 % CI)", title=title)
    return _finish(fig, ax, chance)


def plot_accuracy_by_level(table: pd.DataFrame, title: str, chance: float) -> plt.Figure:
    """Bars of test accuracy per level (mean ± 95 % CI) against chance; for the modular-sum task."""
    levels = _levels_in(table)
    rows = table.set_index("level").loc[levels]
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.bar(
        levels,
        100 * rows["mean"],
        yerr=_yerr(rows),
        color=[LEVEL_COLORS[lv] for lv in levels],
        capsize=4,
    )
    ax.set(xlabel="explanation level", ylabel="test accuracy (%, mean ± 95 % CI)", title=title)
    return _finish(fig, ax, chance)


# chapter 5: a data type takes the colour of its completion's explanation level, methods their own
COMPLETION_COLORS: dict[str, str] = {"short": LEVEL_COLORS["none"], "long": LEVEL_COLORS["long"]}
METHOD_COLORS: dict[str, str] = {"it": "#7f7f7f", "im": "#c44e52", "plw": "#4c72b0"}
_PLW_TICKS = (0.0, 1e-3, 1e-2, 1e-1, 1.0)


def plot_plw_sweep(
    table: pd.DataFrame, fits: dict, title: str, chance: float | None = None
) -> plt.Figure:
    """Test accuracy vs prompt-loss weight, one panel per data type: mean ± 95 % CI over seeds and
    the PLW paper's quadratic in w_p (``fits[completion]``, a ``plw_fit.QuadraticFit``).

    ``table``: ``summarize``d by ``completion`` and ``prompt_loss_weight``. The x axis is
    logarithmic above 1e-4 and linear below, so PLW = 0 (completion-only) sits at the left edge.
    """
    completions = [c for c in COMPLETION_COLORS if c in set(table["completion"])]
    fig, axes = plt.subplots(
        1, len(completions), figsize=(5.5 * len(completions), 4), sharey=True, squeeze=False
    )
    grid = np.concatenate([[0.0], np.logspace(-4, 0, 200)])
    for ax, completion in zip(axes[0], completions, strict=True):
        rows = table[table["completion"] == completion].sort_values("prompt_loss_weight")
        color = COMPLETION_COLORS[completion]
        _errorbar(ax, rows["prompt_loss_weight"], rows, color=color, linestyle="none", label="runs")
        fit = fits.get(completion)
        if fit is not None:
            ax.plot(
                grid,
                fit.predict(grid),
                color=color,
                linestyle="--",
                label=f"quadratic in w_p, a = {fit.a:.1f}",
            )
        if chance is not None:
            ax.axhline(100 * chance, color="black", linestyle=":", linewidth=1, label="chance")
        ax.set_xscale("symlog", linthresh=1e-4, linscale=0.4)
        ax.set_xticks(_PLW_TICKS, ["0", "1e-3", "0.01", "0.1", "1"])
        ax.set_xlim(-2e-5, 1.3)
        ax.set(xlabel="prompt-loss weight PLW (log scale; 0 = completion only)", title=completion)
        ax.set_title(f"{completion}-completion data")
        ax.legend(loc="lower left", frameon=False, fontsize="small")
    axes[0][0].set_ylabel("test accuracy (%, mean ± 95 % CI)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_im_vs_train_size(
    table: pd.DataFrame, title: str, chance: float | None = None
) -> plt.Figure:
    """Test accuracy vs training examples for IM and completion-only (``it``), mean ± 95 % CI.

    ``table``: ``summarize``d by ``method`` and ``train_size``.
    """
    labels = {"it": "completion only (IT)", "im": "instruction modelling (IM)"}
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for method in ("it", "im"):
        rows = table[table["method"] == method].sort_values("train_size")
        if not rows.empty:
            _errorbar(
                ax, rows["train_size"], rows, color=METHOD_COLORS[method], label=labels[method]
            )
    if chance is not None:
        ax.axhline(100 * chance, color="black", linestyle=":", linewidth=1, label="chance")
    ax.set_xscale("log")
    ax.set(
        xlabel="training examples (log scale)",
        ylabel="test accuracy (%, mean ± 95 % CI)",
        title=title,
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.tight_layout()
    return fig


def plot_completion_loss_curves(curves: pd.DataFrame, title: str) -> plt.Figure:
    """Completion loss on training rows (solid) and held-out rows (dashed) against steps, one
    colour per prompt-loss weight and one panel per data type; ``curves`` from ``plw_fit.loss_curves``."""
    completions = [c for c in COMPLETION_COLORS if c in set(curves["completion"])]
    weights = sorted(curves["prompt_loss_weight"].unique())
    palette = dict(zip(weights, sns.color_palette("rocket_r", len(weights) + 1)[1:], strict=True))
    styles = {"train_completion_loss": "-", "validation_completion_loss": "--"}
    fig, axes = plt.subplots(
        1, len(completions), figsize=(5.5 * len(completions), 3.8), squeeze=False
    )
    for ax, completion in zip(axes[0], completions, strict=True):
        for weight in weights:
            for metric, style in styles.items():
                rows = curves[
                    (curves["completion"] == completion)
                    & (curves["prompt_loss_weight"] == weight)
                    & (curves["metric"] == metric)
                ].sort_values("step")
                split = "train" if metric.startswith("train") else "held out"
                ax.plot(
                    rows["step"],
                    rows["mean"],
                    linestyle=style,
                    color=palette[weight],
                    label=f"PLW {weight:g}, {split}",
                )
                ax.fill_between(
                    rows["step"], rows["ci_low"], rows["ci_high"], color=palette[weight], alpha=0.15
                )
        ax.set(
            xlabel="optimizer steps",
            ylabel="completion loss (nats per token)",
            title=f"{completion}-completion data",
        )
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
