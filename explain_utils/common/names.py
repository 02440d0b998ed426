"""The names every module of the package agrees on: levels, formats, tasks, profiles, loss modes.

Nothing here imports from ``explain_utils``; every module may import from here (the import test
checks that the package's imports form no cycle).
"""

from __future__ import annotations

import math

LEVELS: tuple[str, ...] = ("none", "short", "medium", "long")
# the book's own explanation formats beside the paper's levels (chapter 4; ``formats``)
FORMATS: tuple[str, ...] = (
    "long_rewrite",
    "fixed_width",
    "index_hint",
    "short_running",
    "medium_running",
)
TARGET_FORMATS: tuple[str, ...] = (*LEVELS, *FORMATS)  # what a run's ``level`` may name
TASKS: tuple[str, ...] = ("listops", "modular_sum")
# one's own explained data (``own_data``: a CSV or JSONL file written as a task directory); a
# task a run may train on, but not one that notebook 01 generates
OWN_DATA_TASK = "own_data"
TRAIN_TASKS: tuple[str, ...] = (*TASKS, OWN_DATA_TASK)
SCHEDULERS: tuple[str, ...] = ("linear", "cosine", "constant", "constant_with_warmup")
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
# decoder-only: completion | plw | im; encoder-decoder: completion
LOSS_MODES: tuple[str, ...] = ("completion", "plw", "im")
# how a prompt-weighted loss is divided: by the sum of the weights (Huerta-Enochian & Ko's
# reference implementation) or by the completion tokens alone (so the prompt weight only adds
# prompt gradient and leaves the completion's step size as it is)
LOSS_NORMALIZATIONS: tuple[str, ...] = ("weights", "completion")
# the decoder-only prompt template's words (``engine.tokenization``); chapter 5 counts them in R_g
QUESTION, ANSWER = "Question:", "Answer:"
TEMPLATE_TOKENS: tuple[str, ...] = (QUESTION, ANSWER)
PROFILES: tuple[str, ...] = ("smoke", "quick", "paper")
DEFAULT_PROFILE = "quick"
# make calibrate's tables, under <results_dir>/calibration/: the chosen rate per cell and every run
CALIBRATION_DIR = "calibration"
LEARNING_RATES_CSV = "learning_rates.csv"
LEARNING_RATE_GRID_CSV = "learning_rate_grid.csv"
STEPS_CSV = "steps.csv"  # make calibrate's plateau check: the steps each cell trains for


def bucket_order(label: str) -> float:
    """Sort key of a length-bucket label (``"8-10"``, ``">200"``) or a depth (``"2"``): its lower end."""
    return math.inf if label.startswith(">") else float(label.split("-")[0])
