"""Your own explained data: a CSV or JSONL file checked row by row and written as a task directory
that the engine trains on like ListOps (``data_dir/own_data/<split>.parquet`` + a data card).

The file has the shape of Ballout et al.'s instruction data (e.g. their movie-genre set): an
input, an explanation at each level you have, and a label. Columns (a CSV's header, the keys of
each JSON object of a JSONL file):

- ``input`` (required): the text the model reads;
- ``label`` (required): one word (no spaces; write ``science_fiction``, not ``science fiction``);
  in JSONL a whole number is read as its text;
- ``explanation_short``, ``explanation_medium``, ``explanation_long`` (optional, any of them):
  the explanation at that level, without the answer; a column present is filled on every row;
- ``split`` (optional): ``train``, ``validation`` or ``test`` on every row; without it the rows
  are shuffled with a seed and cut into train / validation / test.

Any other column is an error (a misspelt ``explanation_lng`` would otherwise be dropped without a
word). Every problem is reported before anything is written, as ``<file>: line N, column 'c':
what is wrong`` (line 1 of a CSV is its header). The targets end like ListOps targets, so the
engine reads them the same way: level ``none`` is ``answer <label>``, an explained level is
``<explanation> ; answer <label>``. Text is split on whitespace, as the word-level tokenizer
does. The data card records the label vocabulary of the train split; a validation or test label
the train split never shows is an error (no model can learn it).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from collections import Counter
from pathlib import Path

import datasets
import pandas as pd

from explain_utils.common.names import LEVELS, OWN_DATA_TASK
from explain_utils.tasks.splits import n_tokens, read_data_card, save_splits

INPUT, LABEL, SPLIT = "input", "label", "split"
EXPLANATIONS: dict[str, str] = {f"explanation_{level}": level for level in LEVELS[1:]}
COLUMNS: tuple[str, ...] = (INPUT, LABEL, *EXPLANATIONS, SPLIT)
SPLITS: tuple[str, ...] = ("train", "validation", "test")
EXTENSIONS: tuple[str, ...] = (".csv", ".jsonl")
MIN_ROWS: dict[str, int] = {"train": 10, "validation": 2, "test": 2}
# the word-level tokenizer adds every integer up to the largest one in the data (for ListOps'
# sums), so a year such as 1985 would add 1 986 words to a tiny model's vocabulary
MAX_NUMBER = 1000
SAMPLE = Path(__file__).resolve().parent / "samples" / "movie_genres.jsonl"


class OwnDataError(ValueError):
    """A problem with one's own data file, naming the file, the line and the column."""

    def __init__(self, path: Path, line: int | None, column: str | None, problem: str):
        where = ", ".join(
            [
                *([f"line {line}"] if line is not None else []),
                *([f"column {column!r}"] if column else []),
            ]
        )
        super().__init__(f"{path}: {where + ': ' if where else ''}{problem}")


def check_data_file(name: str, value: object) -> Path:
    """``value`` must name an existing ``.csv`` or ``.jsonl`` file (``None``: the shipped sample)."""
    if value is None:
        return SAMPLE
    if not isinstance(value, str | Path) or not str(value).strip():
        raise ValueError(f"{name} must be the path of a .csv or .jsonl file; got {value!r}")
    path = Path(value).expanduser()
    if path.suffix.lower() not in EXTENSIONS:
        raise ValueError(f"{name} must end in one of {', '.join(EXTENSIONS)}; got {str(path)!r}")
    if not path.is_file():
        raise FileNotFoundError(f"{name}: no file at {str(path)!r}")
    return path


