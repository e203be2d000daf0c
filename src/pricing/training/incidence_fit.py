"""Training the incidence part (order lines per week at a list price) on product-week counts.

`fit_incidence` builds the weekly tables of the train, val and test splits (pricing.data.incidence, the code
serving uses), fits the network (primary) and LightGBM (fallback), scores both on the test weeks with the
Poisson deviance against a product's mean rate, and returns them with the reference weeks serving averages over.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pricing.data import incidence as I
from pricing.data.preprocess import Preprocessor
from pricing.models.incidence import IncidenceNetwork
from pricing.models.incidence_lightgbm import IncidenceLightGBM
from pricing.training.lines import PreparedLines


@dataclass
class WeeklySplit:
    """One split's product-week rows: features (n, 4), product index (n,), lines (n,), trading days (n,)."""

    X: np.ndarray
    product: np.ndarray
    lines: np.ndarray
    days: np.ndarray


def weekly_splits(
    data_dir: Path, products: pd.DataFrame, preprocessor: Preprocessor, first_week: pd.Timestamp
) -> tuple[dict[str, WeeklySplit], I.ReferenceWeeks]:
    """The weekly tables of every split of `data_dir`, as model inputs, and the test split's weeks as the reference
    weeks. Each split's weeks read its own lines' price ladder (`incidence.weekly_table` given the product codes
    only), a group of products at a time (pricing.training.lines.PreparedLines); `first_week`: the Monday of the
    training split's first week (the trend's origin)."""
    splits, reference = {}, None
    for name in ("train", "val", "test"):
        lines = PreparedLines(data_dir, [name])
        weekly = lines.weekly(first_week, lines.ladder())
        weekly = weekly[weekly["stockcode"].isin(products.index)].reset_index(drop=True)
        features, week_mean = I.training_features(weekly, products)
        splits[name] = WeeklySplit(
            features.to_numpy(dtype=np.float32),
            preprocessor.product_index(weekly["stockcode"]).astype(np.int64),
            weekly["lines"].to_numpy(dtype=float),
            weekly["trading_days"].to_numpy(dtype=float),
        )
        if name == "test":
            reference = I.reference_weeks(weekly, week_mean)
    return splits, reference


def product_log_rate(split: WeeklySplit, n_products: int) -> np.ndarray:
    """log(lines per trading day) of each product over the split, (n_products,); unknown products: the mean."""
    lines = np.bincount(split.product, split.lines, minlength=n_products)
    days = np.bincount(split.product, split.days, minlength=n_products)
    overall = np.log(lines.sum() / days.sum())
    return np.where(days > 0, np.log((lines + 0.5) / np.maximum(days, 1e-9)), overall)


def fit_incidence_network(
    train: WeeklySplit,
    val: WeeklySplit,
    n_products: int,
    seed: int = 0,
    epochs: int = 60,
    batch_size: int = 4096,
    learning_rate: float = 0.02,
    slope_shrinkage: float = 1.0,
    patience: int = 5,
) -> IncidenceNetwork:
    """Poisson likelihood of the weekly counts (exposure: trading days) plus slope_shrinkage x mean squared slope
    deviation; Adam; the epoch with the lowest validation deviance is kept."""
    torch.manual_seed(seed)
    model = IncidenceNetwork(n_products, slope_shrinkage=slope_shrinkage)
    module = model.module
    with torch.no_grad():
        module.level.weight[:, 0] = torch.as_tensor(product_log_rate(train, n_products), dtype=torch.float32)
        module.pooled_slope.fill_(0.5413)  # softplus(0.5413) = 1: a pooled elasticity of -1 to start from
    tensors = [torch.tensor(a) for a in (train.X, train.product, train.lines, np.log(train.days))]
    optimizer = torch.optim.Adam(module.parameters(), lr=learning_rate)
    generator = torch.Generator().manual_seed(seed)
    best, best_state, waited, history = np.inf, None, 0, []
    for _ in range(epochs):
        module.train()
        for rows in torch.randperm(len(train.lines), generator=generator).split(batch_size):
            X, product, lines, log_days = (t[rows] for t in tensors)
            log_mu = module(X[:, 0], X[:, 1:], product) + log_days.float()
            deviation = module.slope_deviation(product).squeeze(-1)
            loss = (torch.exp(log_mu) - lines.float() * log_mu).mean() + slope_shrinkage * (deviation**2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        module.eval()
        score = poisson_deviance(val.lines, model.predict_rate(val.X, val.product) * val.days)
        history.append(round(score, 5))
        if score < best - 1e-6:
            best, waited = score, 0
            best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        else:
            waited += 1
            if waited >= patience:
                break
    module.load_state_dict(best_state)
    model.history = {"val_deviance": history, "best_epoch": int(np.argmin(history))}
    return model


def poisson_deviance(counts: np.ndarray, expected: np.ndarray) -> float:
    """Mean Poisson deviance of counts (n,) against their expectations (n,)."""
    counts, expected = np.asarray(counts, float), np.maximum(np.asarray(expected, float), 1e-12)
    term = np.where(counts > 0, counts * np.log(np.where(counts > 0, counts, 1.0) / expected), 0.0)
    return float(2 * np.mean(term - (counts - expected)))


def fit_incidence(
    data_dir: Path, products: pd.DataFrame, preprocessor: Preprocessor, first_week: pd.Timestamp, seed: int = 0
) -> tuple[dict[str, object], dict, I.ReferenceWeeks, WeeklySplit]:
    """Both incidence models, their test-week metrics (deviance; the network's pooled elasticity), the
    reference weeks and the training weeks (for the slopes' uncertainty, pricing.training.evidence), from the
    prepared lines of `data_dir` (`weekly_splits`)."""
    splits, reference = weekly_splits(data_dir, products, preprocessor, first_week)
    n_products = preprocessor.n_products
    train, val, test = splits["train"], splits["val"], splits["test"]
    network = fit_incidence_network(train, val, n_products, seed=seed)
    lightgbm = IncidenceLightGBM(product_log_rate(train, n_products), seed=seed).fit(
        train.X, train.product, train.lines, train.days, val.X, val.product, val.lines, val.days
    )
    baseline = np.exp(product_log_rate(train, n_products))[test.product] * test.days
    models = {"incidence_network": network, "incidence_lightgbm": lightgbm}
    metrics = {
        name: {
            "poisson_deviance": round(poisson_deviance(test.lines, m.predict_rate(test.X, test.product) * test.days), 4)
        }
        for name, m in models.items()
    }
    metrics["baseline"] = {"poisson_deviance": round(poisson_deviance(test.lines, baseline), 4)}
    metrics["incidence_network"]["pooled_elasticity"] = round(network.pooled_slope(), 3)
    metrics["weeks"] = {name: len(s.lines) for name, s in splits.items()}
    return models, metrics, reference, train
