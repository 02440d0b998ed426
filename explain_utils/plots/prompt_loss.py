"""Chapter 5's figures: the pre-trained model's capability along pre-training, accuracy against
the prompt-loss weight (per data type, and with the two loss normalisers), PLW − IT by prompt kind
and prompt tokens, the rate/steps choice, IM and IT loss curves, and IM − IT by size and by type."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from explain_utils.plots.style import LEVEL_COLORS, baseline_lines, errorbar

# one colour per data type (the expression-only one takes the long level's); methods their own
COMPLETION_COLORS: dict[str, str] = {
    "instruction": "#4c72b0",
    "oneshot": "#55a868",
    "long": LEVEL_COLORS["long"],
}
TOKEN_STYLES: dict[str, str] = {"all": "-", "words": "--"}  # prompt tokens the loss covers
METHOD_COLORS: dict[str, str] = {"it": "#7f7f7f", "im": "#c44e52", "plw": "#4c72b0"}
NORMALIZATION_LABELS: dict[str, str] = {
    "weights": "loss / sum of weights (the paper's)",
    "completion": "loss / completion tokens",
}
_NORMALIZATION_COLORS = {"weights": "#4c72b0", "completion": "#dd8452"}
_PLW_TICKS = (0.0, 1e-3, 1e-2, 1e-1, 1.0)
_GRID = np.concatenate([[0.0], np.logspace(-4, 0, 200)])


def _plw_axis(ax: plt.Axes) -> None:
    """Logarithmic above 1e-4 and linear below, so PLW = 0 (completion only) sits at the left."""
    ax.set_xscale("symlog", linthresh=1e-4, linscale=0.4)
    ax.set_xticks(_PLW_TICKS, ["0", "1e-3", "0.01", "0.1", "1"])
    ax.set_xlim(-2e-5, 1.3)
    ax.set_xlabel("PLW (log scale; 0 = IT)")


def _sweep(ax: plt.Axes, rows: pd.DataFrame, fit, color: str, label: str) -> None:
    """Mean ± CI per weight (points) and the fitted quadratic in w_p (dashed)."""
    rows = rows.sort_values("prompt_loss_weight")
    errorbar(ax, rows["prompt_loss_weight"], rows, color=color, linestyle="none", label=label)
    if fit is not None:
        ax.plot(
            _GRID,
            100 * fit.predict(_GRID),
            color=color,
            linestyle="--",
            linewidth=1.2,
            label=f"quadratic in w_p, a = {fit.a:.3f}",
        )


def _legend(ax: plt.Axes) -> None:
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize="small")


def plot_plw_sweep(
    table: pd.DataFrame,
    fits: Mapping,
    title: str,
    baselines: Mapping[str, float] | None = None,
    ratios: Mapping[str, float] | None = None,
) -> plt.Figure:
    """Test accuracy vs prompt-loss weight, one panel per data type (columns ``data_type``,
    ``prompt_loss_weight``, ``mean``, ``ci_low``, ``ci_high``): mean ± 95 % CI over seeds and rows,
    the quadratic ``fits[data_type]`` and the baselines on the same test rows."""
    types = [t for t in COMPLETION_COLORS if t in set(table["data_type"])]
    fig, axes = plt.subplots(
        1, len(types), figsize=(4.6 * len(types), 4.2), sharey=True, squeeze=False
    )
    for ax, name in zip(axes[0], types, strict=True):
        rows = table[table["data_type"] == name]
        _sweep(ax, rows, fits.get(name), COMPLETION_COLORS[name], "test accuracy")
        baseline_lines(ax, None, baselines)
        _plw_axis(ax)
        rg = f" (R_g = {ratios[name]:.2f})" if ratios and name in ratios else ""
        ax.set_title(f"{name}{rg}")
        ax.legend(loc="lower left", fontsize="x-small", frameon=False)  # each panel's own fit
    axes[0][0].set_ylabel("test accuracy (%, mean ± 95 % CI)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_normalization(
    tables: Mapping[str, pd.DataFrame],
    fits: Mapping,
    title: str,
    baselines: Mapping[str, float] | None = None,
) -> plt.Figure:
    """One data type's sweep under each loss normaliser (``tables[normalization]``, as for
    ``plot_plw_sweep``), the same axes, so the step-size part of the PLW effect shows."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for name, rows in tables.items():
        _sweep(ax, rows, fits.get(name), _NORMALIZATION_COLORS[name], NORMALIZATION_LABELS[name])
    baseline_lines(ax, None, baselines)
    _plw_axis(ax)
    ax.set(ylabel="test accuracy (%, mean ± 95 % CI)", title=title)
    _legend(ax)
    fig.tight_layout()
    return fig


