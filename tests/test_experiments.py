"""The grid of chapters 2-4: parameters validated up front, runs in parallel workers, cache hits on rerun."""

from __future__ import annotations

import os

import pytest

from explain_utils.common.names import PROFILES
from explain_utils.engine.grid import run_grid
from explain_utils.engine.train_config import TrainConfig
from explain_utils.profiles.explanations import experiment_config
from explain_utils.studies.explanations import data_efficiency_grid, fine_tuning_grid
from tests.engine_data import small_listops


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return small_listops(tmp_path_factory.mktemp("grid"))


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_gives_a_grid(profile, data_dir):
    config = experiment_config(profile, data_dir=data_dir)
    grid = fine_tuning_grid(config)
    per_task = len(config.models) * len(config.levels) * len(config.seeds)
    assert len(grid) == per_task + len(config.modsum_models) * len(config.modsum_levels) * len(
        config.seeds
    )
    assert all(c.train_size == max(config.train_sizes) for c in grid)
    efficiency = data_efficiency_grid(config)
    assert {c.train_size for c in efficiency} == set(config.train_sizes)
    # the largest train size of chapter 3 is the same run as chapter 2's smallest model: a cache hit
    assert {c.hashed()["train_size"] for c in efficiency} & {c.hashed()["train_size"] for c in grid}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"profile": "fast"}, "profile must be one of"),
        ({"levels": ["verbose"]}, "levels must only contain"),
        ({"models": ["t5-2m"]}, "models: model must be one of the presets"),
        ({"models": "t5-1m"}, "models must be a non-empty list"),
        ({"seeds": [-1]}, r"seeds\[\] must be >= 0"),
        ({"steps": 0}, "steps must be >= 1"),
        ({"train_sizes": []}, "train_sizes must be a non-empty list"),
        ({"workers": 0}, "workers must be >= 1"),
        ({"learning_rate": 2.0}, "learning_rate must be a number in"),
        ({"colour": "red"}, "unknown experiment parameter"),
        ({"scheduler": "step"}, "scheduler must be one of"),
        ({"data_efficiency_levels": ["all"]}, "data_efficiency_levels must only contain"),
        ({"granularity_levels": ["sum"]}, "granularity_levels must only contain"),
        ({"granularity_levels": "short"}, "granularity_levels must be a non-empty list"),
    ],
)
def test_bad_parameters(overrides, message, data_dir):
    kwargs = {"profile": "smoke", "data_dir": data_dir, **overrides}
    with pytest.raises(ValueError, match=message):
        experiment_config(**kwargs)


def test_missing_data_dir_names_notebook_01(tmp_path):
    with pytest.raises(FileNotFoundError, match="01_data_generation"):
        experiment_config("smoke", data_dir=tmp_path)


def test_run_grid_in_two_workers_then_cache_hits(data_dir, tmp_path):
    configs = [
        TrainConfig(
            model="t5-1m",
            level=level,
            steps=4,
            batch_size=8,
            eval_every=0,
            eval_examples=4,
            eval_splits=("test",),
            save_model=False,
        )
        for level in ("none", "short")
    ]
    first = run_grid(configs, data_dir, tmp_path, workers=2)
    assert [r.config["level"] for r in first] == ["none", "short"]
    assert not any(r.cached for r in first)
    second = run_grid(configs, data_dir, tmp_path, workers=2)  # no worker process needed
    assert all(r.cached for r in second)
    assert [r.comparable() for r in second] == [r.comparable() for r in first]


def test_run_grid_validates_every_config_first(data_dir, tmp_path):
    configs = [TrainConfig(model="t5-1m", steps=4), TrainConfig(model="t5-1m", level="verbose")]
    with pytest.raises(ValueError, match="level must be one of"):
        run_grid(configs, data_dir, tmp_path, workers=1)
    assert not any(tmp_path.iterdir())


def test_cache_hits_start_no_worker(data_dir, tmp_path, monkeypatch):
    import concurrent.futures

    config = TrainConfig(
        model="t5-100k", steps=2, batch_size=8, eval_every=0, eval_examples=4, save_model=False
    )
    run_grid([config], data_dir, tmp_path, workers=1)

    def no_pool(*args, **kwargs):
        raise AssertionError("a worker pool was started for cached runs")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    again = run_grid([config, config], data_dir, tmp_path, workers=2)
    assert all(r.cached for r in again)


def test_data_efficiency_grid_uses_its_own_levels(data_dir):
    config = experiment_config("smoke", data_dir=data_dir, data_efficiency_levels=["none"])
    assert {c.level for c in data_efficiency_grid(config)} == {"none"}
    assert {c.model for c in data_efficiency_grid(config)} == {config.models[-1]}
    chosen = experiment_config("smoke", data_dir=data_dir, data_efficiency_model="t5-250k")
    assert {c.model for c in data_efficiency_grid(chosen)} == {"t5-250k"}


def test_progress_bar_honours_tqdm_disable(monkeypatch):
    from explain_utils.common.progress import progress_bar

    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert progress_bar(total=3).disable
    monkeypatch.setenv("TQDM_DISABLE", "")
    with open(os.devnull, "w") as sink:
        assert not progress_bar(total=3, file=sink).disable


def test_list_parameters_given_as_text_are_read(data_dir):
    # papermill's `-p seeds '[0, 1]'` passes the text, not a list
    config = experiment_config("smoke", data_dir=data_dir, seeds="[0, 1]", models='["t5-50k"]')
    assert config.seeds == (0, 1) and config.models == ("t5-50k",)
    with pytest.raises(ValueError, match="seeds: cannot read"):
        experiment_config("smoke", data_dir=data_dir, seeds="[0, 1")
