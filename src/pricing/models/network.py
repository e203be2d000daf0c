"""The primary model as serving loads it: a PyTorch feed-forward network, `predict(X)`, `save`, `load`.

X is the preprocessor's matrix: dense columns, then the product's vocabulary index. The product enters
through `product_encoding`: a learned embedding, its binary code, or one-hot (done as an embedding as wide as
the first layer, which is exactly a linear layer on the one-hot vector without materialising it).
Persistence is a state_dict (read back with `weights_only=True`) plus the architecture as JSON.

This module is what serving needs (the config, the network, predict, save and load). Training adds `fit` in
pricing.training.network_fit (TrainableDFNRegressor, TrainableDFNEnsemble: subclasses of the two classes here,
with the estimator contract's fit(X, y) -> self), so this module never refers to training code and the import
picture has no cycle.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pricing.data.preprocess import binary_code
from pricing.models.arrays import NETWORK_ARRAYS, export_state, mean_of_quantities

OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd", "radam")
ENCODINGS = ("embedding", "binary", "onehot")
# "mse": squared error on log1p(quantity), whose optimum is E[log1p q], a biased stand-in for the mean.
# "poisson": the network's output is log E[q] and the loss the Poisson deviance on the quantity itself, so the
# price slope it learns is that of the mean quantity, the slope a revenue optimum depends on.
LOSSES = ("mse", "poisson")
# "free": price columns enter the network like any other input, so the price effect has any shape the data
# and the regularisation leave it; in practice it is flattened toward "price does not matter" and a flat
# predicted curve peaks at the edge of the range.
# "loglinear": log E[q] = g(context, product) - slope(product) * (r - m(context, product)), r = price / median.
# The body g never sees a price column; each product's slope is exp(pooled + deviation), the deviation shrunk
# toward the pooled slope (not toward zero: a product with little price variation gets the typical slope, not a
# flat curve). m is a small network of its own predicting r from the same inputs (squared error, fitted first,
# then frozen): the slope is read from the price variation the context does not explain, so whatever the body
# fails to learn of a confounder (wholesale customers pay less and buy more) does not leak into it (the
# partialling-out of double machine learning). Demand falls with price by construction; the revenue optimum
# is median / slope.
PRICE_EFFECTS = ("free", "loglinear")
RATIO_EMBEDDING, RATIO_UNITS = 8, 32  # m's product embedding and hidden width: r's mean given context is simple


@dataclass(frozen=True)
class DFNConfig:
    """The network's architecture and training settings; invalid combinations raise ValueError on creation."""

    units: tuple[int, ...] = (256, 128, 64)  # one entry per hidden layer
    dropout: float = 0.1
    batch_norm: bool = True
    product_encoding: str = "embedding"
    embedding_dim: int = 16
    optimizer: str = "adamw"
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    batch_size: int = 1024
    max_epochs: int = 40
    patience: int = 4
    min_delta: float = 1e-4
    grad_clip: float = 1.0
    loss: str = "mse"
    price_effect: str = "free"
    # loglinear: the squared deviation of a product's log slope from the pooled one costs as much as this many
    # training rows' mean loss (a Gaussian prior; larger = closer to the pooled slope)
    slope_shrinkage: float = 3_000.0
    # the input layout the loglinear effect needs (set from the preprocessor): every price column of the dense
    # input, the standardised price / median column and its scale
    price_columns: tuple[int, ...] = ()
    ratio_column: int = -1
    ratio_scale: float = 1.0
    seed: int = 0
    time_limit_s: float | None = None  # stop after the epoch that crosses it

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.product_encoding not in ENCODINGS:
            raise ValueError(f"product_encoding must be one of {ENCODINGS}, got {self.product_encoding!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if not self.units:
            raise ValueError("the network needs at least one hidden layer")
        if self.price_effect not in PRICE_EFFECTS:
            raise ValueError(f"price_effect must be one of {PRICE_EFFECTS}, got {self.price_effect!r}")
        if self.price_effect == "loglinear" and self.ratio_column not in self.price_columns:
            raise ValueError("a loglinear price effect needs price_columns and the ratio_column among them")

    @classmethod
    def from_dict(cls, raw: dict) -> DFNConfig:
        raw = dict(raw)
        raw["units"] = tuple(raw["units"])
        raw["price_columns"] = tuple(raw.get("price_columns", ()))
        return cls(**raw)


class DFNNetwork(nn.Module):
    """The torch module: (dense (n, n_dense) float32, product (n,) int64) -> (n,) outputs, log1p(quantity) for
    the "mse" loss and log E[quantity] for "poisson"."""

    def __init__(self, n_dense: int, n_products: int, config: DFNConfig) -> None:
        super().__init__()
        self.encoding = config.product_encoding
        self.n_products = n_products
        first = config.units[0]
        if self.encoding == "embedding":
            self.product = nn.Embedding(n_products, config.embedding_dim)
            n_in = n_dense + config.embedding_dim
        elif self.encoding == "binary":
            self.product = None
            n_in = n_dense + binary_code(np.zeros(1), n_products).shape[1]
        else:  # onehot: its first-layer weights, looked up instead of multiplied
            self.product = nn.Embedding(n_products, first)
            nn.init.zeros_(self.product.weight)
            n_in = n_dense
        layers: list[nn.Module] = []
        for width in config.units:
            layers.append(nn.Linear(n_in, width))
            if config.batch_norm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(nn.ReLU())
            if config.dropout > 0:
                layers.append(nn.Dropout(config.dropout))
            n_in = width
        self.hidden = nn.ModuleList(layers)
        self.out = nn.Linear(n_in, 1)
        self.price_effect = config.price_effect
        if self.price_effect == "loglinear":
            keep = torch.ones(n_dense)
            keep[list(config.price_columns)] = 0
            self.register_buffer("body_columns", keep)  # the body sees no price
            self.ratio_column = config.ratio_column
            self.ratio_scale = config.ratio_scale
            self.log_slope = nn.Parameter(torch.zeros(()))  # slope 1: revenue peaks at the median price
            self.slope_deviation = nn.Embedding(n_products, 1)
            nn.init.zeros_(self.slope_deviation.weight)  # index 0 (unknown products) keeps the pooled slope
            self.ratio_product = nn.Embedding(n_products, RATIO_EMBEDDING)
            self.ratio_model = nn.Sequential(
                nn.Linear(n_dense + RATIO_EMBEDDING, RATIO_UNITS), nn.ReLU(), nn.Linear(RATIO_UNITS, 1)
            )

    def first_layer(self, dense: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        """The first hidden layer's pre-activation: linear in `dense`, which the price sweep exploits."""
        if self.encoding == "embedding":
            x = torch.cat([dense, self.product(product)], dim=1)
        elif self.encoding == "binary":
            bits = ((product[:, None] >> torch.arange(self._bits(), device=product.device)) & 1) * 2 - 1
            x = torch.cat([dense, bits.to(dense.dtype)], dim=1)
        else:
            x = dense
        z = self.hidden[0](x)
        return z + self.product(product) if self.encoding == "onehot" else z

    def after_first(self, z: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden[1:]:
            z = layer(z)
        return self.out(z).squeeze(1)

    def forward(self, dense: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        if self.price_effect == "free":
            return self.after_first(self.first_layer(dense, product))
        return self.log_mean_at_ratio(dense, product, dense[:, self.ratio_column])

    def log_mean_at_ratio(self, dense: torch.Tensor, product: torch.Tensor, ratio: torch.Tensor) -> torch.Tensor:
        """loglinear: log E[q] of each row at the (standardised) price / median `ratio`."""
        residual = (ratio - self.expected_ratio(dense, product).detach()) * self.ratio_scale
        return self.body(dense, product) - self.slope(product) * residual

    def body(self, dense: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        """loglinear: log E[q] at the price / median this context usually gets, from everything but the price."""
        return self.after_first(self.first_layer(dense * self.body_columns, product))

    def expected_ratio(self, dense: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        """loglinear: E[standardised price / median | context, product], from everything but the price."""
        inputs = torch.cat([dense * self.body_columns, self.ratio_product(product)], dim=1)
        return self.ratio_model(inputs).squeeze(1)

    def slope(self, product: torch.Tensor) -> torch.Tensor:
        """loglinear: each product's slope of log E[q] on price / median (positive: demand falls with price)."""
        return torch.exp(self.log_slope + self.slope_deviation(product).squeeze(1))

    def pooled_slope(self) -> float:
        """loglinear: the slope every product is shrunk toward, and the one an unknown product gets."""
        return self.log_slope.exp().item()

    def slope_penalty(self) -> torch.Tensor:
        """loglinear: the squared size of every product's slope deviation (the Gaussian prior's cost)."""
        return (self.slope_deviation.weight**2).sum()

    def ratio_loss(self, dense: torch.Tensor, product: torch.Tensor) -> torch.Tensor:
        """The squared error of expected_ratio, the loss m is fitted with."""
        return ((self.expected_ratio(dense, product) - dense[:, self.ratio_column]) ** 2).mean()

    def fold_for_inference(self) -> None:
        """Fold each eval-mode batch norm into the linear layer before it and drop dropout: the same function
        with fewer passes over a sweep's 100k rows. Only for inference: the network cannot train after."""
        layers: list[nn.Module] = []
        for index, layer in enumerate(self.hidden):
            if isinstance(layer, nn.BatchNorm1d):
                linear = layers[-1]
                scale = layer.weight / torch.sqrt(layer.running_var + layer.eps)
                with torch.no_grad():
                    linear.weight.mul_(scale[:, None])
                    linear.bias.copy_((linear.bias - layer.running_mean) * scale + layer.bias)
                    if index == 1 and self.encoding == "onehot":  # its lookup is added before this norm
                        self.product.weight.mul_(scale[None, :])
            elif not isinstance(layer, nn.Dropout):
                layers.append(layer)
        self.hidden = nn.ModuleList(layers)

    def _bits(self) -> int:
        return binary_code(np.zeros(1), self.n_products).shape[1]


@dataclass
class TrainingHistory:
    """Per-epoch losses of the last fit (empty for a loaded model), the epoch whose weights were kept."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    stopped_early: bool = False
    seconds: float = 0.0


class DFNRegressor:
    """predict(X), save, load; X = dense columns + product index (last column); predictions log1p(quantity).
    Fitted by pricing.training.network_fit.TrainableDFNRegressor."""

    def __init__(self, config: DFNConfig | None = None, n_products: int | None = None, **overrides) -> None:
        self.config = replace(config or DFNConfig(), **overrides)
        self.n_products = n_products
        self.n_dense: int | None = None
        self.network: DFNNetwork | None = None
        self.history = TrainingHistory()
        # log1p of twice the largest quantity in the training lines: a context unlike any in training (a rare
        # country at an hour never seen) must not read as a line of 90,000 units; None for older bundles
        self.max_log_quantity: float | None = None

    def predict(self, X: np.ndarray) -> np.ndarray:
        """(n,) log1p(quantity) for X (n, n_dense + 1); RuntimeError before fit or load."""
        if self.network is None:
            raise RuntimeError("the network is not fitted")
        device = next(self.network.parameters()).device
        dense, product, _ = as_tensors(X, None, device)
        return self._predict_tensors(dense, product)

    def predict_grid(
        self, contexts: np.ndarray, price_columns: list[int], scaled_prices: np.ndarray, chunk_rows: int = 16_384
    ) -> np.ndarray:
        """Every context at every price, bin-major: equal to predict(sweep_matrix(...)) but cheaper.

        free: the first layer is linear, so its pre-activation is computed once per context (price columns at
        zero) and once per price, then added; only the later layers run on contexts x prices rows.
        loglinear: the body runs once per context, and each price only moves it along the product's slope."""
        network = self.network
        network.eval()
        device = next(network.parameters()).device
        dense, product, _ = as_tensors(contexts, None, device)
        dense[:, price_columns] = 0
        with torch.inference_mode():
            if network.price_effect == "loglinear":
                ratio = scaled_prices[:, price_columns.index(network.ratio_column)]
                ratio = torch.as_tensor(ratio, dtype=torch.float32, device=device)
                # log E[q] = (body + slope * m) - slope * r: the bracket once per context, r once per bin
                level = network.log_mean_at_ratio(dense, product, torch.zeros(len(dense), device=device))
                shift = network.slope(product) * network.ratio_scale
                log_mean = level[None, :] - ratio[:, None] * shift[None, :]
                return self._to_target(log_mean.reshape(-1).float().cpu().numpy().astype(np.float64))
            base = network.first_layer(dense, product)  # (contexts, width)
            weight = network.hidden[0].weight[:, price_columns]
            shift = torch.as_tensor(scaled_prices, dtype=torch.float32, device=device) @ weight.T  # (bins, width)
            step = max(1, chunk_rows // max(len(base), 1))
            parts = [
                network.after_first((shift[i : i + step, None, :] + base[None, :, :]).reshape(-1, base.shape[1]))
                for i in range(0, len(shift), step)
            ]
        return self._to_target(torch.cat(parts).float().cpu().numpy().astype(np.float64))

    def _predict_tensors(self, dense: torch.Tensor, product: torch.Tensor) -> np.ndarray:
        return self._to_target(self.raw_outputs(dense, product))

    def raw_outputs(self, dense: torch.Tensor, product: torch.Tensor, batch: int = 16_384) -> np.ndarray:
        """The network's outputs in eval mode, in batches: the loss's scale (see DFNNetwork), float64 (n,)."""
        self.network.eval()
        with torch.inference_mode():
            parts = [self.network(dense[i : i + batch], product[i : i + batch]) for i in range(0, len(dense), batch)]
        return torch.cat(parts).float().cpu().numpy().astype(np.float64)

    def _to_target(self, outputs: np.ndarray) -> np.ndarray:
        """Network outputs on the target's log1p scale. A Poisson network outputs log E[q]; log1p(E[q]) keeps
        the one inverse (expm1) giving back the mean."""
        target = np.logaddexp(0.0, outputs) if self.config.loss == "poisson" else outputs
        return target if self.max_log_quantity is None else np.minimum(target, self.max_log_quantity)

    # -- persistence -------------------------------------------------------------------------------
    WEIGHTS = "network.pt"
    ARCHITECTURE = "network.json"

    def save(self, directory: Path) -> list[Path]:
        """Write the weights (a state_dict) and the architecture (JSON) into `directory`; returns both paths."""
        directory.mkdir(parents=True, exist_ok=True)
        architecture = {
            "config": asdict(self.config),
            "n_products": self.n_products,
            "n_dense": self.n_dense,
            "max_log_quantity": self.max_log_quantity,
        }
        torch.save(self.network.state_dict(), directory / self.WEIGHTS)
        (directory / self.ARCHITECTURE).write_text(json.dumps(architecture, indent=1))
        return [directory / self.WEIGHTS, directory / self.ARCHITECTURE, self.export_arrays(directory)]

    def export_arrays(self, directory: Path) -> Path:
        """Write the serving format (pricing.models.arrays): the inference-ready weights, folded as `load` folds
        them (a loaded network is folded already: folding again changes nothing); returns its path."""
        folded = copy.deepcopy(self.network).cpu().eval()
        folded.fold_for_inference()
        flush_subnormals(folded)
        return export_state(folded.state_dict(), directory / NETWORK_ARRAYS)

    @classmethod
    def load(cls, directory: Path) -> DFNRegressor:
        """Read what `save` wrote (weights with weights_only=True: no code runs), folded for inference: it
        predicts but cannot train again."""
        architecture = json.loads((directory / cls.ARCHITECTURE).read_text())
        model = cls(DFNConfig.from_dict(architecture["config"]), n_products=architecture["n_products"])
        model.n_dense = architecture["n_dense"]
        model.max_log_quantity = architecture.get("max_log_quantity")
        model.network = DFNNetwork(architecture["n_dense"], architecture["n_products"], model.config)
        state = torch.load(directory / cls.WEIGHTS, map_location="cpu", weights_only=True)
        model.network.load_state_dict(state)
        model.network.eval()
        model.network.fold_for_inference()
        flush_subnormals(model.network)
        return model


def flush_subnormals(network: nn.Module) -> None:
    """Zero every subnormal weight and buffer. Weight decay leaves dead units' weights at 1e-40 and the like;
    CPUs multiply subnormals some ten times slower (measured: a 2.5 s sweep became 0.24 s)."""
    tiny = torch.finfo(torch.float32).tiny
    with torch.no_grad():
        for tensor in [*network.parameters(), *network.buffers()]:
            if tensor.is_floating_point():
                tensor[tensor.abs() < tiny] = 0


def as_tensors(X: np.ndarray, y: np.ndarray | None, device: torch.device):
    """X (n, n_dense + 1) as float32 dense columns and int64 product indices, y (n,) as float32 (or None)."""
    dense = torch.as_tensor(np.ascontiguousarray(X[:, :-1], dtype=np.float32), device=device)
    product = torch.as_tensor(X[:, -1].astype(np.int64), device=device)
    target = None if y is None else torch.as_tensor(np.asarray(y, dtype=np.float32), device=device)
    return dense, product, target


class DFNEnsemble:
    """Several networks from different seeds, their predicted mean quantities averaged.

    One network's recommended prices swing between seeds (measured: the median signed price error over the 300
    best sellers moved from -20% to +8% with the seed alone), because a product's own price history says little
    about its optimum; averaging members damps that noise. Same contract as DFNRegressor; member k: seed + k."""

    FILE = "ensemble.json"
    member_class: type[DFNRegressor] = DFNRegressor  # training's subclass makes members that can fit

    def __init__(self, config: DFNConfig | None = None, n_products: int | None = None, members: int = 3) -> None:
        if members < 1:
            raise ValueError(f"an ensemble needs at least one member, got {members}")
        self.config = config or DFNConfig()
        self.n_products = n_products
        self.members = [
            self.member_class(replace(self.config, seed=self.config.seed + k), n_products=n_products)
            for k in range(members)
        ]

    @property
    def history(self) -> TrainingHistory:
        return self.members[0].history

    def predict(self, X: np.ndarray) -> np.ndarray:
        return mean_of_quantities([member.predict(X) for member in self.members])

    def predict_grid(self, contexts: np.ndarray, price_columns: list[int], scaled_prices: np.ndarray) -> np.ndarray:
        return mean_of_quantities([m.predict_grid(contexts, price_columns, scaled_prices) for m in self.members])

    def save(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        files = [p for k, m in enumerate(self.members) for p in m.save(directory / f"member{k}")]
        (directory / self.FILE).write_text(json.dumps({"members": len(self.members)}))
        return [directory / self.FILE, *files]

    @classmethod
    def load(cls, directory: Path) -> DFNEnsemble | DFNRegressor:
        if not (directory / cls.FILE).exists():  # a single network's folder
            return DFNRegressor.load(directory)
        count = json.loads((directory / cls.FILE).read_text())["members"]
        members = [DFNRegressor.load(directory / f"member{k}") for k in range(count)]
        ensemble = cls(members[0].config, members[0].n_products, members=count)
        ensemble.members = members
        return ensemble