def plot_selection(table: pd.DataFrame, chosen: pd.DataFrame, title: str) -> plt.Figure:
    """Validation accuracy (top) and held-out completion loss (bottom) along the selection runs,
    one colour per rate, one column per data type; the chosen (rate, steps) circled."""
    types = [t for t in COMPLETION_COLORS if t in set(table["data_type"])]
    rates = sorted(table["learning_rate"].unique())
    palette = dict(zip(rates, sns.color_palette("crest", len(rates)), strict=True))
    fig, axes = plt.subplots(
        2, len(types), figsize=(4.4 * len(types), 6), sharex=True, squeeze=False
    )
    for col, name in enumerate(types):
        rows = table[table["data_type"] == name]
        for rate in rates:
            curve = rows[rows["learning_rate"] == rate].sort_values("step")
            style = dict(color=palette[rate], marker=".", label=f"lr {rate:g}")
            axes[0][col].plot(curve["step"], 100 * curve["validation_accuracy"], **style)
            axes[1][col].plot(curve["step"], curve["validation_completion_loss"], **style)
        pick = chosen.loc[name]
        axes[0][col].plot(
            pick["steps"], 100 * pick["validation_accuracy"], "o", ms=14, mfc="none", mec="black",
            label="chosen",
        )  # fmt: skip
        axes[0][col].set_title(name)
        axes[1][col].set_xlabel("optimizer steps")
    axes[0][0].set_ylabel("validation accuracy (%)")
    axes[1][0].set_ylabel("held-out completion loss")
    _legend(axes[0][-1])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_loss_curves(curves: pd.DataFrame, title: str, scored_at: int | None = None) -> plt.Figure:
    """Shi et al.'s overfitting figure: completion loss on training rows (solid) and held-out rows
    (dashed) against steps for IT and IM, one panel per train size (``plw_fit.loss_curves``);
    a dotted line at ``scored_at``, the step chosen on validation where test was scored."""
    sizes = sorted(curves["train_size"].unique())
    styles = {"train_completion_loss": "-", "validation_completion_loss": "--"}
    fig, axes = plt.subplots(1, len(sizes), figsize=(4.4 * len(sizes), 3.8), squeeze=False)
    for ax, size in zip(axes[0], sizes, strict=True):
        for method in ("it", "im"):
            color = METHOD_COLORS[method]
            for metric, style in styles.items():
                rows = curves[
                    (curves["train_size"] == size)
                    & (curves["method"] == method)
                    & (curves["metric"] == metric)
                ].sort_values("step")
                split = "train" if metric.startswith("train") else "held out"
                label = f"{method.upper()}, {split}"
                ax.plot(rows["step"], rows["mean"], linestyle=style, color=color, label=label)
                ax.fill_between(
                    rows["step"], rows["ci_low"], rows["ci_high"], color=color, alpha=0.15
                )
        if scored_at is not None:
            ax.axvline(scored_at, color="black", linestyle=":", linewidth=1, label="scored on test")
        ax.set(xlabel="optimizer steps", title=f"{size:,} training examples")
    axes[0][0].set_ylabel("completion loss (nats per token)")
    _legend(axes[0][-1])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_im_gains(by_size: pd.DataFrame, by_ratio: pd.DataFrame, title: str) -> plt.Figure:
    """IM − IT (points, 95 % CI) against the training-set size (left) and per data type with its
    R_g (right): Shi et al.'s two figures. Tables: ``claims.prompt_loss.im_gains`` rows,
    ``by_ratio`` with an ``R_g`` column (two types may share an R_g, so the axis is by type)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    rows = by_size.sort_values("train_size")
    errorbar(
        axes[0],
        rows["train_size"],
        rows.rename(columns={"diff": "mean"}),
        color=METHOD_COLORS["im"],
    )
    axes[0].set_xscale("log")
    # ticks at the measured values only: log-scale minor labels collide over a short range
    axes[0].set_xticks(list(rows["train_size"]), [f"{v:,.0f}" for v in rows["train_size"]])
    axes[0].minorticks_off()
    axes[0].set_xlabel("training examples (log scale)")
    rows = by_ratio.sort_values("R_g").reset_index(drop=True)
    errorbar(axes[1], rows.index, rows.rename(columns={"diff": "mean"}), color=METHOD_COLORS["im"])
    axes[1].set_xticks(
        list(rows.index), [f"{r.data_type}\nR_g {r.R_g:.2f}" for r in rows.itertuples()]
    )
    axes[1].set_xlim(-0.5, len(rows) - 0.5)
    axes[1].set_xlabel("data type (sweep's training set)")
    for ax in axes:
        ax.axhline(0, color="black", linewidth=1)
    axes[0].set_ylabel("IM − IT (accuracy points, 95 % CI)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_mechanism(effects: pd.DataFrame, title: str) -> plt.Figure:
    """PLW − IT (points, 95 % CI; ``claims.prompt_loss.prompt_loss_effects`` rows) against the
    weight, one panel per data type: the prompt loss on every prompt token (solid) and on the
    words alone, expressions masked (dashed)."""
    types = [t for t in COMPLETION_COLORS if t in set(effects["data_type"])]
    fig, axes = plt.subplots(
        1, len(types), figsize=(4.6 * len(types), 3.9), sharey=True, squeeze=False
    )
    for ax, name in zip(axes[0], types, strict=True):
        for tokens, style in TOKEN_STYLES.items():
            rows = effects[(effects["data_type"] == name) & (effects["prompt_tokens"] == tokens)]
            if rows.empty:
                continue
            label = "every prompt token" if tokens == "all" else "words only (expressions masked)"
            rows = rows.sort_values("prompt_loss_weight").rename(columns={"diff": "mean"})
            errorbar(
                ax, rows["prompt_loss_weight"], rows, color=COMPLETION_COLORS[name],
                linestyle=style, label=label,
            )  # fmt: skip
        ax.axhline(0, color="black", linewidth=1)
        _plw_axis(ax)
        ax.set_title(name)
        ax.legend(loc="lower left", fontsize="x-small", frameon=False)
    axes[0][0].set_ylabel("PLW − IT (accuracy points, 95 % CI)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_capability(curve: pd.DataFrame, title: str) -> plt.Figure:
    """The pre-trained model's accuracy by generating, in its own format, along pre-training:
    one line per query position (``studies.capability.capability_curve``), the one-line rule
    on the same rows dotted."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    if curve.empty:  # a hub checkpoint: no pre-training run of ours to follow
        ax.text(0.5, 0.5, "no pre-training run in this chapter", ha="center", va="center")
        ax.set_axis_off()
        return fig
    for position, rows in curve.groupby("query position"):
        rows = rows.sort_values("step")
        ax.plot(
            rows["step"], 100 * rows["accuracy"], marker="o", label=f"query at position {position}"
        )
    ax.axhline(
        100 * curve["one-line rule"].iloc[0], color="grey", linestyle=":",
        label="root operator over all numbers",
    )  # fmt: skip
    ax.set(xlabel="pre-training steps", ylabel="accuracy (%, generated)", title=title)
    ax.set_ylim(0, 100)
    _legend(ax)
    fig.tight_layout()
    return fig
