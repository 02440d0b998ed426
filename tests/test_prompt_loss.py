"""Chapter 5's ablation: config validation, the data types along R_g and the corpus, the grid,
the quadratic fit and its bootstrap, and the claims C7 and C8 on synthetic results."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from explain_utils.analysis.plw_fit import (
    QuadraticFit,
    bootstrap_fit,
    loss_curves,
    overfitting,
    quadratic_fit,
    sweep_points,
    w_p,
)
from explain_utils.analysis.stats import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, REVERSED
from explain_utils.claims import prompt_loss as prompt_loss_claims
from explain_utils.common.names import PROFILES, TEMPLATE_TOKENS
from explain_utils.engine.batching import encode
from explain_utils.engine.losses import completion_loss
from explain_utils.engine.models import build_model, resolve_model
from explain_utils.engine.run_store import dataset_fingerprint
from explain_utils.engine.tokenization import tokenizer_for_dataset
from explain_utils.engine.train_config import TrainConfig
from explain_utils.engine.training import train
from explain_utils.profiles.prompt_loss import PAPER_PLW_VALUES, prompt_loss_config
from explain_utils.studies.prompt_loss import (
    HIGHEST,
    LOWEST,
    SAME_RATIO,
    chosen_settings,
    fine_tuning_grid,
    pretrain_config,
    selection_grid,
)
from explain_utils.tasks.prompt_loss_data import (
    CLOSING,
    DATA_TYPES,
    INSTRUCTION_SENTENCES,
    completion_ratio,
    corpus_document,
    demo_rows,
    instruction_text,
    layout_prompts,
    opening_instruction,
    position_prompts,
    read_value,
    write_ablation_data,
)
from explain_utils.tasks.splits import load_splits
from tests.engine_data import small_listops

# a solved example in a prompt: an expression followed by the first word of its explanation
_DEMO = re.compile(r"\[[A-Z]+ [^;:]*?\] (?=[a-z])")


@pytest.fixture(scope="module")
def listops_dir(tmp_path_factory) -> Path:
    return small_listops(tmp_path_factory.mktemp("listops"), n_train=120)


@pytest.fixture(scope="module")
def ablation(listops_dir, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("ablation")
    return write_ablation_data(listops_dir, out, 40, 10, 60, n_test=6, n_validation=5)


@pytest.fixture()
def data_dir(tmp_path) -> Path:
    (tmp_path / "data" / "listops").mkdir(parents=True)
    (tmp_path / "data" / "listops" / "train.parquet").touch()
    return tmp_path / "data"


# ---------------------------------------------------------------- config


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_is_valid(profile, data_dir, tmp_path):
    config = prompt_loss_config(profile, data_dir, tmp_path / "runs", tmp_path / "results")
    assert config.plw_values[0] == 0.0 and config.plw_values[-1] == 1.0
    assert config.demo_pool == min(config.train_sizes) and config.finetune_pool >= 4
    if profile != "smoke":
        assert config.plw_values == PAPER_PLW_VALUES  # all ten weights of the paper
        assert len(config.seeds) >= 3 and config.n_test >= 1000 and len(config.train_sizes) >= 3
    if profile == "quick":  # sizes that reach the overfitting regime; rates that bracket 2e-4
        assert min(config.train_sizes) <= 30 and config.sweep_train_size in config.train_sizes
        assert min(config.learning_rates) <= 1e-4 and max(config.learning_rates) >= 1e-3
    if profile == "paper":
        assert config.model == "gpt2" and config.pretrain_steps == 0


def test_overrides_and_none(data_dir, tmp_path):
    config = prompt_loss_config(
        "smoke", data_dir, tmp_path, seeds=[3, 4], plw_values=[1, 0, 0.1, 0.1], max_steps=None
    )
    assert config.seeds == (3, 4) and config.plw_values == (0.0, 0.1, 1.0)
    assert config.max_steps == prompt_loss_config("smoke", data_dir, tmp_path).max_steps
    text = prompt_loss_config("smoke", data_dir, tmp_path, learning_rates="[0.001, 0.002]")
    assert text.learning_rates == (1e-3, 2e-3)  # papermill passes lists as text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(plw_values=[0, 0.5, 1.5]), "plw_values"),
        (dict(plw_values=[0, 1]), "plw_values must hold at least 3"),
        (dict(other_plw_values=[0, 1]), "other_plw_values must hold at least 3"),
        (dict(normalization_plw_values=[2.0]), "normalization_plw_values"),
        (dict(plw_values="0.1"), "plw_values"),
        (dict(learning_rates=[]), "learning_rates"),
        (dict(learning_rates=[5]), "learning_rates"),
        (dict(max_steps=0), "max_steps"),
        (dict(eval_every=11), "eval_every must be <= 10"),
        (dict(max_new_tokens=0), "max_new_tokens"),
        (dict(pretrain_batch_size=0), "pretrain_batch_size"),
        (dict(model="t5-1m"), "decoder-only"),
        (dict(model="no-such-model"), "model"),
        (dict(pretrain_steps=0), "pretrain_steps must be > 0 for a preset"),
        (dict(seeds=[]), "seeds"),
        (dict(train_sizes=[1]), "train_sizes.* must be >= 2"),
        (dict(sweep_train_size=1), "sweep_train_size"),
        (dict(wrong=1), "unknown ablation parameter"),
    ],
)
def test_bad_parameters_name_the_parameter(kwargs, message, data_dir, tmp_path):
    with pytest.raises(ValueError, match=message):
        prompt_loss_config("smoke", data_dir, tmp_path, **kwargs)


def test_missing_data_and_bad_profile(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_dir"):
        prompt_loss_config("smoke", tmp_path / "nothing", tmp_path)
    with pytest.raises(ValueError, match="profile"):
        prompt_loss_config("huge", tmp_path, tmp_path)


# ---------------------------------------------------------------- data types along R_g


def test_r_g_ordering_and_shared_completion(ablation):
    ratios = [completion_ratio(ablation[name], name)["R_g"] for name in DATA_TYPES]
    assert ratios == sorted(ratios) and ratios[0] < 1 < ratios[-1]
    # the two kinds of prompt have the same R_g: row by row as many prompt words
    assert ratios[0] == ratios[1]
    assert (list(DATA_TYPES)[-1], SAME_RATIO) == (HIGHEST, list(DATA_TYPES)[0])
    # the claims read the instruction data as the lowest R_g, the types they rest on first
    assert prompt_loss_claims.ordered_types(pd.DataFrame({"data_type": list(DATA_TYPES)})) == [
        LOWEST,
        SAME_RATIO,
        HIGHEST,
    ]
    targets = {
        name: load_splits(ablation[name] / "listops")["test"][f"target_{kind.level}"]
        for name, kind in DATA_TYPES.items()
    }
    assert len({tuple(t) for t in targets.values()}) == 1  # the same completions everywhere
    row = completion_ratio(ablation[HIGHEST], HIGHEST)
    source = load_splits(ablation[HIGHEST] / "listops")["train"]["source"]
    assert row["prompt tokens"] == pytest.approx(np.mean([len(s.split()) for s in source]) + 2)


def test_prompts_vary_and_never_show_the_row_itself(listops_dir, ablation):
    original = load_splits(listops_dir / "listops")
    pool = original["train"]["source"][:10]
    for name, kind in DATA_TYPES.items():
        for split in ("train", "validation", "test"):
            prompts = load_splits(ablation[name] / "listops")[split]["source"]
            queries = original[split]["source"][: len(prompts)]
            assert len(set(prompts)) == len(prompts)  # every prompt is its own
            for i, (prompt, query) in enumerate(zip(prompts, queries, strict=True)):
                assert prompt.endswith(query)  # the query comes last
                demos = [d.strip() for d in _DEMO.findall(prompt[: len(prompt) - len(query)])]
                assert len(demos) == kind.shots
                assert all(d in pool for d in demos)  # from the smallest training set
                if split == "train":
                    assert query not in demos and (i >= 10 or pool[i] not in demos)


def test_instruction_prompts_match_the_one_shot_rows_in_length(ablation):
    for split in ("train", "validation", "test"):
        words = load_splits(ablation[LOWEST] / "listops")[split]
        shots = load_splits(ablation[SAME_RATIO] / "listops")[split]
        for instruction, oneshot, marks in zip(
            words["source"], shots["source"], words["prompt_expression"], strict=True
        ):
            assert len(instruction.split()) == len(oneshot.split()) == len(marks)
            head = instruction.split()[: marks.index("1")]
            assert not any(w.isdigit() or w.startswith("[") for w in head)  # words only
            assert set(marks[marks.index("1") :]) == {"1"}  # then the query


def test_expression_marks_cover_exactly_the_expressions(ablation):
    rows = load_splits(ablation[SAME_RATIO] / "listops")["train"]
    for prompt, marks in zip(rows["source"], rows["prompt_expression"], strict=True):
        marked = [w for w, m in zip(prompt.split(), marks, strict=True) if m == "1"]
        unmarked = [w for w, m in zip(prompt.split(), marks, strict=True) if m == "0"]
        assert marked[0].startswith("[") and marked[-1] == "]"
        assert "answer" in unmarked and not any(w.startswith("[") for w in unmarked)


def _grammar_words() -> set[str]:
    return {w for s in INSTRUCTION_SENTENCES for w in re.sub(r"[{}|]", " ", s).split()}


def test_instruction_grammar():
    text = instruction_text(np.random.default_rng(0), 40)
    assert len(text.split()) == 40 and set(text.split()) <= _grammar_words()
    drawn = {instruction_text(np.random.default_rng(seed), 12) for seed in range(30)}
    assert len(drawn) > 20  # a distribution, not one sentence
    # a corpus of the quick profile's size opens its documents with every word of the grammar,
    # so an instruction prompt never holds a word the pre-trained tokenizer lacks
    openings = {w for row in range(0, 9000, 2) for w in opening_instruction(row).split()}
    assert openings == _grammar_words()


def test_capability_prompts_and_reader():
    queries, pool = ["[MIN 4 7 ]", "[MAX 1 2 ]"], ["[SM 1 2 ]", "[MED 3 5 7 ]", "[MIN 9 0 ]"]
    first = position_prompts(queries, pool, 10, 1)
    third = position_prompts(queries, pool, 10, 3)
    assert first[0].startswith("Question: Answer: ") and first[0].endswith("[MIN 4 7 ] :")
    assert third[1].count(CLOSING) == 2 and third[1].endswith("[MAX 1 2 ] :")
    assert layout_prompts(["x y"]) == ["Question: x y Answer:"]
    assert read_value(f"the smallest of 4 7 is 4 . {CLOSING} 4 . [MAX 9 ] : {CLOSING} 9 .") == 4
    assert read_value("the smallest of 4 7 is 4 ; answer 4") == 4
    assert read_value("the smallest of 4 7") is None


def test_demo_rows_is_deterministic_and_excludes_the_row():
    picks = demo_rows(50, 8, 3, salt=1, own=True)
    assert picks == demo_rows(50, 8, 3, salt=1, own=True)
    assert all(len(set(p)) == 3 and i not in p for i, p in enumerate(picks[:8]))
    assert len({tuple(p) for p in picks}) > 10  # they vary from row to row
    assert demo_rows(50, 8, 3, salt=2, own=True) != picks
    with pytest.raises(ValueError, match="demo_pool"):
        demo_rows(5, 3, 3, salt=1, own=True)


def test_corpus_is_disjoint_and_never_holds_a_completion(listops_dir, ablation):
    corpus = load_splits(ablation["pretrain"] / "listops")
    docs = corpus["train"]["target_none"]
    assert len(docs) == 30 and all(s == "" for s in corpus["train"]["source"])
    original = load_splits(listops_dir / "listops")
    corpus_exprs = {m.group(0).strip() for d in docs for m in re.finditer(r"\[[^:]*?\] (?=:)", d)}
    assert corpus_exprs == set(original["train"]["source"][40:100])  # the rows after the pool
    finetuning = set(original["train"]["source"][:40])
    finetuning |= set(original["validation"]["source"]) | set(original["test"]["source"])
    assert not corpus_exprs & finetuning
    text = " ".join(docs)
    assert not re.search(r"\banswer \d", text)  # no "answer N" line
    assert not set(TEMPLATE_TOKENS) & set(text.split())  # no template
    padded = f" {text} "
    for name, kind in DATA_TYPES.items():
        for split in load_splits(ablation[name] / "listops").values():
            for completion in split[f"target_{kind.level}"]:
                assert f" {completion} " not in padded


def test_corpus_document_wording():
    doc = corpus_document(["[SM 6 [SM 0 9 7 ] ]", "[MIN 4 7 ]"], 10)
    assert doc.startswith("[SM 6 [SM 0 9 7 ] ] : the sum of 0 9 7 modulo 10")
    opened = corpus_document(["[MIN 4 7 ]"], 10, "read the numbers first .")
    assert opened.startswith("read the numbers first . [MIN 4 7 ] : the smallest")
    assert doc.count(" ; ") == 1  # between the first expression's two steps
    assert "so the answer to it , the result , is 2 . [MIN 4 7 ] :" in doc
    assert doc.endswith("the smallest of 4 7 is 4 . so the answer to it , the result , is 4 .")


def test_vocabulary_and_rewrites(listops_dir, ablation, tmp_path):
    vocab = set(tokenizer_for_dataset(load_splits(ablation["pretrain"] / "listops")["train"]).vocab)
    for name, kind in DATA_TYPES.items():
        for split in load_splits(ablation[name] / "listops").values():
            for text in [*split["source"], *split[f"target_{kind.level}"]]:
                # a small corpus may miss a grammar word: test_instruction_grammar covers those
                assert set(text.split()) - _grammar_words() <= vocab, name
    before = {k: dataset_fingerprint(v / "listops") for k, v in ablation.items()}
    again = write_ablation_data(listops_dir, tmp_path / "again", 40, 10, 60, 6, 5)
    assert before == {k: dataset_fingerprint(v / "listops") for k, v in again.items()}
    with pytest.raises(ValueError, match="finetune_pool"):
        write_ablation_data(listops_dir, tmp_path / "x", 100, 10, 100, 5, 4)


# ---------------------------------------------------------------- grid


def _chosen(steps=50, rate=1e-3) -> pd.DataFrame:
    rows = [{"learning_rate": rate, "steps": steps, "validation_accuracy": 0.5}] * len(DATA_TYPES)
    return pd.DataFrame(rows, index=pd.Index(list(DATA_TYPES), name="data_type"))


def test_pretrain_and_selection_grid(data_dir, tmp_path):
    config = prompt_loss_config("quick", data_dir, tmp_path)
    pre = pretrain_config(config)
    assert pre.loss_mode == "im" and pre.save_model and pre.eval_splits == ("validation",)
    grid = selection_grid(config, "some/model")
    assert set(grid) == set(DATA_TYPES)
    for runs in grid.values():
        assert sorted(c.learning_rate for c in runs) == list(config.learning_rates)
        assert {(c.loss_mode, c.steps, c.scheduler, c.warmup_ratio) for c in runs} == {
            ("completion", config.max_steps, "constant", 0.0)
        }
        assert all("test" not in c.eval_splits for c in runs)  # chosen without test rows
    assert pretrain_config(prompt_loss_config("paper", data_dir, tmp_path)) is None


def test_chosen_settings_breaks_ties_towards_fewer_steps():
    table = pd.DataFrame(
        [("long", 1e-3, 25, 0.5), ("long", 1e-3, 50, 0.7), ("long", 5e-4, 50, 0.7),
         ("long", 5e-4, 100, 0.7), ("oneshot", 1e-3, 25, 0.2), ("oneshot", 5e-4, 75, 0.3)],
        columns=["data_type", "learning_rate", "step", "validation_accuracy"],
    )  # fmt: skip
    chosen = chosen_settings(table)
    assert list(chosen.index) == ["oneshot", "long"]  # R_g order
    assert chosen.loc["long", "steps"] == 50 and chosen.loc["long", "learning_rate"] == 5e-4
    assert chosen.loc["oneshot", "steps"] == 75
    assert not chosen.loc["long", "last_step"] and not chosen.loc["oneshot", "last_step"]
    assert chosen_settings(table[table["step"] <= 50]).loc["long", "last_step"]


def test_fine_tuning_grid(data_dir, tmp_path):
    config = prompt_loss_config("quick", data_dir, tmp_path)
    grid = fine_tuning_grid(config, "some/model", _chosen(steps=75))
    seeds, weights = len(config.seeds), len(config.plw_values) - 1
    others = len(config.other_plw_values) - 1
    sizes, masked = len(config.train_sizes), len(config.masked_plw_values)
    norm = len([w for w in config.normalization_plw_values if w > 0])
    assert len(grid[LOWEST]) == seeds * (2 * sizes + weights + masked + norm)
    assert len(grid[SAME_RATIO]) == seeds * (2 + others + masked)
    assert len(grid[HIGHEST]) == seeds * (2 + others)
    for runs in grid.values():  # (the data directory is part of a run's key as well)
        assert len({repr(c.hashed()) for c in runs}) == len(runs)
    every = [c for runs in grid.values() for c in runs]
    assert {(c.learning_rate, c.scheduler) for c in every} == {(1e-3, "constant")}
    assert all(c.eval_loss and c.eval_splits == ("test",) and c.level == "long" for c in every)
    curves = [c for c in every if c.loss_mode in ("completion", "im")]
    # IT and IM run to the end of the budget for their curves, scored at the chosen step
    assert {(c.steps, c.score_step, c.eval_every) for c in curves} == {
        (config.max_steps, 75, config.eval_every)
    }
    sweeps = [c for c in every if c.loss_mode == "plw"]
    assert {(c.steps, c.score_step, c.eval_every) for c in sweeps} == {(75, None, 75)}
    low = grid[LOWEST]
    assert {c.train_size for c in low if c.loss_mode == "im"} == set(config.train_sizes)
    assert {c.train_size for c in low if c.loss_mode == "completion"} == set(config.train_sizes)
    completion_norm = {c.prompt_loss_weight for c in low if c.loss_normalization == "completion"}
    assert completion_norm == set(config.normalization_plw_values) - {0.0}
    assert not any(c.loss_normalization == "completion" for c in grid[HIGHEST])
    assert not any(c.prompt_loss_tokens == "words" for c in grid[HIGHEST])
    for name in (LOWEST, SAME_RATIO):
        words = {c.prompt_loss_weight for c in grid[name] if c.prompt_loss_tokens == "words"}
        assert words == set(config.masked_plw_values)
    sweep = [c for c in low if c.seed == 0 and c.loss_mode != "im" and c.train_size == 100]
    sweep = [
        c for c in sweep if c.loss_normalization == "weights" and c.prompt_loss_tokens == "all"
    ]
    assert sorted(c.prompt_loss_weight for c in sweep) == list(config.plw_values)


# ---------------------------------------------------------------- engine support


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


def test_tiny_run_on_an_ablation_data_type(ablation, tmp_path):
    config = TrainConfig(
        model="llama-250k", level="long", steps=4, batch_size=8, eval_every=2, eval_examples=4,
        loss_mode="plw", prompt_loss_weight=0.1, loss_normalization="completion", eval_loss=True,
        max_new_tokens=4, progress=False, save_model=False, eval_splits=("test",),
        scheduler="constant", warmup_ratio=0.0,
    )  # fmt: skip
    result = train(config, ablation[LOWEST], tmp_path)
    assert len(result.metrics["test"]["correct"]) == 6
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
    assert fit.peak == pytest.approx(0.781)
    assert fit.vertex_plw == pytest.approx(0.652 ** (1 / 0.30103))
    assert fit.negative_with_inner_optimum and "maximum" in fit.describe()
    noisy = exact + np.random.default_rng(0).normal(0, 0.05, len(plw))
    fit = quadratic_fit(plw, noisy)
    assert fit.a_low < -4.284 < fit.a_high < 0
    with pytest.raises(ValueError, match="3 distinct"):
        quadratic_fit([0.0, 0.0, 1.0], [0.1, 0.2, 0.3])


def _correct_cube(curve, seeds=3, rows=400, seed=0) -> np.ndarray:
    """0/1 results [weights, seeds, rows] whose accuracy at each weight follows ``curve(w_p)``."""
    rng = np.random.default_rng(seed)
    p = np.array([curve(w_p(w)) for w in PAPER_PLW_VALUES])
    return (rng.random((len(p), seeds, rows)) < p[:, None, None]).astype(float)


def inverted(x):
    return -0.3 * (x - 0.6) ** 2 + 0.6


def test_bootstrap_fit_recovers_curvature_and_vertex():
    fit = bootstrap_fit(np.array(PAPER_PLW_VALUES), _correct_cube(inverted), n_boot=500)
    assert fit.a_low < -0.3 < fit.a_high < 0 and fit.negative_with_inner_optimum
    assert fit.vertex_low < 0.6 < fit.vertex_high and fit.method.startswith("paired bootstrap")
    flat = bootstrap_fit(np.array(PAPER_PLW_VALUES), _correct_cube(lambda x: 0.5), n_boot=500)
    assert flat.a_low < 0 < flat.a_high and not flat.negative_with_inner_optimum
    with pytest.raises(ValueError, match="weights, seeds, rows"):
        bootstrap_fit(np.array(PAPER_PLW_VALUES), np.ones((3, 2, 5)))


def test_fit_is_a_plain_dataclass():
    fit = QuadraticFit(-1.0, 1.0, 0.0, -2.0, -0.5, 10)
    assert fit.vertex_wp == pytest.approx(0.5) and fit.peak == pytest.approx(0.25)
    assert fit.negative_with_inner_optimum
    assert math.isnan(QuadraticFit(0.0, 1.0, 0.0, -1, 1, 3).vertex_wp)


# ---------------------------------------------------------------- claims on synthetic results


def _final(data_type, method, plw, size, seed, value, run_id, normalization="weights") -> dict:
    return {
        "run_id": run_id, "data_type": data_type, "method": method,
        "normalization": normalization, "prompt_loss_weight": plw, "train_size": size,
        "seed": seed, "task": "listops", "stage": "final", "split": "test", "depth": "all",
        "length_bucket": "all", "step": 100, "metric": "accuracy", "value": value,
    }  # fmt: skip


def _results(conditions: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy rows and per-row correctness from ``{(type, method, plw, size, norm): [seeds, rows]}``."""
    finals, correct = [], []
    for (name, method, plw, size, norm), cube in conditions.items():
        for seed, row in enumerate(cube):
            run_id = f"{name}-{method}-{plw}-{size}-{norm}-{seed}"
            finals.append(_final(name, method, plw, size, seed, row.mean(), run_id, norm))
            correct.append(
                {
                    "run_id": run_id, "data_type": name, "method": method, "normalization": norm,
                    "prompt_loss_weight": plw, "seed": seed, "train_size": size, "split": "test",
                    "correct": "".join(str(int(v)) for v in row),
                }
            )  # fmt: skip
    return pd.DataFrame(finals), pd.DataFrame(correct)


