"""Evaluation metrics on the held-out split, and the naive baseline every model must beat."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pricing.data.features import log_quantity, quantity_from_log

METRICS = ("mse_log", "rmsle", "mae", "poisson_deviance")


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
