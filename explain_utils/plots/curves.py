"""Learning curves: validation accuracy against steps or target tokens, per model size, with the
step at which each level first reaches a fixed accuracy (C6's convergence threshold) marked.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import pandas as pd

from explain_utils.plots.style import (
    LEVEL_COLORS,
    baseline_lines,
    by_size,
    legend_beside,
    levels_in,
    lines_with_ci,
)

_X_LABELS = {"step": "optimizer steps", "target_tokens_seen": "target tokens seen"}


REACHED = "reached it (mean step)"
NOT_ALL_REACHED = "not every run reached it (mean: a lower bound)"


def _convergence_marks(ax: plt.Axes, steps: pd.DataFrame) -> None:
    """A triangle per level at the threshold and its mean step to it (``steps_to_accuracy``),
    open where some run never reached it: its mean then counts those at the common horizon."""
    for level in levels_in(steps):
        rows = steps[steps["level"] == level]
        y = 100 * rows["threshold"].iloc[0]
        fill = "full" if rows["reached"].all() else "none"
        ax.plot(
            rows["steps_to_accuracy"].mean(),
            y,
            marker="v",
            markersize=9,
            color=LEVEL_COLORS[level],
            fillstyle=fill,
            linestyle="none",
        )


def _threshold_line(ax: plt.Axes, threshold: float) -> None:
    """The convergence threshold as a labelled dotted line (not a baseline: no rule scores it)."""
    label = f"convergence accuracy ({100 * threshold:g} %)"
    ax.axhline(100 * threshold, color="0.3", linestyle=":", linewidth=1, label=label)


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
        if plateaus is not None and not plateaus.empty:
            _threshold_line(ax, float(plateaus["threshold"].iloc[0]))
            _convergence_marks(ax, plateaus[plateaus["model"] == model])
        baseline_lines(ax, chance, baselines)
        if x != "step":
            ax.set_xscale("log")
        ax.set(xlabel=_X_LABELS.get(x, x) + (" (log scale)" if x != "step" else ""), title=model)
        ax.set_ylim(0, 101.5)  # a baseline at 100 % stays visible
    axes[0][0].set_ylabel("validation accuracy (%, mean ± 95 % CI)")
    if plateaus is not None and not plateaus.empty:  # grey legend entries for the triangles
        axes[0][-1].plot([], [], marker="v", color="0.4", ls="none", label=REACHED)
        if not plateaus["reached"].all():
            axes[0][-1].plot(
                [], [], marker="v", color="0.4", fillstyle="none", ls="none", label=NOT_ALL_REACHED
            )
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
    over seeds), to show where the curves flatten; ``plateaus`` (``tables.steps_to_accuracy``)
    adds its threshold as a dotted line and a triangle at each level's mean step to it (open
    where some run never reached it)."""
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
