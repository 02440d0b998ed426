"""Metric parsing: whole-answer exact match, step accuracy, faithfulness, buckets; batched generation."""

from __future__ import annotations

import datasets
import pytest
import torch

from explain_utils.engine.evaluation import evaluate, generate, length_bucket, score, score_example
from explain_utils.engine.models import build_model, resolve_model
from explain_utils.engine.tokenization import tokenizer_for_dataset
from explain_utils.tasks.splits import load_splits
from tests.engine_data import small_listops

GOLD = "MIN ( 4 7 ) = 4 ; SM ( 4 9 ) sum 13 = 3 ; answer 3"


def test_whole_answer_not_last_character():
    assert score_example("answer 3", "answer 3", 3, "none")["accuracy"] == 1.0
    # the paper's public code compares last characters and would count this as correct
    assert score_example("answer 13", "answer 3", 3, "none")["accuracy"] == 0.0
    assert score_example("answer", "answer 3", 3, "none") == {
        "accuracy": 0.0,
        "exact_match": 0.0,
        "answer_parsed": 0.0,
    }


def test_step_accuracy_and_faithfulness():
    perfect = score_example(GOLD, GOLD, 3, "medium")
    assert perfect == {
        "accuracy": 1.0,
        "exact_match": 1.0,
        "answer_parsed": 1.0,
        "step_accuracy": 1.0,
        "faithfulness": 1.0,
    }
    # wrong first step, right second, answer follows its own last step
    wrong_step = score_example(
        "MIN ( 4 7 ) = 7 ; SM ( 4 9 ) sum 13 = 3 ; answer 3", GOLD, 3, "medium"
    )
    assert (
        wrong_step["step_accuracy"] == 0.5
        and wrong_step["faithfulness"] == 1.0
        and wrong_step["accuracy"] == 1.0
    )
    # right steps but an answer that does not follow from them: unfaithful and wrong
    unfaithful = score_example(
        "MIN ( 4 7 ) = 4 ; SM ( 4 9 ) sum 13 = 3 ; answer 5", GOLD, 3, "medium"
    )
    assert (
        unfaithful["faithfulness"] == 0.0
        and unfaithful["accuracy"] == 0.0
        and unfaithful["step_accuracy"] == 1.0
    )
    # a missing step counts against step accuracy (divided by the longer list)
    assert (
        score_example("SM ( 4 9 ) sum 13 = 3 ; answer 3", GOLD, 3, "medium")["step_accuracy"] == 0.0
    )
    assert score_example("MIN ( 4 7 ) = 4 ; answer 4", GOLD, 3, "medium")["step_accuracy"] == 0.5


def test_length_buckets():
    assert [length_bucket(n) for n in (3, 7, 8, 14, 15, 29, 200, 201)] == [
        "1-7",
        "1-7",
        "8-10",
        "11-14",
        "15-18",
        "29-40",
        "151-200",
        ">200",
    ]


def test_score_breaks_down_by_depth_and_length():
    split = datasets.Dataset.from_list(
        [
            {
                "source": "[MIN 4 7 ]",
                "answer": 4,
                "depth": 1,
                "length": 4,
                "target_none": "answer 4",
            },
            {
                "source": "[MAX 1 [MIN 4 7 ] ]",
                "answer": 4,
                "depth": 2,
                "length": 7,
                "target_none": "answer 4",
            },
        ]
    )
    result = score(["answer 4", "answer 1"], split, "none")
    assert result.metrics == {"accuracy": 0.5, "answer_parsed": 1.0, "exact_match": 0.5, "n": 2}
    assert result.by_depth == {"1": {"accuracy": 1.0, "n": 1}, "2": {"accuracy": 0.0, "n": 1}}
    assert result.by_length == {"1-7": {"accuracy": 0.5, "n": 2}}
    with pytest.raises(ValueError, match="level must be one of"):
        score(["answer 4"] * 2, split, "verbose")


@pytest.mark.parametrize("preset", ["t5-1m", "llama-1m"])
def test_batched_generation_equals_one_at_a_time(preset, tmp_path):
    splits = load_splits(small_listops(tmp_path) / "listops")
    tokenizer = tokenizer_for_dataset(splits)
    torch.manual_seed(0)
    model, _ = build_model(resolve_model(preset), tokenizer)
    split = splits["test_long"]  # varied lengths, so batches need padding
    batched = generate(model, tokenizer, split, "short", batch_size=8, max_new_tokens=6)
    single = generate(model, tokenizer, split, "short", batch_size=1, max_new_tokens=6)
    assert batched == single
    assert evaluate(model, tokenizer, split, "short", max_new_tokens=6).metrics["n"] == len(split)