def _sweeps(low_curve, high_curve, extra=None):
    conditions = {}
    for name, curve, seed in ((LOWEST, low_curve, 0), (HIGHEST, high_curve, 1)):
        for plw, cube in zip(PAPER_PLW_VALUES, _correct_cube(curve, seed=seed), strict=True):
            method = "it" if plw == 0 else "plw"
            conditions[(name, method, plw, 100, "weights")] = cube
    return _results(conditions | (extra or {}))


def test_c7_holds_for_an_inverted_u_on_the_lowest_r_g_only():
    frame, correct = _sweeps(inverted, lambda x: 0.5 + 0.1 * x)
    claim = prompt_loss_claims.check_c7(frame, correct)
    assert claim.verdict == HOLDS and claim.holds and claim.diff < 0 and claim.ci_high < 0
    assert claim.n_rows == 400 and LOWEST in claim.statement and HIGHEST in claim.statement
    points = sweep_points(frame, LOWEST)
    assert len(points) == 30 and set(points["method"]) == {"it", "plw"}
    seeds_only = prompt_loss_claims.check_c7(frame)  # without per-row results: OLS over the runs
    assert seeds_only.n_rows == 0 and seeds_only.diff == pytest.approx(claim.diff, abs=1e-3)


def test_c7_does_not_hold_when_both_curve_and_reverses_for_a_u():
    frame, correct = _sweeps(inverted, inverted)
    assert prompt_loss_claims.check_c7(frame, correct).verdict == DOES_NOT_HOLD
    frame, correct = _sweeps(lambda x: 0.3 * (x - 0.5) ** 2 + 0.3, lambda x: 0.5)
    assert prompt_loss_claims.check_c7(frame, correct).verdict == REVERSED
    frame, correct = _sweeps(lambda x: -0.3 * (x - 1.3) ** 2 + 0.8, lambda x: 0.5)
    assert (
        prompt_loss_claims.check_c7(frame, correct).verdict == DOES_NOT_HOLD
    )  # maximum beyond PLW = 1
    assert (
        prompt_loss_claims.check_c7(frame[frame["data_type"] == LOWEST]).verdict == "not measured"
    )


