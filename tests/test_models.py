"""Tokenizer, model presets and checkpoints: vocabulary, sizes, save/load round trips, bad names."""

from __future__ import annotations

import pytest
import torch

from explain_utils.engine.models import (
    PRESETS,
    build_model,
    count_parameters,
    load_model,
    preset_scale,
    resolve_model,
)
from explain_utils.engine.tokenization import (
    EOS,
    PAD,
    UNK,
    load_tokenizer,
    prompt_text,
    tokenizer_for_dataset,
)
from explain_utils.tasks.splits import load_splits
from tests.engine_data import small_listops


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    return load_splits(small_listops(tmp_path_factory.mktemp("data")) / "listops")


@pytest.fixture(scope="module")
def tokenizer(splits):
    return tokenizer_for_dataset(splits)


def test_word_tokenizer_round_trips_every_text(splits, tokenizer):
    assert (tokenizer.pad_token, tokenizer.eos_token, tokenizer.unk_token) == (PAD, EOS, UNK)
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id) == (0, 1)  # T5's convention
    for row in splits["train"]:
        for text in [prompt_text(row["source"]), row["target_long"], row["target_medium"]]:
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            assert len(ids) == len(text.split())  # one id per word
            assert tokenizer.unk_token_id not in ids
            assert tokenizer.decode(ids) == text


def test_tokenizer_is_deterministic_and_saves(splits, tokenizer, tmp_path):
    assert tokenizer_for_dataset(splits).get_vocab() == tokenizer.get_vocab()
    tokenizer.save_pretrained(tmp_path)
    loaded = load_tokenizer(tmp_path)
    assert loaded.get_vocab() == tokenizer.get_vocab()
    assert loaded.eos_token_id == tokenizer.eos_token_id


def test_preset_ladder_sizes(tokenizer):
    sizes = {}
    for name in PRESETS:
        model, _ = build_model(resolve_model(name), tokenizer)
        sizes[name] = count_parameters(model)
    for name, size in sizes.items():  # the name's number is the size: t5-250k, llama-1m, ...
        label = name.split("-")[1]
        nominal = float(label[:-1]) * {"k": 1e3, "m": 1e6}[label[-1]]
        assert 0.75 * nominal <= size <= 1.25 * nominal, sizes
    assert preset_scale("t5-100k") < preset_scale("t5-250k") < preset_scale("t5-1m")


@pytest.mark.parametrize("preset", ["t5-1m", "llama-1m"])
def test_save_and_from_pretrained_round_trip(preset, tokenizer, tmp_path):
    torch.manual_seed(0)
    spec = resolve_model(preset)
    model, _ = build_model(spec, tokenizer)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    local = resolve_model(str(tmp_path))
    assert not local.is_preset and local.is_encoder_decoder == spec.is_encoder_decoder
    loaded, loaded_tokenizer = load_model(tmp_path)
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert loaded_tokenizer.get_vocab() == tokenizer.get_vocab()


def test_unknown_model_names_the_parameter_and_presets():
    with pytest.raises(ValueError, match=r"model must be one of the presets t5-50k.*got 't5-99m'"):
        resolve_model("t5-99m")


def test_missing_checkpoint_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="model: no checkpoint"):
        resolve_model(str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="model: no checkpoint"):
        resolve_model(str(tmp_path))  # exists, but holds no config.json
