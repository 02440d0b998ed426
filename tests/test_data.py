import hashlib

import pytest

from explain_utils.common.names import LEVELS
from explain_utils.profiles.data import data_config
from explain_utils.tasks.explanations import final_answer
from explain_utils.tasks.listops import GeneratorConfig, evaluate
from explain_utils.tasks.splits import (
    SplitSpec,
    build_splits,
    build_task_dataset,
    generator_for,
    load_splits,
    n_tokens,
    read_data_card,
    train_target_tokens,
)


def small_config(tmp_path, **overrides):
    params = dict(n_train=120, n_validation=30, n_test=30, n_test_long=30, n_validation_long=20)
    params.update(overrides)
    return data_config("smoke", seed=3, output_dir=tmp_path, **params)


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_build_is_byte_identical_for_a_seed_and_changes_with_it(tmp_path):
    build_task_dataset(small_config(tmp_path / "a"), "listops")
    build_task_dataset(small_config(tmp_path / "b"), "listops")
    assert digest(tmp_path / "a" / "listops") == digest(tmp_path / "b" / "listops")
    other = data_config(
        "smoke",
        seed=4,
        output_dir=tmp_path / "c",
        n_train=120,
        n_validation=30,
        n_test=30,
        n_test_long=30,
    )
    build_task_dataset(other, "listops")
    assert (
        digest(tmp_path / "a" / "listops")["train.parquet"]
        != digest(tmp_path / "c" / "listops")["train.parquet"]
    )


def test_splits_are_disjoint_correct_and_within_lengths(tmp_path):
    config = small_config(tmp_path)
    build_task_dataset(config, "listops")
    ds = load_splits(tmp_path / "listops")
    assert set(ds) == {"train", "validation", "test", "test_long", "validation_long"}
    sources = [set(ds[name]["source"]) for name in ds]
    assert sum(map(len, sources)) == len(set().union(*sources)) == 120 + 30 + 30 + 30 + 20
    for name, (lo, hi) in [
        ("train", config.train_length),
        ("test_long", config.test_long_length),
        ("validation_long", config.test_long_length),
    ]:
        for row in ds[name]:
            assert lo <= row["length"] == n_tokens(row["source"]) <= hi
            assert evaluate(row["source"]) == row["answer"]
            for level in LEVELS:
                assert final_answer(row[f"target_{level}"]) == row["answer"]


def test_adding_validation_long_leaves_the_other_splits_byte_identical(tmp_path):
    build_task_dataset(small_config(tmp_path / "a", n_validation_long=0), "listops")
    build_task_dataset(small_config(tmp_path / "b"), "listops")
    before, after = digest(tmp_path / "a" / "listops"), digest(tmp_path / "b" / "listops")
    for split in ("train", "validation", "test", "test_long"):
        assert before[f"{split}.parquet"] == after[f"{split}.parquet"]


def test_with_format_adds_a_format_and_leaves_levels_alone(tmp_path):
    from explain_utils.tasks.formats import write_source, write_target
    from explain_utils.tasks.listops import parse
    from explain_utils.tasks.splits import with_format

    build_task_dataset(small_config(tmp_path), "listops")
    ds = load_splits(tmp_path / "listops")
    assert with_format(ds, "long", 10) is ds
    hinted = with_format(ds, "index_hint", 10)
    row = hinted["test_long"][0]
    expr = parse(row["source"])
    assert row["target_index_hint"] == write_target("index_hint", expr)
    assert row["source_index_hint"] == write_source("index_hint", expr)
    assert "source_long_rewrite" not in with_format(ds, "long_rewrite", 10)["train"].column_names


def test_modular_sum_task_uses_only_sm(tmp_path):
    ds = build_task_dataset(small_config(tmp_path), "modular_sum")
    ops = {tok for s in ds["train"]["source"] for tok in s.split() if tok.startswith("[")}
    assert ops == {"[SM"}


def test_data_card(tmp_path):
    import json

    build_task_dataset(small_config(tmp_path), "listops")
    card = json.loads((tmp_path / "listops" / "data_card.json").read_text())
    assert card["splits"]["train"]["rows"] == 120
    assert sum(card["splits"]["train"]["labels"].values()) == 120
    assert (
        card["splits"]["test_long"]["token_length"]["source"]["min"] >= 15
    )  # smoke profile: test_long is 15-28 tokens
    assert (tmp_path / "listops" / "data_card.md").exists()
    assert read_data_card(tmp_path / "listops") == card
    with pytest.raises(FileNotFoundError, match="01_data_generation"):
        read_data_card(tmp_path / "nowhere")


def test_train_target_tokens_counts_the_first_rows(tmp_path):
    ds = build_task_dataset(small_config(tmp_path), "listops")
    table = train_target_tokens(tmp_path / "listops", ["none", "long"], [1, 10])
    assert (
        table.set_index(["level", "train_size"])["train_target_tokens"].to_dict()
        == {
            ("none", 1): 2,
            ("none", 10): 20,  # "answer N"
            ("long", 1): len(ds["train"][0]["target_long"].split()),
            ("long", 10): sum(len(t.split()) for t in ds["train"][:10]["target_long"]),
        }
    )


def test_too_few_distinct_expressions_is_a_clear_error():
    generator = GeneratorConfig(modulus=2, operators=("MIN",), max_depth=1, min_args=1, max_args=1)
    with pytest.raises(ValueError, match="distinct expressions"):
        build_splits(generator, {"train": SplitSpec(10, 3, 3)}, seed=0)


def test_impossible_length_fails_before_work():
    generator = GeneratorConfig(max_depth=1, min_args=2, max_args=2)
    with pytest.raises(ValueError, match="split 'test_long'"):
        build_splits(
            generator, {"train": SplitSpec(5, 4, 4), "test_long": SplitSpec(5, 10, 20)}, seed=0
        )


def test_unknown_task(tmp_path):
    with pytest.raises(ValueError, match="task must be one of 'listops', 'modular_sum'"):
        generator_for("sorting", small_config(tmp_path))


def test_load_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="01_data_generation"):
        load_splits(tmp_path)


def test_empty_split_round_trips(tmp_path):
    build_task_dataset(small_config(tmp_path, n_test_long=0), "listops")
    ds = load_splits(tmp_path / "listops")
    assert len(ds["test_long"]) == 0 and len(ds["train"]) == 120


def test_rewriting_a_data_directory_leaves_only_the_splits_written(tmp_path):
    import datasets

    from explain_utils.tasks.splits import load_splits, save_splits

    rows = datasets.Dataset.from_dict({"source": ["[MIN 1 2 ]"], "answer": [1]})
    card = {"task": "listops", "modulus": 10, "seed": 0, "splits": {}}
    save_splits(datasets.DatasetDict(train=rows, test=rows), tmp_path, card)
    save_splits(datasets.DatasetDict(train=rows), tmp_path, card)
    assert sorted(p.name for p in tmp_path.glob("*.parquet")) == ["train.parquet"]
    assert list(load_splits(tmp_path)) == ["train"]
