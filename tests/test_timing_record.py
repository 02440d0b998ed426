"""The timing record: parsed from run_book's log, written atomically, shown by the book, read by make."""

import csv
import datetime
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location(
    "timing_record", REPO / "scripts" / "timing_record.py"
)
timing = importlib.util.module_from_spec(spec)
spec.loader.exec_module(timing)

LOG = """\
test -x .venv/bin/python || python3.11 -m venv .venv
[run_book] notebooks/01_data_generation.ipynb (profile quick) ...
[IPKernelApp] WARNING | Kernel is running over TCP without encryption.
[run_book] 01_data_generation.ipynb done in 13 s
[run_book] notebooks/02_fine_tuning.ipynb (profile quick) ...
[run_book] 02_fine_tuning.ipynb done in 2016 s
[run_book] 2 notebook(s) in 33.8 min
"""


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_parse_reads_every_notebook_and_the_final_took_line():
    notebooks, took = timing.parse_log(LOG + "rc=0 took=2100\n")
    assert notebooks == [("01_data_generation.ipynb", 13), ("02_fine_tuning.ipynb", 2016)]
    assert took == 2100
    assert timing.parse_log(LOG)[1] is None  # still running, or timed by the caller


@pytest.mark.parametrize(
    "log, error",
    [
        (LOG + "rc=2 took=50\n", "failed"),
        ("nothing from run_book\n", "no '\\[run_book\\]"),
        (LOG + "[run_book] 02_fine_tuning.ipynb done in 5 s\n", "twice"),
        (LOG.replace("2 notebook(s)", "3 notebook(s)"), "counted 3"),
    ],
)
def test_parse_refuses_a_log_it_cannot_vouch_for(log, error):
    with pytest.raises(ValueError, match=error):
        timing.parse_log(log)


def test_duration_reads_like_the_book():
    assert [timing.duration(s) for s in (7, 60, 2016, 5467)] == [
        "7 s",
        "1 min 00 s",
        "33 min 36 s",
        "91 min 07 s",
    ]


