"""Training: a tiny model learns, runs resume to identical results, finished runs are cached, bad input fails early."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from explain_utils.engine.evaluation import generate
from explain_utils.engine.models import load_model
from explain_utils.engine.train_config import TrainConfig
from explain_utils.engine.training import train
from tests.engine_data import copy_task, small_listops

QUIET = dict(progress=False, eval_splits=("test",))
TINY = dict(model="t5-1m", batch_size=8, max_new_tokens=4, save_model=False, **QUIET)


@pytest.fixture(scope="module")
def copy_data(tmp_path_factory) -> Path:
    return copy_task(tmp_path_factory.mktemp("copy"))


@pytest.fixture(scope="module")
def listops_data(tmp_path_factory) -> Path:
    return small_listops(tmp_path_factory.mktemp("listops"))


def test_tiny_t5_learns_to_copy_the_answer(copy_data, tmp_path):
    config = TrainConfig(
        model="t5-1m",
        level="none",
        steps=60,
        batch_size=8,
        learning_rate=3e-3,
        eval_every=10,
        **QUIET,
    )
    result = train(config, copy_data, tmp_path)
    curve = result.curve
    assert [p["step"] for p in curve] == [10, 20, 30, 40, 50, 60]
    assert [p["examples_seen"] for p in curve][:2] == [80, 160]
    assert curve[-1]["train_loss"] < 0.5 * curve[0]["train_loss"]
    assert curve[0]["accuracy"] < 0.8 <= curve[-1]["accuracy"]
    assert result.metrics["test"]["metrics"]["accuracy"] >= 0.8
    # target tokens: "answer N" + eos = 3 per example
    assert curve[-1]["target_tokens_seen"] == 3 * curve[-1]["examples_seen"]

    # the saved model reloads (from_pretrained on a local directory) and reproduces its predictions
    model, tokenizer = load_model(Path(result.run_dir) / "model")
    from explain_utils.tasks.splits import load_splits

    test = load_splits(copy_data / "listops")["test"]
    recorded = [
        r["prediction"]
        for r in map(
            eval_json, (Path(result.run_dir) / "predictions_test.jsonl").read_text().splitlines()
        )
    ]
    assert generate(model, tokenizer, test, "none") == recorded


def eval_json(line: str) -> dict:
    import json

    return json.loads(line)


class Killed(Exception):
    pass


@pytest.mark.parametrize(
    "overrides",
    [
        dict(model="llama-1m", loss_mode="plw", prompt_loss_weight=0.1, grad_accum_steps=2),
        dict(model="t5-1m", level="short"),
    ],
)
def test_killed_run_resumes_to_identical_result(overrides, listops_data, tmp_path):
    config = TrainConfig(
        steps=12,
        batch_size=8,
        eval_every=4,
        eval_examples=4,
        max_new_tokens=8,
        **QUIET,
        **overrides,
    )
    reference = train(config, listops_data, tmp_path / "straight")

    def kill(step: int) -> None:
        if step == 10:  # after the checkpoint at step 8
            raise Killed

    with pytest.raises(Killed):
        train(config, listops_data, tmp_path / "killed", on_step=kill)
    (run_dir,) = (tmp_path / "killed").iterdir()
    assert list((run_dir / "trainer").glob("checkpoint-8/progress.json"))
    assert not (run_dir / "result.json").exists()
    resumed = train(config, listops_data, tmp_path / "killed")
    assert not resumed.cached
    assert resumed.comparable() == reference.comparable()
    assert not (run_dir / "trainer").exists()  # checkpoints removed once the run finished


def _best_step(curve: list[dict]) -> int:
    """The step of the curve's highest validation accuracy, the earliest of equal ones."""
    accuracies = [p["accuracy"] for p in curve]
    return curve[accuracies.index(max(accuracies))]["step"]


def test_score_at_best_scores_the_model_of_the_best_validation_point(listops_data, tmp_path):
    # checkpoints every 4 steps, points every 2: the best point (step 6 here) is not checkpointed
    config = TrainConfig(
        steps=12,
        eval_every=2,
        eval_examples=8,
        learning_rate=3e-3,
        checkpoint_every=4,
        score_at_best=True,
        **TINY,
    )
    result = train(config, listops_data, tmp_path / "best")
    best = _best_step(result.curve)
    assert result.extra["scored_step"] == best
    assert best < config.steps and len({p["accuracy"] for p in result.curve}) > 1  # not the end
    assert [p["step"] for p in result.curve][-1] == config.steps  # trained on for the curve
    assert not list(Path(result.run_dir).glob("model-best*"))  # save_model=False keeps no model

    # the same training scored at that step, chosen in advance: the same test numbers
    at_step = train(
        dataclasses.replace(config, score_at_best=False, score_step=best),
        listops_data,
        tmp_path / "at_step",
    )
    assert at_step.metrics == result.metrics
    assert at_step.comparable()["curve"] == result.comparable()["curve"]

    # killed after the best point was saved, resumed from the checkpoint before it: it replays
    # the point, saves its model again and ends with the same result
    def kill(step: int) -> None:
        if step == best + 1:
            raise Killed

    with pytest.raises(Killed):
        train(config, listops_data, tmp_path / "killed", on_step=kill)
    (run_dir,) = (tmp_path / "killed").iterdir()
    assert (run_dir / f"model-best-{best}").is_dir()
    assert [p.name for p in run_dir.glob("model-best*")] == [f"model-best-{best}"]
    assert max(int(p.name.split("-")[1]) for p in (run_dir / "trainer").glob("checkpoint-*")) < best
    resumed = train(config, listops_data, tmp_path / "killed")
    assert not resumed.cached and resumed.comparable() == result.comparable()

    kept = train(dataclasses.replace(config, save_model=True), listops_data, tmp_path / "kept")
    assert (Path(kept.run_dir) / f"model-best-{best}").is_dir() and kept.metrics == result.metrics


