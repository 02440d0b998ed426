"""One's own explained data: the loader, its errors (file, line, column), word-label scoring, and
a few training steps on the shipped sample through the book's engine."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from explain_utils.analysis.results import results_frame
from explain_utils.chapters.own_data import level_table, sample_outputs
from explain_utils.engine.evaluation import score, score_example
from explain_utils.engine.training import train
from explain_utils.lab import lab_parameters
from explain_utils.profiles.own_data import own_data_config
from explain_utils.studies.own_data import run_configs
from explain_utils.tasks import own_data
from explain_utils.tasks.explanations import final_answer, final_label
from explain_utils.tasks.own_data import OwnDataError, build_own_task, load_own_data
from explain_utils.tasks.splits import load_splits, with_format

GENRES = ("comedy", "horror", "romance")


def _rows(n: int = 30, **columns) -> list[dict]:
    rows = []
    for i in range(n):
        label = GENRES[i % 3]
        rows.append(
            {
                "input": f"story {i} about a {label} thing",
                "explanation_short": f"cue {label}",
                "explanation_long": f"the word {label} points at {label}",
                "label": label,
                **columns,
            }
        )
    return rows


def _jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# ---- the shipped sample ------------------------------------------------------------------


def test_sample_round_trip(tmp_path):
    task_dir = build_own_task(None, tmp_path)
    splits = load_splits(task_dir)
    assert {k: len(v) for k, v in splits.items()} == {"train": 420, "validation": 90, "test": 90}
    card = json.loads((task_dir / "data_card.json").read_text())
    assert card["task"] == "own_data" and card["source_file"] == "movie_genres.jsonl"
    assert card["levels"] == ["none", "short", "medium", "long"]
    assert card["label_vocabulary"] == ["comedy", "horror", "romance", "scifi", "thriller"]
    sample = pd.read_json(own_data.SAMPLE, lines=True)
    by_input = sample.set_index("input")
    for split in splits.values():
        for row in split:
            assert row["target_none"] == f"answer {row['answer']}"
            for level in ("short", "medium", "long"):
                explanation = by_input.loc[row["source"], f"explanation_{level}"]
                assert row[f"target_{level}"] == f"{explanation} ; answer {row['answer']}"
                assert final_label(row[f"target_{level}"]) == row["answer"]
            assert row["depth"] == 0 and row["length"] == len(row["source"].split())
    # the split is a function of the seed: the same file and seed give the same files
    again = build_own_task(None, tmp_path / "again")
    for name in ("train", "validation", "test"):
        assert (again / f"{name}.parquet").read_bytes() == (
            task_dir / f"{name}.parquet"
        ).read_bytes()


def test_the_sample_script_writes_the_shipped_sample(tmp_path, monkeypatch):
    import importlib.util

    script = Path(__file__).resolve().parents[1] / "scripts" / "make_genre_sample.py"
    spec = importlib.util.spec_from_file_location("make_genre_sample", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "OUT", tmp_path / "sample.jsonl")
    module.main()
    assert (tmp_path / "sample.jsonl").read_bytes() == own_data.SAMPLE.read_bytes()


def test_csv_and_jsonl_give_the_same_rows(tmp_path):
    rows = _rows()
    header = list(rows[0])
    from_csv = load_own_data(_csv(tmp_path / "d.csv", header, [list(r.values()) for r in rows]))
    from_jsonl = load_own_data(_jsonl(tmp_path / "d.jsonl", rows))
    pd.testing.assert_frame_equal(from_csv.drop(columns="line"), from_jsonl.drop(columns="line"))
    assert from_csv["line"].tolist() == [i + 2 for i in range(30)]  # line 1 is the header
    assert from_jsonl["line"].tolist() == [i + 1 for i in range(30)]


def test_a_split_column_is_kept_and_missing_levels_are_absent(tmp_path):
    rows = [
        {k: v for k, v in r.items() if k != "explanation_long"}
        | {"split": "train" if i < 20 else "validation" if i < 25 else "test"}
        for i, r in enumerate(_rows())
    ]
    task_dir = build_own_task(_jsonl(tmp_path / "d.jsonl", rows), tmp_path / "data")
    splits = load_splits(task_dir)
    assert [len(splits[s]) for s in ("train", "validation", "test")] == [20, 5, 5]
    assert "target_long" not in splits["train"].column_names
    for level in ("long", "long_rewrite"):  # a missing level, a book format (ListOps only)
        with pytest.raises(
            ValueError, match="level must be one of none, short for this data set; got"
        ):
            with_format(splits, level, None)


# ---- malformed files: each error names the file, the line and the column ------------------


def _bad_jsonl(tmp_path, edit) -> Path:
    rows = _rows()
    edit(rows)
    return _jsonl(tmp_path / "bad.jsonl", rows)


JSONL_CASES = {
    "bad JSON": (lambda r: r.__setitem__(2, '{"input": "x",'), 3, None, "not valid JSON"),
    "not an object": (lambda r: r.__setitem__(3, "[1, 2]"), 4, None, "not a JSON object"),
    "unknown column": (
        lambda r: r[0].update(explanation_lng="x"),
        1,
        "explanation_lng",
        "unknown column; allowed: input, label",
    ),
    "missing label": (lambda r: r[1].pop("label"), 2, "label", "missing"),
    "a level missing on one row": (
        lambda r: r[4].pop("explanation_short"),
        5,
        "explanation_short",
        "missing (earlier rows have it)",
    ),
    "empty input": (lambda r: r[3].update(input="   "), 4, "input", "empty cell"),
    "two-word label": (
        lambda r: r[5].update(label="science fiction"),
        6,
        "label",
        "a label must be one word",
    ),
    "label not text": (lambda r: r[6].update(label=["a"]), 7, "label", "must be text"),
    "bad split": (
        lambda r: [x.update(split="train") for x in r] and r[7].update(split="dev"),
        8,
        "split",
        "must be one of train, validation, test; got 'dev'",
    ),
    "duplicate input": (
        lambda r: r[9].update(input=r[1]["input"]),
        10,
        "input",
        "the same input as line 2",
    ),
    "huge number": (lambda r: r[0].update(input="in 1985 a story"), 1, "input", "number 1985"),
}


@pytest.mark.parametrize("case", sorted(JSONL_CASES))
def test_a_malformed_jsonl_file_names_line_and_column(tmp_path, case):
    edit, line, column, problem = JSONL_CASES[case]
    path = _bad_jsonl(tmp_path, edit)
    with pytest.raises(OwnDataError) as err:
        build_own_task(path, tmp_path / "data")
    message = str(err.value)
    assert message.startswith(f"{path}: line {line}")
    if column:
        assert f"column {column!r}" in message
    assert problem in message
    assert not (tmp_path / "data").exists()  # nothing written


def test_a_malformed_csv_file_names_line_and_column(tmp_path):
    header = ["input", "explanation_short", "label"]
    good = [[f"story {i}", "cue", GENRES[i % 3]] for i in range(30)]
    cases = {
        "no label": (["input", "explanation_short"], good, "line 1, column 'label': missing"),
        "unknown": ([*header, "genre"], good, "line 1, column 'genre': unknown column"),
        "extra cell": (header, [*good[:2], ["a", "b", "c", "d"]], "line 4: more cells"),
        "short row": (header, [*good[:4], ["a", "b"]], "line 6, column 'label': missing cell"),
        "empty": (header, [*good[:3], ["a", "", "horror"]], "line 5, column 'explanation_short'"),
        "after a cell of two lines": (
            header,
            [*good[:2], ["a\nplot", "cue", "horror"], ["b", "", "horror"]],
            "line 6, column 'explanation_short'",
        ),
    }
    for name, (head, rows, expected) in cases.items():
        path = _csv(tmp_path / f"{name}.csv", head, rows)
        with pytest.raises(OwnDataError) as err:
            load_own_data(path)
        assert str(err.value).startswith(f"{path}: {expected}"), (name, str(err.value))


def test_split_problems_name_the_split_column_or_the_row(tmp_path):
    rows = [r | {"split": "train" if i < 28 else "validation"} for i, r in enumerate(_rows())]
    with pytest.raises(OwnDataError, match="column 'split': split 'test' has 0 rows"):
        load_own_data(_jsonl(tmp_path / "a.jsonl", rows))
    rows = [
        r | {"split": "train" if i < 20 else "test" if i < 25 else "validation"}
        for i, r in enumerate(_rows())
    ]
    rows[22]["label"] = "western"
    with pytest.raises(
        OwnDataError, match="line 23, column 'label': label 'western' .test split. never"
    ):
        load_own_data(_jsonl(tmp_path / "b.jsonl", rows))


def test_file_path_errors_name_the_parameter(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_file: no file at"):
        load_own_data(tmp_path / "missing.jsonl")
    (tmp_path / "d.tsv").write_text("input\tlabel\n")
    with pytest.raises(ValueError, match=r"data_file must end in one of \.csv, \.jsonl"):
        load_own_data(tmp_path / "d.tsv")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(OwnDataError, match="empty.jsonl: no rows"):
        load_own_data(tmp_path / "empty.jsonl")


# ---- scoring word labels; ListOps unchanged ----------------------------------------------


def test_word_labels_are_read_and_compared_as_text():
    assert final_label("ghost is a horror cue ; answer horror") == "horror"
    assert final_label("answer comedy ; answer horror") == "horror"
    assert final_label("horror") is None and final_label("") is None
    right = score_example(
        "ghost : horror 1 ; answer horror", "ghost : horror 1 ; answer horror", "horror", "medium"
    )
    assert right["accuracy"] == right["exact_match"] == right["answer_parsed"] == 1.0
    assert math.isnan(right["step_accuracy"]) and math.isnan(right["faithfulness"])
    outside = score_example("answer horrors", "answer horror", "horror", "none")
    assert outside == {"accuracy": 0.0, "exact_match": 0.0, "answer_parsed": 1.0}
    assert score_example("horror", "answer horror", "horror", "none")["answer_parsed"] == 0.0


def test_listops_scoring_is_unchanged():
    target = "MIN 4 ; MAX 9 ; answer 9"
    assert score_example(target, target, 9, "short") == {
        "accuracy": 1.0,
        "exact_match": 1.0,
        "answer_parsed": 1.0,
        "step_accuracy": 1.0,
        "faithfulness": 1.0,
    }
    assert score_example("MIN 4 ; MAX 8 ; answer 9", target, 9, "short")["step_accuracy"] == 0.5
    assert final_answer("answer 13") == 13 and final_label("answer 13") == "13"


def test_score_of_a_word_label_split(tmp_path):
    splits = load_splits(build_own_task(None, tmp_path))
    test = splits["test"]
    result = score(list(test["target_long"]), test, "long")
    assert result.metrics["accuracy"] == result.metrics["exact_match"] == 1.0
    assert math.isnan(result.metrics["step_accuracy"])
    assert result.by_depth == {"0": {"accuracy": 1.0, "n": 90}}


def test_label_baselines_on_the_test_rows(tmp_path):
    task_dir = build_own_task(None, tmp_path)
    lines = own_data.label_baselines(task_dir)
    test = pd.read_parquet(task_dir / "test.parquet")["answer"]
    train = pd.read_parquet(task_dir / "train.parquet")["answer"]
    majority = train.value_counts().idxmax()
    assert lines == {
        "chance (1/labels)": 0.2,
        f"majority label of train ({majority})": float((test == majority).mean()),
    }


# ---- the lab's parameters and a few steps of training ------------------------------------


def test_lab_parameters_are_checked_before_any_work(tmp_path):
    dirs = [tmp_path / "data", tmp_path / "runs", tmp_path / "results"]
    with pytest.raises(ValueError, match="profile must be one of"):
        own_data_config("fast", None, *dirs)
    with pytest.raises(ValueError, match="levels must only contain 'none', 'short'"):
        own_data_config("smoke", None, *dirs, levels=["none", "verbose"])
    with pytest.raises(ValueError, match="steps must be >= 1"):
        own_data_config("smoke", None, *dirs, steps=0)
    with pytest.raises(ValueError, match="unknown own-data parameter"):
        own_data_config("smoke", None, *dirs, step=3)
    assert not (tmp_path / "data").exists()
    rows = [{k: v for k, v in r.items() if k != "explanation_long"} for r in _rows()]
    path = _jsonl(tmp_path / "d.jsonl", rows)
    with pytest.raises(
        ValueError, match=r"levels must only contain 'none', 'short' \(the levels d.jsonl"
    ):
        own_data_config("smoke", path, *dirs, levels=["none", "long"])
    assert own_data_config("smoke", path, *dirs).levels == ["none"]  # what it has
    config = own_data_config("smoke", path, *dirs, levels=["none", "short"], seeds="[0, 1]")
    assert len(run_configs(config)) == 4


def test_lab_resolves_a_relative_data_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = lab_parameters("06_own_data", tmp_path / "lab", {"data_file": "mine.csv"})
    assert params["data_file"] == str(tmp_path / "mine.csv")
    assert params["data_dir"] == str((tmp_path / "lab" / "data").resolve())


def test_a_few_steps_on_the_sample_through_the_engine(tmp_path):
    config = own_data_config(
        "smoke",
        None,
        tmp_path / "data",
        tmp_path / "runs",
        tmp_path / "results",
        steps=4,
        eval_every=2,
    )
    results = [train(c, config.data_dir, config.runs_dir) for c in run_configs(config)]
    frame = results_frame(results)
    table = level_table(frame, own_data.label_baselines(config.task_dir))
    assert list(table.index[:2]) == ["none", "long"] and "chance (1/labels)" in table.index
    test = {r.config["level"]: r.metrics["test"]["metrics"] for r in results}
    assert test["none"]["n"] == 90 and "step_accuracy" not in test["none"]
    assert math.isnan(test["long"]["step_accuracy"])
    outputs = sample_outputs(results)
    assert len(outputs) == 4 and set(outputs["level"]) == {"none", "long"}
