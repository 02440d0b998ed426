"""Where a generated explanation first goes wrong, read from a run's saved predictions.

Per output: the gold step count and the first step whose claimed result differs from the gold
one (``formats.first_wrong_step``; a missing step counts as wrong). ``where_wrong`` sorts the
outputs of each level into "every step right", "step 1", "a middle step" and "the last step";
``slip_shares`` says what is wrong at that step (missing, wrong operands, wrong arithmetic);
``worked_outputs`` picks right and wrong outputs to print beside their gold, the first wrong
step marked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from explain_utils.analysis.results import summarize
from explain_utils.common.names import TARGET_FORMATS
from explain_utils.tasks.formats import first_wrong_step, read_steps
from explain_utils.tasks.listops import OPERATORS, apply, parse

if TYPE_CHECKING:  # runs imports torch; this module only reads a finished run's files
    from explain_utils.engine.run_store import RunResult

WHERE: tuple[str, ...] = ("every step right", "step 1", "a middle step", "the last step")
MARK = ">>"  # put before the first wrong step of a printed output
SLIPS: tuple[str, ...] = ("missing", "wrong operands", "wrong arithmetic", "unreadable")


def _records(result: RunResult, split: str) -> list[dict]:
    path = Path(result.run_dir) / f"predictions_{split}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(
            f"split: run {result.run_id} has no predictions for {split!r} ({path}); "
            "evaluate it on that split (TrainConfig.eval_splits)"
        )
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def first_wrong_steps(results: Iterable[RunResult], split: str) -> pd.DataFrame:
    """One row per run x output of ``split``: its shape (operators, widest list), whether the answer
    is right, and for an explained run the gold steps and the first wrong step (-1: none)."""
    rows = []
    for result in results:
        cfg = result.config
        explained = cfg["level"] != "none"
        for i, rec in enumerate(_records(result, split)):
            wrong = first_wrong_step(cfg["level"], rec["prediction"], rec["target"])
            expr = parse(rec["source"])
            rows.append(
                {
                    "model": cfg["model"],
                    "params": result.params,
                    "task": cfg["task"],
                    "level": cfg["level"],
                    "seed": cfg["seed"],
                    "row": i,
                    "depth": rec["depth"],
                    "length": rec["length"],
                    "operators": expr.n_operators,
                    "widest": expr.widest,
                    "n_steps": len(read_steps(cfg["level"], rec["target"])) if explained else 0,
                    "first_wrong": -1 if wrong is None else wrong,
                    "correct": bool(rec["accuracy"]),
                }
            )
    return pd.DataFrame(rows)


def accuracy_by(steps: pd.DataFrame, column: str) -> pd.DataFrame:
    """Accuracy per model, level and value of ``column`` (e.g. ``operators``, ``widest``): mean and
    95 % t-interval over seeds of each seed's share of right answers."""
    per_seed = (
        steps.groupby(["model", "level", column, "seed"])["correct"]
        .mean()
        .rename("value")
        .reset_index()
    )
    table = summarize(per_seed, ["model", "level", column])
    return table.assign(**{column: table[column].astype(str)})


def _where(first_wrong: int, n_steps: int) -> str:
    if first_wrong < 0:
        return WHERE[0]
    if first_wrong == 0:
        return WHERE[1]
    return WHERE[3] if first_wrong >= n_steps - 1 else WHERE[2]


def where_wrong(steps: pd.DataFrame) -> pd.DataFrame:
    """Share of outputs (%) per model, level and place of the first wrong step, mean over seeds."""
    steps = steps[steps["n_steps"] > 0]  # explained runs only
    placed = steps.assign(
        where=[_where(w, n) for w, n in zip(steps["first_wrong"], steps["n_steps"], strict=True)]
    )
    shares = (
        placed.groupby(["model", "params", "level", "seed"])["where"]
        .value_counts(normalize=True)
        .unstack(fill_value=0.0)
        .reindex(columns=list(WHERE), fill_value=0.0)
    )
    table = (100 * shares.groupby(["model", "params", "level"]).mean()).reset_index()
    order = table["level"].map({lv: i for i, lv in enumerate(TARGET_FORMATS)})
    return table.assign(_o=order).sort_values(["model", "_o"], kind="stable").drop(columns="_o")