def test_c7_ignores_the_other_normaliser_and_other_sizes():
    rng = np.random.default_rng(5)
    other = (rng.random((3, 400)) < 0.95).astype(float)
    extra = {
        (LOWEST, "plw", 1.0, 100, "completion"): other,
        (LOWEST, "it", 0.0, 1000, "weights"): other,
    }
    frame, correct = _sweeps(inverted, lambda x: 0.5 + 0.1 * x, extra)
    assert prompt_loss_claims.check_c7(frame, correct).verdict == HOLDS
    table = prompt_loss_claims.normalization_contrast(frame, correct, LOWEST)
    assert list(table["prompt_loss_weight"]) == [1.0] and table["difference"].iloc[0] > 0.3
    sweep = prompt_loss_claims.sweep_table(frame, correct, LOWEST)
    assert len(sweep) == 10 and (sweep["ci_low"] <= sweep["mean"]).all()


def _im(im_p, it_p, seeds=3, rows=400):
    rng = np.random.default_rng(1)
    return {
        (LOWEST, "im", 0.0, 100, "weights"): (rng.random((seeds, rows)) < im_p).astype(float),
        (LOWEST, "it", 0.0, 100, "weights"): (rng.random((seeds, rows)) < it_p).astype(float),
        (LOWEST, "im", 0.0, 1000, "weights"): (rng.random((seeds, rows)) < 0.2).astype(float),
        (LOWEST, "it", 0.0, 1000, "weights"): (rng.random((seeds, rows)) < 0.9).astype(float),
    }


