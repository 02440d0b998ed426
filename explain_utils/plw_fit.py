"""The PLW paper's analysis on tidy results: the sweep's points and the quadratic fit in w_p.

Huerta-Enochian & Ko (2024) regress a score on ``w_p = PLW ** 0.30103`` (so the log-spaced PLW
grid becomes roughly evenly spaced, PLW 0.1 ↦ 0.5) with a quadratic, and report its vertex form
``a·(w_p − h)² + k``; a significantly negative ``a`` with ``h`` inside (0, 1) means an optimum at
an intermediate prompt-loss weight. Light imports only (numpy, scipy, pandas): the claims use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from explain_utils.results import final_accuracy, summarize

WP_EXPONENT = math.log10(2)  # 0.30103: PLW 0.1 -> w_p 0.5
METHODS: dict[str, str] = {"completion": "it", "plw": "plw", "im": "im"}  # loss_mode -> method


def w_p(plw: float | np.ndarray) -> float | np.ndarray:
    """The PLW paper's transform ``PLW ** 0.30103`` (maps the log-spaced grid to ~even steps)."""
    return np.power(plw, WP_EXPONENT)


def _sweep_runs(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of the PLW sweep's runs (``plw`` and ``it`` at the train size where ``plw`` ran), with
    completion-only (``it``) runs given their prompt-loss weight of 0."""
    sizes = rows.loc[rows["method"] == "plw", "train_size"].unique()
    rows = rows[rows["method"].isin(["plw", "it"]) & rows["train_size"].isin(sizes)]
    return rows.assign(
        prompt_loss_weight=np.where(rows["method"] == "it", 0.0, rows["prompt_loss_weight"])
    )


def sweep_points(frame: pd.DataFrame, completion: str) -> pd.DataFrame:
    """The PLW sweep of one data type: per run ``prompt_loss_weight``, ``w_p``, ``seed``, ``value``.

    Completion-only runs (``it``) are the PLW = 0 points; the train size is the sweep's, i.e. the
    one at which ``plw`` runs exist.
    """
    rows = final_accuracy(frame, task=None)
    rows = _sweep_runs(rows[rows["completion"] == completion])
    rows = rows.assign(w_p=w_p(rows["prompt_loss_weight"].to_numpy(dtype=float)))
    return rows[
        ["completion", "method", "train_size", "prompt_loss_weight", "w_p", "seed", "value"]
    ]


@dataclass(frozen=True)
class QuadraticFit:
    """Least-squares ``value = a·w_p² + b·w_p + c`` with a t-interval for ``a``; the vertex form
    ``a·(w_p − vertex_wp)² + peak`` is how the PLW paper reports it."""

    a: float
    b: float
    c: float
    a_low: float  # 95 % CI of the quadratic coefficient (NaN without residual degrees of freedom)
    a_high: float
    n: int  # points (runs) fitted
    dof: int

    @property
    def vertex_wp(self) -> float:
        return -self.b / (2 * self.a) if self.a else math.nan

    @property
    def vertex_plw(self) -> float:
        """The PLW at the vertex (``w_p ** (1 / 0.30103)``); NaN when the vertex is below 0."""
        return self.vertex_wp ** (1 / WP_EXPONENT) if self.vertex_wp >= 0 else math.nan

    @property
    def peak(self) -> float:
        return self.c - self.b**2 / (4 * self.a) if self.a else math.nan

    @property
    def negative_with_inner_optimum(self) -> bool:
        """The PLW paper's short-completion finding: a < 0, its CI excludes 0, optimum in (0, 1)."""
        return bool(self.a_high < 0 and 0 < self.vertex_wp < 1)

    def predict(self, plw: float | np.ndarray) -> np.ndarray:
        x = w_p(np.asarray(plw, dtype=float))
        return self.a * x**2 + self.b * x + self.c

    def describe(self) -> str:
        ci = "no CI" if math.isnan(self.a_low) else f"95 % CI [{self.a_low:.3f}, {self.a_high:.3f}]"
        return (
            f"a = {self.a:.3f} ({ci}); vertex at w_p = {self.vertex_wp:.2f} "
            f"(PLW ≈ {self.vertex_plw:.3g}), peak {self.peak:.3f}"
        )


def quadratic_fit(plw: np.ndarray, values: np.ndarray, confidence: float = 0.95) -> QuadraticFit:
    """Fit the PLW paper's quadratic in ``w_p = PLW ** 0.30103`` to individual runs (OLS).

    The CI of ``a`` is the t-interval from the OLS covariance ``s² (XᵀX)⁻¹`` with n − 3 degrees of
    freedom. Needs at least three distinct PLW values.
    """
    plw, values = np.asarray(plw, dtype=float), np.asarray(values, dtype=float)
    if len(np.unique(plw)) < 3:
        raise ValueError(
            f"quadratic_fit needs at least 3 distinct PLW values; got {sorted(set(plw))}"
        )
    x = w_p(plw)
    design = np.column_stack([x**2, x, np.ones_like(x)])
    coef, *_ = np.linalg.lstsq(design, values, rcond=None)
    dof = len(values) - 3
    if dof > 0:
        residual = values - design @ coef
        s2 = float(residual @ residual) / dof
        se = math.sqrt(s2 * np.linalg.inv(design.T @ design)[0, 0])
        half = float(stats.t.ppf((1 + confidence) / 2, dof)) * se
    else:
        half = math.nan
    a, b, c = (float(v) for v in coef)
    return QuadraticFit(a, b, c, a - half, a + half, len(values), dof)


def loss_curves(frame: pd.DataFrame, weights: tuple[float, ...]) -> pd.DataFrame:
    """Completion-only loss on training and held-out rows during the sweep's runs at ``weights``.

    Mean and 95 % CI over seeds per ``completion``, ``prompt_loss_weight``, ``metric``
    (``train_completion_loss`` / ``validation_completion_loss``) and ``step``.
    """
    metrics = ("train_completion_loss", "validation_completion_loss")
    rows = _sweep_runs(frame[(frame["stage"] == "curve") & frame["metric"].isin(metrics)])
    rows = rows[np.isclose(rows["prompt_loss_weight"].to_numpy()[:, None], weights).any(axis=1)]
    return summarize(rows, ["completion", "prompt_loss_weight", "metric", "step"])
