"""Evaluation metrics on the held-out split, and the naive baseline every model must beat."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pricing.data.features import log_quantity, quantity_from_log

METRICS = ("mse_log", "rmsle", "mae", "poisson_deviance")
# What each metric rewards. Printed under every metrics table: the network predicts the mean quantity per line
# (its loss is the Poisson deviance), and a quantity per line is skewed (most lines take a few units, some
# hundreds), so its mean lies well above its median and above exp(E[log1p q]) - 1. Scored on its mean, the
# network can lose MSE (log) and MAE to the median baseline while predicting the mean better than any model.
METRIC_NOTES = {
    "mse_log": "squared error of log1p(quantity): minimised by E[log1p q], a typical line, not the mean",
    "rmsle": "the same on the quantity scale: it rewards a typical line, not the mean",
    "mae": "absolute error in units: minimised by the median quantity, which lies below the mean of a skewed quantity",
    "poisson_deviance": "scores a predicted mean quantity per line: the network's own loss, and the quantity a "
    "revenue optimum (price x mean quantity) depends on",
}
METRIC_TABLE_NOTE = (
    "Lower is better. Poisson deviance scores the mean quantity per line, the quantity pricing needs and the "
    "network's target; MSE (log), RMSLE and MAE reward a typical (median-like) line, which the baseline (each "
    "product's median quantity) and the squared-error fallbacks predict, so a mean model can lose them to the "
    "baseline by construction."
)


def regression_metrics(log_true: np.ndarray, log_pred: np.ndarray) -> dict[str, float]:
    """MSE on log1p(quantity); RMSLE, MAE and mean Poisson deviance on quantities (predictions clipped at zero
    units). The deviance scores a predicted mean quantity, which is what the Poisson-trained network gives;
    MSE on log1p scores E[log1p q], what the squared-error models give."""
    log_true = np.asarray(log_true, dtype=float)
    log_pred = np.asarray(log_pred, dtype=float)
    q_true = quantity_from_log(log_true)
    q_pred = np.clip(quantity_from_log(log_pred), 0, None)
    return {
        "mse_log": float(np.mean((log_pred - log_true) ** 2)),
        "rmsle": float(np.sqrt(np.mean((np.log1p(q_pred) - np.log1p(q_true)) ** 2))),
        "mae": float(np.mean(np.abs(q_pred - q_true))),
        "poisson_deviance": poisson_deviance(q_true, q_pred),
    }


def poisson_deviance(q_true: np.ndarray, q_pred: np.ndarray) -> float:
    mean = np.maximum(q_pred, 1e-9)
    ratio_term = np.where(q_true > 0, q_true * np.log(np.maximum(q_true, 1e-300) / mean), 0.0)
    return float(np.mean(2 * (ratio_term - (q_true - mean))))


class MedianQuantityBaseline:
    """Predicts each product's median quantity in the training window (the overall median for others)."""

    def fit(self, train: pd.DataFrame) -> MedianQuantityBaseline:
        self.medians = train.groupby("stockcode")["quantity"].median()
        self.overall = float(train["quantity"].median())
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        medians = self.medians.reindex(frame["stockcode"]).fillna(self.overall).to_numpy()
        return log_quantity(medians)