def read_rows(path: str | Path) -> list[tuple[int, dict[str, str]]]:
    """``(line, {column: text})`` per row of a ``.csv`` or ``.jsonl`` file, columns checked."""
    path = check_data_file("data_file", path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise OwnDataError(path, None, None, f"not UTF-8 text ({err.reason})") from None
    rows = _read_csv(path, text) if path.suffix.lower() == ".csv" else _read_jsonl(path, text)
    if not rows:
        raise OwnDataError(path, None, None, "no rows")
    return rows


def _check_columns(path: Path, line: int, columns: list[str]) -> None:
    for column in columns:
        if column not in COLUMNS:
            raise OwnDataError(path, line, column, f"unknown column; allowed: {', '.join(COLUMNS)}")
    for column in (INPUT, LABEL):
        if column not in columns:
            raise OwnDataError(path, line, column, "missing (required: input, label)")


def _read_csv(path: Path, text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    if not header:
        raise OwnDataError(path, 1, None, "no header (the first line names the columns)")
    _check_columns(path, 1, header)
    reader.fieldnames = header
    rows = []
    try:
        for record in reader:
            line = reader.line_num
            if None in record:
                raise OwnDataError(path, line, None, f"more cells than the header's {len(header)}")
            if all(v is None or not v.strip() for v in record.values()):
                continue  # a blank line
            missing = [c for c, v in record.items() if v is None]
            if missing:
                raise OwnDataError(
                    path, line, missing[0], "missing cell (fewer cells than the header)"
                )
            rows.append((line, dict(record)))
    except csv.Error as err:
        raise OwnDataError(path, reader.line_num, None, f"not valid CSV ({err})") from None
    return rows


def _read_jsonl(path: Path, text: str) -> list[tuple[int, dict[str, str]]]:
    rows, columns = [], None
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as err:
            raise OwnDataError(path, line, None, f"not valid JSON ({err.msg})") from None
        if not isinstance(record, dict):
            raise OwnDataError(path, line, None, "not a JSON object ({...})")
        _check_columns(path, line, list(record))
        columns = columns or sorted(record)
        for column in sorted(set(columns) ^ set(record)):
            problem = (
                "missing (earlier rows have it)" if column in columns else "not in earlier rows"
            )
            raise OwnDataError(path, line, column, problem)
        for column, value in record.items():
            if isinstance(value, int) and not isinstance(value, bool) and column == LABEL:
                record[column] = str(value)
            elif not isinstance(value, str):
                raise OwnDataError(path, line, column, f"must be text; got {value!r}")
        rows.append((line, record))
    return rows


def check_rows(path: Path, rows: list[tuple[int, dict[str, str]]]) -> pd.DataFrame:
    """One row per example with whitespace-normalised texts, every cell checked."""
    records, first_line = [], {}
    for line, row in rows:
        clean = {"line": line}
        for column, value in row.items():
            words = value.split()
            if not words:
                raise OwnDataError(path, line, column, "empty cell")
            if column == LABEL and len(words) > 1:
                raise OwnDataError(
                    path,
                    line,
                    column,
                    f"a label must be one word (e.g. science_fiction); got {value!r}",
                )
            big = [w for w in words if w.isdigit() and int(w) > MAX_NUMBER]
            if big:
                raise OwnDataError(
                    path,
                    line,
                    column,
                    f"number {big[0]} > {MAX_NUMBER}: the word-level tokenizer adds every integer up "
                    "to the largest one in the data; write it as words or split its digits",
                )
            clean[column] = " ".join(words)
        if clean.get(SPLIT, "train") not in SPLITS:
            raise OwnDataError(
                path, line, SPLIT, f"must be one of {', '.join(SPLITS)}; got {clean[SPLIT]!r}"
            )
        if clean[INPUT] in first_line:
            raise OwnDataError(
                path,
                line,
                INPUT,
                f"the same input as line {first_line[clean[INPUT]]} (inputs must be distinct)",
            )
        first_line[clean[INPUT]] = line
        records.append(clean)
    return pd.DataFrame(records)


def assign_splits(
    frame: pd.DataFrame, seed: int, validation_fraction: float, test_fraction: float
) -> pd.DataFrame:
    """``frame`` with a ``split`` column: kept if the file has one, else a seeded shuffle cut into
    train / validation / test (at least one validation and one test row)."""
    if SPLIT in frame:
        return frame
    order = list(range(len(frame)))
    random.Random(f"own_data/{seed}").shuffle(order)
    n_test = max(1, round(test_fraction * len(frame)))
    n_validation = max(1, round(validation_fraction * len(frame)))
    split = ["train"] * len(frame)
    for rank, row in enumerate(order):
        split[row] = (
            "test" if rank < n_test else "validation" if rank < n_test + n_validation else "train"
        )
    return frame.assign(split=split)


def check_splits(path: Path, frame: pd.DataFrame) -> None:
    """Enough rows in every split, and no validation or test label that train lacks."""
    counts = frame[SPLIT].value_counts()
    for split, minimum in MIN_ROWS.items():
        if counts.get(split, 0) < minimum:
            raise OwnDataError(
                path,
                None,
                SPLIT,
                f"split {split!r} has {counts.get(split, 0)} rows; it needs at least {minimum}",
            )
    known = set(frame.loc[frame[SPLIT] == "train", LABEL])
    unseen = frame[(frame[SPLIT] != "train") & ~frame[LABEL].isin(known)]
    if len(unseen):
        row = unseen.iloc[0]
        raise OwnDataError(
            path,
            int(row["line"]),
            LABEL,
            f"label {row[LABEL]!r} ({row[SPLIT]} split) never occurs in the train split, so no "
            "model can learn it; add train rows with it or drop the row",
        )


def load_own_data(
    path: str | Path | None,
    seed: int = 0,
    validation_fraction: float = 0.15,
    test_fraction: float = 0.15,
) -> pd.DataFrame:
    """The checked rows of a file (``None``: the shipped sample) with their ``split``."""
    path = check_data_file("data_file", path)
    frame = check_rows(path, read_rows(path))
    frame = assign_splits(frame, seed, validation_fraction, test_fraction)
    check_splits(path, frame)
    return frame


def levels_of(frame: pd.DataFrame) -> list[str]:
    """The explanation levels a file provides: ``none`` and one per explanation column."""
    return ["none", *(level for column, level in EXPLANATIONS.items() if column in frame)]


def task_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The engine's columns: ``source``, ``answer`` (the label), ``target_<level>``, ``length``,
    ``depth`` (0: own data have no nesting) and the file's ``line``."""
    out = pd.DataFrame(
        {
            "source": frame[INPUT],
            "answer": frame[LABEL],
            "depth": 0,
            "length": frame[INPUT].map(n_tokens),
            "line": frame["line"],
            "target_none": "answer " + frame[LABEL],
        }
    )
    for column, level in EXPLANATIONS.items():
        if column in frame:
            out[f"target_{level}"] = frame[column] + " ; answer " + frame[LABEL]
    return out.reset_index(drop=True)


def own_data_card(frame: pd.DataFrame, path: Path, seed: int) -> dict:
    """The data card: source file and its hash, levels, the train labels, counts per split."""
    levels = levels_of(frame)
    card = {
        "task": OWN_DATA_TASK,
        "source_file": path.name,
        "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "modulus": None,
        "seed": seed,
        "levels": levels,
        "label_vocabulary": sorted(set(frame.loc[frame[SPLIT] == "train", LABEL])),
        "splits": {},
    }
    rows = task_rows(frame)
    for split in SPLITS:
        part = rows[frame[SPLIT].to_numpy() == split]
        lengths = {"source": part["length"].tolist()}
        lengths |= {f"target_{lv}": part[f"target_{lv}"].map(n_tokens).tolist() for lv in levels}
        card["splits"][split] = {
            "rows": len(part),
            "token_length": {k: _mean_max(v) for k, v in lengths.items()},
            "labels": dict(sorted(Counter(part["answer"]).items())),
        }
    return card


def _mean_max(values: list[int]) -> dict:
    return {"mean": round(sum(values) / len(values), 2), "max": max(values)} if values else {}


def build_own_task(
    path: str | Path | None,
    data_dir: str | Path,
    seed: int = 0,
    validation_fraction: float = 0.15,
    test_fraction: float = 0.15,
) -> Path:
    """Check a file, then write ``data_dir/own_data/{train,validation,test}.parquet`` and its data
    card (each atomically); return the task directory. Nothing is written if a check fails."""
    path = check_data_file("data_file", path)
    frame = load_own_data(path, seed, validation_fraction, test_fraction)
    rows = task_rows(frame)
    splits = datasets.DatasetDict(
        {
            split: datasets.Dataset.from_pandas(
                rows[frame[SPLIT].to_numpy() == split].reset_index(drop=True),
                preserve_index=False,
            )
            for split in SPLITS
        }
    )
    return save_splits(splits, Path(data_dir) / OWN_DATA_TASK, own_data_card(frame, path, seed))


def read_card(task_dir: str | Path) -> dict:
    """The data card ``build_own_task`` wrote."""
    return read_data_card(task_dir, missing="run build_own_task first")


def label_baselines(task_dir: str | Path, split: str = "test") -> dict[str, float]:
    """Chance (1 / labels of train) and the train split's majority label, scored on ``split``."""
    task_dir = Path(task_dir)
    labels = read_card(task_dir)["label_vocabulary"]
    train = pd.read_parquet(task_dir / "train.parquet", columns=["answer"])["answer"]
    gold = pd.read_parquet(task_dir / f"{split}.parquet", columns=["answer"])["answer"]
    counts = train.value_counts()
    majority = min(counts[counts == counts.max()].index)  # the first of tied labels
    return {
        "chance (1/labels)": 1 / len(labels),
        f"majority label of train ({majority})": float((gold == majority).mean()),
    }