def test_c8_is_judged_at_the_smallest_size_on_the_same_rows():
    frame, correct = _results(_im(0.7, 0.4))
    claim = prompt_loss_claims.check_c8(frame, correct)
    assert claim.verdict == HOLDS and claim.diff == pytest.approx(30, abs=5)
    assert "100 examples" in claim.ours and claim.n_rows == 400
    frame, correct = _results(_im(0.4, 0.7))
    assert prompt_loss_claims.check_c8(frame, correct).verdict == REVERSED
    frame, correct = _results(_im(0.5, 0.5))
    assert prompt_loss_claims.check_c8(frame, correct).verdict in (DOES_NOT_HOLD, INCONCLUSIVE)
    gains = prompt_loss_claims.im_gains(frame, correct)
    assert set(gains["train_size"]) == {100, 1000} and (gains["n_rows"] == 400).all()
    no_im = frame[frame["method"] != "im"]
    assert prompt_loss_claims.check_c8(no_im, correct).verdict == "not measured"


def test_sentences_follow_the_numbers():
    concave = QuadraticFit(-0.3, 0.36, 0.5, -0.4, -0.2, 30, 0.5, 0.7)
    assert "inverted U" in prompt_loss_claims.fit_sentence("fewshot", concave)
    assert "a U (" in prompt_loss_claims.fit_sentence(
        "long", QuadraticFit(0.3, -0.36, 0.5, 0.2, 0.4, 30)
    )
    assert "not distinguishable" in prompt_loss_claims.fit_sentence(
        "x", QuadraticFit(-0.1, 0, 0.5, -0.2, 0.1, 30)
    )
    assert "higher" in prompt_loss_claims.difference_sentence(0.05, 0.01, 0.09, "IM − IT")
    assert "lower" in prompt_loss_claims.difference_sentence(-0.05, -0.09, -0.01, "IM − IT")
    assert "not distinguishable" in prompt_loss_claims.difference_sentence(
        0.01, -0.02, 0.04, "IM − IT"
    )


