"""Chapter 5's data: the pre-training corpus and the fine-tuning data types.

Every data type is built from the same ListOps expressions and has the same completion, the long
explanation of the query expression; what changes is the prompt before the query, and with it
the PLW paper's generation ratio R_g = completion tokens / prompt tokens (template words and
end-of-sequence included):

- ``oneshot`` (R_g ≈ 0.65): one solved example — another expression of the fine-tuning pool and
  its long explanation — then the query. Its prompt is mostly a random expression and a solution
  of it: tokens a model can only predict by memorising the training rows, or by solving;
- ``instruction`` (the same R_g, row by row, in words — a sub-word tokenizer splits expressions
  into more tokens than words, so there the two differ): an instruction in words, drawn from a stated
  grammar (``INSTRUCTION_SENTENCES``), as many words as the one-shot row's solved example, then
  the query. Its prompt is language a model can model: the grammar opens every corpus document;
- ``long`` (R_g ≈ 3): the query alone.

Both low-R_g prompts put the query where the pre-trained model works expressions well: right
after an instruction (as the first expression of a corpus document) or after one solved
expression (the second); ``position_prompts`` and ``layout_prompts`` build the check. The solved examples are drawn,
deterministically per row, from the first ``demo_pool`` rows of the fine-tuning pool (the
smallest training set, so no run reads a solved example outside its own training rows) and
never include the row itself. Every prompt carries ``prompt_expression``: per prompt word, 1
where it belongs to an expression — so a run may put its prompt loss on the words alone.

The **pre-training corpus** is fixed by one rule: what a pretrained model would plausibly know,
not the fine-tuning task's solutions in their exact format. Its documents open with an
instruction drawn from the grammar, then work *other* expressions (the training rows after the
fine-tuning pool, two per document) step by step in the sentences of the long explanation,
each closed by its value in prose (``so the answer to it , the result , is 2 .``): no
``Question:``/``Answer:`` template, no solved-example layout, no ``answer N`` line, so no
fine-tuning completion ever appears in it. A document is the completion of an empty prompt,
trained with the template masked.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import pandas as pd

from explain_utils.common.names import ANSWER, LEVELS, QUESTION, TEMPLATE_TOKENS
from explain_utils.tasks.explanations import explain, final_answer
from explain_utils.tasks.listops import evaluate
from explain_utils.tasks.splits import load_splits, n_tokens, read_data_card, save_splits

PRETRAIN = "pretrain"
EXPRESSIONS_PER_DOCUMENT = 2  # a corpus document works several expressions, one after another
OPENING_SENTENCES = 2  # instruction sentences that open a corpus document
_SPLIT_SALT = {"train": 1, "validation": 2, "test": 3}  # a split's own stream of draws
_CORPUS_SALT = 4  # the corpus documents' instructions
_PROBE_SALT = 5  # the capability check's documents
_INSTRUCTION_SALT = 7  # an instruction prompt's words, drawn per (split, row)
CLOSING = "so the answer to it , the result , is"  # a corpus expression's value follows this

# The instruction grammar: a sentence is a template drawn uniformly, each {a|b} slot filled
# uniformly. Words only, no digit and no operator, so an instruction never holds an expression.
INSTRUCTION_SENTENCES: tuple[str, ...] = (
    "work out the value of the list {step by step|one bracket at a time|from the inside out} .",
    "{name|write|give} {each|every} operator and {its|the} result {in turn|as you go} .",
    "{read|take} the numbers {inside|in} each bracket {first|before the rest} .",
    "then {give|write|state} the answer {at the end|last} .",
    "{keep|use} the same words {for every step|each time} .",
    "{a|one} step {is|means} one bracket {and|with} its result .",
    "{do not|never} skip {a|any} step .",
    "{check|test} {each|every} result {before|ahead of} the next step .",
)


@dataclass(frozen=True)
class DataType:
    """A fine-tuning data type: the completion (a target column) and the solved examples."""

    name: str
    level: str  # the explanation level written as the completion (``target_<level>``)
    shots: int  # solved examples before the query expression
    instruction: bool  # an instruction as long as a solved example before the query
    description: str


DATA_TYPES: dict[str, DataType] = {  # ordered by R_g, lowest first
    "oneshot": DataType(
        "oneshot", "long", 1, False, "1 solved example + expression → long explanation"
    ),
    "instruction": DataType(
        "instruction", "long", 0, True, "instruction in words + expression → long explanation"
    ),
    "long": DataType("long", "long", 0, False, "expression → long explanation"),
}


# ---------------------------------------------------------------- the instruction grammar


def instruction_sentence(rng: np.random.Generator) -> str:
    """One sentence of the grammar: a template and its slots, each drawn uniformly."""
    template = INSTRUCTION_SENTENCES[rng.integers(len(INSTRUCTION_SENTENCES))]
    return re.sub(
        r"\{([^}]*)\}", lambda m: (opts := m.group(1).split("|"))[rng.integers(len(opts))], template
    )


def instruction_text(rng: np.random.Generator, n_words: int) -> str:
    """Sentences of the grammar until ``n_words`` words, the last one cut there."""
    words: list[str] = []
    while len(words) < n_words:
        words += instruction_sentence(rng).split()
    return " ".join(words[:n_words])


# ---------------------------------------------------------------- fine-tuning prompts


def demo_rows(n_rows: int, demo_pool: int, shots: int, salt: int, own: bool) -> list[list[int]]:
    """For each of ``n_rows`` rows, ``shots`` distinct row indices in ``range(demo_pool)``.

    Deterministic per (salt, row). ``own``: row i is itself a pool row (a training row), so it is
    never its own solved example.
    """
    if shots > demo_pool - 1:
        raise ValueError(f"demo_pool must be > shots ({shots}); got {demo_pool}")
    out = []
    for i in range(n_rows):
        rng = np.random.default_rng([salt, i])
        drawn = rng.choice(demo_pool, size=shots + 1, replace=False).tolist()
        out.append([j for j in drawn if not (own and j == i)][:shots])
    return out


def fewshot_prompt(demos: list[tuple[str, str]], query: str) -> str:
    """Solved examples (expression and worked solution, which ends in ``answer N``), then the query."""
    return " ".join([*(f"{source} {solution}" for source, solution in demos), query])


def _marks(*parts: tuple[str, bool]) -> str:
    """Per word of the joined parts, ``1`` where a part is an expression, else ``0``."""
    return "".join(
        ("1" if is_expression else "0") * n_tokens(text) for text, is_expression in parts
    )


def _prompts(
    split: datasets.Dataset, pool: datasets.Dataset, kind: DataType, salt: int, own: bool
) -> tuple[list[str], list[str]]:
    """Each row's prompt and its ``prompt_expression`` marks (see the module docstring)."""
    sources = list(split["source"])
    if not (kind.shots or kind.instruction):
        return sources, [_marks((q, True)) for q in sources]
    demo_sources, demo_solutions = pool["source"], pool[f"target_{kind.level}"]
    picks = demo_rows(len(sources), len(pool), max(kind.shots, 1), salt, own)
    prompts, marks = [], []
    for i, (drawn, query) in enumerate(zip(picks, sources, strict=True)):
        demos = [(demo_sources[j], demo_solutions[j]) for j in drawn]
        if kind.instruction:  # as many words as the one-shot row's solved example
            size = sum(n_tokens(f"{a} {b}") for a, b in demos)
            words = instruction_text(np.random.default_rng([salt, i, _INSTRUCTION_SALT]), size)
            prompts.append(f"{words} {query}")
            marks.append(_marks((words, False), (query, True)))
        else:
            prompts.append(fewshot_prompt(demos, query))
            parts = [p for a, b in demos for p in ((a, True), (b, False))]
            marks.append(_marks(*parts, (query, True)))
    return prompts, marks


