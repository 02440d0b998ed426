"""Shared pieces of the book's figures: one colour per level, error bars and CI bands, baselines.

Levels always read none → short → medium → long and models smallest first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from explain_utils.common.names import FORMATS, LEVELS, TARGET_FORMATS

# one fixed colour per explanation level (and per book format), used by every figure in the book
LEVEL_COLORS: dict[str, str] = dict(
    zip(LEVELS, sns.color_palette("viridis_r", len(LEVELS)).as_hex(), strict=True)
) | dict(zip(FORMATS, sns.color_palette("Set2", len(FORMATS)).as_hex(), strict=True))
SPLIT_ORDER = ("train", "validation", "test", "test_long")
# baseline lines: grey, one dash pattern each, in the order given
_BASELINE_STYLES = ("--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))
GAIN_COLORS: dict[str, str] = {
    **{f"{lv} − none": LEVEL_COLORS[lv] for lv in LEVELS[1:]},
    "long − short": "#444444",
}


def use_book_style() -> None:
    """Seaborn theme shared by every notebook."""
    sns.set_theme(style="whitegrid", context="notebook")


def levels_in(table: pd.DataFrame) -> list[str]:
    """The levels present in ``table``, in ``LEVELS`` order (none → long), then the book's formats."""
    return [lv for lv in TARGET_FORMATS if lv in set(table["level"])]


def yerr(rows: pd.DataFrame) -> list[pd.Series]:
    """Error-bar lengths (percent) below and above ``mean`` from the 95 % CI columns."""
    return [
        100 * (rows["mean"] - rows["ci_low"]).fillna(0),
        100 * (rows["ci_high"] - rows["mean"]).fillna(0),
    ]


def errorbar(ax: plt.Axes, x: Sequence[float] | pd.Series, rows: pd.DataFrame, **style) -> None:
    """Points at ``mean`` (percent) with error bars to the CI columns."""
    ax.errorbar(x, 100 * rows["mean"], yerr=yerr(rows), marker="o", capsize=3, **style)


def lines_with_ci(ax: plt.Axes, table: pd.DataFrame, x: str, band: bool = False) -> None:
    """One line per explanation level: ``mean`` with its 95 % CI (error bars, or a band for curves)."""
    for level in levels_in(table):
        rows = table[table["level"] == level].sort_values(x)
        color = LEVEL_COLORS[level]
        if band:
            ax.plot(rows[x], 100 * rows["mean"], color=color, label=level)
            ax.fill_between(
                rows[x], 100 * rows["ci_low"], 100 * rows["ci_high"], color=color, alpha=0.2
            )
        else:
            errorbar(ax, rows[x], rows, color=color, label=level)


def baseline_lines(
    ax: plt.Axes, chance: float | None, baselines: Mapping[str, float] | None
) -> None:
    """Chance and every baseline as a labelled grey horizontal line (chance once, if both)."""
    lines = dict(baselines or {})
    if chance is not None and not any(label.startswith("chance") for label in lines):
        lines = {"chance": chance, **lines}
    for i, (label, value) in enumerate(lines.items()):
        ax.axhline(
            100 * value,
            color="black" if label.startswith("chance") else "0.45",
            linestyle=_BASELINE_STYLES[i % len(_BASELINE_STYLES)],
            linewidth=1,
            label=f"{label} ({100 * value:.1f} %)",
        )


def finish(
    fig: plt.Figure,
    ax: plt.Axes,
    chance: float | None = None,
    baselines: Mapping[str, float] | None = None,
) -> plt.Figure:
    """Baseline lines, a 0-100 % axis and the legend beside the axes."""
    baseline_lines(ax, chance, baselines)
    ax.set_ylim(0, 101.5)  # a baseline at 100 % stays visible
    legend_beside(ax)
    fig.tight_layout()
    return fig


def legend_beside(ax: plt.Axes, title: str = "explanation") -> None:
    """The legend right of the axes: levels first (none → long), then lines such as baselines."""
    handles, labels = ax.get_legend_handles_labels()
    rank = {lv: i for i, lv in enumerate(TARGET_FORMATS)}
    order = sorted(range(len(labels)), key=lambda i: (rank.get(labels[i], len(rank)), i))
    ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        title=title,
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        frameon=False,
    )


def by_size(table: pd.DataFrame, models: list[str] | None = None) -> list[str]:
    """``models`` (all models of ``table`` when None), smallest first by parameter count."""
    sizes = table.drop_duplicates("model").set_index("model")["params"]
    names = list(dict.fromkeys(models)) if models is not None else list(sizes.index)
    return sorted(names, key=lambda m: sizes.get(m, 0))


def size_ticks(ax: plt.Axes, table: pd.DataFrame) -> None:
    """Name each model at its size on a parameter-count axis."""
    sizes = table.drop_duplicates("params").sort_values("params")
    labels = [f"{m}\n{p:,}" for m, p in zip(sizes["model"], sizes["params"], strict=True)]
    ax.set_xticks(sizes["params"], labels)
    ax.minorticks_off()