def first_slip(level: str, prediction: str, target: str, modulus: int) -> str | None:
    """What is wrong at the first wrong step (``SLIPS``; None when no step is wrong): ``missing``,
    the output stopped before it; ``wrong arithmetic``, its result is not its operator applied to
    its own operands; ``wrong operands``, its arithmetic is right but its operator or operands are
    not the gold step's (a wrong copy, or a skipped, merged or reordered step); ``unreadable``, it
    shows no operator, operands or result to check (``short`` shows no operands)."""
    wrong = first_wrong_step(level, prediction, target)
    if wrong is None:
        return None
    own = read_steps(level, prediction)
    if wrong >= len(own):
        return SLIPS[0]
    step = own[wrong]
    if step.op not in OPERATORS or not step.operands or step.result is None:
        return SLIPS[3]
    right = apply(step.op, list(step.operands), modulus) == step.result
    return SLIPS[1] if right else SLIPS[2]


def slip_shares(results: Iterable[RunResult], split: str, modulus: int) -> pd.DataFrame:
    """Share (%) of the outputs with a wrong step per model, level and ``first_slip``, mean over
    seeds (explained runs only; no row for a run whose every step is right)."""
    rows = [
        {
            "model": result.config["model"],
            "params": result.params,
            "level": result.config["level"],
            "seed": result.config["seed"],
            "slip": first_slip(result.config["level"], rec["prediction"], rec["target"], modulus),
        }
        for result in results
        for rec in _records(result, split)
    ]
    keys = ["model", "params", "level"]
    slips = pd.DataFrame(rows, columns=[*keys, "seed", "slip"]).dropna(subset=["slip"])
    if slips.empty:
        return pd.DataFrame(columns=[*keys, *SLIPS])
    shares = (
        slips.groupby([*keys, "seed"])["slip"]
        .value_counts(normalize=True)
        .unstack(fill_value=0.0)
        .reindex(columns=list(SLIPS), fill_value=0.0)
    )
    return (100 * shares.groupby(keys).mean()).reset_index()


def mark_first_wrong(level: str, prediction: str, target: str) -> str:
    """The prediction with ``MARK`` before its first wrong step (unchanged when none is wrong)."""
    wrong = first_wrong_step(level, prediction, target)
    if wrong is None:
        return prediction
    body, answer, tail = prediction.partition("answer")
    steps = [s.strip() for s in body.split(";") if s.strip()]  # as formats.read_steps reads them
    if wrong >= len(steps):
        return f"{prediction} {MARK} (step {wrong + 1} missing)"
    steps[wrong] = f"{MARK} {steps[wrong]}"
    return " ; ".join([*steps, *([answer + tail] if answer else [])])


def worked_outputs(
    result: RunResult, split: str, n_right: int = 1, n_wrong: int = 2
) -> pd.DataFrame:
    """The first ``n_right`` right and ``n_wrong`` wrong outputs of one run on ``split``: source,
    gold target and the prediction with its first wrong step marked."""
    level = result.config["level"]
    picked = {True: [], False: []}
    for rec in _records(result, split):
        right = bool(rec["accuracy"])
        if len(picked[right]) < (n_right if right else n_wrong):
            picked[right].append(rec)
    return pd.DataFrame(
        [
            {
                "answer": "right" if right else "wrong",
                "source": rec["source"],
                "gold": rec["target"],
                "generated": mark_first_wrong(level, rec["prediction"], rec["target"]),
            }
            for right in (True, False)
            for rec in picked[right]
        ]
    )
