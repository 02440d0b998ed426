"""The run store: where a run lives on disk, its cache key, its checkpoint and its result.

A run's directory is named after a hash of everything that decides its numbers — the training
config, the data set's fingerprint (sha256 of its Parquet files) and the engine version — so an
unchanged run is found again (a cache hit) and a changed one gets a fresh directory. Inside:

- ``trainer/checkpoint-N/``  while training: the ``Trainer``'s checkpoint (model, optimizer,
  scheduler, RNG states) and our ``progress.json`` written last, so a run killed at any moment
  resumes from its last complete checkpoint; removed when the run finishes;
- ``model/``         the trained model and tokenizer (``from_pretrained`` loads them);
- ``predictions_<split>.jsonl``  one record per evaluated example;
- ``result.json``    written last: its presence marks the run as finished.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from explain_utils.common.files import write_json, write_text

# bump when a change to the engine changes results, so old cached runs are not reused
ENGINE_VERSION = "4"  # 4: batches grouped by the long explanation's length (3: by the source's)
# decoder-only runs still batch by the source (``batching.encode``): their results did not change
DECODER_ONLY_ENGINE_VERSION = "3"
RESULT_NAME = "result.json"
# fields of a result that differ between otherwise identical runs (wall-clock measurements)
TIMING_KEYS = frozenset(
    {"train_seconds", "tokens_per_second", "elapsed_seconds", "cached", "run_dir"}
)


# the splits every run's fingerprint covers; a run adds the other splits it evaluates on, so a
# split added later (validation_long) left the keys of the runs before it unchanged
FINGERPRINT_SPLITS: tuple[str, ...] = ("train", "validation", "test", "test_long")


def dataset_fingerprint(task_dir: str | Path, extra_splits: tuple[str, ...] = ()) -> str:
    """sha256 over the names and bytes of a task's Parquet files: the standard splits and
    ``extra_splits``."""
    digest = hashlib.sha256()
    names = {*FINGERPRINT_SPLITS, *extra_splits}
    files = sorted(p for p in Path(task_dir).glob("*.parquet") if p.stem in names)
    if not files:
        raise FileNotFoundError(
            f"data_dir: no Parquet files in {str(task_dir)!r}; build the data set first (notebooks/01)"
        )
    for path in files:
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def checkpoint_stamp(model: str) -> str | None:
    """sha256 over the relative names and bytes of a local checkpoint's files, recursively (None
    for presets and hub names).

    Part of the cache key, so retraining a base model in place invalidates the runs built on it,
    while the same weights saved again (a fresh build) keep their runs' keys. The hash is
    remembered per file list, sizes and modification times, so a grid hashes a checkpoint once.
    """
    path = Path(model).expanduser()
    if not path.is_dir():
        return None
    files = sorted(f for f in path.rglob("*") if f.is_file())
    seen = tuple((f.relative_to(path).as_posix(), *_size_and_mtime(f)) for f in files)
    return _content_hash(str(path.resolve()), seen)


def _size_and_mtime(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


@functools.lru_cache(maxsize=64)
def _content_hash(root: str, seen: tuple[tuple[str, int, int], ...]) -> str:
    """The hash of the files listed in ``seen`` (``seen`` only keys the memo: names, sizes, mtimes)."""
    digest = hashlib.sha256()
    for name, *_ in seen:
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256((Path(root) / name).read_bytes()).digest())
    return digest.hexdigest()


def run_key(config: dict[str, Any], fingerprint: str, engine: str = ENGINE_VERSION) -> str:
    """Cache key of a run: hash of its result-relevant config, data fingerprint and engine version."""
    payload = json.dumps(
        {"config": config, "data": fingerprint, "engine": engine},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def run_name(model: str, task: str, level: str, seed: int, key: str) -> str:
    """Readable, filesystem-safe run directory name ending in the cache key."""
    slug = re.sub(
        r"[^A-Za-z0-9.-]+", "-", Path(model).name if "/" in model or "\\" in model else model
    ).strip("-")
    return f"{task}_{slug}_{level}_s{seed}_{key}"


@dataclass
class RunResult:
    """A finished run: its config, final metrics per split, learning curve and cost."""

    run_id: str
    config: dict[str, Any]
    data_fingerprint: str
    params: int
    metrics: dict[str, dict[str, Any]]  # split -> EvalResult.to_dict()
    curve: list[dict[str, Any]]  # one row per periodic evaluation
    train_seconds: float
    tokens_per_second: float
    run_dir: str = ""
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def save(self, run_dir: str | Path) -> Path:
        """Write ``result.json`` atomically (the marker of a finished run)."""
        data = asdict(self)
        data.pop("cached")
        return write_json(Path(run_dir) / RESULT_NAME, data)

    @classmethod
    def load(cls, run_dir: str | Path) -> RunResult:
        """Read a finished run (``cached`` is set: it was not recomputed)."""
        data = json.loads((Path(run_dir) / RESULT_NAME).read_text(encoding="utf-8"))
        data["run_dir"], data["cached"] = str(run_dir), True
        return cls(**data)

    def comparable(self) -> dict[str, Any]:
        """The result without wall-clock fields: equal for equal runs (used to check resume and determinism)."""
        data = asdict(self)
        for key in TIMING_KEYS:
            data.pop(key, None)
        data["curve"] = [
            {k: v for k, v in row.items() if k not in TIMING_KEYS} for row in self.curve
        ]
        return data


def is_finished(run_dir: str | Path) -> bool:
    """True once ``result.json`` exists."""
    return (Path(run_dir) / RESULT_NAME).is_file()


def write_predictions(run_dir: str | Path, split: str, records: list[dict]) -> Path:
    """One JSON line per evaluated example."""
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
    return write_text(Path(run_dir) / f"predictions_{split}.jsonl", text)
