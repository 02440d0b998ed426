"""Where explanations first go wrong: fake finished runs with known predictions, no training."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from explain_utils.analysis.step_errors import (
    MARK,
    WHERE,
    accuracy_by,
    first_wrong_steps,
    mark_first_wrong,
    where_wrong,
    worked_outputs,
)
from explain_utils.tasks import formats, listops
from explain_utils.tasks.explanations import final_answer

NESTED = "[MAX 2 [MIN 4 7 ] [SM 5 7 1 ] ]"  # 3 operators, widest 3; steps MIN 4, SM 3, MAX 4
FLAT = "[SM 3 4 ]"  # 1 operator, widest 2; one step, answer 7
WIDE = "[MIN 1 [MAX 2 3 4 5 ] ]"  # 2 operators, widest 4; steps MAX 5, MIN 1


def gold(level: str, source: str) -> str:
    return formats.write_target(level, listops.parse(source))


def record(level: str, source: str, prediction: str | None = None, depth: int = 1) -> dict:
    """One line of ``predictions_<split>.jsonl``; the prediction defaults to the gold target."""
    target = gold(level, source)
    prediction = target if prediction is None else prediction
    right = final_answer(prediction) == final_answer(target)
    return {
        "source": source,
        "target": target,
        "prediction": prediction,
        "accuracy": float(right),
        "depth": depth,
        "length": len(source.split()),
    }


def fake_run(tmp_path, level, seed, records, *, model="m-small", params=1_000, split="test"):
    """A finished run: the attributes ``step_errors`` reads and its predictions file."""
    run_id = f"listops_{model}_{level}_s{seed}"
    run_dir = tmp_path / run_id
    run_dir.mkdir()
    lines = "".join(json.dumps(r) + "\n" for r in records)
    (run_dir / f"predictions_{split}.jsonl").write_text(lines, encoding="utf-8")
    config = {"model": model, "task": "listops", "level": level, "seed": seed}
    return SimpleNamespace(run_id=run_id, run_dir=str(run_dir), params=params, config=config)


def test_first_wrong_steps_reads_shape_steps_and_the_first_wrong_one(tmp_path):
    """Gold prediction: first_wrong -1; a corrupted step 2: index 1; shape columns per source."""
    records = [
        record("short", NESTED, depth=2),
        record("short", NESTED, "MIN 4 ; SM 9 ; MAX 4 ; answer 4", depth=2),
        record("short", WIDE, "MAX 5 ; MIN 2 ; answer 2", depth=2),
        record("short", FLAT),
    ]
    steps = first_wrong_steps([fake_run(tmp_path, "short", 3, records)], "test")
    assert list(steps["first_wrong"]) == [-1, 1, 1, -1]
    assert list(steps["n_steps"]) == [3, 3, 2, 1]
    assert list(steps["operators"]) == [3, 3, 2, 1]
    assert list(steps["widest"]) == [3, 3, 4, 2]
    assert list(steps["correct"]) == [True, True, False, True]
    assert list(steps["row"]) == [0, 1, 2, 3] and list(steps["depth"]) == [2, 2, 2, 1]
    assert set(steps["seed"]) == {3} and set(steps["params"]) == {1_000}
    assert set(steps["level"]) == {"short"} and set(steps["task"]) == {"listops"}


def test_first_wrong_steps_of_a_none_run_has_no_steps(tmp_path):
    """An unexplained run: n_steps 0 and first_wrong -1 whatever its answer."""
    records = [record("none", NESTED), record("none", FLAT, "answer 3")]
    steps = first_wrong_steps([fake_run(tmp_path, "none", 0, records)], "test")
    assert list(steps["n_steps"]) == [0, 0] and list(steps["first_wrong"]) == [-1, -1]
    assert list(steps["correct"]) == [True, False]
    assert list(steps["operators"]) == [3, 1]


def test_first_wrong_steps_names_the_split_when_predictions_are_missing(tmp_path):
    """A run evaluated on test only: asking for test_long names that split."""
    run = fake_run(tmp_path, "short", 0, [record("short", FLAT)])
    with pytest.raises(FileNotFoundError, match=r"split.*'test_long'"):
        first_wrong_steps([run], "test_long")
    with pytest.raises(FileNotFoundError, match="test_long"):
        worked_outputs(run, "test_long")


def test_where_wrong_places_the_first_wrong_step_per_level(tmp_path):
    """Shares (%) per level are means over seeds, sum to 100, and skip the none runs."""
    wrong_first = "MIN 9 ; SM 3 ; MAX 4 ; answer 4"
    wrong_middle = "MIN 4 ; SM 9 ; MAX 4 ; answer 4"
    wrong_last = "MIN 4 ; SM 3 ; MAX 9 ; answer 9"
    runs = [
        fake_run(  # seed 0: right, step 1, middle, last
            tmp_path,
            "short",
            0,
            [record("short", NESTED, p) for p in (None, wrong_first, wrong_middle, wrong_last)],
        ),
        fake_run(  # seed 1: right, right; a one-step source wrong at its only (first) step
            tmp_path,
            "short",
            1,
            [
                record("short", NESTED),
                record("short", FLAT),
                record("short", FLAT, "SM 1 ; answer 1"),
            ],
        ),
        fake_run(tmp_path, "none", 0, [record("none", NESTED, "answer 1")]),
    ]
    table = where_wrong(first_wrong_steps(runs, "test"))
    assert list(table["level"]) == ["short"]  # explained runs only
    row = table.iloc[0]
    expected = {
        WHERE[0]: (25 + 200 / 3) / 2,
        WHERE[1]: (25 + 100 / 3) / 2,
        WHERE[2]: 25 / 2,
        WHERE[3]: 25 / 2,
    }
    for where, share in expected.items():
        assert row[where] == pytest.approx(share)
    assert sum(row[w] for w in WHERE) == pytest.approx(100)
    assert (row["model"], row["params"]) == ("m-small", 1_000)


def test_where_wrong_sums_to_100_for_every_level(tmp_path):
    """Two levels, each its own 100 %; a category no output falls in is 0, not missing."""
    runs = [
        fake_run(tmp_path, "short", 0, [record("short", NESTED), record("short", FLAT)]),
        fake_run(
            tmp_path,
            "medium",
            0,
            [record("medium", NESTED), record("medium", FLAT, "SM ( 3 4 ) sum 7 = 8 ; answer 8")],
        ),
    ]
    table = where_wrong(first_wrong_steps(runs, "test")).set_index("level")
    assert set(table.index) == {"short", "medium"}
    for level in ("short", "medium"):
        assert table.loc[level, list(WHERE)].sum() == pytest.approx(100)
    assert table.loc["short", WHERE[0]] == pytest.approx(100)
    assert table.loc["short", WHERE[1]] == 0
    assert table.loc["medium", WHERE[1]] == pytest.approx(50)


def test_accuracy_by_averages_each_seeds_accuracy(tmp_path):
    """Seed 0 gets 1 of 2 three-operator rows, seed 1 gets 1 of 1: mean 0.75, not pooled 2/3."""
    wrong = "MIN 4 ; SM 3 ; MAX 9 ; answer 9"
    runs = [
        fake_run(
            tmp_path,
            "short",
            0,
            [record("short", NESTED), record("short", NESTED, wrong), record("short", FLAT)],
        ),
        fake_run(tmp_path, "short", 1, [record("short", NESTED), record("short", FLAT)]),
    ]
    table = accuracy_by(first_wrong_steps(runs, "test"), "operators")
    assert set(table["operators"]) == {"1", "3"}  # strings, for a categorical axis
    by = table.set_index("operators")
    assert by.loc["3", "mean"] == pytest.approx(0.75)
    assert by.loc["1", "mean"] == pytest.approx(1.0)
    assert by.loc["3", "n"] == 2
    assert by.loc["3", "ci_low"] < 0.75 < by.loc["3", "ci_high"]


def test_mark_first_wrong_marks_the_first_wrong_step_only():
    """``>>`` before the first wrong step; later wrong steps stay unmarked."""
    marked = mark_first_wrong("short", "MIN 4 ; SM 9 ; MAX 9 ; answer 9", gold("short", NESTED))
    assert marked == f"MIN 4 ; {MARK} SM 9 ; MAX 9 ; answer 9"
    long_pred = gold("long", NESTED).replace(
        "the largest of 2 4 3 is 4", "the largest of 2 4 3 is 3"
    )
    assert mark_first_wrong("long", long_pred, gold("long", NESTED)).count(MARK) == 1
    assert f"{MARK} the largest" in mark_first_wrong("long", long_pred, gold("long", NESTED))


def test_mark_first_wrong_notes_a_missing_step():
    """A prediction that stops early gets a note naming the first missing step."""
    marked = mark_first_wrong("short", "MIN 4 ; SM 3", gold("short", NESTED))
    assert marked == f"MIN 4 ; SM 3 {MARK} (step 3 missing)"


@pytest.mark.parametrize(
    ("prediction", "expected"),
    [
        ("MIN 4 ; answer 4", "(step 2 missing)"),  # skipped steps, then answered
        ("", "(step 1 missing)"),  # nothing generated
        ("MIN 4 ; ; SM 9 ; MAX 4 ; answer 4", f"{MARK} SM 9"),  # a blank segment
    ],
)
def test_mark_first_wrong_aligns_with_the_steps_read(prediction, expected):
    """The marker goes where ``first_wrong_step`` counts: a missing step noted, blanks skipped."""
    assert expected in mark_first_wrong("short", prediction, gold("short", NESTED))


def test_mark_first_wrong_leaves_a_right_prediction_unchanged():
    """Every step right: the prediction as it was, even with a wrong answer after the steps."""
    target = gold("medium", NESTED)
    assert mark_first_wrong("medium", target, target) == target
    odd = "MIN 4 ;  SM 3 ; MAX 4 ; answer 7"
    assert mark_first_wrong("short", odd, gold("short", NESTED)) == odd


def test_worked_outputs_picks_right_then_wrong(tmp_path):
    """At most n_right right and n_wrong wrong outputs, the right ones first, in file order."""
    wrong_a = "MIN 4 ; SM 9 ; MAX 9 ; answer 9"
    wrong_b = "MIN 5 ; SM 3 ; MAX 5 ; answer 5"
    wrong_c = "MIN 4 ; SM 3 ; MAX 8 ; answer 8"
    records = [
        record("short", NESTED, wrong_a),
        record("short", NESTED),
        record("short", FLAT),
        record("short", NESTED, wrong_b),
        record("short", NESTED, wrong_c),
    ]
    run = fake_run(tmp_path, "short", 0, records)
    table = worked_outputs(run, "test", n_right=1, n_wrong=2)
    assert list(table["answer"]) == ["right", "wrong", "wrong"]
    assert list(table["source"]) == [NESTED, NESTED, NESTED]
    assert list(table["gold"]) == [gold("short", NESTED)] * 3
    assert list(table["generated"]) == [
        gold("short", NESTED),
        f"MIN 4 ; {MARK} SM 9 ; MAX 9 ; answer 9",
        f"{MARK} MIN 5 ; SM 3 ; MAX 5 ; answer 5",
    ]
    more = worked_outputs(run, "test", n_right=5, n_wrong=0)
    assert list(more["answer"]) == ["right", "right"] and list(more["source"]) == [NESTED, FLAT]