def test_loss_curves_and_overfitting():
    rows = []
    for method, held_out in (("it", (1.0, 0.8, 1.2)), ("im", (1.0, 0.9, 0.85))):
        for seed in range(2):
            points = zip((25, 50, 75), held_out, (0.9, 0.5, 0.2), strict=True)
            for step, value, train_loss in points:
                base = _final(LOWEST, method, 0.0, 100, seed, 0, f"{method}{seed}")
                base |= {"stage": "curve", "split": "validation", "step": step}
                rows.append(base | {"metric": "validation_completion_loss", "value": value})
                rows.append(base | {"metric": "train_completion_loss", "value": train_loss})
    curves = loss_curves(pd.DataFrame(rows))
    assert len(curves) == 2 * 2 * 3 and (curves["n"] == 2).all()
    table = overfitting(curves).set_index("method")
    assert table.loc["it", "overfits"] and table.loc["it", "best_step"] == 50
    assert not table.loc["im", "overfits"] and table.loc["im", "best_step"] == 75


def test_effects_and_their_contrast_pair_the_same_seeds_and_rows():
    rng = np.random.default_rng(0)
    rows = 400
    base = rng.random((3, rows)) < 0.5
    better = base | (rng.random((3, rows)) < 0.3)  # the same rows, some more answered right
    conditions = {
        (LOWEST, "it", 0.0, 100, "weights"): base,
        (LOWEST, "plw", 1.0, 100, "weights"): better,
        (SAME_RATIO, "it", 0.0, 100, "weights"): base,
        (SAME_RATIO, "plw", 1.0, 100, "weights"): base[[0, 1]],  # a seed missing
    }
    frame, correct = _results(conditions)
    frame["prompt_tokens"] = "all"
    effects = prompt_loss_claims.prompt_loss_effects(frame, correct, LOWEST)
    row = effects.iloc[0]
    assert row["ci_low"] > 0 and row["verdict"] == HOLDS and row["n_seeds"] == 3
    same = prompt_loss_claims.prompt_loss_effects(frame, correct, SAME_RATIO).iloc[0]
    assert same["n_seeds"] == 2 and same["diff"] == 0.0  # the seeds both weights have
    kind = prompt_loss_claims.effect_contrast(frame, correct, (LOWEST, "all"), (SAME_RATIO, "all"))
    assert kind is None  # the two sweeps do not share their seeds: no pairing is made up
    conditions[(SAME_RATIO, "plw", 1.0, 100, "weights")] = base
    frame, correct = _results(conditions)
    frame["prompt_tokens"] = "all"
    kind = prompt_loss_claims.effect_contrast(frame, correct, (LOWEST, "all"), (SAME_RATIO, "all"))
    assert kind["prompt_loss_weight"] == 1.0 and kind["ci_low"] > 0
    assert kind["diff"] == pytest.approx(row["diff"])
