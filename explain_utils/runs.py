"""The run store: where a run lives on disk, its cache key, its checkpoint and its result.

A run's directory is named after a hash of everything that decides its numbers — the training
config, the data set's fingerprint (sha256 of its Parquet files) and the engine version — so an
unchanged run is found again (a cache hit) and a changed one gets a fresh directory. Inside:

- ``checkpoint.pt``  while training: model, optimizer, scheduler, RNG states and progress, one
  file written atomically, so a run killed at any moment resumes from its last checkpoint;
- ``model/``         the trained model and tokenizer (``from_pretrained`` loads them);
- ``predictions_<split>.jsonl``  one record per evaluated example;
- ``result.json``    written last: its presence marks the run as finished.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from explain_utils.storage import atomic_write, write_json, write_text

# bump when a change to the engine changes results, so old cached runs are not reused
ENGINE_VERSION = "2"
RESULT_NAME = "result.json"
CHECKPOINT_NAME = "checkpoint.pt"
# fields of a result that differ between otherwise identical runs (wall-clock measurements)
TIMING_KEYS = frozenset(
    {"train_seconds", "tokens_per_second", "elapsed_seconds", "cached", "run_dir"}
)


def dataset_fingerprint(task_dir: str | Path) -> str:
    """sha256 over the names and bytes of a task directory's Parquet files."""
    digest = hashlib.sha256()
    files = sorted(Path(task_dir).glob("*.parquet"))
    if not files:
        raise FileNotFoundError(
            f"data_dir: no Parquet files in {str(task_dir)!r}; build the data set first (notebooks/01)"
        )
    for path in files:
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def checkpoint_stamp(model: str) -> list | None:
    """Names, sizes and modification times of a local checkpoint's files (None for presets and hub names).

    Part of the cache key, so retraining a base model in place invalidates the runs built on it;
    cheaper than hashing gigabytes of weights.
    """
    path = Path(model).expanduser()
    if not path.is_dir():
        return None
    return sorted(
        [f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in path.iterdir() if f.is_file()
    )


def run_key(config: dict[str, Any], fingerprint: str) -> str:
    """Cache key of a run: hash of its result-relevant config, data fingerprint and engine version."""
    payload = json.dumps(
        {"config": config, "data": fingerprint, "engine": ENGINE_VERSION},
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


def save_checkpoint(run_dir: str | Path, state: dict[str, Any]) -> Path:
    """Write the whole training state as one file, atomically (a kill never leaves half a checkpoint)."""
    return atomic_write(Path(run_dir) / CHECKPOINT_NAME, lambda tmp: torch.save(state, tmp))


def load_checkpoint(run_dir: str | Path) -> dict[str, Any] | None:
    """The last checkpoint's state, or None when the run has none."""
    path = Path(run_dir) / CHECKPOINT_NAME
    # weights_only=False: the state holds python/numpy RNG states, and the file is our own
    return torch.load(path, map_location="cpu", weights_only=False) if path.is_file() else None


def write_predictions(run_dir: str | Path, split: str, records: list[dict]) -> Path:
    """One JSON line per evaluated example."""
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
    return write_text(Path(run_dir) / f"predictions_{split}.jsonl", text)


def rng_state() -> dict[str, Any]:
    """Python, NumPy and torch (CPU and CUDA) random states, for an exact resume."""
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),  # noqa: NPY002 (the global state is what we restore)
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what ``rng_state`` saved."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
