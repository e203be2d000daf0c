"""Every model the service trains and serves, one entry each: the one place a model is added.

An entry names the model, its class (a dotted path, imported only when asked for, so importing this module
imports neither torch, LightGBM nor scikit-learn), its place in the fallback chain and its hyper-parameter
search space as plain data. Training (what to tune and fit), the bundle (the manifest's `model_priority`,
which class loads a model folder), serving (the order it tries the models in) and evaluation (the order of
the metrics table) all read it.

Adding a fallback model: write its class (the contract below, plus `from_params`) and add one `ModelSpec`.

The contract every class keeps, X being the preprocessor's matrix (n rows: dense columns, then the product
index) and every prediction log1p(quantity):
    fit(X, y, X_val=None, y_val=None) -> self     (X_val, y_val: early stopping, where the model uses it)
    predict(X) -> (n,) float array
    save(directory) -> list of the files written  (its own safe format: no pickle)
    load(directory) -> model                      (a classmethod)
The network's class (`tuning="network"`) is the one serving loads, without fit: its training subclass,
pricing.training.network_fit.TrainableDFNEnsemble, adds fit, so serving code never refers to training code.
An entry tuned by cross-validation (`tuning="cross_validated"`) also offers the classmethod
`from_params(params, context: FitContext) -> unfitted model`, params holding one value per search dimension.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# A search dimension, as plain data (training/tuning.py turns it into Optuna suggestions or scikit-optimize
# dimensions, so this module imports neither):
#   ("real", low, high, prior)       a float in [low, high]; prior "uniform" or "log-uniform"
#   ("integer", low, high, prior)    an int in [low, high]; the same priors
#   ("categorical", (choice, ...))   one of the choices
#   ("layers", {price_effect: (fewest, most, narrowest, widest)})   the network only: a number of hidden
#       layers, then each layer's width (log-uniform), the ranges depending on the config's price effect;
#       the trial's parameters are "layers" and "units_0", "units_1", ...
DIMENSION_KINDS = ("real", "integer", "categorical", "layers")
PRIORS = ("uniform", "log-uniform")
TUNINGS = ("network", "cross_validated")


class UnknownModel(LookupError):
    """A model name no registry entry has (a bundle from other code, a typo); the message names it."""


@dataclass(frozen=True)
class FitContext:
    """What a cross-validated model's constructor may need besides its tuned parameters.

    n_products: the product vocabulary's size (index 0: unknown products). seed: every random choice.
    price_columns: indices of the dense columns that grow with the price (LightGBM keeps quantity falling as
    they rise). max_rows: the most training rows a model whose fit does not scale may use (the profile's
    `svr_max_rows`)."""

    n_products: int
    seed: int = 0
    price_columns: tuple[int, ...] = ()
    max_rows: int = 40_000


@dataclass(frozen=True)
class ModelSpec:
    """One model. `priority`: its place in the fallback chain, 0 asked first. `class_path`: "module:Class".
    `tuning`: "network" (Optuna, pruned per epoch, training/tuning.py's tune_network: the network alone) or
    "cross_validated" (scikit-optimize's gp_minimize over k-fold CV, the class built by `from_params`).
    `extrapolates_flat`: its curve goes flat beyond the prices it was trained on (trees extend their last leaf,
    an RBF kernel decays to its intercept), so it never recommends a price outside the product's support."""

    name: str
    class_path: str
    priority: int
    search_space: Mapping[str, tuple]
    tuning: str = "cross_validated"
    extrapolates_flat: bool = False

    def __post_init__(self) -> None:
        if self.tuning not in TUNINGS:
            raise ValueError(f"{self.name}: tuning must be one of {TUNINGS}, got {self.tuning!r}")
        for dim_name, dimension in self.search_space.items():
            check_dimension(f"{self.name}.{dim_name}", dimension)


def check_dimension(label: str, dimension: tuple) -> None:
    """Raise ValueError, naming `label`, when `dimension` is not one of the shapes listed above."""
    kind = dimension[0] if dimension else None
    if kind not in DIMENSION_KINDS:
        raise ValueError(f"{label}: kind must be one of {DIMENSION_KINDS}, got {kind!r}")
    if kind in ("real", "integer"):
        if len(dimension) != 4 or dimension[3] not in PRIORS or not dimension[1] < dimension[2]:
            raise ValueError(f"{label}: expected ({kind!r}, low, high, prior) with low < high, got {dimension}")
    elif kind == "categorical":
        if len(dimension) != 2 or not dimension[1]:
            raise ValueError(f"{label}: expected ('categorical', (choice, ...)), got {dimension}")
    else:
        sizes = dimension[1] if len(dimension) == 2 else None
        if not isinstance(sizes, Mapping) or any(len(entry) != 4 for entry in sizes.values()):
            raise ValueError(f"{label}: expected ('layers', {{price_effect: (fewest, most, narrowest, widest)}})")


_MODELS = (
    ModelSpec(
        name="network",
        # the exported arrays where the bundle has them (no torch), else the torch ensemble; a single network too
        class_path="pricing.models.loaders:NetworkLoader",
        priority=0,
        tuning="network",
        search_space={
            # A free price input runs every request's 100 bins x 1,000 contexts through the whole network, so
            # its widths stay small (the benchmark wants that 3x faster than the reference pipeline,
            # docs/TRAINING.md). The loglinear network runs its body once per context (1,000 rows), and on the
            # real file a narrow body was the largest cause of its held-out deviance: searched on a 60k-row
            # subsample for 8 epochs, 16-128 units picked one layer of 26, whose deviance on the full data was
            # 11.4 where 256-128-64 gave 9.3 and 512-256-128 8.0 (CHANGELOG.md, the real-data issue). Small nets
            # win short trials on few rows; the full data wants more.
            "units": ("layers", {"free": (1, 3, 16, 128), "loglinear": (2, 3, 64, 512)}),
            "dropout": ("real", 0.0, 0.4, "uniform"),
            "batch_norm": ("categorical", (True, False)),
            "optimizer": ("categorical", ("adam", "adamw", "rmsprop", "sgd", "radam")),
            "learning_rate": ("real", 1e-4, 1e-2, "log-uniform"),
            "batch_size": ("categorical", (256, 512, 1024, 2048)),
            "embedding_dim": ("integer", 4, 32, "log-uniform"),
            "weight_decay": ("real", 1e-7, 1e-3, "log-uniform"),
        },
    ),
    ModelSpec(
        name="lightgbm",
        class_path="pricing.models.fallbacks:LightGBMModel",
        priority=1,
        extrapolates_flat=True,
        search_space={
            "num_leaves": ("integer", 15, 255, "log-uniform"),
            "learning_rate": ("real", 0.02, 0.2, "log-uniform"),
            "min_data_in_leaf": ("integer", 10, 400, "log-uniform"),
            "feature_fraction": ("real", 0.5, 1.0, "uniform"),
            "lambda_l2": ("real", 1e-3, 30.0, "log-uniform"),
        },
    ),
    ModelSpec(
        name="svr",
        class_path="pricing.models.fallbacks:KernelSVRModel",
        priority=2,
        extrapolates_flat=True,
        search_space={
            "C": ("real", 0.01, 30.0, "log-uniform"),
            "epsilon": ("real", 0.01, 0.5, "uniform"),
            "gamma": ("real", 1e-3, 0.2, "log-uniform"),
        },
    ),
    ModelSpec(
        name="elasticnet",
        class_path="pricing.models.fallbacks:ElasticNetModel",
        priority=3,
        search_space={
            "alpha": ("real", 1e-4, 1.0, "log-uniform"),  # smaller barely differs and converges slowly
            "l1_ratio": ("real", 0.0, 1.0, "uniform"),
        },
    ),
)

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in sorted(_MODELS, key=lambda spec: spec.priority)}
if len(MODELS) != len(_MODELS) or len({spec.priority for spec in _MODELS}) != len(_MODELS):
    raise ValueError("every registry entry needs its own name and its own priority")  # at import: a typo fails fast

# The fallback chain, the order serving tries the models in: the manifest's `model_priority` follows it.
MODEL_PRIORITY: tuple[str, ...] = tuple(MODELS)


def spec(name: str) -> ModelSpec:
    """The entry named `name`; UnknownModel (naming it and the known models) when there is none."""
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownModel(f"unknown model {name!r}: this code knows {', '.join(MODEL_PRIORITY)}") from None


def model_class(name: str) -> type:
    """The class of the model `name`, imported now (its module's heavy imports with it); UnknownModel if none."""
    module, _, attribute = spec(name).class_path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def cross_validated() -> tuple[ModelSpec, ...]:
    """The entries tuned by k-fold cross-validation and built by `from_params` (the fallbacks), in priority order."""
    return tuple(entry for entry in MODELS.values() if entry.tuning == "cross_validated")


# ---- the incidence part: order lines per week at a list price (weekly units = lines x units per line) ----------
# Its own chain, tried in this order; both are fitted by pricing.training.incidence_fit (no search space: the
# network's shrinkage and LightGBM's early stopping are its only settings).
INCIDENCE_MODELS: dict[str, str] = {
    "incidence_network": "pricing.models.loaders:IncidenceLoader",
    "incidence_lightgbm": "pricing.models.incidence_lightgbm:IncidenceLightGBM",
}
INCIDENCE_PRIORITY: tuple[str, ...] = tuple(INCIDENCE_MODELS)
INCIDENCE_FLAT: frozenset[str] = frozenset({"incidence_lightgbm"})  # trees: flat beyond the prices seen


def extrapolates_flat(name: str | None) -> bool:
    """Whether the per-line or incidence model `name` goes flat beyond its training prices (ModelSpec's
    `extrapolates_flat`); False for None and for names the registry does not know."""
    return name in INCIDENCE_FLAT or (name in MODELS and MODELS[name].extrapolates_flat)


def incidence_class_path(name: str) -> str:
    """The "module:Class" path of the incidence model `name` (nothing imported); UnknownModel when there is none."""
    if name not in INCIDENCE_MODELS:
        raise UnknownModel(f"unknown incidence model {name!r}: this code knows {', '.join(INCIDENCE_PRIORITY)}")
    return INCIDENCE_MODELS[name]


def incidence_class(name: str) -> type:
    """The class of the incidence model `name`; UnknownModel when there is none."""
    module, _, attribute = incidence_class_path(name).partition(":")
    return getattr(importlib.import_module(module), attribute)


def in_priority_order(names: Iterable[str]) -> list[str]:
    """`names` in fallback order; a name the registry does not know keeps its place after every known one, so
    whoever loads it refuses it by name (UnknownModel) instead of it vanishing silently."""
    rank = {name: index for index, name in enumerate(MODEL_PRIORITY)}
    return sorted(names, key=lambda name: rank.get(name, len(rank)))  # stable: unknown names keep their order
