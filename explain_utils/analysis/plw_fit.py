"""The PLW paper's analysis on tidy results: the sweep's points and the quadratic fit in w_p.

Huerta-Enochian & Ko (2024) regress a score on ``w_p = PLW ** 0.30103`` (so the log-spaced PLW
grid becomes roughly evenly spaced, PLW 0.1 ↦ 0.5) with a quadratic, and report its vertex form
``a·(w_p − h)² + k`` with the score in 0–1 units; a significantly negative ``a`` with ``h`` inside
(0, 1) means an optimum at an intermediate prompt-loss weight. Here the score is test accuracy as
a fraction (0–1), the paper's units. Two ways to put an interval on ``a`` and on the optimum:

- ``bootstrap_fit`` (with per-row results): the paired two-level bootstrap of ``analysis.stats`` — each
  replicate resamples seeds and test rows once and applies them at every weight, refits, and the
  percentile intervals of ``a`` and of the vertex are read off the replicates;
- ``quadratic_fit`` (final accuracies only): OLS on the runs with the t-interval of ``a``.

Light imports only (numpy, scipy, pandas): the claims use it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from explain_utils.analysis.results import final_accuracy, summarize

WP_EXPONENT = math.log10(2)  # 0.30103: PLW 0.1 -> w_p 0.5
METHODS: dict[str, str] = {"completion": "it", "plw": "plw", "im": "im"}  # loss_mode -> method
N_BOOT = 2000


def w_p(plw: float | np.ndarray) -> float | np.ndarray:
    """The PLW paper's transform ``PLW ** 0.30103`` (maps the log-spaced grid to ~even steps)."""
    return np.power(plw, WP_EXPONENT)


def type_column(frame: pd.DataFrame) -> str:
    """The column naming a run's data type: ``data_type`` (``completion`` in older tables)."""
    return "data_type" if "data_type" in frame else "completion"


def _sweep_runs(
    rows: pd.DataFrame, normalization: str = "weights", prompt_tokens: str = "all"
) -> pd.DataFrame:
    """Rows of one PLW sweep (``plw`` runs with ``normalization`` and ``prompt_tokens``, and ``it``
    at the train size where they ran), with completion-only (``it``) runs given their prompt-loss
    weight of 0."""
    if "normalization" in rows:
        rows = rows[(rows["method"] != "plw") | (rows["normalization"] == normalization)]
    if "prompt_tokens" in rows:
        rows = rows[(rows["method"] != "plw") | (rows["prompt_tokens"] == prompt_tokens)]
    sizes = rows.loc[rows["method"] == "plw", "train_size"].unique()
    rows = rows[rows["method"].isin(["plw", "it"]) & rows["train_size"].isin(sizes)]
    return rows.assign(
        prompt_loss_weight=np.where(rows["method"] == "it", 0.0, rows["prompt_loss_weight"])
    )


def sweep_points(
    frame: pd.DataFrame, data_type: str, normalization: str = "weights", prompt_tokens: str = "all"
) -> pd.DataFrame:
    """The PLW sweep of one data type: per run ``prompt_loss_weight``, ``w_p``, ``seed``, ``value``
    (final test accuracy). Completion-only runs (``it``) are the PLW = 0 points; the train size is
    the sweep's, i.e. the one at which ``plw`` runs exist."""
    column = type_column(frame)
    rows = final_accuracy(frame, task=None)
    rows = _sweep_runs(rows[rows[column] == data_type], normalization, prompt_tokens)
    rows = rows.assign(w_p=w_p(rows["prompt_loss_weight"].to_numpy(dtype=float)))
    keep = [column, "method", "train_size", "prompt_loss_weight", "w_p", "seed", "value"]
    return rows[keep + (["run_id"] if "run_id" in rows else [])]


@dataclass(frozen=True)
class QuadraticFit:
    """``value = a·w_p² + b·w_p + c`` (value: accuracy 0–1) with intervals for ``a`` and the
    vertex; the vertex form ``a·(w_p − vertex_wp)² + peak`` is how the PLW paper reports it."""

    a: float
    b: float
    c: float
    a_low: float  # 95 % CI of the quadratic coefficient (NaN where it cannot be estimated)
    a_high: float
    n: int  # points fitted (runs)
    vertex_low: float = math.nan  # 95 % CI of the vertex in w_p (bootstrap only)
    vertex_high: float = math.nan
    method: str = "OLS over the runs, t-interval of a"

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
        vertex = f"w_p = {self.vertex_wp:.2f}"
        if not math.isnan(self.vertex_low):
            vertex += f" [{self.vertex_low:.2f}, {self.vertex_high:.2f}]"
        kind = "maximum" if self.a < 0 else "minimum"
        plw = "" if math.isnan(self.vertex_plw) else f", PLW ≈ {self.vertex_plw:.2g}"
        return f"a = {self.a:.3f} ({ci}); vertex ({kind}) at {vertex}{plw}, value {self.peak:.3f}"


def _design(plw: np.ndarray) -> np.ndarray:
    x = w_p(np.asarray(plw, dtype=float))
    return np.column_stack([x**2, x, np.ones_like(x)])


