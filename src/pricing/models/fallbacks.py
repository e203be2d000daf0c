"""The fallback models: LightGBM, a kernel-approximated SVR and ElasticNet, with the same contract as the
network (`fit(X, y) -> self`, `predict(X)`, `save(dir)`, `load(dir)`), and `from_params(params, context)`, which
builds an unfitted model from tuned parameters the same way for tuning and for the final fit
(pricing.models.registry lists them).

X is the preprocessor's matrix (dense columns, then the product index). LightGBM takes the product index
as a native categorical feature; the linear models take its binary code. Persistence holds no pickle:
LightGBM's own text model, and for the scikit-learn models their fitted numbers as JSON, from which
`predict` is plain numpy.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pricing.data.preprocess import binary_code
from pricing.models.errors import lightgbm_errors

if TYPE_CHECKING:
    from pricing.models.registry import FitContext


def _with_product_bits(X: np.ndarray, n_products: int) -> np.ndarray:
    return np.hstack([X[:, :-1], binary_code(X[:, -1], n_products)])


def _save_json(directory: Path, name: str, payload: dict) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(json.dumps(payload))
    return [directory / name]


def _holdout(X: np.ndarray, y: np.ndarray, seed: int, share: float = 0.1):
    order = np.random.default_rng(seed).permutation(len(X))
    cut = max(1, int(len(X) * share))
    return X[order[cut:]], y[order[cut:]], X[order[:cut]], y[order[:cut]]


# ---- LightGBM ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LightGBMConfig:
    num_leaves: int = 63
    learning_rate: float = 0.05
    min_data_in_leaf: int = 50
    feature_fraction: float = 0.9
    lambda_l2: float = 1.0
    max_rounds: int = 2_000
    early_stopping_rounds: int = 50
    seed: int = 0
    threads: int = 0  # 0: LightGBM's default (all cores)
    # columns of X that grow with the price: predicted quantity may only fall as they rise
    decreasing_columns: tuple[int, ...] = ()


class LightGBMModel:
    """Gradient-boosted trees on X; the product index is a native categorical feature."""

    FILE = "lightgbm.txt"

    def __init__(self, config: LightGBMConfig | None = None, **overrides) -> None:
        self.config = replace(config or LightGBMConfig(), **overrides)
        self.booster = None
        self._thresholds: dict[int, np.ndarray] | None = None

    @classmethod
    def from_params(cls, params: dict, context: FitContext) -> LightGBMModel:
        """Tuned `params` over the defaults; quantity may only fall as `context.price_columns` rise."""
        return cls(LightGBMConfig(seed=context.seed, decreasing_columns=tuple(context.price_columns)), **params)

    def fit(self, X, y, X_val=None, y_val=None) -> LightGBMModel:
        import lightgbm as lgb

        cfg = self.config
        if X_val is None:
            X, y, X_val, y_val = _holdout(X, y, cfg.seed)
        params = {
            "objective": "regression",
            "learning_rate": cfg.learning_rate,
            "num_leaves": cfg.num_leaves,
            "min_data_in_leaf": cfg.min_data_in_leaf,
            "feature_fraction": cfg.feature_fraction,
            "lambda_l2": cfg.lambda_l2,
            "seed": cfg.seed,
            "deterministic": True,
            "verbosity": -1,
            "num_threads": cfg.threads,
            "max_cat_to_onehot": 4,
            "cat_smooth": 10,
        }
        if cfg.decreasing_columns:
            constraints = [0] * X.shape[1]
            for column in cfg.decreasing_columns:
                constraints[column] = -1
            params.update(monotone_constraints=constraints, monotone_constraints_method="advanced")
        product = X.shape[1] - 1
        self._thresholds = None  # the new trees' splits
        train = lgb.Dataset(X, y, categorical_feature=[product], free_raw_data=True)
        valid = lgb.Dataset(X_val, y_val, categorical_feature=[product], reference=train)
        self.booster = lgb.train(
            params,
            train,
            num_boost_round=cfg.max_rounds,
            valid_sets=[valid],
            callbacks=[lgb.early_stopping(cfg.early_stopping_rounds, verbose=False)],
        )
        return self

    def predict(self, X) -> np.ndarray:
        with lightgbm_errors():
            return self.booster.predict(X, num_iteration=self.booster.best_iteration or None)

    def predict_grid(self, contexts: np.ndarray, price_columns: list[int], scaled_prices: np.ndarray) -> np.ndarray:
        """Every context at every price, bin-major, as predict(sweep_matrix(...)), predicting only the rows that
        can differ: a tree reads a numerical feature only through its split thresholds, so two rows whose every
        feature falls between the same thresholds (and with the same product) take the same path in every tree
        and get the same prediction. Bins are grouped by the cells of their prices, contexts by the cells of the
        rest; each distinct (bin cell, context cell) pair is predicted once and copied. On the standard bundle a
        product's 100 bins hold about 34 price cells and its 1,000 contexts about 550 context cells
        (docs/TRAINING.md, "Serving without torch")."""
        prices = np.asarray(scaled_prices)
        rest = [c for c in range(contexts.shape[1]) if c not in price_columns]
        _, first_bin, bin_of = np.unique(
            self._cells(prices, price_columns), axis=0, return_index=True, return_inverse=True
        )
        _, first_row, row_of = np.unique(
            self._cells(contexts[:, rest], rest), axis=0, return_index=True, return_inverse=True
        )
        rows = np.tile(contexts[first_row], (len(first_bin), 1))
        rows[:, price_columns] = np.repeat(prices[first_bin], len(first_row), axis=0)
        distinct = self.predict(rows).reshape(len(first_bin), len(first_row))
        return distinct[bin_of.ravel()][:, row_of.ravel()].reshape(-1)

    def _cells(self, values: np.ndarray, columns: list[int]) -> np.ndarray:
        """(n, len(columns)): each value's cell among its feature's thresholds (a value goes left at x <= t, so the
        count of thresholds strictly below it fixes its path); the product index (categorical) and NaN (the
        missing-value branch) are cells of their own."""
        thresholds = self._split_thresholds()
        product = self.booster.num_feature() - 1
        out = np.empty(values.shape, dtype=np.float64)
        for k, column in enumerate(columns):
            value = values[:, k].astype(np.float64)
            if column == product:
                out[:, k] = value
                continue
            cell = np.searchsorted(thresholds.get(column, np.empty(0)), value).astype(np.float64)
            out[:, k] = np.where(np.isnan(value), -1.0, cell)
        return out

    def _split_thresholds(self) -> dict[int, np.ndarray]:
        """Per feature index, the sorted thresholds of every numerical split the model makes on it (read once
        from the booster's dump)."""
        if self._thresholds is None:
            found: dict[int, set[float]] = {}
            stack = [tree["tree_structure"] for tree in self.booster.dump_model()["tree_info"]]
            while stack:
                node = stack.pop()
                if "split_feature" not in node:
                    continue
                if node.get("decision_type") == "<=":
                    found.setdefault(int(node["split_feature"]), set()).add(float(node["threshold"]))
                stack += [node["left_child"], node["right_child"]]
            self._thresholds = {feature: np.array(sorted(values)) for feature, values in found.items()}
        return self._thresholds

    def save(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(directory / self.FILE), num_iteration=self.booster.best_iteration or None)
        return [directory / self.FILE]

    @classmethod
    def load(cls, directory: Path) -> LightGBMModel:
        import lightgbm as lgb

        model = cls()
        with lightgbm_errors():  # a file LightGBM cannot parse: a model error, so the chain moves on
            model.booster = lgb.Booster(model_file=str(directory / cls.FILE))
        return model


# ---- ElasticNet --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ElasticNetConfig:
    alpha: float = 1e-3
    l1_ratio: float = 0.5
    max_iter: int = 5_000


class ElasticNetModel:
    """A linear model with L1 + L2 penalties on the dense columns and the product's binary code."""

    FILE = "elasticnet.json"

    def __init__(self, config: ElasticNetConfig | None = None, n_products: int | None = None, **overrides) -> None:
        self.config = replace(config or ElasticNetConfig(), **overrides)
        self.n_products = n_products
        self.coef: np.ndarray | None = None
        self.intercept = 0.0

    @classmethod
    def from_params(cls, params: dict, context: FitContext) -> ElasticNetModel:
        """Tuned `params` (alpha, l1_ratio) over the defaults, for `context.n_products` products."""
        return cls(ElasticNetConfig(), context.n_products, **params)

    def fit(self, X, y, X_val=None, y_val=None) -> ElasticNetModel:
        from sklearn.linear_model import ElasticNet

        self.n_products = self.n_products or int(X[:, -1].max()) + 1
        cfg = self.config
        fitted = ElasticNet(
            alpha=cfg.alpha, l1_ratio=cfg.l1_ratio, max_iter=cfg.max_iter, selection="random", random_state=0
        ).fit(_with_product_bits(X, self.n_products), y)
        self.coef, self.intercept = fitted.coef_.astype(np.float64), float(fitted.intercept_)
        return self

    def predict(self, X) -> np.ndarray:
        return _with_product_bits(X, self.n_products) @ self.coef + self.intercept

    def predict_grid(self, contexts: np.ndarray, price_columns: list[int], scaled_prices: np.ndarray) -> np.ndarray:
        """Every context at every price, bin-major, as predict(sweep_matrix(...)): linear, so each context's
        part is computed once and each price's once, then added ((bins, contexts) instead of a tiled matrix)."""
        Z = _with_product_bits(contexts, self.n_products)
        Z[:, price_columns] = 0
        base = Z @ self.coef + self.intercept
        shift = np.asarray(scaled_prices, dtype=float) @ self.coef[price_columns]
        return (shift[:, None] + base[None, :]).reshape(-1)

    def save(self, directory: Path) -> list[Path]:
        return _save_json(
            directory,
            self.FILE,
            {
                "config": asdict(self.config),
                "n_products": self.n_products,
                "coef": self.coef.tolist(),
                "intercept": self.intercept,
            },
        )

    @classmethod
    def load(cls, directory: Path) -> ElasticNetModel:
        payload = json.loads((directory / cls.FILE).read_text())
        model = cls(ElasticNetConfig(**payload["config"]), n_products=payload["n_products"])
        model.coef, model.intercept = np.asarray(payload["coef"]), float(payload["intercept"])
        return model


def _rbf(A: np.ndarray, B: np.ndarray, gamma: float) -> np.ndarray:
    """exp(-gamma |a - b|^2) for every row a of A (n, d) and b of B (m, d): (n, m)."""
    sq = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2 * A @ B.T
    return np.exp(-gamma * np.maximum(sq, 0))


# ---- SVR ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SVRConfig:
    C: float = 1.0
    epsilon: float = 0.1
    gamma: float = 0.02
    components: int = 300  # Nystroem landmarks: the kernel's rank, and predict's cost per row
    max_rows: int = 40_000  # the bounded subsample the SVR sees: keeps it tractable (see docs/TRAINING.md)
    seed: int = 0


class KernelSVRModel:
    """epsilon-SVR with an RBF kernel, approximated by a Nystroem feature map and a linear SVR.

    An exact SVR on ~400k rows is quadratic or worse in time and memory; this fits in seconds on a bounded
    subsample and predicts at the cost of `components` kernel evaluations per row."""

    FILE = "svr.json"

    def __init__(self, config: SVRConfig | None = None, n_products: int | None = None, **overrides) -> None:
        self.config = replace(config or SVRConfig(), **overrides)
        self.n_products = n_products
        self.landmarks = self.normalization = self.coef = None
        self.intercept = 0.0

    @classmethod
    def from_params(cls, params: dict, context: FitContext) -> KernelSVRModel:
        """Tuned `params` (C, epsilon, gamma) over the defaults, seeing at most `context.max_rows` rows."""
        return cls(SVRConfig(max_rows=context.max_rows, seed=context.seed), context.n_products, **params)

    def fit(self, X, y, X_val=None, y_val=None) -> KernelSVRModel:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.kernel_approximation import Nystroem
        from sklearn.svm import LinearSVR

        cfg = self.config
        self.n_products = self.n_products or int(X[:, -1].max()) + 1
        rng = np.random.default_rng(cfg.seed)
        if len(X) > cfg.max_rows:
            pick = rng.choice(len(X), cfg.max_rows, replace=False)
            X, y = X[pick], y[pick]
        self.rows_seen = len(X)
        Z = _with_product_bits(X, self.n_products)
        feature_map = Nystroem(
            kernel="rbf", gamma=cfg.gamma, n_components=min(cfg.components, len(Z)), random_state=cfg.seed
        ).fit(Z)
        svr = LinearSVR(
            C=cfg.C,
            epsilon=cfg.epsilon,
            loss="epsilon_insensitive",
            dual=True,
            max_iter=20_000,
            random_state=cfg.seed,
            tol=1e-4,
        )
        with warnings.catch_warnings():
            # stopping at max_iter leaves a usable fit: tuning scores it by cross-validation like any other,
            # and a warning per call would bury the progress bars
            warnings.simplefilter("ignore", ConvergenceWarning)
            svr.fit(feature_map.transform(Z), y)
        self.landmarks = feature_map.components_.astype(np.float64)  # as JSON will give them back
        self.normalization = feature_map.normalization_.astype(np.float64)
        self.coef, self.intercept = svr.coef_.astype(np.float64), float(np.ravel(svr.intercept_)[0])
        return self

    def predict(self, X, batch: int = 50_000) -> np.ndarray:
        out = np.empty(len(X))
        for start in range(0, len(X), batch):
            Z = _with_product_bits(X[start : start + batch], self.n_products).astype(np.float64)
            features = _rbf(Z, self.landmarks, self.config.gamma) @ self.normalization.T
            out[start : start + batch] = features @ self.coef + self.intercept
        return out

    def predict_grid(self, contexts: np.ndarray, price_columns: list[int], scaled_prices: np.ndarray) -> np.ndarray:
        """Every context at every price, bin-major, as predict(sweep_matrix(...)), without the tiled matrix: the
        RBF kernel of a row and a landmark factors into a context part and a price part,
            exp(-g |x - l|^2) = exp(-g |c - l_c|^2) x exp(-g |p - l_p|^2),
        so prediction(b, j) = sum_l Kc[j, l] Kp[b, l] w_l + intercept with w = normalization' coef: one
        (bins, landmarks) x (landmarks, contexts) product instead of bins x contexts kernel rows."""
        Z = _with_product_bits(contexts, self.n_products).astype(np.float64)
        rest = np.setdiff1d(np.arange(Z.shape[1]), price_columns)
        context_kernel = _rbf(Z[:, rest], self.landmarks[:, rest], self.config.gamma)
        price_kernel = _rbf(
            np.asarray(scaled_prices, dtype=np.float64), self.landmarks[:, price_columns], self.config.gamma
        )
        weights = self.normalization.T @ self.coef
        return ((price_kernel * weights) @ context_kernel.T).reshape(-1) + self.intercept

    def save(self, directory: Path) -> list[Path]:
        return _save_json(
            directory,
            self.FILE,
            {
                "config": asdict(self.config),
                "n_products": self.n_products,
                "landmarks": self.landmarks.tolist(),
                "normalization": self.normalization.tolist(),
                "coef": self.coef.tolist(),
                "intercept": self.intercept,
            },
        )

    @classmethod
    def load(cls, directory: Path) -> KernelSVRModel:
        payload = json.loads((directory / cls.FILE).read_text())
        model = cls(SVRConfig(**payload["config"]), n_products=payload["n_products"])
        model.landmarks = np.asarray(payload["landmarks"])
        model.normalization = np.asarray(payload["normalization"])
        model.coef, model.intercept = np.asarray(payload["coef"]), float(payload["intercept"])
        return model
