"""Chapters 2-4's learning rate per cell, chosen on the validation split (make calibrate)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import explain_utils.profiles.explanations as profiles
from explain_utils.calibrate import choose, grid_rows, main, write_table
from explain_utils.engine.run_store import RunResult
from explain_utils.engine.train_config import TrainConfig
from explain_utils.engine.training import locate_run
from explain_utils.profiles.data import data_config
from explain_utils.profiles.explanations import (
    LEARNING_RATE_COLUMNS,
    chosen_learning_rate,
    experiment_config,
    learning_rates_path,
)
from explain_utils.studies.explanations import (
    calibration_grid,
    data_efficiency_grid,
    fine_tuning_grid,
    format_grid,
    granularity_grid,
    plateau_run,
)
from tests.engine_data import small_listops


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = small_listops(tmp_path_factory.mktemp("calibration"))
    return small_listops(root, task="modular_sum")  # the plateau check covers the modular sum


def _table(results_dir, rows) -> None:
    path = learning_rates_path(results_dir)
    path.parent.mkdir(parents=True)
    pd.DataFrame(rows, columns=LEARNING_RATE_COLUMNS).to_csv(path, index=False)


def test_quick_profile_values(data_dir, tmp_path):
    config = experiment_config("quick", data_dir=data_dir, results_dir=tmp_path)
    assert (config.steps, config.scheduler, config.warmup_ratio) == (4000, "linear", 0.05)
    assert (config.eval_every, config.calibration_eval_every, config.eval_examples) == (
        200,
        500,
        200,
    )
    assert config.learning_rates == (1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2)
    assert experiment_config("smoke", data_dir=data_dir).learning_rates == (1e-3, 2e-3)
    assert experiment_config("paper", data_dir=data_dir).learning_rates == (3e-5, 1e-4, 3e-4)
    data = data_config("quick", output_dir=tmp_path)
    assert (data.n_validation, data.n_test, data.n_test_long) == (500, 1000, 1000)
    assert data.n_validation_long == 500
    assert data.test_long_length == (15, 28)


def test_chosen_learning_rate_reads_the_table_then_falls_back(data_dir, tmp_path):
    _table(
        tmp_path,
        [
            ("smoke", "t5-50k", "listops", "none", 1e-3, 0.5),
            ("smoke", "t5-50k", "listops", "long", 4e-3, 0.7),
            ("smoke", "t5-50k", "modular_sum", "long", 5e-4, 0.9),
            ("quick", "t5-50k", "listops", "short", 1e-4, 0.6),  # another profile's row
        ],
    )
    config = experiment_config("smoke", data_dir=data_dir, results_dir=tmp_path)
    assert chosen_learning_rate(config, "t5-50k", "listops", "none") == 1e-3
    assert chosen_learning_rate(config, "t5-50k", "modular_sum", "none") == 1e-3  # listops's
    assert chosen_learning_rate(config, "t5-50k", "modular_sum", "long") == 5e-4  # its own
    assert chosen_learning_rate(config, "t5-50k", "listops", "short") == config.learning_rate
    assert chosen_learning_rate(config, "t5-100k", "listops", "none") == config.learning_rate

    grid = {(c.model, c.task, c.level): c for c in fine_tuning_grid(config)}
    assert grid[("t5-50k", "listops", "long")].learning_rate == 4e-3
    assert grid[("t5-50k", "modular_sum", "none")].learning_rate == 1e-3
    assert grid[("t5-100k", "listops", "none")].learning_rate == config.learning_rate
    efficiency = data_efficiency_grid(config)
    assert {c.learning_rate for c in efficiency if c.level == "none"} == {config.learning_rate}
    assert all(c.warmup_ratio == config.warmup_ratio for c in grid.values())
    # a book format takes the rate of the paper level it extends, and is scored on validation_long
    assert chosen_learning_rate(config, "t5-50k", "listops", "long_rewrite") == 4e-3
    assert chosen_learning_rate(config, "t5-50k", "modular_sum", "short_running") == (
        config.learning_rate
    )
    formats = format_grid(config)
    assert {c.level for c in formats} == {"long", *config.formats}
    assert {c.learning_rate for c in formats if c.model == "t5-50k"} == {4e-3}
    assert all("validation_long" in c.eval_splits for c in formats)
    assert all(c.task == "modular_sum" for c in granularity_grid(config))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("smoke", "t5-50k", "sorting", "none", 1e-3, 0.5), "task must be one of"),
        (("smoke", "t5-50k", "listops", "all", 1e-3, 0.5), "level must be one of"),
        (("smoke", "t5-50k", "listops", "none", 5.0, 0.5), "learning_rate must be a number"),
        (("smoke", "t5-50k", "listops", "none", "fast", 0.5), "learning_rate must be a number"),
    ],
)
def test_a_bad_table_names_file_line_and_column(row, message, data_dir, tmp_path):
    _table(tmp_path, [row])
    with pytest.raises(ValueError, match=f"learning_rates.csv, line 2: {message}"):
        experiment_config("smoke", data_dir=data_dir, results_dir=tmp_path)


def test_a_duplicate_row_is_an_error(data_dir, tmp_path):
    row = ("smoke", "t5-50k", "listops", "none", 1e-3, 0.5)
    _table(tmp_path, [row, row])
    with pytest.raises(ValueError, match="line 3: a second row"):
        experiment_config("smoke", data_dir=data_dir, results_dir=tmp_path)


def test_calibration_grid_touches_no_test_split(data_dir, tmp_path):
    config = experiment_config("smoke", data_dir=data_dir, results_dir=tmp_path)
    grid = calibration_grid(config)
    assert len(grid) == len(config.models) * len(config.levels) * len(config.learning_rates)
    assert {c.eval_splits for c in grid} == {("validation",)}
    assert {c.task for c in grid} == {"listops"} and {c.seed for c in grid} == {config.seeds[0]}
    assert {c.learning_rate for c in grid} == set(config.learning_rates)
    chapter = fine_tuning_grid(config)[0]
    assert all(
        (c.steps, c.scheduler, c.warmup_ratio, c.train_size, c.eval_every)
        == (
            chapter.steps,
            chapter.scheduler,
            chapter.warmup_ratio,
            chapter.train_size,
            config.calibration_eval_every,
        )
        for c in grid
    )


def test_a_plateau_run_is_the_chapter_run_of_the_first_seed(data_dir, tmp_path):
    """After the tables are written and read back (rate through a CSV, steps chosen), chapter 2's
    seed-0 run of the cell is the plateau run: the same config and the same run directory."""
    config = experiment_config("smoke", data_dir=data_dir, results_dir=tmp_path)
    rate, steps = 4e-3 / 3, 40  # a rate whose decimal text must round-trip exactly
    longer = plateau_run(config, "t5-50k", "listops", "long", rate, steps)
    assert "validation" in longer.eval_splits  # the check compares runs on every validation row
    chosen = pd.DataFrame(
        [("smoke", "t5-50k", "listops", "long", rate, 0.9)], columns=LEARNING_RATE_COLUMNS
    )
    write_table(learning_rates_path(tmp_path), chosen, "smoke")
    checked = chosen.assign(steps=steps, still_learning=False)
    write_table(tmp_path / "calibration" / "steps.csv", checked, "smoke")
    config = experiment_config("smoke", data_dir=data_dir, results_dir=tmp_path)
    chapter = next(
        c for c in fine_tuning_grid(config) if (c.model, c.level, c.seed) == ("t5-50k", "long", 0)
    )
    assert chapter == longer
    runs = tmp_path / "runs"
    assert locate_run(chapter, data_dir, runs) == locate_run(longer, data_dir, runs)


def _result(accuracy: float, curve: list[float]) -> RunResult:
    metrics = {"validation": {"metrics": {"accuracy": accuracy}}}
    points = [{"step": 10 * (i + 1), "accuracy": a} for i, a in enumerate(curve)]
    return RunResult("run", {}, "fp", 1, metrics, points, 1.0, 1.0)


def test_choose_takes_the_best_rate_and_the_smaller_on_a_tie():
    configs = [
        TrainConfig(model="t5-50k", level=level, learning_rate=lr)
        for level in ("none", "long")
        for lr in (1e-3, 2e-3, 4e-3)
    ]
    results = [_result(a, [a]) for a in (0.5, 0.7, 0.7, 0.9, 0.2, 0.1)]
    grid = grid_rows("smoke", configs, results)
    assert list(grid["curve_3_accuracy"]) == [0.5, 0.7, 0.7, 0.9, 0.2, 0.1]
    assert grid["curve_1_step"].isna().all()  # a one-point curve
    chosen = choose(grid)
    assert list(chosen.columns) == list(LEARNING_RATE_COLUMNS)
    assert list(zip(chosen["level"], chosen["learning_rate"], strict=True)) == [
        ("none", 2e-3),
        ("long", 1e-3),
    ]


def test_grid_rows_keep_the_last_three_curve_points():
    grid = grid_rows("smoke", [TrainConfig(model="t5-50k")], [_result(0.4, [0.1, 0.2, 0.3, 0.4])])
    row = grid.iloc[0]
    assert [row[f"curve_{i}_accuracy"] for i in (1, 2, 3)] == [0.2, 0.3, 0.4]
    assert [row[f"curve_{i}_step"] for i in (1, 2, 3)] == [20, 30, 40]


def test_write_table_keeps_other_profiles(tmp_path):
    path = tmp_path / "table.csv"
    values = ("paper", "t5-small", "listops", "none", 1e-4, 0.5)
    row = dict(zip(LEARNING_RATE_COLUMNS, values, strict=True))
    write_table(path, pd.DataFrame([row]), "paper")
    write_table(path, pd.DataFrame([row | {"profile": "quick", "model": "t5-50k"}]), "quick")
    write_table(path, pd.DataFrame([row | {"profile": "quick", "model": "t5-100k"}]), "quick")
    table = pd.read_csv(path)
    assert list(zip(table["profile"], table["model"], strict=True)) == [
        ("quick", "t5-100k"),
        ("paper", "t5-small"),
    ]


def test_main_writes_both_tables_and_the_chapters_read_them(data_dir, tmp_path, monkeypatch):
    # two runs of two steps: the smoke profile cut down to one model and level
    values = profiles.PROFILE_VALUES["smoke"] | dict(
        models=["t5-50k"],
        levels=["none"],
        steps=2,
        eval_every=1,
        calibration_eval_every=1,
        eval_examples=4,
        train_sizes=[32],
    )
    monkeypatch.setitem(profiles.PROFILE_VALUES, "smoke", values)
    argv = ["--profile", "smoke", "--data-dir", str(data_dir), "--workers", "1"]
    argv += ["--runs-dir", str(tmp_path / "runs"), "--results-dir", str(tmp_path / "results")]
    assert main(argv) == 0
    grid = pd.read_csv(tmp_path / "results" / "calibration" / "learning_rate_grid.csv")
    assert sorted(grid["learning_rate"]) == [1e-3, 2e-3]
    assert grid["curve_3_step"].tolist() == [2, 2]
    chosen = pd.read_csv(learning_rates_path(tmp_path / "results"))
    assert len(chosen) == 1 and chosen["learning_rate"][0] in (1e-3, 2e-3)
    config = experiment_config("smoke", data_dir=data_dir, results_dir=tmp_path / "results")
    assert fine_tuning_grid(config)[0].learning_rate == chosen["learning_rate"][0]
    # the rate grid scores validation only; the plateau check's runs are chapter 2's runs, whose
    # test predictions the check never reads
    for run in calibration_grid(config):
        run_dir, _ = locate_run(run, data_dir, tmp_path / "runs")
        assert (run_dir / "predictions_validation.jsonl").is_file()
        assert not list(run_dir.glob("predictions_test*.jsonl"))
    steps = pd.read_csv(tmp_path / "results" / "calibration" / "steps.csv")
    assert set(steps["task"]) == {"listops", "modular_sum"}
    assert config.calibrated_steps[("t5-50k", "listops", "none")][0] in (2, 4, 8)


class _Run:
    """A stand-in result: per-row validation correctness and its accuracy."""

    def __init__(self, correct: str) -> None:
        accuracy = correct.count("1") / len(correct)
        self.metrics = {"validation": {"correct": correct, "metrics": {"accuracy": accuracy}}}


def test_plateau_check_doubles_while_the_longer_run_ends_higher(data_dir, tmp_path, monkeypatch):
    from explain_utils import calibrate as module

    config = experiment_config("smoke", data_dir=data_dir, results_dir=tmp_path)
    rows = 400

    def fake_grid(configs, *args, **kwargs):  # "rising" gains 20 points per doubling; "flat" none
        out = []
        for c in configs:
            ones = min(rows, 100 + 80 * (c.steps // 100)) if c.level == "long" else 200
            out.append(_Run("1" * ones + "0" * (rows - ones)))
        return out

    monkeypatch.setattr(module, "run_grid", fake_grid)
    base = {
        ("t5-50k", "listops", level): (
            TrainConfig(level=level, steps=100),
            _Run("1" * (180 if level == "long" else 200) + "0" * (220 if level == "long" else 200)),
        )
        for level in ("long", "none")
    }
    table = module.plateau_check(config, base).set_index("level")
    assert table.loc["long", "steps"] == 100 * 2**profiles.MAX_DOUBLINGS
    assert table.loc["long", "still_learning"] and table.loc["long", "gain_ci_low"] > 0
    assert table.loc["none", "steps"] == 100 and not table.loc["none", "still_learning"]
    assert table.loc["none", "longer_steps"] == 200  # tried once, and kept the shorter
    path = tmp_path / "steps.csv"
    table.reset_index().to_csv(path, index=False)
    steps = profiles.read_steps(path, "smoke")
    assert steps[("t5-50k", "listops", "long")] == (400, True)
    config = dataclasses.replace(config, calibrated_steps=steps)
    assert profiles.chosen_steps(config, "t5-50k", "modular_sum", "long") == 400
    assert profiles.chosen_steps(config, "t5-100k", "listops", "long") == config.steps
    assert profiles.still_learning(config) == {("t5-50k", "listops", "long")}


@pytest.mark.parametrize(
    ("steps", "learning", "message"),
    [("4000", "maybe", "still_learning must be True or False"), ("4.5e3", "False", "steps must")],
)
def test_a_bad_steps_table_names_file_line_and_column(steps, learning, message, tmp_path):
    path = tmp_path / "steps.csv"
    rows = "profile,model,task,level,steps,still_learning\n"
    rows += (
        "smoke,t5-50k,listops,long,8000,True\n" + f"quick,t5-50k,listops,none,{steps},{learning}\n"
    )
    path.write_text(rows)
    assert profiles.read_steps(path, "smoke") == {("t5-50k", "listops", "long"): (8000, True)}
    with pytest.raises(ValueError, match=f"line 3: {message}"):
        profiles.read_steps(path, "quick")
