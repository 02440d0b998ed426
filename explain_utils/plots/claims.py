"""The claims chapter's figure: each claim's paired difference beside the paper's figure."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from explain_utils.analysis.stats import (
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    REVERSED,
    STILL_LEARNING,
    VERDICTS,
)

VERDICT_COLORS = {
    HOLDS: "#1b9e77",
    INCONCLUSIVE: "#bdbdbd",  # neither success nor failure: a light neutral grey
    DOES_NOT_HOLD: "#7570b3",  # a failure, not neutral: grey is inconclusive's
    REVERSED: "#d95f02",
}
# a cell still learning leaves a claim inconclusive: drawn as one, neither success nor failure
VERDICT_COLORS[STILL_LEARNING] = VERDICT_COLORS[INCONCLUSIVE]
# inconclusive is also drawn open with a dashed interval, so that it never reads as the darker,
# filled grey of "does not hold"
OPEN = {INCONCLUSIVE, STILL_LEARNING}


def _style(verdict: str) -> dict:
    """Colour, marker fill and interval line of a verdict (black for a verdict not in the key)."""
    is_open = verdict in OPEN
    return {
        "color": VERDICT_COLORS.get(verdict, "black"),
        "fillstyle": "none" if is_open else "full",
        "linestyle": "--" if is_open else "-",
    }


def _verdict_key(verdict: str) -> Line2D:
    """A legend entry for ``verdict``: its marker on its interval line."""
    style = _style(verdict)
    return Line2D([], [], marker="o", markersize=7, linewidth=2.5, label=verdict, **style)


def plot_claims(table: pd.DataFrame, paper: pd.Series, title: str) -> plt.Figure:
    """Per claim (rows of ``table``: claim, ours, diff, ci_low, ci_high, unit, verdict), our paired
    difference with its 95 % CI, coloured by verdict, beside the paper's figure (``paper``, same
    index and unit; NaN where the paper gives none); one panel per unit, the model in the label.
    Every panel's legend shows the four verdicts (``stats.VERDICTS``), whichever occur."""
    measured = table.assign(paper=paper).dropna(subset=["diff"])
    units = list(dict.fromkeys(measured["unit"]))
    if not units:  # e.g. a smoke run: nothing measured yet
        fig, ax = plt.subplots(figsize=(9, 1.2))
        ax.text(0.5, 0.5, "no claim measured in this run", ha="center", va="center")
        ax.set_axis_off()
        ax.set_title(title)
        return fig
    heights = [max(len(measured[measured["unit"] == u]), 1) for u in units]
    fig, axes = plt.subplots(
        len(units),
        1,
        figsize=(9, 0.55 * sum(heights) + 1.4 * len(units)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for ax, unit in zip(axes[:, 0], units, strict=True):
        rows = measured[measured["unit"] == unit].iloc[::-1]
        y = np.arange(len(rows))
        labels = [f"{r.claim} · {_condition(r.ours)}" for r in rows.itertuples()]
        for yi, r in zip(y, rows.itertuples(), strict=True):
            style = _style(r.verdict)
            low, high = r.ci_low, r.ci_high
            if pd.notna(low):
                ax.plot([low, high], [yi, yi], color=style["color"], ls=style["linestyle"], lw=2.5)
            ax.plot(
                r.diff, yi, "o", color=style["color"], fillstyle=style["fillstyle"], markersize=7
            )
            if pd.notna(r.paper):
                ax.plot(
                    r.paper, yi, "D", color="black", markersize=6, fillstyle="none", label="paper"
                )
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.set_yticks(y, labels)
        ax.set_xlabel(unit)
        handles, names = ax.get_legend_handles_labels()
        unique = dict(zip(names, handles, strict=True))  # the paper's marker
        shown = [*VERDICTS, *(v for v in dict.fromkeys(rows["verdict"]) if v not in VERDICTS)]
        unique = {v: _verdict_key(v) for v in shown} | unique
        ax.legend(unique.values(), unique.keys(), loc="center left", bbox_to_anchor=(1.01, 0.5))
    axes[0, 0].set_title(title)
    fig.tight_layout()
    return fig


def _condition(ours: str) -> str:
    """The model or condition that opens a claim's ``ours`` text (``t5-50k``, ``fewshot``)."""
    return re.split(r",|:| \(", str(ours), maxsplit=1)[0][:28]