def _with_prompts(
    split: datasets.Dataset, sources: list[str], marks: list[str]
) -> datasets.Dataset:
    split = split.remove_columns("source").add_column("source", sources)
    return split.add_column("prompt_expression", marks)


# ---------------------------------------------------------------- the pre-training corpus


def worked_expression(source: str, modulus: int) -> str:
    """An expression as a corpus document works it: steps in plain sentences, its value in prose."""
    worked = explain(source, "long", modulus).split(" ; ")[:-1]  # the steps, not "answer N"
    return f"{source} : {' ; '.join(worked)} . {CLOSING} {evaluate(source, modulus)} ."


def corpus_document(sources: list[str], modulus: int, opening: str = "") -> str:
    """A pre-training document: an opening instruction, then expressions one after another, each
    worked step by step in plain sentences and closed by its value in prose, never by an
    ``answer N`` line."""
    return " ".join(
        [*([opening] if opening else []), *(worked_expression(s, modulus) for s in sources)]
    )


def opening_instruction(row: int, salt: int = _CORPUS_SALT) -> str:
    """The instruction that opens the corpus document starting at ``row`` (deterministic; the
    capability check draws its own with another ``salt``)."""
    rng = np.random.default_rng([salt, row])
    return " ".join(instruction_sentence(rng) for _ in range(OPENING_SENTENCES))