def test_record_writes_both_files_and_make_book_estimates_from_them(tmp_path):
    log = tmp_path / "book.log"
    log.write_text(LOG)
    steps, run = timing.record(
        log, "abc1234", tmp_path, "make book", "quick", seconds=2200, rerun_seconds=75
    )
    assert [(r["step"], r["seconds"], r["time"]) for r in _rows(steps)] == [
        ("01_data_generation.ipynb", "13", "13 s"),
        ("02_fine_tuning.ipynb", "2016", "33 min 36 s"),
        (timing.EVERY_NOTEBOOK, "2029", "33 min 49 s"),
        (timing.IN_ALL, "2200", "36 min 40 s"),
        (timing.RERUN, "75", "1 min 15 s"),
    ]
    fields = {r["field"]: r["value"] for r in _rows(run)}
    assert fields["commit"] == "abc1234" and fields["profile"] == "quick"
    assert int(fields["CPUs (nproc)"]) >= 1 and fields["CPU model"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", fields["date"])
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind
    line = timing.estimate("quick", tmp_path)
    assert "36 min 40 s" in line and "abc1234" in line and "book/reproducing.md" in line
    assert "no timed run" in timing.estimate("smoke", tmp_path)


def test_a_log_without_its_end_keeps_the_old_record(tmp_path):
    (tmp_path / timing.STEPS).write_text("step,seconds,time\nin all,60,1 min 00 s\n")
    log = tmp_path / "running.log"
    log.write_text(LOG)
    assert timing.main(["record", str(log), "--commit", "x", "--out-dir", str(tmp_path)]) == 1
    assert _rows(tmp_path / timing.STEPS) == [
        {"step": "in all", "seconds": "60", "time": "1 min 00 s"}
    ]


def test_estimate_without_a_record_says_so(tmp_path):
    assert "no timing record" in timing.estimate("quick", tmp_path / "missing")


def test_another_profile_keeps_its_record_apart():
    assert timing.record_dir("quick") == REPO / "results" / "timing"
    assert timing.record_dir("smoke") == REPO / "results" / "timing" / "smoke"


def test_make_book_prints_the_estimate_before_anything_else():
    dry = subprocess.run(
        # --no-print-directory: under `make test` this make is a sub-make, which would otherwise
        # print "Entering directory" first
        ["make", "--no-print-directory", "-n", "book", f"PYTHON={sys.executable}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "scripts/timing_record.py estimate" in dry.stdout.splitlines()[0]


def test_time_book_saves_the_record_in_the_checkout_it_started_from():
    script = (REPO / "scripts" / "time_book.sh").read_text()
    assert '"$here/scripts/timing_record.py" record' in script
    assert "--seconds" in script and "--rerun-seconds" in script
    assert '"${stopped[@]}"' in script and ".alive" in script  # a resumed run counts every attempt


def test_the_reproducing_page_shows_the_committed_record():
    page = (REPO / "book" / "reproducing.md").read_text()
    shown = re.findall(r"^:file: \.\./(\S+)$", page, re.M)
    assert shown == ["results/timing/make_book_run.csv", "results/timing/make_book.csv"]
    for path in shown:
        assert (REPO / path).is_file(), f"{path}: run `make time-book` to write the record"
    steps = [r["step"] for r in _rows(REPO / "results" / "timing" / timing.STEPS)]
    assert any(s.endswith(".ipynb") for s in steps) and timing.IN_ALL in steps


STOPPED = """\
test -x .venv/bin/python || python3.11 -m venv .venv
[run_book] notebooks/01_data_generation.ipynb (profile quick) started 2026-12-07T10:00:00+00:00 ...
[run_book] 01_data_generation.ipynb done in 13 s
[run_book] notebooks/02_fine_tuning.ipynb (profile quick) started 2026-12-07T10:00:20+00:00 ...
fine_tuning:  40%|████      | 24/60
"""


def _stopped_attempt(tmp_path: Path, alive: str | None) -> Path:
    log = tmp_path / "time_book.first.1.log"
    log.write_text(STOPPED)
    if alive is not None:
        (tmp_path / "time_book.first.1.log.alive").write_text(alive)
    return log


def test_a_stopped_attempt_counts_to_its_last_heartbeat(tmp_path):
    start = int(datetime.datetime(2026, 12, 7, 9, 59, 50, tzinfo=datetime.UTC).timestamp())
    log = _stopped_attempt(tmp_path, f"{start} {start + 3610}\n")  # stopped at 11:00:00
    notebooks, whole = timing.parse_stopped(log)
    assert notebooks == [("01_data_generation.ipynb", 13), ("02_fine_tuning.ipynb", 3580)]
    assert whole == 3610
    final = tmp_path / "time_book.first.2.log"
    final.write_text(LOG)  # the resumed attempt runs both again: 01 and the rest of 02 cached
    steps, run = timing.record(final, "abc1234", tmp_path, seconds=2200, stopped=[log])
    rows = {r["step"]: int(r["seconds"]) for r in _rows(steps)}
    assert rows["01_data_generation.ipynb"] == 13 + 13
    assert rows["02_fine_tuning.ipynb"] == 3580 + 2016
    assert rows[timing.IN_ALL] == 3610 + 2200
    assert "resumed" in {r["field"]: r["value"] for r in _rows(run)}["conditions"]


def test_a_stopped_attempt_without_its_heartbeat_is_refused(tmp_path):
    log = _stopped_attempt(tmp_path, None)
    final = tmp_path / "final.log"
    final.write_text(LOG)
    with pytest.raises(ValueError, match="heartbeat"):
        timing.record(final, "x", tmp_path, seconds=10, stopped=[log])
    assert not (tmp_path / timing.STEPS).exists()  # nothing written
    finished = tmp_path / "finished.log"
    finished.write_text(LOG + "rc=0 took=100\n")
    (tmp_path / "finished.log.alive").write_text("1 2\n")
    with pytest.raises(ValueError, match="finished"):
        timing.parse_stopped(finished)


def test_run_book_marks_each_notebooks_start_in_the_form_the_record_reads():
    source = (REPO / "explain_utils" / "run_book.py").read_text()
    assert "started {started} ..." in source
    line = "[run_book] notebooks/02_fine_tuning.ipynb (profile quick) started 2026-12-07T10:00:20+00:00 ..."
    assert timing.START.match(line).group(1) == "02_fine_tuning.ipynb"
