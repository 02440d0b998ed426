"""The labs' solutions that quote numbers are recomputed here from the committed results, so a
rerun of the book that changes those numbers fails until the solution text is updated too."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pandas as pd
import pytest

from explain_utils.analysis.results import final_accuracy
from explain_utils.analysis.tables import accuracy_table, breakdown_table
from explain_utils.lab import parse_params
from explain_utils.tasks.formats import read_steps

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "results"


def _pct(x: float) -> float:
    return round(100 * float(x), 1)


def _markdown(notebook: str) -> str:
    cells = json.loads((REPO / "notebooks" / f"{notebook}.ipynb").read_text())["cells"]
    return "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def _solution(notebook: str, label: str) -> str:
    text = _markdown(notebook) + "\n"  # a fence may end the notebook
    start = text.index(f"{{solution}} {label}")
    return " ".join(text[start : text.index("```\n", start)].split())


def _seed_0_test_accuracy(name: str) -> pd.DataFrame:
    """Final test accuracy of every seed-0 run of a results file, the whole split only."""
    frame = final_accuracy(pd.read_csv(RESULTS / name), task=None)
    return frame[frame["seed"] == 0]


def test_ex_02_lr_one_rate_for_every_cell():
    grid = pd.read_csv(RESULTS / "calibration" / "learning_rate_grid.csv")
    small = grid[(grid["model"] == "t5-50k") & (grid["task"] == "listops")]
    at = small[small["learning_rate"] == 2e-3].set_index("level")["validation_accuracy"]
    best = small.groupby("level")["validation_accuracy"].max()
    text = _solution("02_fine_tuning", "ex-02-lr")
    for level in ("none", "short", "medium", "long"):
        assert f"{_pct(at[level])} % with `{level}`" in text
        assert f"`{level}` {_pct(best[level])} %" in text or f"{_pct(best[level])} %" in text
    assert at.idxmax() == "medium"
    assert f"+{_pct(at['long'] - at['none'])} points" in text
    assert f"+{_pct(best['long'] - best['none'])}" in text


def test_ex_03_catch_up():
    frame = pd.read_csv(RESULTS / "03_data_efficiency.csv")
    table = accuracy_table(frame, ["train_size", "level"]).set_index(["train_size", "level"])
    text = _solution("03_data_efficiency", "ex-03-catch-up")
    for size in (2000, 10_000):
        for level in ("none", "long"):
            assert f"{_pct(table.loc[(size, level), 'mean'])} %" in text
    gap = {
        s: table.loc[(s, "long"), "mean"] - table.loc[(s, "none"), "mean"] for s in (2000, 10_000)
    }
    assert gap[10_000] < gap[2000]
    rule = pd.read_csv(RESULTS / "baselines.csv")
    rule = rule[(rule["task"] == "listops") & (rule["split"] == "test")]
    rule = rule.set_index("baseline").loc["root_op_flat", "accuracy"]
    assert f"{_pct(rule)} %" in text and table.loc[(10_000, "none"), "mean"] > rule


def test_ex_03_compute_quotes_the_sweep():
    frame = pd.read_csv(RESULTS / "03_data_efficiency.csv")
    table = accuracy_table(frame, ["train_size", "level"]).set_index(["train_size", "level"])
    text = _solution("03_data_efficiency", "ex-03-compute")
    assert f"`none` reaches {_pct(table.loc[(10_000, 'none'), 'mean'])} %" in text
    assert f"{_pct(table.loc[(2000, 'long'), 'mean'])} % for `long` at 2 000 examples" in text


def test_ex_04_break():
    frame = pd.read_csv(RESULTS / "04_length_generalization.csv")
    buckets = breakdown_table(frame, "length_bucket", splits=("test", "test_long"))
    acc = buckets.pivot_table(index=["model", "level"], columns="length_bucket", values="mean")
    acc = (100 * acc).round().astype(int)  # the solution quotes whole percents
    explained = acc.loc[(slice(None), ["long", "medium"]), :]
    none, short = acc.xs("none", level="level"), acc.xs("short", level="level")
    text = _solution("04_length_generalization", "ex-04-break")

    def span(values: pd.Series) -> str:
        return f"{values.min()}–{values.max()} %"

    assert f"≥ {explained[['1-7', '8-10', '11-14']].min().min()} %" in text
    assert f"15–18 tokens ({span(explained['15-18'])})" in text and explained["15-18"].max() < 50
    assert f"`none` is at {span(none['11-14'])} already" in text
    assert f"`short` at {span(short['11-14'])}" in text
    assert f"({span(explained['19-22'])}) are *below*" in text
    assert f"`none` ({span(none['19-22'])})" in text
    assert (explained["19-22"].groupby("model").max() < none["19-22"]).all()


def test_ex_04_steps_when_the_run_is_present():
    rows = pd.read_csv(RESULTS / "02_fine_tuning_rows.csv")
    run = rows[
        (rows["model"] == "t5-50k") & (rows["level"] == "long") & (rows["task"] == "listops")
    ]
    path = REPO / "runs" / run[run["seed"] == 0]["run_id"].iloc[0] / "predictions_test_long.jsonl"
    if not path.is_file():
        pytest.skip("the chapter-2 run is not in runs/ (a fresh clone): nothing to recount")
    outputs = [json.loads(line) for line in path.read_text().splitlines()]
    diff = pd.Series(
        [
            len(read_steps("long", o["prediction"])) - len(read_steps("long", o["target"]))
            for o in outputs
        ]
    )
    text = _solution("04_length_generalization", "ex-04-steps")
    for share in ((diff < 0).mean(), (diff == 0).mean(), (diff > 0).mean()):
        assert f"{round(100 * share)} %" in text


def test_ex_02_modsum_quotes_the_books_seed_0_runs():
    frame = _seed_0_test_accuracy("02_fine_tuning.csv")
    final = frame[frame["model"] == "t5-50k"].set_index(["task", "level"])["value"]
    text = _solution("02_fine_tuning", "ex-02-modsum")
    assert f"`none` ends at {_pct(final[('modular_sum', 'none')])} %" in text
    assert f"`long` at {_pct(final[('modular_sum', 'long')])} %" in text
    assert f"`none` reaches {_pct(final[('listops', 'none')])} %" in text
    assert f"`long` {_pct(final[('listops', 'long')])} %" in text


def test_ex_06_own_file_quotes_the_committed_sample_run():
    from explain_utils.analysis.results import read_correct
    from explain_utils.chapters.own_data import gains

    frame = pd.read_csv(RESULTS / "06_own_data.csv")
    table = accuracy_table(frame, ["level"], task="own_data").set_index("level")
    text = _solution("06_own_data", "ex-06-own-file")
    for level in ("none", "short", "medium", "long"):
        assert f"`{level}` {_pct(table.loc[level, 'mean'])} %" in text
    paired = gains(frame, read_correct(RESULTS / "06_own_data_rows.csv")).set_index("contrast")
    for contrast in ("short − none", "long − none"):
        row = paired.loc[contrast]
        quoted = contrast.replace(" − ", "` − `")
        assert f"`{quoted}` is {row['difference (points)']:+.1f} {row['95 % CI']}" in text


def test_ex_06_rate_quotes_the_committed_seed_0_runs_at_the_books_rate():
    seed_0 = _seed_0_test_accuracy("06_own_data.csv").set_index("level")["value"]
    text = _solution("06_own_data", "ex-06-rate")
    assert f"({_pct(seed_0['medium'])} % at the book's 4e-3)" in text
    assert f"({_pct(seed_0['none'])} % at 4e-3)" in text
    assert f"is {100 * (seed_0['medium'] - seed_0['none']):+.1f} points at 4e-3" in text
    assert f"{_pct(seed_0['long'])} % for seed 0, at t5-50k" in text


def _exercise(notebook: str, label: str) -> tuple[str, dict]:
    """The exercise's text and the ``-p`` parameters of its ``explain_utils.lab <notebook>`` line."""
    text = _markdown(notebook)
    block = text[text.index(f":label: {label}") : text.index(f"{{solution}} {label}")]
    line = next(
        command
        for command in block.replace("\\\n", " ").splitlines()
        if f"explain_utils.lab {notebook}" in command
    )
    words = shlex.split(line)
    pairs = [words[i + 1 : i + 3] for i, word in enumerate(words) if word == "-p"]
    return " ".join(block.split()), parse_params(pairs)


def test_ex_02_modsum_command_trains_the_four_runs_it_names(tmp_path):
    from explain_utils.profiles.explanations import experiment_config
    from explain_utils.studies.explanations import fine_tuning_grid
    from tests.engine_data import small_listops

    text, params = _exercise("02_fine_tuning", "ex-02-modsum")
    config = experiment_config(
        data_dir=small_listops(tmp_path), runs_dir=tmp_path / "runs", results_dir=RESULTS, **params
    )
    runs = {(c.task, c.model, c.level, c.seed) for c in fine_tuning_grid(config)}
    assert runs == {
        (task, "t5-50k", level, 0)
        for task in ("listops", "modular_sum")
        for level in ("none", "long")
    }
    assert "It trains four runs" in text