def _corpus_split(split: datasets.Dataset, modulus: int, per_document: int) -> datasets.Dataset:
    """Documents of ``per_document`` consecutive expressions, as completions of an empty prompt;
    every ``target_<level>`` holds the document, so the pre-training run may name any level."""
    sources = list(split["source"])
    docs = [
        corpus_document(sources[i : i + per_document], modulus, opening_instruction(i))
        for i in range(0, len(sources), per_document)
    ]
    split = split.select(range(len(docs)))
    split = split.remove_columns(["source", *(f"target_{lv}" for lv in LEVELS)])
    split = split.add_column("source", [""] * len(docs))
    for level in LEVELS:
        split = split.add_column(f"target_{level}", docs)
    return split


# ---------------------------------------------------------------- writing the data directories


def write_ablation_data(
    data_dir: str | Path,
    out_dir: str | Path,
    finetune_pool: int,
    demo_pool: int,
    pretrain_size: int,
    n_test: int,
    n_validation: int,
) -> dict[str, Path]:
    """Write the pre-training corpus and one data directory per fine-tuning data type.

    From ``data_dir/listops``: fine-tuning uses the first ``finetune_pool`` training rows (a run
    takes its first ``train_size``; solved examples come from the first ``demo_pool``),
    pre-training the next ``pretrain_size`` rows, so the two never share an expression.
    Validation and test are the first ``n_validation``/``n_test`` rows of those splits. Returns
    ``{"pretrain": dir, "oneshot": dir, "instruction": dir, "long": dir}``; pass a dir as a run's
    ``data_dir`` with task ``listops``. Rewriting gives identical files (and cache keys).
    """
    source = Path(data_dir) / "listops"
    splits = load_splits(source)
    n_train = len(splits["train"])
    if finetune_pool + pretrain_size > n_train:
        raise ValueError(
            f"finetune_pool + pretrain_size must be <= {n_train} (train rows in {str(source)!r}); "
            f"got {finetune_pool} + {pretrain_size}"
        )
    heads = {
        "validation": splits["validation"].select(
            range(min(n_validation, len(splits["validation"])))
        ),
        "test": splits["test"].select(range(min(n_test, len(splits["test"])))),
    }
    corpus = {  # held-out documents (validation) only to follow the pre-training loss
        "train": splits["train"].select(range(finetune_pool, finetune_pool + pretrain_size)),
        "validation": heads["validation"],
    }
    finetune = {"train": splits["train"].select(range(finetune_pool)), **heads}
    with _quiet():
        return _write(corpus, finetune, demo_pool, read_data_card(source), Path(out_dir))


@contextlib.contextmanager
def _quiet():
    """The ``datasets`` progress bars off (one per Parquet file written), as they were after."""
    was_on = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was_on:
            datasets.enable_progress_bars()


