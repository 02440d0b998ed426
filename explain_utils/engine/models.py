"""Models: CPU-sized presets built from a config, and pretrained checkpoints by name or path.

Two families, both from ``transformers``:

- encoder-decoder: T5 (``t5-1m``, ``t5-4m``, ``t5-15m``), the architecture of Ballout et al.;
- decoder-only: Llama-style causal LMs (``llama-1m``, ``llama-4m``, ``llama-15m``), the family the
  prompt-loss papers use; rotary positions, so no fixed maximum length.

The number in a preset's name is its size in millions of parameters with our ~70-word vocabulary
(``count_parameters`` gives the exact figure; the test suite checks the ladder). Presets use no
dropout: the data are synthetic and plentiful, and dropout would cost time and determinism.

Anything that is not a preset is a pretrained checkpoint: a local directory (a run's saved model,
or a downloaded one) or a Hugging Face hub name such as ``t5-small`` or ``google/flan-t5-base``;
those bring their own tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    T5Config,
    T5ForConditionalGeneration,
)

# d_model, d_ff, heads, layers (encoder = decoder for T5)
_T5: dict[str, tuple[int, int, int, int]] = {
    "t5-50k": (28, 112, 4, 2),
    "t5-100k": (40, 160, 4, 2),
    "t5-250k": (64, 256, 4, 2),
    "t5-500k": (96, 384, 4, 2),
    "t5-1m": (128, 512, 4, 2),
    "t5-4m": (256, 1024, 4, 2),
    "t5-15m": (384, 1280, 6, 4),
}
# hidden, intermediate, heads, layers
_LLAMA: dict[str, tuple[int, int, int, int]] = {
    "llama-250k": (64, 192, 4, 4),
    "llama-500k": (96, 256, 4, 4),
    "llama-1m": (128, 384, 4, 4),
    "llama-4m": (256, 1024, 4, 4),
    "llama-15m": (384, 1024, 6, 8),
}
PRESETS: tuple[str, ...] = (*_T5, *_LLAMA)
# hub names accepted without a slash (the original T5 and GPT-2 releases); anything else needs owner/name
PRETRAINED_NAMES: tuple[str, ...] = (
    "t5-small",
    "t5-base",
    "t5-large",
    "t5-3b",
    "t5-11b",
    "gpt2",
    "gpt2-medium",
    "gpt2-large",
    "gpt2-xl",
)


def preset_scale(model: str) -> int:
    """Width × layers of a preset, to order runs by cost; checkpoints rank above every preset."""
    dims = _T5.get(model) or _LLAMA.get(model)
    return dims[0] * dims[3] if dims else 1 << 30


@dataclass(frozen=True)
class ModelSpec:
    """What ``model`` names: a preset or a pretrained checkpoint, and whether it is encoder-decoder."""

    name: str
    is_preset: bool
    is_encoder_decoder: bool


def resolve_model(model: str) -> ModelSpec:
    """Classify ``model`` (preset, local checkpoint directory or hub name) without loading weights.

    Raises ValueError for an unknown name and FileNotFoundError for a missing local path, both
    naming the parameter and what is allowed, so a typo fails before any training starts.
    """
    if not isinstance(model, str) or not model.strip():
        raise ValueError(
            f"model must be a preset ({', '.join(PRESETS)}), a checkpoint directory or a hub name; got {model!r}"
        )
    if model in _T5 or model in _LLAMA:
        return ModelSpec(model, True, model in _T5)
    path = Path(model).expanduser()
    looks_like_path = model.startswith((".", "/", "~")) or path.exists() or "\\" in model
    if looks_like_path:
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"model: no checkpoint (config.json) at {str(path)!r}; give a preset ({', '.join(PRESETS)}), an existing checkpoint directory or a hub name"
            )
        return ModelSpec(
            str(path), False, bool(AutoConfig.from_pretrained(str(path)).is_encoder_decoder)
        )
    if model in PRETRAINED_NAMES or model.count("/") == 1:
        # hub name: the config is small, and only read here to learn the family
        return ModelSpec(model, False, bool(AutoConfig.from_pretrained(model).is_encoder_decoder))
    raise ValueError(
        f"model must be one of the presets {', '.join(PRESETS)}, a checkpoint directory, or a hub name "
        f"({', '.join(PRETRAINED_NAMES)} or owner/name); got {model!r}"
    )


def preset_config(preset: str, tokenizer: PreTrainedTokenizerBase) -> PretrainedConfig:
    """The ``transformers`` config of a preset, sized to ``tokenizer``'s vocabulary."""
    special = dict(pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    if preset in _T5:
        d_model, d_ff, heads, layers = _T5[preset]
        return T5Config(
            vocab_size=len(tokenizer),
            d_model=d_model,
            d_ff=d_ff,
            d_kv=d_model // heads,
            num_heads=heads,
            num_layers=layers,
            num_decoder_layers=layers,
            dropout_rate=0.0,
            feed_forward_proj="relu",
            tie_word_embeddings=True,
            decoder_start_token_id=tokenizer.pad_token_id,
            **special,
        )
    if preset in _LLAMA:
        hidden, inter, heads, layers = _LLAMA[preset]
        return LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden,
            intermediate_size=inter,
            num_attention_heads=heads,
            num_key_value_heads=heads,
            num_hidden_layers=layers,
            max_position_embeddings=4096,
            tie_word_embeddings=True,
            attention_dropout=0.0,
            bos_token_id=None,
            **special,
        )
    raise ValueError(f"model must be one of the presets {', '.join(PRESETS)}; got {preset!r}")


def build_model(
    spec: ModelSpec, tokenizer: PreTrainedTokenizerBase | None = None, **load_kwargs: Any
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A fresh preset model (needs ``tokenizer``) or a pretrained one with its own tokenizer."""
    if spec.is_preset:
        if tokenizer is None:
            raise ValueError(
                "tokenizer is required for a preset model (build it with tokenization.tokenizer_for_dataset)"
            )
        config = preset_config(spec.name, tokenizer)
        cls = T5ForConditionalGeneration if spec.is_encoder_decoder else LlamaForCausalLM
        return cls(config), tokenizer
    return load_model(spec.name, **load_kwargs)


def load_model(
    name_or_path: str | Path, **kwargs: Any
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a saved or pretrained model and its tokenizer (``from_pretrained``), seq2seq or causal."""
    name = str(name_or_path)
    config = AutoConfig.from_pretrained(name)
    cls = AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM
    model = cls.from_pretrained(name, **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(name)
    if tokenizer.pad_token is None:  # GPT-2 style tokenizers ship without one
        tokenizer.pad_token = tokenizer.eos_token
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def count_parameters(model: PreTrainedModel) -> int:
    """Number of distinct parameters (tied embeddings counted once)."""
    return sum(p.numel() for p in model.parameters())
