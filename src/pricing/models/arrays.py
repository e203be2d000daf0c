"""The networks' serving format: their weights as NumPy arrays and a NumPy forward pass, so that serving never
imports torch (issue: Lambda cold start).

Training stays in PyTorch. When a network is saved (pricing.models.network.DFNRegressor.save,
pricing.models.incidence.IncidenceNetwork.save), its inference-ready weights (batch norms folded into the linear
layers, dropout gone) are also written as an `.npz` archive beside the torch state_dict, and the bundle's manifest
lists it with its checksum like any file. `np.load(..., allow_pickle=False)` reads it: plain arrays, no code.

The forward passes here are the torch modules' own, written again in NumPy (float32, as torch computes them), and
`tests/unit/models/test_arrays.py` holds them equal to torch's within 1e-5 relative. A model folder without the
archive (a bundle written before it) loads the torch class instead (pricing.models.loaders).

Why NumPy rather than ONNX Runtime: the networks are a few small matrix products, an embedding lookup and a
ReLU; NumPy is already imported by everything serving does, while onnxruntime is another 40+ MB wheel and
session start-up for the same products (docs/TRAINING.md, "Serving without torch", has the measurements).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pricing.data.preprocess import binary_code

NETWORK_ARRAYS = "network.npz"
INCIDENCE_ARRAYS = "incidence.npz"


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0, out=x)


class ArrayDFN:
    """One per-line network (pricing.models.network.DFNNetwork after fold_for_inference) as arrays.

    Inputs as the torch module's: dense (n, n_dense) float32 scaled columns and product (n,) int64 vocabulary
    indices. Outputs (n,) on the loss's scale (log1p(quantity) for mse, log E[quantity] for poisson)."""

    def __init__(self, arrays: dict[str, np.ndarray], config: dict, n_products: int) -> None:
        self.encoding = config["product_encoding"]
        self.price_effect = config["price_effect"]
        self.n_products = n_products
        self.product = arrays.get("product.weight")
        layers = sorted(
            int(key.split(".")[1]) for key in arrays if key.startswith("hidden.") and key.endswith("weight")
        )
        # (in, out) weights, so a layer is x @ W + b
        self.hidden = [(arrays[f"hidden.{i}.weight"].T.copy(), arrays[f"hidden.{i}.bias"]) for i in layers]
        self.out = (arrays["out.weight"].T.copy(), arrays["out.bias"])
        if self.price_effect == "loglinear":
            self.body_columns = arrays["body_columns"]
            self.ratio_column = config["ratio_column"]
            self.ratio_scale = config["ratio_scale"]
            self.log_slope = float(arrays["log_slope"])
            self.slope_deviation = arrays["slope_deviation.weight"][:, 0]
            self.ratio_product = arrays["ratio_product.weight"]
            self.ratio_model = [
                (arrays[f"ratio_model.{i}.weight"].T.copy(), arrays[f"ratio_model.{i}.bias"]) for i in (0, 2)
            ]

    def first_layer(self, dense: np.ndarray, product: np.ndarray) -> np.ndarray:
        """The first hidden layer's pre-activation (n, width): linear in `dense`."""
        if self.encoding == "embedding":
            x = np.concatenate([dense, self.product[product]], axis=1)
        elif self.encoding == "binary":
            x = np.concatenate([dense, binary_code(product, self.n_products)], axis=1)
        else:
            x = dense
        weight, bias = self.hidden[0]
        z = x @ weight + bias
        return z + self.product[product] if self.encoding == "onehot" else z

    def after_first(self, z: np.ndarray) -> np.ndarray:
        """The rest of the body from the first layer's pre-activation z (n, width): outputs (n,)."""
        z = _relu(z)
        for weight, bias in self.hidden[1:]:
            z = _relu(z @ weight + bias)
        weight, bias = self.out
        return (z @ weight + bias)[:, 0]

    def forward(self, dense: np.ndarray, product: np.ndarray) -> np.ndarray:
        """Outputs (n,) on the loss's scale for dense (n, n_dense) float32 and product (n,) int64."""
        if self.price_effect == "free":
            return self.after_first(self.first_layer(dense, product))
        return self.log_mean_at_ratio(dense, product, dense[:, self.ratio_column])

    def log_mean_at_ratio(self, dense: np.ndarray, product: np.ndarray, ratio: np.ndarray) -> np.ndarray:
        """loglinear: log E[quantity per line] (n,) at the standardised price / median `ratio` (n,)."""
        residual = (ratio - self.expected_ratio(dense, product)) * np.float32(self.ratio_scale)
        return self.body(dense, product) - self.slope(product) * residual

    def body(self, dense: np.ndarray, product: np.ndarray) -> np.ndarray:
        """loglinear: log E[quantity per line] (n,) at the ratio the context usually gets, from all but the price."""
        return self.after_first(self.first_layer(dense * self.body_columns, product))

    def expected_ratio(self, dense: np.ndarray, product: np.ndarray) -> np.ndarray:
        """loglinear: E[standardised price / median | context, product] (n,)."""
        inputs = np.concatenate([dense * self.body_columns, self.ratio_product[product]], axis=1)
        (w1, b1), (w2, b2) = self.ratio_model
        return (_relu(inputs @ w1 + b1) @ w2 + b2)[:, 0]

    def slope(self, product: np.ndarray) -> np.ndarray:
        """Each product's slope of log E[q] on the standardised price / median (positive)."""
        return np.exp(np.float32(self.log_slope) + self.slope_deviation[product])


