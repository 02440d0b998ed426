"""Chapter 1's module: its config from a notebook's namespace, its tables and glued sentences."""

from __future__ import annotations

import datasets
import pandas as pd
import pytest

from explain_utils.chapters import data_generation
from explain_utils.profiles.data import data_config


def test_configure_takes_the_parameters_from_the_namespace(tmp_path):
    namespace = {"profile": "smoke", "seed": 0, "output_dir": str(tmp_path), "n_train": 7}
    config = data_generation.configure({**namespace, "modulus": None, "pd": pd})
    assert config == data_config("smoke", 0, tmp_path, n_train=7)
    with pytest.raises(ValueError, match="n_train"):
        data_generation.configure({**namespace, "n_train": 0})


def test_notations_give_one_value_in_both_notations():
    table = data_generation.notations("[MAX 2 [MIN 9 7 ] ]")
    assert list(table["value"]) == [7, 7]
    assert table["expression"][1] != table["expression"][0]


def test_balance_text_says_chance_is_the_floor_only_when_no_answer_reaches_twice_chance():
    balanced = data_generation.balance_text({"listops": 0.12, "modular_sum": 0.13}, 0.1)
    assert balanced.startswith("both sets are close to balanced") and "chance is" in balanced
    one = data_generation.balance_text({"listops": 0.25, "modular_sum": 0.11}, 0.1)
    assert one.startswith("the ListOps set is not balanced") and "not chance" in one
    both = data_generation.balance_text({"listops": 0.2, "modular_sum": 0.3}, 0.1)
    assert both.startswith("the ListOps and modular-sum sets are not balanced")
    alone = data_generation.balance_text({"listops": 0.05, "modular_sum": float("nan")}, 1 / 30)
    assert alone.startswith("every set is close to balanced")


def test_label_values_glue_the_majority_shares_chance_and_the_balance():
    shares = pd.DataFrame(
        {
            "task": ["listops", "listops", "modular_sum", "modular_sum"],
            "answer": [0, 1, 0, 1],
            "share": [0.6, 0.4, 0.5, 0.5],
        }
    )
    values = data_generation.label_values(shares, 2)
    assert values["majority_listops"] == "60 %" and values["majority_modsum"] == "50 %"
    assert values["chance"] == "50 %" and values["label_balance"].startswith("both sets are")


def test_size_values_give_the_drawn_ranges_and_mean_target_lengths(tmp_path):
    config = data_config("smoke", 0, tmp_path, n_train=3, tasks=["listops"])
    split = datasets.Dataset.from_dict({"length": [5, 9, 7]})
    built = {"listops": datasets.DatasetDict({"train": split, "test_long": split})}
    lengths = pd.DataFrame(
        {
            "split": ["train"] * 4 + ["test_long"] * 2,
            "field": ["none", "none", "long", "long", "none", "long"],
            "tokens": [2, 2, 30, 50, 100, 100],
        }
    )
    values = data_generation.size_values(config, built, lengths)
    assert values["train_range"] == "5–9" and values["n_train"] == "3"
    assert (values["mean_none"], values["mean_long"], values["long_ratio"]) == ("2.0", "40.0", "20")


def test_split_table_counts_rows_and_mean_length():
    split = datasets.Dataset.from_dict({"length": [4, 6]})
    table = data_generation.split_table({"listops": datasets.DatasetDict({"train": split})})
    assert table.to_dict("records") == [
        {"task": "listops", "split": "train", "rows": 2, "mean length": 5.0}
    ]
