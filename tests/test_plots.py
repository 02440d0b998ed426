"""Figures: returned (never shown), baselines labelled, levels none → long, models by size."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.colors import to_hex, to_rgb
from matplotlib.container import ErrorbarContainer

from explain_utils.analysis.stats import (
    DOES_NOT_HOLD,
    HOLDS,
    INCONCLUSIVE,
    REVERSED,
    STILL_LEARNING,
    VERDICTS,
)
from explain_utils.common.names import LEVELS
from explain_utils.plots.accuracy import (
    gain_vs_size,
    plot_accuracy_by_group,
    plot_accuracy_by_level,
    plot_accuracy_vs,
    plot_step_metrics,
    stacked_axes,
)
from explain_utils.plots.claims import VERDICT_COLORS, plot_claims
from explain_utils.plots.curves import (
    NOT_ALL_REACHED,
    REACHED,
    accuracy_vs_compute,
    plot_learning_curves,
    plot_plateaus,
)
from explain_utils.plots.data import plot_source_lengths
from explain_utils.plots.style import BASELINE_GID, LEGEND_SECTIONS, LEVEL_COLORS, yerr

MODELS = {"m-large": 20_000, "m-small": 1_000, "m-mid": 5_000}  # deliberately not by size
BASELINES = {"chance (1/modulus)": 0.1, "majority class of train": 0.17, "first number": 0.3}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def summary(x: str, values) -> pd.DataFrame:
    """A summarised table (mean, CI) per model, level and ``x``, rows in a scrambled order."""
    rows = [
        {"model": m, "params": p, "level": lv, "mean": 0.5, "ci_low": 0.4, "ci_high": 0.6}
        | ({x: v} if x != "params" else {})
        for m, p in MODELS.items()
        for lv in reversed(LEVELS)  # deliberately long → none
        for v in values
    ]
    return pd.DataFrame(rows)


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def baselines_drawn(ax) -> list:
    """The baseline lines of a panel (``style.baseline_lines`` marks them)."""
    return [line for line in ax.get_lines() if line.get_gid() == BASELINE_GID]


EXPLANATION, BASELINE_HEADING, MARKERS = LEGEND_SECTIONS


def test_accuracy_figure_draws_labelled_baselines_and_orders_levels():
    table = summary("params", [None])
    fig = plot_accuracy_vs(table, "params", "size", "t", 0.1, baselines=BASELINES)
    texts = legend_texts(fig.axes[0])
    assert texts[: len(LEVELS) + 2] == [EXPLANATION, *LEVELS, BASELINE_HEADING]
    assert "chance (1/modulus) (10.0 %)" in texts and "first number (30.0 %)" in texts
    assert sum(t.startswith("chance") for t in texts) == 1  # chance once, not twice
    assert fig.axes[0].get_xscale() == "log"


def test_group_and_level_figures_take_baselines():
    table = summary("depth", ["1", "2"]).query("model == 'm-small'")
    fig = plot_accuracy_by_group(table, "depth", "depth", "t", 0.1, baselines=BASELINES)
    assert "majority class of train (17.0 %)" in legend_texts(fig.axes[0])
    bars = table.drop_duplicates("level")
    fig = plot_accuracy_by_level(bars, "t", 0.1, baselines=BASELINES)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(LEVELS)
    assert "first number (30.0 %)" in legend_texts(fig.axes[0])
    fig = plot_accuracy_by_level(bars, "t", 0.1)  # chance alone still drawn
    assert "chance (10.0 %)" in legend_texts(fig.axes[0])


def test_curve_panels_are_ordered_by_size():
    curves = summary("step", [100, 200, 300])
    fig = plot_learning_curves(curves, ["m-large", "m-small"], "t", baselines=BASELINES)
    assert [ax.get_title() for ax in fig.axes] == ["m-small", "m-large"]
    plateaus = pd.DataFrame(
        {
            "model": ["m-small"] * 3,
            "level": ["none", "long", "long"],
            "threshold": [0.6] * 3,
            "steps_to_accuracy": [300.0, 150.0, 250.0],
            "reached": [False, True, True],
        }
    )
    fig = plot_plateaus(curves, "t", plateaus, chance=0.1)
    assert [ax.get_title() for ax in fig.axes] == ["m-small", "m-mid", "m-large"]
    lines = fig.axes[0].get_lines()
    markers = {ln.get_color(): ln for ln in lines if ln.get_marker() == "v" and len(ln.get_xdata())}
    assert len(markers) == 2
    long, none = markers[LEVEL_COLORS["long"]], markers[LEVEL_COLORS["none"]]
    assert (long.get_xdata()[0], long.get_ydata()[0]) == (200.0, 60.0)  # mean step, at 60 %
    assert long.get_fillstyle() == "full" and none.get_fillstyle() == "none"  # none never reached
    dotted = [ln for ln in lines if ln.get_linestyle() == ":" and ln.get_gid() != BASELINE_GID]
    assert [ln.get_ydata()[0] for ln in dotted] == [60.0]
    texts = legend_texts(fig.axes[-1])
    assert texts[: len(LEVELS) + 1] == [EXPLANATION, *LEVELS]
    shown = texts[texts.index(MARKERS) + 1 :]
    assert shown == ["convergence accuracy (60 %)", REACHED, NOT_ALL_REACHED]
    every = plot_plateaus(curves, "t", plateaus.assign(reached=True))
    assert NOT_ALL_REACHED not in legend_texts(every.axes[-1])


def test_accuracy_vs_compute_uses_a_log_token_axis():
    curves = summary("target_tokens_seen", [1e3, 1e4, 1e5])
    fig = accuracy_vs_compute(curves, "t", baselines=BASELINES)
    assert all(ax.get_xscale() == "log" for ax in fig.axes)
    assert "target tokens seen" in fig.axes[0].get_xlabel()


def test_gain_vs_size():
    gains = pd.DataFrame(
        [
            {
                "model": m,
                "params": p,
                "contrast": c,
                "diff": d,
                "ci_low": d - 0.05,
                "ci_high": d + 0.05,
            }
            for m, p in MODELS.items()
            for c, d in (("long − short", 0.1), ("long − none", 0.2), ("short − none", 0.1))
        ]
    )
    fig = gain_vs_size(gains, "t")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert legend_texts(ax) == ["short − none", "long − none", "long − short"]
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == [
        "m-small",
        "m-mid",
        "m-large",
    ]


def test_stacked_panels_share_one_figure():
    fig, axes = stacked_axes(2)
    for ax, model in zip(axes, ["m-small", "m-large"], strict=True):
        out = plot_accuracy_by_group(
            summary("depth", [1, 2]).query("model == @model"), "depth", "depth", model, 0.1, ax=ax
        )
        assert out is fig
    assert [ax.get_title() for ax in fig.axes[:2]] == ["m-small", "m-large"]


def test_step_metrics_panels_order_levels_and_models():
    base = summary("params", [None])
    table = pd.concat(
        [
            base.assign(metric=m, split=s)
            for m in ("step_accuracy", "faithfulness")
            for s in ("test_long", "test")
        ]
    )
    table = table[table["level"] != "none"]
    fig = plot_step_metrics(table, "steps")
    first = fig.axes[0]
    assert first.get_title() == "step accuracy, test"  # splits in SPLIT_ORDER
    assert [t.get_text() for t in first.get_xticklabels()] == ["short", "medium", "long"]
    assert legend_texts(fig.axes[1]) == ["m-small", "m-mid", "m-large"]


def test_claims_figure_puts_the_paper_beside_ours_per_unit():
    table = pd.DataFrame(
        [
            {"claim": "C1", "ours": "t5-50k (46,400 parameters), test", "diff": 40.8, "ci_low": 36.9,
             "ci_high": 45.0, "unit": "points", "verdict": "holds"},
            {"claim": "C7", "ours": "llama-250k, pre-trained; fewshot", "diff": -0.14,
             "ci_low": -0.25, "ci_high": -0.04, "unit": "a (0–1)", "verdict": "holds"},
            {"claim": "C2", "ours": "not measured", "diff": float("nan"), "ci_low": float("nan"),
             "ci_high": float("nan"), "unit": "points", "verdict": "not measured"},
        ]
    )  # fmt: skip
    fig = plot_claims(table, pd.Series([22.7, -4.284, float("nan")]), "claims")
    assert [ax.get_xlabel() for ax in fig.axes] == ["points", "a (0–1)"]
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["C1 · t5-50k"]
    assert "paper" in legend_texts(fig.axes[0])
    empty = plot_claims(table.iloc[2:], pd.Series([float("nan")], index=[2]), "none yet")
    assert empty.axes[0].texts[0].get_text() == "no claim measured in this run"


def test_claims_figure_shows_inconclusive_as_neither_success_nor_failure():
    table = pd.DataFrame(
        [
            {"claim": c, "ours": f"t5-50k, {c}", "diff": d, "ci_low": lo, "ci_high": hi,
             "unit": "points", "verdict": v}
            for c, d, lo, hi, v in (
                ("C1", 40.8, 36.9, 45.0, HOLDS),
                ("C2", 3.0, -2.0, 8.0, INCONCLUSIVE),
                ("C4", 8.0, 2.0, 14.0, DOES_NOT_HOLD),
                ("C5", -5.0, -9.0, -1.0, REVERSED),
            )
        ]
    )  # fmt: skip
    ax = plot_claims(table, pd.Series([float("nan")] * 4), "claims").axes[0]
    legend = ax.get_legend()
    texts = legend_texts(ax)
    assert texts[:4] == list(VERDICTS) and "paper" not in texts
    keys = dict(zip(texts, legend.legend_handles, strict=True))
    colors = {v: to_hex(keys[v].get_color()) for v in VERDICTS}
    assert colors[HOLDS] == VERDICT_COLORS[HOLDS] and colors[REVERSED] == VERDICT_COLORS[REVERSED]
    red, green, blue = to_rgb(colors[INCONCLUSIVE])
    assert red == green == blue  # a neutral grey
    assert colors[INCONCLUSIVE] not in (colors[HOLDS], colors[DOES_NOT_HOLD], colors[REVERSED])
    assert (
        keys[INCONCLUSIVE].get_fillstyle() == "none"
        and keys[DOES_NOT_HOLD].get_fillstyle() == "full"
    )
    dots = {to_hex(line.get_color()) for line in ax.get_lines() if line.get_marker() == "o"}
    assert dots == set(colors.values())  # every row drawn in its verdict's colour
    learning = table.assign(verdict=[HOLDS, STILL_LEARNING, DOES_NOT_HOLD, REVERSED])
    ax = plot_claims(learning, pd.Series([float("nan")] * 4), "claims").axes[0]
    keys = dict(zip(legend_texts(ax), ax.get_legend().legend_handles, strict=True))
    assert to_hex(keys[STILL_LEARNING].get_color()) == colors[INCONCLUSIVE]
    assert keys[STILL_LEARNING].get_fillstyle() == "none"
    assert keys[STILL_LEARNING].get_linestyle() == keys[INCONCLUSIVE].get_linestyle()
    # a panel without an inconclusive row still shows the word in its key
    assert "inconclusive" in legend_texts(
        plot_claims(table.iloc[:1], pd.Series([22.7]), "t").axes[0]
    )


# --- legends that name what is drawn, coincident baselines, intervals cut to 0-100 % ----------


def test_bar_legend_names_the_bars_and_the_baselines_under_headings():
    bars = summary("params", [None]).query("model == 'm-small'")
    texts = legend_texts(plot_accuracy_by_level(bars, "t", 0.1, baselines=BASELINES).axes[0])
    assert texts == [
        EXPLANATION,
        *LEVELS,
        BASELINE_HEADING,
        "chance (1/modulus) (10.0 %)",
        "majority class of train (17.0 %)",
        "first number (30.0 %)",
    ]
    gains = pd.DataFrame(
        [{"model": "m", "params": 1, "contrast": "long − none", "diff": 0.1,
          "ci_low": -0.1, "ci_high": 0.3}]
    )  # fmt: skip
    ax = gain_vs_size(gains, "t").axes[0]  # a titled legend stays one plain list
    assert ax.get_legend().get_title().get_text() == "contrast"
    assert legend_texts(ax) == ["long − none"]


def test_coincident_baselines_share_one_visible_line_and_label():
    bars = summary("params", [None]).query("model == 'm-small'")
    lines = {"chance (1/labels)": 0.2, "majority label of train (scifi)": 0.2}
    ax = plot_accuracy_by_level(bars, "t", 0.2, baselines=lines).axes[0]
    assert len(baselines_drawn(ax)) == 1
    assert "chance (1/labels) = majority label of train (scifi) (20.0 %)" in legend_texts(ax)
    near = {"chance (1/labels)": 0.2, "majority label of train (scifi)": 0.21}
    ax = plot_accuracy_by_level(bars, "t", 0.2, baselines=near).axes[0]
    assert len(baselines_drawn(ax)) == 2  # different values stay two lines


def test_long_format_names_do_not_collide_and_the_y_label_fits():
    bars = pd.DataFrame(
        [
            {"level": lv, "mean": 0.3, "ci_low": 0.2, "ci_high": 0.4}
            for lv in ("none", "long", "long_rewrite", "fixed_width", "index_hint")
        ]
    )
    fig = plot_accuracy_by_level(bars, "t", 0.1, ylabel="test_long accuracy (%, mean ± 95 % CI)")
    ax = fig.axes[0]
    ticks = ax.get_xticklabels()
    assert [t.get_text() for t in ticks][2] == "long_rewrite"
    assert all(t.get_rotation() > 0 and t.get_ha() == "right" for t in ticks)
    assert ax.get_ylabel() == "test_long accuracy\n(%, mean ± 95 % CI)"
    fig.canvas.draw()  # no two tick labels overlap, and the y label stays inside the figure
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ticks]
    assert not any(a.overlaps(b) for a, b in zip(boxes, boxes[1:], strict=False))
    label = ax.yaxis.label.get_window_extent(renderer)
    assert label.y0 >= 0 and label.y1 <= fig.bbox.height
    levels = plot_accuracy_by_level(bars[bars["level"].isin(LEVELS)], "t", 0.1).axes[0]
    assert all(t.get_rotation() == 0 for t in levels.get_xticklabels())  # short names stay flat


def error_bar_tops(ax) -> list[float]:
    """The upper end (percent) of every error bar of a panel."""
    return [
        segment[:, 1].max()
        for container in ax.containers
        if isinstance(container, ErrorbarContainer)
        for segment in container.lines[2][0].get_segments()
    ]


def test_accuracy_intervals_are_cut_to_0_100_but_differences_are_not():
    rows = pd.DataFrame({"mean": [0.733, 0.02], "ci_low": [0.453, -0.05], "ci_high": [1.013, 0.09]})
    below, above = yerr(rows, share=True)
    assert list(100 * rows["mean"] + above) == pytest.approx([100.0, 9.0])
    assert list(100 * rows["mean"] - below) == pytest.approx([45.3, 0.0])
    below, above = yerr(rows)  # a difference of accuracies keeps its interval
    assert list(100 * rows["mean"] + above) == pytest.approx([101.3, 9.0])
    table = summary("depth", ["1", "2"]).query("model == 'm-small'").assign(ci_high=1.2)
    ax = plot_accuracy_by_group(table, "depth", "depth", "t", 0.1).axes[0]
    assert max(error_bar_tops(ax)) == pytest.approx(100.0)
    bars = table.drop_duplicates("level")
    ax = plot_accuracy_by_level(bars, "t", 0.1).axes[0]
    assert max(error_bar_tops(ax)) == pytest.approx(100.0)


def test_split_baselines_are_drawn_only_over_their_splits_buckets():
    buckets = ["1-7", "8-10", "11-14", "15-18", "19-22"]
    table = pd.DataFrame(
        [
            {"level": lv, "length_bucket": b, "split": "test" if i < 3 else "test_long",
             "mean": 0.5, "ci_low": 0.4, "ci_high": 0.6}
            for lv in ("none", "long")
            for i, b in enumerate(buckets)
        ]
    )  # fmt: skip
    lines = {
        "test": {"chance (1/modulus)": 0.1, "root operator over all numbers": 0.494},
        "test_long": {"chance (1/modulus)": 0.1, "root operator over all numbers": 0.302},
    }
    ax = plot_accuracy_by_group(
        table, "length_bucket", "length", "t", 0.1, boundary_after="11-14", split_baselines=lines
    ).axes[0]
    spans = {(tuple(line.get_xdata()), line.get_ydata()[0]) for line in baselines_drawn(ax)}
    assert spans == {
        ((-0.5, 2.5), 10.0),
        ((2.5, 4.5), 10.0),
        ((-0.5, 2.5), 49.4),  # the rule on test, over the buckets of the training range only
        ((2.5, 4.5), 30.2),  # the rule on test_long, over the longer buckets only
    }
    texts = legend_texts(ax)
    assert "chance (1/modulus) (10.0 %)" in texts
    assert "root operator over all numbers\n(test 49.4 %, test_long 30.2 %)" in texts
    assert texts[texts.index(MARKERS) + 1] == "end of training lengths"
    with pytest.raises(ValueError, match="not both"):
        plot_accuracy_by_group(
            table, "length_bucket", "l", "t", 0.1, baselines={}, split_baselines=lines
        )


def test_source_lengths_show_every_split_the_caption_names():
    lengths = pd.DataFrame(
        [
            {"split": split, "field": "source", "tokens": n}
            for split, n in (
                ("test_long", 20), ("validation_long", 21), ("train", 6), ("validation", 7),
                ("test", 8),
            )
        ]
    )  # fmt: skip
    ax = plot_source_lengths(lengths, "t").axes[0]
    assert legend_texts(ax) == ["train", "validation", "test", "validation_long", "test_long"]