def test_score_at_best_off_keeps_run_keys():
    config = TrainConfig(**TINY)
    assert "score_at_best" not in config.hashed()  # runs cached before the option still hit
    assert config.hashed() == dataclasses.replace(config, score_at_best=False).hashed()
    assert dataclasses.replace(config, score_at_best=True).hashed()["score_at_best"] is True


def test_finished_run_is_a_cache_hit_and_changes_recompute(listops_data, tmp_path):
    config = TrainConfig(steps=3, eval_every=0, **TINY)
    first = train(config, listops_data, tmp_path)
    again = train(
        dataclasses.replace(config, checkpoint_every=1), listops_data, tmp_path
    )  # not result-relevant
    assert (
        again.cached and again.run_id == first.run_id and again.comparable() == first.comparable()
    )
    changed = train(dataclasses.replace(config, seed=1), listops_data, tmp_path)
    assert not changed.cached and changed.run_id != first.run_id
    assert len(list(tmp_path.iterdir())) == 2


def test_same_seed_same_numbers(listops_data, tmp_path):
    config = TrainConfig(
        model="llama-1m",
        loss_mode="im",
        steps=4,
        batch_size=8,
        eval_every=2,
        eval_examples=4,
        max_new_tokens=4,
        save_model=False,
        **QUIET,
    )
    a = train(config, listops_data, tmp_path / "a")
    b = train(config, listops_data, tmp_path / "b")
    assert a.comparable() == b.comparable()


def test_numbers_do_not_depend_on_the_callers_threads(listops_data, tmp_path):
    config = TrainConfig(steps=4, eval_every=2, eval_examples=4, device="cpu", **TINY)
    before = torch.get_num_threads()
    runs = {}
    try:
        for threads in (1, 2):  # a grid worker (1 thread) vs a notebook's own process (all cores)
            torch.set_num_threads(threads)
            runs[threads] = train(config, listops_data, tmp_path / f"caller{threads}")
            assert torch.get_num_threads() == threads  # restored after the run
    finally:
        torch.set_num_threads(before)
    assert runs[1].comparable() == runs[2].comparable()
    assert runs[1].extra["torch_threads"] == runs[2].extra["torch_threads"] == 1
    # more threads is another run: its own cache key, its numbers recorded as such
    two = train(dataclasses.replace(config, cpu_threads=2), listops_data, tmp_path / "caller1")
    assert two.run_id != runs[1].run_id and two.extra["torch_threads"] == 2
    # at the default (1) the field stays out of the key, so runs cached before it still hit
    assert "cpu_threads" not in config.hashed()


def test_training_from_a_local_checkpoint(copy_data, tmp_path):
    base = TrainConfig(
        model="t5-1m", steps=2, batch_size=8, eval_every=0, max_new_tokens=4, **QUIET
    )
    first = train(base, copy_data, tmp_path / "runs")
    tuned = train(
        dataclasses.replace(base, model=str(Path(first.run_dir) / "model")),
        copy_data,
        tmp_path / "runs",
    )
    assert tuned.params == first.params and tuned.run_id != first.run_id


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(model="t5-2m"), "model must be one of the presets"),
        (dict(model="/no/such/checkpoint"), "model: no checkpoint"),
        (dict(level="verbose"), "level must be one of"),
        (dict(task="sorting"), "task must be one of"),
        (dict(device="tpu"), "device must be one of"),
        (dict(train_size=10_000), "train_size must be <= 64"),
        (
            dict(model="llama-1m", loss_mode="plw", prompt_loss_weight=1.5),
            r"prompt_loss_weight must be a number in \[0.0, 1.0\]",
        ),
        (dict(model="llama-1m", prompt_loss_weight=-0.1), "prompt_loss_weight must be"),
        (dict(model="t5-1m", loss_mode="plw"), "loss_mode must be one of 'completion'"),
        (dict(loss_mode="both"), "loss_mode must be one of"),
        (dict(steps=0), "steps must be >= 1"),
        (dict(cpu_threads=0), "cpu_threads must be >= 1"),
        (dict(eval_splits=("dev",)), "eval_splits must only contain"),
        (dict(score_at_best=True, eval_every=0), "score_at_best needs eval_every in"),
        (dict(score_at_best=True, steps=10, eval_every=20), "score_at_best needs eval_every in"),
        (dict(score_at_best=True, score_step=5), "score_at_best must be False when score_step"),
        (dict(score_at_best="yes"), "score_at_best must be one of"),
    ],
)
def test_bad_input_fails_before_training(overrides, message, listops_data, tmp_path):
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        train(TrainConfig(**{**QUIET, **overrides}), listops_data, tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_missing_data_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_dir"):
        train(TrainConfig(**QUIET), tmp_path / "nothing", tmp_path / "runs")