def _check_weights(plw: np.ndarray) -> None:
    if len(np.unique(plw)) < 3:
        raise ValueError(
            f"the quadratic fit needs at least 3 distinct PLW values; got {sorted(set(plw))}"
        )


def quadratic_fit(plw: np.ndarray, values: np.ndarray, confidence: float = 0.95) -> QuadraticFit:
    """Fit the PLW paper's quadratic in ``w_p = PLW ** 0.30103`` to individual runs (OLS).

    The CI of ``a`` is the t-interval from the OLS covariance ``s² (XᵀX)⁻¹`` with n − 3 degrees of
    freedom. Needs at least three distinct PLW values.
    """
    plw, values = np.asarray(plw, dtype=float), np.asarray(values, dtype=float)
    _check_weights(plw)
    design = _design(plw)
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
    return QuadraticFit(a, b, c, a - half, a + half, len(values))


def bootstrap_fit(
    plw: np.ndarray,
    correct: np.ndarray,
    n_boot: int = N_BOOT,
    seed: int = 0,
    confidence: float = 0.95,
) -> QuadraticFit:
    """The quadratic fitted to per-weight accuracy, with paired bootstrap intervals.

    ``correct[w, s, r]``: whether the run at weight ``plw[w]`` and seed ``s`` got test row ``r``
    right (the same seeds and rows at every weight). Each replicate draws seeds and rows with
    replacement once, applies them at every weight, and refits; ``a`` and the vertex get the
    percentile intervals of the replicates.
    """
    plw, correct = np.asarray(plw, dtype=float), np.asarray(correct, dtype=float)
    _check_weights(plw)
    if correct.ndim != 3 or correct.shape[0] != len(plw) or 0 in correct.shape:
        raise ValueError(f"correct must be [weights, seeds, rows]; got shape {correct.shape}")
    n_w, n_s, n_r = correct.shape
    solve = np.linalg.pinv(_design(plw))  # [3, weights]: least squares as one matrix
    a, b, c = (float(v) for v in solve @ correct.mean(axis=(1, 2)))
    rng = np.random.default_rng(seed)
    seeds = rng.multinomial(n_s, np.full(n_s, 1 / n_s), size=n_boot)  # [boot, seeds] counts
    rows = rng.multinomial(n_r, np.full(n_r, 1 / n_r), size=n_boot)  # [boot, rows] counts
    per_seed = np.einsum("wsr,br->bws", correct, rows)
    accuracy = np.einsum("bws,bs->bw", per_seed, seeds) / (n_s * n_r)
    coefs = accuracy @ solve.T  # [boot, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = -coefs[:, 1] / (2 * coefs[:, 0])
    tail = 100 * (1 - confidence) / 2
    a_low, a_high = np.percentile(coefs[:, 0], [tail, 100 - tail])
    with warnings.catch_warnings():  # a flat fit has no vertex in any replicate: NaN, said so
        warnings.simplefilter("ignore", RuntimeWarning)
        v_low, v_high = np.nanpercentile(vertex, [tail, 100 - tail])
    method = f"paired bootstrap over seeds and test rows ({n_boot} resamples), refitted"
    return QuadraticFit(
        a, b, c, float(a_low), float(a_high), n_w * n_s, float(v_low), float(v_high), method
    )


def loss_curves(frame: pd.DataFrame, by: tuple[str, ...] = ("method",)) -> pd.DataFrame:
    """Completion-only loss on training and held-out rows along the runs that recorded curves.

    Mean and 95 % CI over seeds per data type, ``by`` columns, ``train_size``, ``metric``
    (``train_completion_loss`` / ``validation_completion_loss``) and ``step``.
    """
    metrics = ("train_completion_loss", "validation_completion_loss")
    rows = frame[(frame["stage"] == "curve") & frame["metric"].isin(metrics)]
    return summarize(rows, [type_column(frame), *by, "train_size", "metric", "step"])


def overfitting(curves: pd.DataFrame) -> pd.DataFrame:
    """Per curve (every column of ``loss_curves`` but ``metric``, ``step`` and the statistics): the
    step where the mean held-out completion loss is lowest, the held-out loss there and at the last
    step, the training loss at both, and ``overfits`` — held-out loss up from its minimum while the
    training loss fell over the same steps."""
    keys = [c for c in curves if c not in ("metric", "step", "mean", "ci_low", "ci_high", "n")]
    wide = curves.pivot_table(index=[*keys, "step"], columns="metric", values="mean").reset_index()
    out = []
    for key, group in wide.groupby(keys):
        group = group.sort_values("step")
        best = group.loc[group["validation_completion_loss"].idxmin()]
        last = group.iloc[-1]
        rose = last["validation_completion_loss"] > best["validation_completion_loss"]
        fell = last["train_completion_loss"] < best["train_completion_loss"]
        out.append(
            {
                **dict(zip(keys, key, strict=True)),
                "best_step": int(best["step"]),
                "last_step": int(last["step"]),
                "held_out_at_best": best["validation_completion_loss"],
                "held_out_at_last": last["validation_completion_loss"],
                "train_at_best": best["train_completion_loss"],
                "train_at_last": last["train_completion_loss"],
                "overfits": bool(rose and fell),
            }
        )
    return pd.DataFrame(out)
