"""The claims checked against the papers: the import point for notebooks and the claims chapter.

- ``claims_core``: the ``Claim`` row (paper, ours, diff, CI, verdict), the table and its files;
- ``claims_tables``: accuracy, curve, plateau and gain tables; paired contrasts between cells;
- ``claims_listops``: Ballout et al.'s C1-C6 on paired differences (``stats``);
- ``claims_formats``: chapter 4's explanation formats, C5 with the book's best format;
- ``claims_prompt_loss``: C7 (prompt-loss weight) and C8 (instruction modelling).

Paper figures are the papers' own reported numbers (``book/references.bib``).
"""

from __future__ import annotations

from explain_utils.claims_core import (
    NOT_MEASURED,
    PAPER,
    STATEMENTS,
    Claim,
    claims_table,
    difference_text,
    paper_difference,
    primary_claims,
    read_claims,
    verdict,
    write_claims,
)
from explain_utils.claims_formats import (
    best_format,
    by_model,
    check_c5_format,
    format_contrasts,
    granularity_table,
)
from explain_utils.claims_listops import (
    MIN_GAIN,
    PAPER_TRAIN_SIZE,
    check_c1,
    check_c2,
    check_c3,
    check_c4,
    check_c4_all,
    check_c5,
    check_c6,
)
from explain_utils.claims_prompt_loss import check_c7, check_c8
from explain_utils.claims_tables import (
    PLATEAU_FRACTION,
    Condition,
    accuracy_table,
    best_level_on_validation,
    breakdown_table,
    contrast,
    curve_table,
    gain_table,
    lead_over_none,
    learning_rate_grid,
    level_pivot,
    metric_table,
    seed_accuracies,
    steps_to_plateau,
    steps_to_threshold,
)

__all__ = [
    "MIN_GAIN",
    "NOT_MEASURED",
    "PAPER",
    "PAPER_TRAIN_SIZE",
    "PLATEAU_FRACTION",
    "STATEMENTS",
    "Claim",
    "Condition",
    "accuracy_table",
    "best_format",
    "best_level_on_validation",
    "by_model",
    "breakdown_table",
    "check_c1",
    "check_c2",
    "check_c3",
    "check_c4",
    "check_c4_all",
    "check_c5",
    "check_c5_format",
    "check_c6",
    "check_c7",
    "check_c8",
    "claims_table",
    "contrast",
    "curve_table",
    "difference_text",
    "paper_difference",
    "format_contrasts",
    "gain_table",
    "granularity_table",
    "lead_over_none",
    "learning_rate_grid",
    "level_pivot",
    "metric_table",
    "primary_claims",
    "read_claims",
    "seed_accuracies",
    "steps_to_plateau",
    "steps_to_threshold",
    "verdict",
    "write_claims",
]
