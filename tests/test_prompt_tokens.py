"""The engine's per-token prompt classes and its step actions: the prompt loss on the words alone
(expression tokens masked), the test score taken at a chosen step, copies of the model kept."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest
import torch

from explain_utils.engine.batching import collate, encode
from explain_utils.engine.losses import token_weights
from explain_utils.engine.tokenization import tokenizer_for_dataset
from explain_utils.engine.train_config import TrainConfig
from explain_utils.engine.training import train
from explain_utils.tasks.prompt_loss_data import write_ablation_data
from tests.engine_data import small_listops

ROWS = datasets.Dataset.from_dict(
    {
        "source": ["work it out [MIN 4 7 ]", "[MAX 1 2 ] answer 2 [SM 3 4 ]"],
        "prompt_expression": ["0001111", "1111001111"],
        "target_long": ["the smallest of 4 7 is 4 ; answer 4", "3 + 4 ; answer 7"],
    }
)


def _batch():
    tokenizer = tokenizer_for_dataset(ROWS.rename_column("target_long", "target_none"))
    data = encode(ROWS, tokenizer, "long", is_encoder_decoder=False)
    return data, collate(data, [0, 1], tokenizer.pad_token_id)


def test_expression_marks_follow_the_prompt_words():
    data, batch = _batch()
    # Question: + 7 words + Answer: ; the marks of row 0 are on the expression's four words
    assert data.expression[0] == [False, False, False, False, True, True, True, True, False]
    assert batch["expression_mask"].shape == batch["prompt_mask"].shape
    assert not (batch["expression_mask"] & ~batch["prompt_mask"]).any()


def test_words_only_prompt_loss_masks_the_expression_tokens():
    _, batch = _batch()
    labels, all_tokens = token_weights(batch, "plw", 0.5, "all")
    _, words = token_weights(batch, "plw", 0.5, "words")
    expression = batch["expression_mask"][:, 1:]
    assert torch.all(words[expression] == 0) and torch.all(all_tokens[expression] == 0.5)
    assert torch.equal(words[~expression], all_tokens[~expression])  # completion and words kept
    _, im_words = token_weights(batch, "im", 0.0, "words")
    assert torch.all(im_words[expression] == 0)


def test_words_only_needs_marked_data():
    _, batch = _batch()
    batch.pop("expression_mask")
    with pytest.raises(ValueError, match="prompt_expression"):
        token_weights(batch, "plw", 0.5, "words")


def test_bad_prompt_loss_tokens_is_named():
    with pytest.raises(ValueError, match="prompt_loss_tokens"):
        TrainConfig(model="llama-250k", prompt_loss_tokens="numbers").validate()
    with pytest.raises(ValueError, match="score_step"):
        TrainConfig(model="llama-250k", steps=10, score_step=11).validate()


@pytest.fixture(scope="module")
def ablation_dirs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ablation")
    small_listops(root / "data", n_train=64)
    return write_ablation_data(root / "data", root / "out", 16, 4, 40, 8, 8)


RUN = dict(
    model="llama-250k",
    level="long",
    train_size=16,
    batch_size=4,
    learning_rate=3e-3,
    scheduler="constant",
    warmup_ratio=0.0,
    max_new_tokens=12,
    eval_splits=("test",),
    eval_examples=4,
    save_model=False,
    progress=False,
)


def test_score_step_is_the_run_of_that_many_steps(ablation_dirs, tmp_path):
    """With a constant rate, scoring at step 4 of an 8-step run gives the 4-step run's score, and
    the curve still runs to step 8."""
    short = train(TrainConfig(**RUN, steps=4, eval_every=4), ablation_dirs["oneshot"], tmp_path)
    # curve points at other steps than the short run's: evaluating must not change training
    long = train(
        TrainConfig(**RUN, steps=8, score_step=4, eval_every=2), ablation_dirs["oneshot"], tmp_path
    )
    assert long.metrics["test"]["correct"] == short.metrics["test"]["correct"]
    assert [p["step"] for p in long.curve] == [2, 4, 6, 8]
    assert long.curve[1]["accuracy"] == short.curve[0]["accuracy"]


def test_words_only_run_differs_from_all_tokens(ablation_dirs, tmp_path):
    base = dict(RUN, steps=4, eval_every=4, loss_mode="plw", prompt_loss_weight=1.0)
    words = train(
        TrainConfig(**base, prompt_loss_tokens="words"), ablation_dirs["oneshot"], tmp_path
    )
    every = train(TrainConfig(**base), ablation_dirs["oneshot"], tmp_path)
    assert words.run_id != every.run_id
    assert words.curve[0]["train_loss"] != every.curve[0]["train_loss"]


def test_models_kept_along_the_run(ablation_dirs, tmp_path):
    result = train(
        TrainConfig(**RUN, steps=4, eval_every=4, save_model_every=2),
        ablation_dirs["long"],
        tmp_path,
    )
    kept = sorted(p.name for p in Path(result.run_dir).glob("model-step-*"))
    assert kept == ["model-step-2", "model-step-4"]
