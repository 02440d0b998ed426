"""Chapter 5's ablation: config validation, the data types and grid, the quadratic fit, C7/C8."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from explain_utils.batching import encode
from explain_utils.claims import check_c7, check_c8
from explain_utils.data import load_splits
from explain_utils.losses import completion_loss
from explain_utils.models import build_model, resolve_model
from explain_utils.plw_fit import QuadraticFit, loss_curves, quadratic_fit, sweep_points, w_p
from explain_utils.profiles import PROFILES, ablation_config
from explain_utils.prompt_loss import (
    INSTRUCTION,
    PAPER_PLW_VALUES,
    completion_ratio,
    fine_tuning_grid,
    pretrain_config,
    write_ablation_data,
)
from explain_utils.runs import dataset_fingerprint
from explain_utils.tokenization import tokenizer_for_dataset
from explain_utils.training import TrainConfig, train
from tests.engine_data import small_listops


@pytest.fixture(scope="module")
def listops_dir(tmp_path_factory) -> Path:
    return small_listops(tmp_path_factory.mktemp("listops"), n_train=120)


@pytest.fixture()
def data_dir(tmp_path) -> Path:
    (tmp_path / "data" / "listops").mkdir(parents=True)
    (tmp_path / "data" / "listops" / "train.parquet").touch()
    return tmp_path / "data"


# ---------------------------------------------------------------- config


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_is_valid(profile, data_dir, tmp_path):
    config = ablation_config(profile, data_dir, tmp_path / "runs", tmp_path / "results")
    assert config.plw_values[0] == 0.0 and config.plw_values[-1] == 1.0
    if profile != "smoke":
        assert len(config.plw_values) >= 6 and len(config.seeds) >= 3
        assert len(config.train_sizes) >= 2
    if profile == "paper":
        assert config.plw_values == PAPER_PLW_VALUES and config.model == "gpt2"
        assert config.pretrain_steps == 0  # a hub model is pretrained already


def test_quick_weights_span_the_log_scale(data_dir, tmp_path):
    weights = [w for w in ablation_config("quick", data_dir, tmp_path).plw_values if w > 0]
    assert min(weights) <= 1e-2 and max(weights) == 1.0
    assert np.all(np.diff(np.log10(weights)) > 0.3)  # spread out, not bunched


def test_overrides_and_none(data_dir, tmp_path):
    config = ablation_config(
        "smoke", data_dir, tmp_path, seeds=[3, 4], plw_values=[1, 0, 0.1, 0.1], steps=None
    )
    assert config.seeds == (3, 4) and config.plw_values == (0.0, 0.1, 1.0)
    assert config.steps == ablation_config("smoke", data_dir, tmp_path).steps
    assert config.finetune_pool == max(config.train_sizes + (config.sweep_train_size,))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(plw_values=[0, 0.5, 1.5]), "plw_values"),
        (dict(plw_values=[0, 1]), "at least 3 distinct"),
        (dict(plw_values="0.1"), "plw_values"),
        (dict(model="t5-1m"), "decoder-only"),
        (dict(model="no-such-model"), "model"),
        (dict(pretrain_steps=0), "pretrain_steps must be > 0 for a preset"),
        (dict(seeds=[]), "seeds"),
        (dict(train_sizes=[0]), "train_sizes"),
        (dict(learning_rate=5), "learning_rate"),
        (dict(wrong=1), "unknown ablation parameter"),
    ],
)
def test_bad_parameters_name_the_parameter(kwargs, message, data_dir, tmp_path):
    with pytest.raises(ValueError, match=message):
        ablation_config("smoke", data_dir, tmp_path, **kwargs)


def test_missing_data_and_bad_profile(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_dir"):
        ablation_config("smoke", tmp_path / "nothing", tmp_path)
    with pytest.raises(ValueError, match="profile"):
        ablation_config("huge", tmp_path, tmp_path)


# ---------------------------------------------------------------- data and grid


def test_ablation_data(listops_dir, tmp_path):
    dirs = write_ablation_data(
        listops_dir, tmp_path / "abl", finetune_pool=40, pretrain_size=60, n_test=5, n_validation=4
    )
    original = load_splits(listops_dir / "listops")
    short = load_splits(dirs["short"] / "listops")
    long = load_splits(dirs["long"] / "listops")
    corpus = load_splits(dirs["pretrain"] / "listops")
    assert len(short["train"]) == 40 and len(corpus["train"]) == 60 and len(short["test"]) == 5
    # the instruction is part of the short data's prompt text; the long data's prompt is bare
    assert short["train"][0]["source"] == f"{INSTRUCTION} {original['train'][0]['source']}"
    assert long["train"]["source"] == original["train"]["source"][:40]
    # pre-training never sees a fine-tuning expression; its text mixes explanation levels
    bare = {s.removeprefix(INSTRUCTION + " ") for s in corpus["train"]["source"]}
    assert not bare & set(long["train"]["source"])
    assert corpus["train"][0]["target_none"] == original["train"][40]["target_short"]
    assert corpus["train"][2]["target_none"] == original["train"][42]["target_long"]
    assert INSTRUCTION in corpus["train"][1]["source"]
    # the corpus's vocabulary covers every fine-tuning word, instruction included
    vocab = tokenizer_for_dataset(corpus).get_vocab()
    assert set(INSTRUCTION.split()) <= set(vocab)
    # rewriting gives the same files, so cached runs stay valid
    before = {k: dataset_fingerprint(v / "listops") for k, v in dirs.items()}
    write_ablation_data(listops_dir, tmp_path / "abl", 40, 60, 5, 4)
    assert before == {k: dataset_fingerprint(v / "listops") for k, v in dirs.items()}
    with pytest.raises(ValueError, match="finetune_pool"):
        write_ablation_data(listops_dir, tmp_path / "x", 100, 100, 5, 4)
    short_ratio, long_ratio = (completion_ratio(dirs[c], c) for c in ("short", "long"))
    assert short_ratio["R_g"] < 1 < long_ratio["R_g"]
    assert short_ratio["completion_tokens"] == 3  # "answer N" + eos


def test_grid(data_dir, tmp_path):
    config = ablation_config(
        "quick", data_dir, tmp_path, seeds=[0, 1, 2], train_sizes=[200, 1000], sweep_train_size=200
    )
    pre = pretrain_config(config)
    assert pre.loss_mode == "plw" and pre.prompt_loss_weight == 1.0 and pre.save_model
    grid = fine_tuning_grid(config, "some/model")
    short, long = grid["short"], grid["long"]
    n_weights = len(config.plw_values) - 1  # PLW 0 is the completion-only run
    assert len(long) == 3 * (1 + n_weights)
    assert len(short) == 3 * (1 + n_weights + 2 + 1)  # + IM at both sizes + IT at 1000
    assert {c.level for c in short} == {"none"} and {c.level for c in long} == {"long"}
    assert all(c.eval_loss and c.model == "some/model" for c in short + long)
    assert not any(c.loss_mode == "im" for c in long)
    sweep = [c for c in long if c.seed == 0]
    assert sorted(c.prompt_loss_weight for c in sweep) == list(config.plw_values)
    assert {c.loss_mode for c in sweep if c.prompt_loss_weight == 0} == {"completion"}
    sizes = {(c.loss_mode, c.train_size) for c in short}
    assert {("im", 200), ("im", 1000), ("completion", 200), ("completion", 1000)} <= sizes
    assert len({c.hashed().__repr__() for c in short + long}) == len(short) + len(long)
    paper = ablation_config("paper", data_dir, tmp_path)
    assert pretrain_config(paper) is None


# ---------------------------------------------------------------- engine support


def test_eval_loss_keeps_old_cache_keys():
    assert "eval_loss" not in TrainConfig().hashed()
    assert TrainConfig(model="llama-250k", eval_loss=True).hashed()["eval_loss"] is True
    with pytest.raises(ValueError, match="eval_loss"):
        TrainConfig(model="t5-1m", eval_loss=True).validate()


def test_completion_loss_counts_completion_tokens_only(listops_dir):
    split = load_splits(listops_dir / "listops")["train"].select(range(6))
    tokenizer = tokenizer_for_dataset(split)
    torch.manual_seed(0)
    model, _ = build_model(resolve_model("llama-250k"), tokenizer)
    data = encode(split, tokenizer, "short", is_encoder_decoder=False)
    got = completion_loss(model, data, list(range(6)), tokenizer.pad_token_id, batch_size=4)
    total, count = 0.0, 0
    for i in range(6):
        ids = torch.tensor([data.inputs[i] + data.targets[i]])
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0]
        start = len(data.inputs[i]) - 1  # the logit that predicts the first completion token
        target = ids[0, start + 1 :]
        total += float(F.cross_entropy(logits[start:-1], target, reduction="sum"))
        count += len(target)
    assert got == pytest.approx(total / count, rel=1e-4)
    assert model.training  # restored


def test_tiny_run_records_completion_losses(listops_dir, tmp_path):
    config = TrainConfig(
        model="llama-250k",
        level="short",
        steps=4,
        batch_size=8,
        eval_every=2,
        eval_examples=4,
        loss_mode="plw",
        prompt_loss_weight=0.1,
        eval_loss=True,
        max_new_tokens=4,
        progress=False,
        save_model=False,
        eval_splits=("test",),
    )
    result = train(config, listops_dir, tmp_path)
    for point in result.curve:
        assert point["train_completion_loss"] > 0 and point["validation_completion_loss"] > 0


# ---------------------------------------------------------------- the fit


def test_w_p():
    assert w_p(0.1) == pytest.approx(0.5, abs=1e-4)
    assert w_p(0.0) == 0.0 and w_p(1.0) == 1.0


def test_quadratic_fit_recovers_a_known_quadratic():
    plw = np.repeat(PAPER_PLW_VALUES, 3)
    x = w_p(plw)
    exact = -4.284 * (x - 0.652) ** 2 + 0.781
    fit = quadratic_fit(plw, exact)
    assert fit.a == pytest.approx(-4.284) and fit.vertex_wp == pytest.approx(0.652)
    assert fit.peak == pytest.approx(0.781) and fit.vertex_plw == pytest.approx(
        0.652 ** (1 / 0.30103)
    )
    assert fit.a_high - fit.a_low < 1e-6 and fit.negative_with_inner_optimum
    noisy = exact + np.random.default_rng(0).normal(0, 0.05, len(plw))
    fit = quadratic_fit(plw, noisy)
    assert fit.a_low < -4.284 < fit.a_high < 0 and fit.dof == len(plw) - 3
    assert np.allclose(fit.predict(PAPER_PLW_VALUES), fit.a * x[::3] ** 2 + fit.b * x[::3] + fit.c)


def test_quadratic_fit_flat_and_degenerate():
    plw = np.repeat([0.0, 0.01, 0.1, 1.0], 3)
    flat = quadratic_fit(plw, 0.5 + np.random.default_rng(1).normal(0, 0.01, len(plw)))
    assert flat.a_low < 0 < flat.a_high and not flat.negative_with_inner_optimum
    rising = quadratic_fit(plw, w_p(plw) ** 2)  # convex: no inner maximum
    assert rising.a > 0 and not rising.negative_with_inner_optimum
    exact_fit = quadratic_fit([0.0, 0.1, 1.0], [0.1, 0.5, 0.2])
    assert math.isnan(exact_fit.a_low) and exact_fit.dof == 0
    assert "no CI" in exact_fit.describe()
    with pytest.raises(ValueError, match="3 distinct"):
        quadratic_fit([0.0, 0.0, 1.0], [0.1, 0.2, 0.3])


# ---------------------------------------------------------------- claims on synthetic frames


def _final(completion, method, plw, size, seed, value) -> dict:
    return {
        "completion": completion,
        "method": method,
        "loss_mode": {"it": "completion", "plw": "plw", "im": "im"}[method],
        "prompt_loss_weight": plw,
        "train_size": size,
        "seed": seed,
        "stage": "final",
        "split": "test",
        "depth": "all",
        "length_bucket": "all",
        "step": 100,
        "metric": "accuracy",
        "value": value,
    }


def sweep_frame(short_curve, long_curve, noise=0.005) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for completion, curve in (("short", short_curve), ("long", long_curve)):
        for seed in range(3):
            for plw in (0.0, 2.236e-3, 2.463e-2, 1e-1, 2.463e-1, 1.0):
                method = "it" if plw == 0 else "plw"
                value = curve(w_p(plw)) + rng.normal(0, noise)
                rows.append(_final(completion, method, plw, 200, seed, value))
    return pd.DataFrame(rows)


def inverted(x):
    return -0.3 * (x - 0.6) ** 2 + 0.6


def test_c7_holds_for_inverted_u_on_short_only():
    frame = sweep_frame(inverted, lambda x: 0.5 + 0.1 * x)
    claim = check_c7(frame)
    assert claim.holds is True and "short: a = -" in claim.ours
    points = sweep_points(frame, "short")
    assert len(points) == 18 and set(points["method"]) == {"it", "plw"}


def test_c7_fails_when_both_or_neither_curve():
    assert check_c7(sweep_frame(inverted, inverted)).holds is False
    assert check_c7(sweep_frame(lambda x: 0.5 + 0 * x, lambda x: 0.5 + 0.1 * x)).holds is False
    # a maximum at PLW = 1 (w_p = 1) is not an inner optimum
    assert (
        check_c7(sweep_frame(lambda x: -0.3 * (x - 1.2) ** 2, lambda x: 0.5 + 0 * x)).holds is False
    )


def test_c7_ignores_other_train_sizes_and_reports_missing():
    frame = sweep_frame(inverted, lambda x: 0.5 + 0.1 * x)
    extra = pd.DataFrame([_final("short", "it", 0.0, 1000, s, 0.99) for s in range(3)])
    assert check_c7(pd.concat([frame, extra])).holds is True  # IT at 1000 is not a sweep point
    assert check_c7(frame[frame["completion"] == "short"]).holds is None
    assert check_c7(frame.drop(columns="completion")).holds is None


def im_frame(im_small, it_small, im_large=0.5, it_large=0.5) -> pd.DataFrame:
    rows = []
    for seed in range(3):
        jitter = 0.01 * (seed - 1)
        rows += [
            _final("short", "im", 0.0, 100, seed, im_small + jitter),
            _final("short", "it", 0.0, 100, seed, it_small + jitter),
            _final("short", "im", 0.0, 1000, seed, im_large + jitter),
            _final("short", "it", 0.0, 1000, seed, it_large + jitter),
            _final("long", "it", 0.0, 100, seed, 0.0),  # other data types are ignored
        ]
    return pd.DataFrame(rows)


def test_c8():
    good = check_c8(im_frame(0.45, 0.40, im_large=0.3, it_large=0.6))
    assert good.holds is True and "100 examples" in good.ours and "+5.0 points" in good.ours
    assert check_c8(im_frame(0.40, 0.45, im_large=0.9, it_large=0.1)).holds is False
    only_it = im_frame(0.4, 0.4)
    assert check_c8(only_it[only_it["method"] != "im"]).holds is None
    assert check_c8(only_it.drop(columns="method")).holds is None


def test_loss_curves_select_the_sweep():
    rows = []
    for method, plw in (("it", 0.0), ("plw", 1.0), ("plw", 0.1)):
        for seed in range(2):
            for step in (10, 20):
                for metric in ("train_completion_loss", "validation_completion_loss"):
                    row = _final("short", method, plw, 200, seed, step / 10)
                    rows.append(
                        row
                        | {"stage": "curve", "split": "validation", "metric": metric, "step": step}
                    )
    curves = loss_curves(pd.DataFrame(rows), (0.0, 1.0))
    assert set(curves["prompt_loss_weight"]) == {0.0, 1.0}
    assert len(curves) == 2 * 2 * 2 and (curves["n"] == 2).all()


def test_fit_is_a_plain_dataclass():
    fit = QuadraticFit(-1.0, 1.0, 0.0, -2.0, -0.5, 10, 7)
    assert fit.vertex_wp == pytest.approx(0.5) and fit.peak == pytest.approx(0.25)
    assert fit.negative_with_inner_optimum
