"""Word-level tokenizer for models trained from scratch, and the decoder-only prompt template.

ListOps sources and explanations are whitespace-separated words from a vocabulary of a few dozen
symbols, so a word-level vocabulary (one id per word) gives the shortest sequences and the
smallest embedding tables — both matter for CPU throughput. The tokenizer is built with the
``tokenizers`` library, wrapped as a ``PreTrainedTokenizerFast`` and saved beside the model, so
``from_pretrained(run_dir)`` gives back both.

Special ids follow T5's convention (pad 0, eos 1, unk 2) so that T5's ``decoder_start_token_id``
(= pad) works unchanged. The decoder-only template words ``Question:`` and ``Answer:`` are single
tokens, so Instruction Modelling can mask exactly the template.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import datasets
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import WhitespaceSplit
from transformers import PreTrainedTokenizerFast

from explain_utils.common.names import ANSWER, QUESTION, TEMPLATE_TOKENS

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, EOS, UNK)


def prompt_text(source: str) -> str:
    """Decoder-only prompt: the template around the expression (completion follows ``Answer:``)."""
    return f"{QUESTION} {source} {ANSWER}"


def template_words(text: str) -> list[bool]:
    """For each whitespace word of ``text``: is it fixed template scaffolding (masked in IM mode)?"""
    return [w in TEMPLATE_TOKENS for w in text.split()]


def dataset_words(dataset: datasets.DatasetDict | datasets.Dataset) -> list[str]:
    """Every word in the sources and targets (every level or format present) of the split(s), sorted.

    Training builds its vocabulary from the train split alone; a word seen only at evaluation is
    read as ``<unk>`` (never a new id), so nothing of the test splits flows into training.
    """
    splits: Iterable[datasets.Dataset] = (
        dataset.values() if isinstance(dataset, datasets.DatasetDict) else [dataset]
    )
    words: set[str] = set()
    for split in splits:
        for column in split.column_names:
            if column == "source" or column.startswith(("source_", "target_")):
                for text in split[column]:
                    words.update(text.split())
    # every integer up to the largest one seen, so a raw sum the data happened to miss is not <unk>
    numbers = [int(w) for w in words if w.isdigit()]
    words.update(str(i) for i in range(max(numbers, default=0) + 1))
    return sorted(words - set(SPECIAL_TOKENS) - set(TEMPLATE_TOKENS))


def build_tokenizer(words: Iterable[str]) -> PreTrainedTokenizerFast:
    """A word-level ``PreTrainedTokenizerFast``: special tokens, template tokens, then ``words``."""
    vocab: dict[str, int] = {}
    for word in [*SPECIAL_TOKENS, *TEMPLATE_TOKENS, *words]:
        vocab.setdefault(word, len(vocab))
    core = Tokenizer(WordLevel(vocab, unk_token=UNK))
    core.pre_tokenizer = WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token=PAD,
        eos_token=EOS,
        unk_token=UNK,
        clean_up_tokenization_spaces=False,
    )
    # decoding joins words with single spaces, which is exactly the data's format
    return tokenizer


def tokenizer_for_dataset(
    dataset: datasets.DatasetDict | datasets.Dataset,
) -> PreTrainedTokenizerFast:
    """The word-level tokenizer for a data set (see ``dataset_words``)."""
    return build_tokenizer(dataset_words(dataset))


def load_tokenizer(path: str | Path) -> PreTrainedTokenizerFast:
    """Load a tokenizer saved with ``save_pretrained`` (ours or a pretrained model's)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path))
