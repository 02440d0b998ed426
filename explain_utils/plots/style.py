"""Shared pieces of the book's figures: one colour per level, error bars and CI bands, baselines.

Levels always read none → short → medium → long and models smallest first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from explain_utils.common.names import FORMATS, LEVELS, TARGET_FORMATS

# one fixed colour per explanation level (and per book format), used by every figure in the book
LEVEL_COLORS: dict[str, str] = dict(
    zip(LEVELS, sns.color_palette("viridis_r", len(LEVELS)).as_hex(), strict=True)
) | dict(zip(FORMATS, sns.color_palette("Set2", len(FORMATS)).as_hex(), strict=True))
# the splits in the order figures show them: the training range, then the longer inputs
SPLIT_ORDER = ("train", "validation", "test", "validation_long", "test_long")
# baseline lines: grey, one dash pattern each, in the order given
_BASELINE_STYLES = ("--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))
# what ``baseline_lines`` marks its lines with, so that the legend lists them as baselines
BASELINE_GID = "baseline"
# the headings of a legend that names everything a figure draws (``legend_beside``)
LEGEND_SECTIONS: tuple[str, ...] = ("explanation", "baselines (no model)", "markers")
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


def yerr(rows: pd.DataFrame, share: bool = False) -> list[pd.Series]:
    """Error-bar lengths (percent) below and above ``mean`` to the 95 % CI columns. ``share``: the
    values are shares (accuracies), so the interval is cut to 0–100 % (a t-interval over three
    seeds can pass 100 %); a difference keeps its interval as it is."""
    low, high = share_bounds(rows) if share else (rows["ci_low"], rows["ci_high"])
    return [
        100 * (rows["mean"] - low).clip(lower=0).fillna(0),
        100 * (high - rows["mean"]).clip(lower=0).fillna(0),
    ]


def share_bounds(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """``ci_low`` and ``ci_high`` of a share, cut to [0, 1]."""
    return rows["ci_low"].clip(0.0, 1.0), rows["ci_high"].clip(0.0, 1.0)


def errorbar(
    ax: plt.Axes,
    x: Sequence[float] | pd.Series,
    rows: pd.DataFrame,
    share: bool = False,
    **style,
) -> None:
    """Points at ``mean`` (percent) with error bars to the CI columns (``share``: see ``yerr``)."""
    ax.errorbar(x, 100 * rows["mean"], yerr=yerr(rows, share), marker="o", capsize=3, **style)


def lines_with_ci(ax: plt.Axes, table: pd.DataFrame, x: str, band: bool = False) -> None:
    """One line per explanation level: ``mean`` with its 95 % CI (error bars, or a band for curves)."""
    for level in levels_in(table):
        rows = table[table["level"] == level].sort_values(x)
        color = LEVEL_COLORS[level]
        if band:
            ax.plot(rows[x], 100 * rows["mean"], color=color, label=level)
            low, high = share_bounds(rows)
            ax.fill_between(rows[x], 100 * low, 100 * high, color=color, alpha=0.2)
        else:
            errorbar(ax, rows[x], rows, share=True, color=color, label=level)


def baseline_lines(
    ax: plt.Axes, chance: float | None, baselines: Mapping[str, float] | None
) -> None:
    """Chance and every baseline as a labelled grey horizontal line (chance once, if both).

    Baselines of the same value (as the legend shows it, to 0.1 %) share one line and one label,
    "chance (1/labels) = majority label of train (20.0 %)", so that none hides under another.
    """
    for i, (label, value) in enumerate(_merged(_with_chance(chance, baselines)).items()):
        ax.axhline(
            100 * value[0],
            label=f"{label} ({100 * value[0]:.1f} %)",
            **_baseline_style(label, i),
        )


def split_baseline_lines(
    ax: plt.Axes,
    positions: Mapping[str, Sequence[float]],
    chance: float | None,
    baselines: Mapping[str, Mapping[str, float]],
) -> None:
    """Each baseline drawn once per split, only over the x ``positions`` of that split's groups
    (``{split: [x, …]}``, e.g. the length buckets of test and of test_long), at the accuracy it
    scored on that split's rows (``baselines``: ``{split: {label: accuracy}}``). One legend entry
    per baseline names its value on each split on a second line, "(test 23.7 %, test_long
    14.1 %)", or once where it is the same on all; baselines of the same values share a line, as
    in ``baseline_lines``.
    """
    splits = [s for s in positions if len(positions[s]) and s in baselines]
    per_split = {s: _with_chance(chance, baselines[s]) for s in splits}
    labels = list(dict.fromkeys(label for s in splits for label in per_split[s]))
    values = {  # a label's value on each split, in split order (NaN where not scored)
        label: tuple(per_split[s].get(label, (float("nan"),))[0] for s in splits)
        for label in labels
    }
    for i, (label, value) in enumerate(_merged(values).items()):
        shown = [(s, v) for s, v in zip(splits, value, strict=True) if v == v]
        if len({round(100 * v, 1) for _, v in shown}) == 1:
            text = f"{label} ({100 * shown[0][1]:.1f} %)"
        else:
            text = f"{label}\n(" + ", ".join(f"{s} {100 * v:.1f} %" for s, v in shown) + ")"
        for k, (split, v) in enumerate(shown):
            x = positions[split]
            ax.plot(
                [min(x) - 0.5, max(x) + 0.5],
                [100 * v] * 2,
                label=text if k == 0 else None,
                **_baseline_style(label, i),
            )


def _with_chance(
    chance: float | None, baselines: Mapping[str, float] | None
) -> dict[str, tuple[float, ...]]:
    """``{label: (value,)}`` of chance (unless a baseline is chance already) and the baselines."""
    lines = {label: (value,) for label, value in (baselines or {}).items()}
    if chance is not None and not any(label.startswith("chance") for label in lines):
        lines = {"chance": (chance,), **lines}
    return lines


def _merged(lines: Mapping[str, tuple[float, ...]]) -> dict[str, tuple[float, ...]]:
    """``lines`` in order, the labels of the same shown values (to 0.1 %) joined by " = "."""
    groups: dict[tuple[float, ...], list[str]] = {}
    for label, values in lines.items():
        groups.setdefault(tuple(round(100 * v, 1) for v in values), []).append(label)
    return {" = ".join(labels): lines[labels[0]] for labels in groups.values()}


def _baseline_style(label: str, i: int) -> dict:
    """The ``i``-th baseline's line: chance black, the rules grey, one dash pattern each."""
    return dict(
        color="black" if label.startswith("chance") else "0.45",
        linestyle=_BASELINE_STYLES[i % len(_BASELINE_STYLES)],
        linewidth=1,
        gid=BASELINE_GID,
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


def legend_beside(ax: plt.Axes, title: str | None = None) -> None:
    """The legend right of the axes.

    With a ``title``, one list under it (e.g. the contrasts of a gain figure). Without, it names
    everything drawn, in sections under bold headings: "explanation" (the levels none → long,
    then the book's formats), "baselines (no model)" (chance and the rules, lines drawn by
    ``baseline_lines``) and "markers" (anything else, e.g. the end of the training range); a
    heading only where its section has an entry.
    """
    handles, labels = ax.get_legend_handles_labels()
    rank = {lv: i for i, lv in enumerate(TARGET_FORMATS)}
    if title is not None:
        order = sorted(range(len(labels)), key=lambda i: (rank.get(labels[i], len(rank)), i))
        ax.legend(
            [handles[i] for i in order],
            [labels[i] for i in order],
            title=title,
            loc="upper left",
            bbox_to_anchor=(1.01, 1),
            frameon=False,
        )
        return
    sections: dict[str, list[int]] = {heading: [] for heading in LEGEND_SECTIONS}
    for i, (handle, label) in enumerate(zip(handles, labels, strict=True)):
        if label in rank:
            sections[LEGEND_SECTIONS[0]].append(i)
        elif getattr(handle, "get_gid", lambda: None)() == BASELINE_GID:
            sections[LEGEND_SECTIONS[1]].append(i)
        else:
            sections[LEGEND_SECTIONS[2]].append(i)
    sections[LEGEND_SECTIONS[0]].sort(key=lambda i: (rank[labels[i]], i))
    shown_handles, shown_labels = [], []
    for heading, members in sections.items():
        if members:
            shown_handles.append(Line2D([], [], linestyle="none"))
            shown_labels.append(heading)
            shown_handles += [handles[i] for i in members]
            shown_labels += [labels[i] for i in members]
    legend = ax.legend(
        shown_handles,
        shown_labels,
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        frameon=False,
        handlelength=2.5,
    )
    for text in legend.get_texts():
        if text.get_text() in LEGEND_SECTIONS:
            text.set_fontweight("bold")


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
