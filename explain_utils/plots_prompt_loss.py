"""Chapter 5's figures: accuracy against the prompt-loss weight, IM vs IT, completion-loss curves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from explain_utils.plots_core import LEVEL_COLORS, errorbar

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
        errorbar(ax, rows["prompt_loss_weight"], rows, color=color, linestyle="none", label="runs")
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
            errorbar(
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
