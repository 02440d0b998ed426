"""Chapter 1's figures: the data sets' target lengths, source lengths and answers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from explain_utils.common.names import LEVELS
from explain_utils.plots.style import (
    LEVEL_COLORS,
    SPLIT_ORDER,
)


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
    """Histogram of expression lengths (tokens) per split, every split of ``lengths``: the training
    range (train, validation, test), then the longer inputs (validation_long, test_long)."""
    sources = lengths[lengths["field"] == "source"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    present = list(dict.fromkeys(sources["split"]))
    order = [s for s in SPLIT_ORDER if s in present] + [s for s in present if s not in SPLIT_ORDER]
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
