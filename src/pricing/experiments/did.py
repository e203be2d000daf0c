"""Difference in differences for an experiment's report: the realised change in weekly profit of the tested
products against the holdout products over the same weeks, with a pre-period.

    y_jt = alpha_j + gamma_t + delta x treated_j x post_t + e_jt

by OLS on the balanced panel after the two-way within transformation (product and week means removed, which
leaves delta's estimate and residuals exactly those of the regression with both sets of dummies: the
Frisch-Waugh-Lovell theorem), with the standard error clustered by product (a product's weeks are correlated:
Bertrand, Duflo & Mullainathan 2004, QJE 119:249; Cameron & Miller 2015, J. Human Resources 50:317) and a t
interval with (products - 1) degrees of freedom (statsmodels' cluster-robust covariance, use_t).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVEL = 0.9


@dataclass(frozen=True)
class DidResult:
    """delta (the outcome's unit per product-week: currency per week for profit), its clustered standard error
    and LEVEL interval, and the products on each side."""

    estimate: float
    std_error: float
    low: float
    high: float
    treated: int
    control: int

    def as_dict(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def difference_in_differences(
    outcome: np.ndarray, treated: np.ndarray, post: np.ndarray, level: float = LEVEL
) -> DidResult:
    """delta of the module docstring. outcome (N, T): each product's weekly figure, every week observed; treated
    (N,) booleans: tested products (the others are the holdout); post (T,) booleans: the test's weeks (the others
    the pre-period). ValueError for a missing value, a shape mismatch, or a side without products or weeks."""
    y = np.asarray(outcome, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    post = np.asarray(post, dtype=bool)
    if y.ndim != 2 or y.shape != (len(treated), len(post)):
        raise ValueError(f"outcome {y.shape} must be (products={len(treated)}, weeks={len(post)})")
    if not np.isfinite(y).all():
        raise ValueError("outcome has missing or infinite values: the panel must be balanced")
    if treated.all() or not treated.any() or post.all() or not post.any():
        raise ValueError("difference in differences needs treated and holdout products, pre and post weeks")
    d = np.outer(treated, post).astype(float)

    def within(a: np.ndarray) -> np.ndarray:
        return a - a.mean(axis=1, keepdims=True) - a.mean(axis=0, keepdims=True) + a.mean()

    import statsmodels.api as sm  # here, not at the top: the CLI imports this module to build its parser (1 s)

    groups = np.repeat(np.arange(len(treated)), len(post))
    fit = sm.OLS(within(y).ravel(), within(d).ravel()[:, None]).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    low, high = fit.conf_int(alpha=1 - level)[0]
    return DidResult(
        float(fit.params[0]), float(fit.bse[0]), float(low), float(high), int(treated.sum()), int((~treated).sum())
    )
