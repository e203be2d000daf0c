"""The incidence part of weekly demand: expected order lines per trading day of a product at a list price.

Both models take X = the INCIDENCE_FEATURES of pricing.data.incidence (price_x first) and the product's vocabulary
index (the preprocessor's; 0 = unknown), and predict a rate per trading day; lines per week = rate x the week's
trading days. Persistence: JSON and LightGBM's text model or a torch state_dict read with weights_only=True.

- IncidenceNetwork (primary): log rate = a_j + g(season, trend) - b_j x price_x, with b_j = softplus(b + d_j) > 0
  (demand falls with price by construction), d_j shrunk toward 0 (the pooled slope) by an L2 penalty, a_j a
  per-product level, g a small network of the week. The structural design of the per-line network
  (models/network.py), on product-week counts with the Poisson likelihood. Fitted by
  pricing.training.incidence_fit (serving never imports training code).
- IncidenceLightGBM (fallback): LightGBM's Poisson objective on the same features plus the product's training log
  rate, the trading days as an offset (init_score), monotone decreasing in price_x.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn


class IncidenceModule(nn.Module):
    """log rate per trading day (n,) from price_x (n,), context (n, 3) and product index (n,)."""

    def __init__(self, n_products: int, units: int = 16) -> None:
        super().__init__()
        self.level = nn.Embedding(n_products, 1)
        self.slope_deviation = nn.Embedding(n_products, 1)
        nn.init.zeros_(self.slope_deviation.weight)
        self.pooled_slope = nn.Parameter(torch.tensor(0.0))
        self.context = nn.Sequential(nn.Linear(3, units), nn.Tanh(), nn.Linear(units, 1))
        nn.init.zeros_(self.context[2].weight)
        nn.init.zeros_(self.context[2].bias)

    def slope(self, product: torch.Tensor) -> torch.Tensor:
        return nn.functional.softplus(self.pooled_slope + self.slope_deviation(product).squeeze(-1))

    def forward(self, price_x: torch.Tensor, context: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        level = self.level(product).squeeze(-1)
        return level + self.context(context).squeeze(-1) - self.slope(product) * price_x


class IncidenceNetwork:
    """The primary incidence model; `predict_rate(X, product) -> (n,)` order lines per trading day."""

    WEIGHTS, CONFIG = "incidence.pt", "incidence.json"

    def __init__(self, n_products: int, units: int = 16, slope_shrinkage: float = 1.0) -> None:
        self.n_products, self.units, self.slope_shrinkage = n_products, units, slope_shrinkage
        self.module = IncidenceModule(n_products, units)
        self.history: dict = {}

    def predict_rate(self, X: np.ndarray, product: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            X = torch.from_numpy(np.array(X, dtype=np.float32))  # a copy: serving's arrays may be read-only
            index = torch.as_tensor(np.clip(np.asarray(product, dtype=np.int64), 0, self.n_products - 1))
            return torch.exp(self.module(X[:, 0], X[:, 1:], index)).numpy().astype(float)

    def pooled_slope(self) -> float:
        """The pooled elasticity of lines to the list price: -softplus(b) (per unit of log price)."""
        return -float(nn.functional.softplus(self.module.pooled_slope.detach()))

    def save(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        torch.save(self.module.state_dict(), directory / self.WEIGHTS)
        config = {"n_products": self.n_products, "units": self.units, "slope_shrinkage": self.slope_shrinkage}
        (directory / self.CONFIG).write_text(json.dumps({**config, "history": self.history}))
        return [directory / self.CONFIG, directory / self.WEIGHTS]

    @classmethod
    def load(cls, directory: Path) -> IncidenceNetwork:
        config = json.loads((directory / cls.CONFIG).read_text())
        model = cls(config["n_products"], config["units"], config["slope_shrinkage"])
        model.module.load_state_dict(torch.load(directory / cls.WEIGHTS, weights_only=True))
        model.module.eval()
        model.history = config.get("history", {})
        return model


class IncidenceLightGBM:
    """The fallback incidence model: LightGBM, Poisson objective, decreasing in price_x by a monotone constraint."""

    MODEL, CONFIG = "incidence_lightgbm.txt", "incidence_lightgbm.json"

    def __init__(self, product_log_rate: np.ndarray, rounds: int = 400, num_leaves: int = 31, seed: int = 0) -> None:
        self.product_log_rate = np.asarray(product_log_rate, dtype=float)  # (n_products,), by vocabulary index
        self.rounds, self.num_leaves, self.seed = rounds, num_leaves, seed
        self.booster = None

    def _matrix(self, X: np.ndarray, product: np.ndarray) -> np.ndarray:
        index = np.clip(np.asarray(product, dtype=np.int64), 0, len(self.product_log_rate) - 1)
        return np.column_stack([np.asarray(X, dtype=float), self.product_log_rate[index]])

    def fit(self, X, product, lines, days, X_val=None, product_val=None, lines_val=None, days_val=None):
        """Fit on weekly counts `lines` (n,) with exposure `days` (n,); early stopping on the validation weeks."""
        import lightgbm as lgb

        params = {
            "objective": "poisson",
            "num_leaves": self.num_leaves,
            "learning_rate": 0.05,
            "min_data_in_leaf": 50,
            "monotone_constraints": [-1, 0, 0, 0, 0],
            "monotone_constraints_method": "advanced",
            "seed": self.seed,
            "verbose": -1,
            "num_threads": 0,
        }
        train = lgb.Dataset(self._matrix(X, product), np.asarray(lines, float), init_score=np.log(days))
        valid, callbacks = [], []
        if X_val is not None:
            valid = [
                lgb.Dataset(self._matrix(X_val, product_val), np.asarray(lines_val, float), init_score=np.log(days_val))
            ]
            callbacks = [lgb.early_stopping(30, verbose=False)]
        self.booster = lgb.train(params, train, self.rounds, valid_sets=valid, callbacks=callbacks)
        return self

    def predict_rate(self, X: np.ndarray, product: np.ndarray) -> np.ndarray:
        return np.exp(self.booster.predict(self._matrix(X, product), raw_score=True))

    def save(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(directory / self.MODEL))
        config = {"rounds": self.rounds, "num_leaves": self.num_leaves, "seed": self.seed}
        (directory / self.CONFIG).write_text(json.dumps({**config, "product_log_rate": self.product_log_rate.tolist()}))
        return [directory / self.CONFIG, directory / self.MODEL]

    @classmethod
    def load(cls, directory: Path) -> IncidenceLightGBM:
        import lightgbm as lgb

        config = json.loads((directory / cls.CONFIG).read_text())
        model = cls(np.asarray(config["product_log_rate"]), config["rounds"], config["num_leaves"], config["seed"])
        model.booster = lgb.Booster(model_file=str(directory / cls.MODEL))
        return model
