"""The fitted preprocessor: scaling, one-hot context and the product vocabulary, stored as JSON.

Fitted on the training split only. It turns feature rows into one float32 matrix, the input every model
takes: scaled numeric columns, one-hot context columns, and the product's vocabulary index as the last
column (0 = a product unknown to training). Plain JSON rather than a pickled scikit-learn transformer: the
bundle holds nothing that runs code when it is read.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from pricing.data.features import CONTEXT_CATEGORICAL, NUMERIC_FEATURES, PRICE_FEATURES, PRODUCT_ID


@dataclass(frozen=True)
class Preprocessor:
    numeric: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    categories: dict[str, tuple[str, ...]]
    products: tuple[str, ...]  # index i + 1 in the product column; 0 is "unknown"

    @classmethod
    def fit(cls, train: pd.DataFrame) -> Preprocessor:
        values = train[list(NUMERIC_FEATURES)].to_numpy(dtype=float)
        scales = values.std(axis=0)
        return cls(
            numeric=tuple(NUMERIC_FEATURES),
            means=tuple(float(v) for v in values.mean(axis=0)),
            scales=tuple(float(s) if s > 0 else 1.0 for s in scales),
            categories={c: tuple(sorted(train[c].astype(str).unique())) for c in CONTEXT_CATEGORICAL},
            products=tuple(sorted(train[PRODUCT_ID].astype(str).unique())),
        )

    # -- layout ------------------------------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        onehot = [f"{c}={v}" for c, values in self.categories.items() for v in values]
        return [*self.numeric, *onehot, PRODUCT_ID]

    @property
    def n_dense(self) -> int:
        return len(self.columns) - 1

    @property
    def n_products(self) -> int:
        return len(self.products) + 1

    @property
    def price_columns(self) -> list[int]:
        return [self.numeric.index(c) for c in PRICE_FEATURES]

    def price_layout(self) -> dict:
        """Where the price sits in the dense input: what the network's loglinear price effect is built from."""
        ratio = self.numeric.index("price_ratio")
        return {"price_columns": tuple(self.price_columns), "ratio_column": ratio, "ratio_scale": self.scales[ratio]}

    # -- transform ---------------------------------------------------------------------------------
    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        n = len(frame)
        out = np.zeros((n, len(self.columns)), dtype=np.float32)
        out[:, : len(self.numeric)] = self.scale(frame[list(self.numeric)].to_numpy(dtype=float))
        col = len(self.numeric)
        for name, values in self.categories.items():
            index = pd.Index(values).get_indexer(frame[name].astype(str))
            known = index >= 0
            out[np.flatnonzero(known), col + index[known]] = 1.0
            col += len(values)
        out[:, -1] = self.product_index(frame[PRODUCT_ID])
        return out

    def scale(self, values: np.ndarray, columns: list[int] | None = None) -> np.ndarray:
        """Standardise numeric values; `columns` picks which numeric features they are (default: all)."""
        pick = slice(None) if columns is None else columns
        return (values - np.asarray(self.means)[pick]) / np.asarray(self.scales)[pick]

    def product_index(self, stockcodes) -> np.ndarray:
        return pd.Index(self.products).get_indexer(pd.Series(stockcodes).astype(str)) + 1

    # -- persistence -------------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Preprocessor:
        raw = json.loads(text)
        return cls(
            numeric=tuple(raw["numeric"]),
            means=tuple(raw["means"]),
            scales=tuple(raw["scales"]),
            categories={k: tuple(v) for k, v in raw["categories"].items()},
            products=tuple(raw["products"]),
        )


def binary_code(product_index: np.ndarray, n_products: int) -> np.ndarray:
    """The product index as its bits (+-1): a compact encoding for models without embeddings."""
    bits = max(1, int(np.ceil(np.log2(max(n_products, 2)))))
    index = np.asarray(product_index, dtype=np.int64)[:, None]
    return (((index >> np.arange(bits)) & 1) * 2 - 1).astype(np.float32)