def _write(corpus: dict, finetune: dict, demo_pool: int, card: dict, out_dir: Path) -> dict:
    out: dict[str, Path] = {PRETRAIN: out_dir / PRETRAIN}
    documents = {
        k: _corpus_split(v, card["modulus"], EXPRESSIONS_PER_DOCUMENT) for k, v in corpus.items()
    }
    save_splits(
        datasets.DatasetDict(documents), out[PRETRAIN] / "listops", card | {"ablation": PRETRAIN}
    )
    pool = finetune["train"].select(range(demo_pool))
    for name, kind in DATA_TYPES.items():
        out[name] = out_dir / name
        written = {
            split: _with_prompts(
                rows, *_prompts(rows, pool, kind, _SPLIT_SALT[split], split == "train")
            )
            for split, rows in finetune.items()
        }
        save_splits(datasets.DatasetDict(written), out[name] / "listops", card | {"ablation": name})
    return out


# ---------------------------------------------------------------- what the data look like


def completion_ratio(data_dir: str | Path, data_type: str, n: int | None = None) -> dict:
    """Mean prompt and completion tokens and R_g = completion / prompt of a data type's train rows.

    Tokens as the decoder sees them: the prompt includes the template words ``Question:`` and
    ``Answer:``, the completion its end-of-sequence token.
    """
    kind = DATA_TYPES[data_type]
    split = load_splits(Path(data_dir) / "listops")["train"]
    split = split.select(range(min(n or len(split), len(split))))
    prompt = np.mean([n_tokens(s) + len(TEMPLATE_TOKENS) for s in split["source"]])
    target = np.mean([n_tokens(t) + 1 for t in split[f"target_{kind.level}"]])
    return {
        "data type": data_type,
        "completion": kind.level,
        "prompt": "solved example" if kind.shots else "instruction" if kind.instruction else "—",
        "prompt tokens": float(prompt),
        "completion tokens": float(target),
        "R_g": float(target / prompt),
    }


def examples(dirs: dict[str, Path], row: int = 0) -> pd.DataFrame:
    """One training row of every data type (and the corpus), prompt and completion verbatim."""
    records = []
    for name in (PRETRAIN, *DATA_TYPES):
        split = load_splits(Path(dirs[name]) / "listops")["train"]
        level = DATA_TYPES[name].level if name in DATA_TYPES else "none"
        records.append(
            {
                "data": name,
                "prompt": split[row]["source"] or "(empty)",
                "completion": split[row][f"target_{level}"],
            }
        )
    return pd.DataFrame(records)


# ---------------------------------------------------------------- the capability check


def position_prompts(
    queries: list[str], pool: list[str], modulus: int, position: int, salt: int = _PROBE_SALT
) -> list[str]:
    """Each query as the ``position``-th expression of a corpus document: an opening
    instruction, ``position - 1`` worked expressions of ``pool`` (drawn per row), the query and
    its colon — the model's own format, which it continues with the query's working."""
    picks = (
        demo_rows(len(queries), len(pool), position - 1, salt, own=False)
        if position > 1
        else [[] for _ in queries]
    )
    texts = []
    for i, (drawn, query) in enumerate(zip(picks, queries, strict=True)):
        worked = [worked_expression(pool[j], modulus) for j in drawn]
        opening = opening_instruction(i, salt)
        texts.append(" ".join([QUESTION, ANSWER, opening, *worked, query, ":"]))
    return texts


def layout_prompts(sources: list[str]) -> list[str]:
    """Fine-tuning prompts exactly as a fine-tuned model reads them (``Question: … Answer:``)."""
    return [f"{QUESTION} {source} {ANSWER}" for source in sources]


def read_value(text: str) -> int | None:
    """The value a generated text gives first: after the corpus closing (``… the result , is N``),
    or in an ``answer N`` line; None if neither comes."""
    closing = re.search(re.escape(CLOSING) + r"\s+(-?\d+)", text or "")
    if closing is not None:
        return int(closing.group(1))
    return final_answer(text)
