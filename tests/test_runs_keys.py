"""Run keys come from content: the same checkpoint saved again (a fresh build) keeps its stamp."""

from __future__ import annotations

import os
import time

import torch

from explain_utils.engine.models import build_model, resolve_model
from explain_utils.engine.run_store import checkpoint_stamp
from explain_utils.engine.tokenization import build_tokenizer


def _save_tiny_model(folder) -> None:
    torch.manual_seed(0)
    model, tokenizer = build_model(resolve_model("llama-250k"), build_tokenizer(["1", "2"]))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def test_same_model_saved_twice_has_one_stamp_and_a_changed_byte_another(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    _save_tiny_model(first)
    time.sleep(0.05)  # different modification times, as in a fresh build
    _save_tiny_model(second)
    names = sorted(p.name for p in first.iterdir())
    assert names and names == sorted(p.name for p in second.iterdir())
    assert any(
        p.stat().st_mtime_ns != (second / p.name).stat().st_mtime_ns for p in first.iterdir()
    )
    assert checkpoint_stamp(str(first)) == checkpoint_stamp(str(second))

    weights = next(p for p in second.iterdir() if p.suffix == ".safetensors")
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    assert checkpoint_stamp(str(second)) != checkpoint_stamp(str(first))


def test_stamp_sees_subfolders_and_ignores_mtimes(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "sub" / "extra.bin").write_bytes(b"abc")
    stamp = checkpoint_stamp(str(tmp_path))
    os.utime(tmp_path / "config.json", ns=(1, 1))  # touching a file keeps the stamp
    assert checkpoint_stamp(str(tmp_path)) == stamp
    (tmp_path / "sub" / "extra.bin").write_bytes(b"abd")
    assert checkpoint_stamp(str(tmp_path)) != stamp


def test_presets_and_hub_names_have_no_stamp():
    assert checkpoint_stamp("llama-250k") is None
    assert checkpoint_stamp("owner/not-a-local-folder") is None


def test_fingerprint_covers_the_standard_splits_and_a_run_s_extra_ones(tmp_path):
    from explain_utils.engine.run_store import dataset_fingerprint

    for name in ("train", "validation", "test", "test_long"):
        (tmp_path / f"{name}.parquet").write_bytes(name.encode())
    before = dataset_fingerprint(tmp_path)
    (tmp_path / "validation_long.parquet").write_bytes(b"added later")
    assert dataset_fingerprint(tmp_path) == before  # runs before the new split keep their keys
    with_long = dataset_fingerprint(tmp_path, ("validation_long",))
    assert with_long != before
    (tmp_path / "validation_long.parquet").write_bytes(b"changed")
    assert dataset_fingerprint(tmp_path, ("validation_long",)) != with_long
    (tmp_path / "test.parquet").write_bytes(b"changed")
    assert dataset_fingerprint(tmp_path) != before
