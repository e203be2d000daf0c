"""The incidence part of weekly demand: expected order lines per trading day of a product at a list price.

Both models take X = the INCIDENCE_FEATURES of pricing.data.incidence (price_x first) and the product's vocabulary
index (the preprocessor's; 0 = unknown), and predict a rate per trading day; lines per week = rate x the week's
trading days. Persistence: JSON and LightGBM's text model or a torch state_dict read with weights_only=True.

- IncidenceNetwork (primary): log rate = a_j + g(season, trend) - b_j x price_x, with b_j = softplus(b + d_j) > 0
  (demand falls with price by construction), d_j shrunk toward 0 (the pooled slope) by an L2 penalty, a_j a
  per-product level, g a small network of the week. The structural design of the per-line network
  (models/network.py), on product-week counts with the Poisson likelihood. Fitted by
  pricing.training.incidence_fit (serving never imports training code).
- IncidenceLightGBM (fallback, pricing.models.incidence_lightgbm: serving loads it without torch).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pricing.models.arrays import INCIDENCE_ARRAYS, export_state


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
        return [directory / self.CONFIG, directory / self.WEIGHTS, self.export_arrays(directory)]

    def export_arrays(self, directory: Path) -> Path:
        """Write the serving format (pricing.models.arrays) beside the state_dict; returns its path."""
        return export_state(self.module.state_dict(), directory / INCIDENCE_ARRAYS)

    @classmethod
    def load(cls, directory: Path) -> IncidenceNetwork:
        config = json.loads((directory / cls.CONFIG).read_text())
        model = cls(config["n_products"], config["units"], config["slope_shrinkage"])
        model.module.load_state_dict(torch.load(directory / cls.WEIGHTS, weights_only=True))
        model.module.eval()
        model.history = config.get("history", {})
        return model
