"""The fallback incidence model (pricing.models.incidence has the primary and the contract): LightGBM's Poisson
objective on the incidence features plus the product's training log rate, the trading days as an offset
(init_score), monotone decreasing in price_x. Persistence: JSON and LightGBM's text model. Its own module so that
serving loads it without torch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pricing.models.errors import lightgbm_errors


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
        with lightgbm_errors():
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
        with lightgbm_errors():  # a file LightGBM cannot parse: a model error, so the chain moves on
            model.booster = lgb.Booster(model_file=str(directory / cls.MODEL))
        return model
