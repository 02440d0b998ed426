"""Labs run a chapter with every path in a scratch folder and never touch the book's files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from explain_utils.lab import lab_parameters, main, parse_params, run_lab

REPO = Path(__file__).resolve().parents[1]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_paths_go_to_the_scratch_folder(tmp_path):
    data = lab_parameters("01_data_generation", tmp_path, {"modulus": 30})
    assert data == {"modulus": 30, "output_dir": str(tmp_path.resolve() / "data")}
    chapter = lab_parameters("02_fine_tuning", tmp_path, {"steps": 300})
    assert {chapter[k] for k in ("data_dir", "runs_dir", "results_dir")} == {
        str(tmp_path.resolve() / name) for name in ("data", "runs", "results")
    }


def test_a_path_parameter_is_refused(tmp_path):
    with pytest.raises(ValueError, match="-p results_dir: .*--scratch"):
        lab_parameters("02_fine_tuning", tmp_path, {"results_dir": "../results"})


def test_values_are_yaml():
    assert parse_params([["train_sizes", "[100, 300]"], ["learning_rate", "0.004"]]) == {
        "train_sizes": [100, 300],
        "learning_rate": 0.004,
    }
    with pytest.raises(ValueError, match="-p levels"):
        parse_params([["levels", "[none, long"]])


def test_unknown_notebook_and_missing_data_fail_before_any_work(tmp_path, capsys):
    with pytest.raises(ValueError, match="notebook must be one of .*02_fine_tuning"):
        run_lab("02_fine_tunin", {}, tmp_path, REPO)
    assert main(["02_fine_tuning", "--scratch", str(tmp_path)]) == 2
    assert "run `python -m explain_utils.lab 01_data_generation`" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_lab_run_writes_only_to_its_scratch_folder(tmp_path):
    tracked = {name: _digest(REPO / name) for name in ("notebooks", "results", "book")}
    out = run_lab("01_data_generation", {"profile": "smoke"}, tmp_path / "lab", REPO)
    assert out == (tmp_path / "lab" / "01_data_generation.ipynb").resolve() and out.is_file()
    assert (tmp_path / "lab" / "data" / "listops" / "train.parquet").is_file()
    assert {name: _digest(REPO / name) for name in tracked} == tracked
    assert (tmp_path / "lab" / "results" / "calibration" / "learning_rates.csv").is_file()


@pytest.mark.slow
def test_the_own_data_lab_needs_no_other_chapter_and_stops_on_a_bad_file(tmp_path, monkeypatch):
    import papermill

    tracked = {name: _digest(REPO / name) for name in ("notebooks", "results", "book")}
    out = run_lab("06_own_data", {"profile": "smoke"}, tmp_path / "lab", REPO)
    assert out.is_file() and (tmp_path / "lab" / "results" / "06_own_data.csv").is_file()
    assert (tmp_path / "lab" / "data" / "own_data" / "data_card.json").is_file()
    assert {name: _digest(REPO / name) for name in tracked} == tracked
    monkeypatch.chdir(tmp_path)  # data_file is relative to where the lab is started
    (tmp_path / "bad.jsonl").write_text('{"input": "a plot", "label": "science fiction"}\n')
    with pytest.raises(papermill.PapermillExecutionError, match="line 1, column 'label'"):
        run_lab("06_own_data", {"profile": "smoke", "data_file": "bad.jsonl"}, tmp_path / "b", REPO)
    assert not (tmp_path / "b" / "runs").exists()


def test_an_unknown_parameter_name_is_refused_before_any_work(tmp_path, capsys):
    assert main(["02_fine_tuning", "--scratch", str(tmp_path), "-p", "stpes", "300"]) == 2
    err = capsys.readouterr().err
    assert "-p stpes: 02_fine_tuning has no such parameter" in err and "'steps'" in err
    assert not (tmp_path / "runs").exists()
