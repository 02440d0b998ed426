"""The book's timing record: how long `make book` took, per notebook and in all, and where.

    python3 scripts/timing_record.py record [STOPPED_LOG ...] LOG --commit 521ca56
        [--command "make book"] [--profile quick] [--seconds N] [--rerun-seconds N] [--out-dir DIR]
    python3 scripts/timing_record.py estimate [--profile quick]

``record`` reads the per-notebook times from run_book's lines in LOG
(``[run_book] 02_fine_tuning.ipynb done in 2016 s``) and the wall time of the whole command from
``--seconds`` or from the log's last line (``rc=0 took=5467``, as the background runs write it),
then writes two files, each atomically, so that a killed run never leaves half a record, in
``results/timing/`` for the book's default profile (``results/timing/<profile>/`` for another, so
that a smoke run of the script leaves the book's record alone):

- ``make_book.csv`` (step, seconds, time): every notebook, every notebook together, the whole
  command, and the same command rerun with every run cached when ``--rerun-seconds`` is given;
- ``make_book_run.csv`` (field, value): the command, profile, commit, date, ``nproc`` and the CPU.

A quick book can take longer than one working session. ``time_book.sh --resume`` then goes on in
the same clone, with every finished run in its cache, and the logs of the stopped attempts come
before LOG: each notebook counts the time of all its attempts, and the whole command the time of
every attempt. A stopped attempt is timed from its heartbeat file (``<log>.alive``: the attempt's
start and the last time the command was seen running, in epoch seconds, written every 30 s), and
the notebook it stopped in from run_book's start time on that notebook's line, so at most 30 s
of a stopped attempt go uncounted.

The book's "Reproducing this book" page shows both; ``estimate`` prints the one line that
``make book`` shows before it starts. Standard library only: ``make book`` runs it before the
virtual environment exists.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import os
import platform
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TIMING_DIR = REPO / "results" / "timing"
DEFAULT_PROFILE = "quick"
STEPS, RUN = "make_book.csv", "make_book_run.csv"
EVERY_NOTEBOOK, IN_ALL, RERUN = "every notebook", "in all", "again, every run cached"
DONE = re.compile(r"^\[run_book\] (\S+\.ipynb) done in (\d+) s\s*$")
START = re.compile(r"^\[run_book\] (?:\S*/)?(\S+\.ipynb) \(profile \S+\) started (\S+) \.\.\.\s*$")
ALIVE = ".alive"  # beside a log: "<start> <last seen running>", epoch seconds (time_book.sh)
COUNT = re.compile(r"^\[run_book\] (\d+) notebook\(s\) in [\d.]+ min\s*$")
END = re.compile(r"^rc=(\d+) took=(\d+)\s*$")


def record_dir(profile: str) -> Path:
    """Where the record of ``profile`` lives (the page shows the default profile's)."""
    return TIMING_DIR if profile == DEFAULT_PROFILE else TIMING_DIR / profile


def duration(seconds: int) -> str:
    """``13 s``, ``33 min 36 s``: the form the book's tables use."""
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def parse_log(text: str) -> tuple[list[tuple[str, int]], int | None]:
    """The (notebook, seconds) of every finished notebook, and the log's ``took=`` seconds if any.

    A log whose last line reports a non-zero ``rc`` did not finish: that is an error, as is a
    notebook listed twice (two runs in one log) or a run_book count that disagrees with the lines.
    """
    notebooks: list[tuple[str, int]] = []
    count, took = None, None
    for line in text.splitlines():
        if done := DONE.match(line):
            notebooks.append((done.group(1), int(done.group(2))))
        elif counted := COUNT.match(line):
            count = int(counted.group(1))
        elif end := END.match(line):
            if int(end.group(1)) != 0:
                raise ValueError(f"the logged command failed ({line.strip()}): no record")
            took = int(end.group(2))
    names = [name for name, _ in notebooks]
    if not notebooks:
        raise ValueError("no '[run_book] <notebook> done in N s' line in the log")
    if len(set(names)) != len(names):
        raise ValueError(f"a notebook appears twice in the log: {names}")
    if count is not None and count != len(notebooks):
        raise ValueError(f"run_book counted {count} notebooks, the log has {len(notebooks)}")
    return notebooks, took


def parse_stopped(log: Path) -> tuple[list[tuple[str, int]], int]:
    """A stopped attempt: the (notebook, seconds) it spent on each notebook, the one it stopped
    in counted up to its last heartbeat, and the attempt's whole time."""
    alive = log.with_name(log.name + ALIVE)
    try:
        start, last = (int(x) for x in alive.read_text(encoding="utf-8").split())
    except (OSError, ValueError):
        raise ValueError(
            f"{log}: a stopped attempt needs its heartbeat file {alive.name}"
        ) from None
    notebooks: list[tuple[str, int]] = []
    running: tuple[str, float] | None = None
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if END.match(line):
            raise ValueError(f"{log}: this attempt finished ({line.strip()}); give it as LOG")
        if started := START.match(line):
            when = datetime.datetime.fromisoformat(started.group(2)).timestamp()
            running = (started.group(1), when)
        elif done := DONE.match(line):
            notebooks.append((done.group(1), int(done.group(2))))
            running = None
    if running is not None:
        notebooks.append((running[0], max(0, round(last - running[1]))))
    return notebooks, last - start


def combine(attempts: list[list[tuple[str, int]]]) -> list[tuple[str, int]]:
    """Each notebook's seconds summed over the attempts, in the order first seen."""
    total: dict[str, int] = {}
    for notebooks in attempts:
        for name, seconds in notebooks:
            total[name] = total.get(name, 0) + seconds
    return list(total.items())


def cpu_model() -> str:
    """The CPU's model name as /proc/cpuinfo gives it (the platform's guess elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_count() -> int:
    """What ``nproc`` prints: the CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def step_rows(
    notebooks: list[tuple[str, int]], seconds: int, rerun_seconds: int | None
) -> list[list[str]]:
    rows = [[name, str(s), duration(s)] for name, s in notebooks]
    total = sum(s for _, s in notebooks)
    rows += [
        [EVERY_NOTEBOOK, str(total), duration(total)],
        [IN_ALL, str(seconds), duration(seconds)],
    ]
    if rerun_seconds is not None:
        rows.append([RERUN, str(rerun_seconds), duration(rerun_seconds)])
    return [["step", "seconds", "time"], *rows]


def run_rows(command: str, profile: str, commit: str, date: str, note: str = "") -> list[list[str]]:
    rows = [
        ["field", "value"],
        ["command", command],
        ["profile", profile],
        ["commit", commit],
        ["date", date],
        ["CPUs (nproc)", str(cpu_count())],
        ["CPU model", cpu_model()],
    ]
    # what else the machine ran meanwhile: a loaded machine's wall times are not the book's cost
    return rows + ([["conditions", note]] if note else [])


def _csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def write_atomically(path: Path, text: str) -> None:
    """Write beside ``path``, then rename into place: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def record(
    log: Path,
    commit: str,
    out_dir: Path | None = None,
    command: str = "make book",
    profile: str = DEFAULT_PROFILE,
    seconds: int | None = None,
    rerun_seconds: int | None = None,
    date: str | None = None,
    note: str = "",
    stopped: Sequence[Path] = (),
) -> tuple[Path, Path]:
    """Write the record of the run that ``log`` comes from, after the ``stopped`` attempts that
    came before it in the same clone (if any); returns the two files."""
    notebooks, took = parse_log(log.read_text(encoding="utf-8", errors="replace"))
    seconds = seconds if seconds is not None else took
    if seconds is None:
        raise ValueError(f"{log}: no 'rc=0 took=N' line (still running?) and no --seconds")
    earlier = [parse_stopped(path) for path in stopped]
    notebooks = combine([*(nbs for nbs, _ in earlier), notebooks])
    seconds += sum(whole for _, whole in earlier)
    if earlier:
        resumed = (
            f"stopped {len(earlier)} time(s) and resumed in the same clone, each attempt timed"
        )
        note = f"{note}; {resumed}" if note else resumed
    date = date or datetime.date.today().isoformat()
    out_dir = out_dir or record_dir(profile)
    steps, run = out_dir / STEPS, out_dir / RUN
    # both texts are built before either file is replaced, so an error leaves the old record whole
    steps_text = _csv_text(step_rows(notebooks, seconds, rerun_seconds))
    run_text = _csv_text(run_rows(command, profile, commit, date, note))
    write_atomically(steps, steps_text)
    write_atomically(run, run_text)
    return steps, run


def read_record(out_dir: Path) -> tuple[dict[str, int], dict[str, str]] | None:
    """(seconds per step, the run's fields), or None when there is no record."""
    try:
        with open(out_dir / STEPS, newline="", encoding="utf-8") as f:
            steps = {row["step"]: int(row["seconds"]) for row in csv.DictReader(f)}
        with open(out_dir / RUN, newline="", encoding="utf-8") as f:
            run = {row["field"]: row["value"] for row in csv.DictReader(f)}
    except (OSError, KeyError, ValueError):
        return None
    return steps, run


def estimate(profile: str, out_dir: Path | None = None) -> str:
    """The line ``make book`` prints before it starts."""
    out_dir = out_dir or record_dir(profile)
    found = read_record(out_dir)
    if found is None or IN_ALL not in found[0]:
        shown = out_dir.relative_to(REPO) if out_dir.is_relative_to(REPO) else out_dir
        return f"make book: no timing record in {shown} yet (make time-book writes one)"
    steps, run = found
    took = duration(steps[IN_ALL])
    where = f"{run.get('CPUs (nproc)', '?')} CPUs, commit {run.get('commit', '?')}, {run.get('date', '?')}"
    if run.get("profile") != profile:
        return (
            f"make book (profile {profile}): no timed run of this profile; the record is "
            f"profile {run.get('profile')}: {took} ({where}); see book/reproducing.md"
        )
    here = cpu_count()
    cores = "" if str(here) == run.get("CPUs (nproc)") else f"; this machine has {here} CPUs"
    return (
        f"make book (profile {profile}): about {took} from a fresh clone, as timed by "
        f"'{run.get('command')}' ({where}{cores}); much less with the run cache; see "
        "book/reproducing.md"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    rec = sub.add_parser("record", help="write the record from a make book / make notebooks log")
    rec.add_argument("logs", type=Path, nargs="+", help="stopped attempts' logs first, then LOG")
    rec.add_argument("--commit", required=True)
    rec.add_argument("--command", default="make book")
    rec.add_argument("--profile", default=DEFAULT_PROFILE)
    rec.add_argument("--seconds", type=int, default=None, help="the command's wall time")
    rec.add_argument("--rerun-seconds", type=int, default=None, help="the cached rerun's")
    rec.add_argument("--date", default=None, help="YYYY-MM-DD (default: today)")
    rec.add_argument("--out-dir", type=Path, default=None, help="default: by profile")
    rec.add_argument("--note", default="", help="what else ran on the machine meanwhile")
    est = sub.add_parser("estimate", help="the line make book prints before it starts")
    est.add_argument("--profile", default=DEFAULT_PROFILE)
    est.add_argument("--out-dir", type=Path, default=None, help="default: by profile")
    args = parser.parse_args(argv)

    if args.action == "estimate":
        print(estimate(args.profile, args.out_dir))
        return 0
    try:
        paths = record(
            args.logs[-1],
            args.commit,
            args.out_dir,
            args.command,
            args.profile,
            args.seconds,
            args.rerun_seconds,
            args.date,
            args.note,
            args.logs[:-1],
        )
    except ValueError as err:
        print(f"timing_record: {err}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"timing record: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