class ArrayDFNRegressor:
    """The serving twin of pricing.models.network.DFNRegressor: predict(X), predict_grid(...), the same outputs
    (log1p(quantity), (n,)) from the exported arrays. `network` is the ArrayDFN (what the evidence code reads)."""

    def __init__(self, network: ArrayDFN, loss: str, max_log_quantity: float | None) -> None:
        self.network, self.loss, self.max_log_quantity = network, loss, max_log_quantity

    @classmethod
    def load(cls, directory: Path) -> ArrayDFNRegressor:
        """Read network.json and network.npz (no pickle); OSError or KeyError for a folder without them."""
        architecture = json.loads((directory / "network.json").read_text())
        with np.load(directory / NETWORK_ARRAYS, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
        config = architecture["config"]
        network = ArrayDFN(arrays, config, architecture["n_products"])
        return cls(network, config["loss"], architecture.get("max_log_quantity"))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """(n,) log1p(quantity per order line) for X (n, n_dense + 1): dense columns, then the product index."""
        dense, product = _split(X)
        return self._to_target(self.network.forward(dense, product))

    def predict_grid(
        self, contexts: np.ndarray, price_columns: list[int], scaled_prices: np.ndarray, chunk_rows: int = 16_384
    ) -> np.ndarray:
        """Every context at every price, bin-major (bins * contexts,): as DFNRegressor.predict_grid."""
        network = self.network
        dense, product = _split(contexts)
        dense[:, price_columns] = 0
        if network.price_effect == "loglinear":
            ratio = np.asarray(scaled_prices[:, price_columns.index(network.ratio_column)], dtype=np.float32)
            level = network.log_mean_at_ratio(dense, product, np.zeros(len(dense), dtype=np.float32))
            shift = network.slope(product) * np.float32(network.ratio_scale)
            return self._to_target((level[None, :] - ratio[:, None] * shift[None, :]).reshape(-1))
        base = network.first_layer(dense, product)
        weight = network.hidden[0][0][price_columns, :]  # (price columns, width)
        shift = np.asarray(scaled_prices, dtype=np.float32) @ weight
        step = max(1, chunk_rows // max(len(base), 1))
        parts = [
            network.after_first((shift[i : i + step, None, :] + base[None, :, :]).reshape(-1, base.shape[1]))
            for i in range(0, len(shift), step)
        ]
        return self._to_target(np.concatenate(parts))

    def _to_target(self, outputs: np.ndarray) -> np.ndarray:
        outputs = outputs.astype(np.float64)
        target = np.logaddexp(0.0, outputs) if self.loss == "poisson" else outputs
        return target if self.max_log_quantity is None else np.minimum(target, self.max_log_quantity)


class ArrayDFNEnsemble:
    """The serving twin of pricing.models.network.DFNEnsemble: members' mean quantities."""

    def __init__(self, members: list[ArrayDFNRegressor]) -> None:
        self.members = members

    def predict(self, X: np.ndarray) -> np.ndarray:
        """(n,) log1p of the members' mean quantity per order line."""
        return mean_of_quantities([member.predict(X) for member in self.members])

    def predict_grid(self, contexts: np.ndarray, price_columns: list[int], scaled_prices: np.ndarray) -> np.ndarray:
        """(bins * contexts,) bin-major, the members' mean quantity per line (log1p), as DFNEnsemble.predict_grid."""
        return mean_of_quantities([m.predict_grid(contexts, price_columns, scaled_prices) for m in self.members])


def mean_of_quantities(log_quantities: list[np.ndarray]) -> np.ndarray:
    """Average on the quantity scale (the mean of means), back on the target's log1p scale."""
    return np.log1p(np.mean([np.expm1(q) for q in log_quantities], axis=0))


def _split(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """X (n, n_dense + 1) as float32 dense columns (a copy) and int64 product indices, as as_tensors does."""
    return np.array(X[:, :-1], dtype=np.float32), X[:, -1].astype(np.int64)


class ArrayIncidenceNetwork:
    """The serving twin of pricing.models.incidence.IncidenceNetwork: predict_rate(X, product) -> (n,) order
    lines per trading day, log rate = a_j + g(context) - softplus(b + d_j) x price_x."""

    def __init__(self, arrays: dict[str, np.ndarray], n_products: int) -> None:
        self.n_products = n_products
        self.level = arrays["level.weight"][:, 0]
        self.slope_deviation = arrays["slope_deviation.weight"][:, 0]
        self.pooled = np.float32(arrays["pooled_slope"])
        self.context = [(arrays[f"context.{i}.weight"].T.copy(), arrays[f"context.{i}.bias"]) for i in (0, 2)]

    @classmethod
    def load(cls, directory: Path) -> ArrayIncidenceNetwork:
        config = json.loads((directory / "incidence.json").read_text())
        with np.load(directory / INCIDENCE_ARRAYS, allow_pickle=False) as archive:
            return cls({key: archive[key] for key in archive.files}, config["n_products"])

    def slope(self, product: np.ndarray) -> np.ndarray:
        """Each product's slope b_j > 0 (n,): log lines per day per unit of the price term."""
        return np.logaddexp(np.float32(0.0), self.pooled + self.slope_deviation[product])  # softplus

    def predict_rate(self, X: np.ndarray, product: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        index = np.clip(np.asarray(product, dtype=np.int64), 0, self.n_products - 1)
        (w1, b1), (w2, b2) = self.context
        context = (np.tanh(X[:, 1:] @ w1 + b1) @ w2 + b2)[:, 0]
        log_rate = self.level[index] + context - self.slope(index) * X[:, 0]
        return np.exp(log_rate).astype(float)


def export_state(state: dict, path: Path) -> Path:
    """Write a torch state_dict's tensors as an .npz archive of float32 / int64 arrays (keys as in the dict)."""
    np.savez(path, **{key: value.detach().cpu().numpy() for key, value in state.items()})
    return path
