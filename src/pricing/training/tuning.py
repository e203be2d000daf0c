"""Hyper-parameter search: Optuna (TPE + median pruning) for the network, scikit-optimize's gp_minimize over
k-fold cross-validation for the backups. Both stop on a wall-clock budget as well as a trial count.

Training-only: the server never imports this module."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import optuna
from skopt import gp_minimize
from skopt.callbacks import DeadlineStopper
from skopt.space import Integer, Real
from tqdm import tqdm

from pricing.models.fallbacks import (
    ElasticNetConfig,
    ElasticNetModel,
    KernelSVRModel,
    LightGBMConfig,
    LightGBMModel,
    SVRConfig,
)
from pricing.models.network import ENCODINGS, OPTIMIZERS, DFNConfig, DFNRegressor, NonFiniteLoss


# ---- the network: Optuna -----------------------------------------------------------------------------
def open_study(name: str, storage: str | None, seed: int) -> optuna.Study:
    """A study in memory, or shared through Optuna's storage so several processes or machines tune together:
    an RDB URL (sqlite:///tuning.db, postgresql://...) or `journal:PATH` for a journal file."""
    return optuna.create_study(
        study_name=name,
        storage=_storage_object(storage),
        load_if_exists=True,
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed, multivariate=True),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2),
    )


# (fewest layers, narrowest and widest layer) searched. A free price input runs every request's 100 bins x 1,000
# contexts through the whole network, so its widths stay small (the benchmark wants that 3x faster than the
# reference pipeline, docs/TRAINING.md). The loglinear network runs its body once per context (1,000 rows), and
# on the real file a narrow body was the largest cause of its held-out deviance: searched on a 60k-row subsample
# for 8 epochs, 16-128 units picked one layer of 26, whose deviance on the full data was 11.4 where 256-128-64 gave
# 9.3 and 512-256-128 8.0 (docs/REAL_DATA.md). Small nets win short trials on few rows; the full data wants more.
NETWORK_SIZES = {"free": (1, 16, 128), "loglinear": (2, 64, 512)}


def suggest_network(trial: optuna.Trial, base: DFNConfig) -> DFNConfig:
    fewest, narrowest, widest = NETWORK_SIZES[base.price_effect]
    layers = trial.suggest_int("layers", fewest, 3)
    units = tuple(trial.suggest_int(f"units_{i}", narrowest, widest, log=True) for i in range(layers))
    return replace(
        base,
        units=units,
        dropout=trial.suggest_float("dropout", 0.0, 0.4),
        batch_norm=trial.suggest_categorical("batch_norm", [True, False]),
        optimizer=trial.suggest_categorical("optimizer", list(OPTIMIZERS)),
        learning_rate=trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True),
        batch_size=trial.suggest_categorical("batch_size", [256, 512, 1024, 2048]),
        embedding_dim=trial.suggest_int("embedding_dim", 4, 32, log=True),
        weight_decay=trial.suggest_float("weight_decay", 1e-7, 1e-3, log=True),
    )


def config_from_params(params: dict, base: DFNConfig) -> DFNConfig:
    units = tuple(params[f"units_{i}"] for i in range(params["layers"]))
    keep = {k: v for k, v in params.items() if k in DFNConfig.__dataclass_fields__}
    return replace(base, units=units, **keep)


def tune_network(
    X,
    y,
    X_val,
    y_val,
    n_products: int,
    base: DFNConfig,
    trials: int,
    seconds: float,
    storage: str | None = None,
    study_name: str = "network",
    refine: bool = False,
    seed: int = 0,
) -> tuple[DFNConfig, dict]:
    """Search the network's architecture and optimiser; returns the best config and a summary."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the progress bar says enough
    study = open_study(study_name, storage, seed)

    def objective(trial: optuna.Trial) -> float:
        config = suggest_network(trial, base)
        return _fit_for_trial(trial, config, X, y, X_val, y_val, n_products)

    started = time.perf_counter()
    study.optimize(objective, n_trials=trials, timeout=seconds, show_progress_bar=True, catch=(NonFiniteLoss,))
    best = study.best_trial
    summary = {
        "trials": len(study.trials),
        "best_value": best.value,
        "best_params": best.params,
        "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
    }
    config = config_from_params(best.params, base)
    if refine:
        config, summary["refine"] = _refine(
            config, best.value, X, y, X_val, y_val, n_products, storage, study_name, seed
        )
    summary["seconds"] = time.perf_counter() - started
    return config, summary


def compare_encodings(config: DFNConfig, X, y, X_val, y_val, n_products: int) -> dict[str, float]:
    """Best validation MSE of the same network with each encoding of the product."""
    results = {}
    for encoding in tqdm(ENCODINGS, desc="compare product encodings", unit="encoding"):
        model = DFNRegressor(replace(config, product_encoding=encoding), n_products=n_products)
        results[encoding] = round(min(model.fit(X, y, X_val, y_val).history.val_loss), 5)
    return results


def _fit_for_trial(trial, config, X, y, X_val, y_val, n_products) -> float:
    def report(epoch: int, val_loss: float) -> None:
        trial.report(val_loss, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()

    model = DFNRegressor(config, n_products=n_products).fit(X, y, X_val, y_val, on_epoch=report)
    return min(model.history.val_loss)


def _refine(config: DFNConfig, best_value: float, X, y, X_val, y_val, n_products, storage, study_name, seed):
    """A small grid around the best trial: learning rate x {1/2, 1, 2}, dropout -/+ 0.05."""
    grid = {
        "learning_rate": sorted({config.learning_rate * f for f in (0.5, 1.0, 2.0)}),
        "dropout": sorted({round(min(max(config.dropout + d, 0.0), 0.5), 3) for d in (-0.05, 0.0, 0.05)}),
    }
    study = optuna.create_study(
        study_name=f"{study_name}-refine",
        storage=_storage_object(storage),
        load_if_exists=True,
        direction="minimize",
        sampler=optuna.samplers.GridSampler(grid, seed=seed),
    )

    def objective(trial: optuna.Trial) -> float:
        candidate = replace(
            config,
            learning_rate=trial.suggest_categorical("learning_rate", grid["learning_rate"]),
            dropout=trial.suggest_categorical("dropout", grid["dropout"]),
        )
        return _fit_for_trial(trial, candidate, X, y, X_val, y_val, n_products)

    study.optimize(
        objective,
        n_trials=len(grid["learning_rate"]) * len(grid["dropout"]),
        show_progress_bar=True,
        catch=(NonFiniteLoss,),
    )
    refined = study.best_trial
    if refined.value < best_value:
        config = replace(config, **refined.params)
    return config, {"trials": len(study.trials), "best_value": refined.value, "improved": refined.value < best_value}


def _storage_object(storage: str | None):
    if storage and storage.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        return JournalStorage(JournalFileBackend(storage.removeprefix("journal:")))
    return storage


# ---- the backups: scikit-optimize --------------------------------------------------------------------
BACKUP_SPACES = {
    "lightgbm": [
        Integer(15, 255, prior="log-uniform", name="num_leaves"),
        Real(0.02, 0.2, prior="log-uniform", name="learning_rate"),
        Integer(10, 400, prior="log-uniform", name="min_data_in_leaf"),
        Real(0.5, 1.0, name="feature_fraction"),
        Real(1e-3, 30.0, prior="log-uniform", name="lambda_l2"),
    ],
    "svr": [
        Real(0.01, 30.0, prior="log-uniform", name="C"),
        Real(0.01, 0.5, name="epsilon"),
        Real(1e-3, 0.2, prior="log-uniform", name="gamma"),
    ],
    "elasticnet": [
        Real(1e-4, 1.0, prior="log-uniform", name="alpha"),  # smaller barely differs and converges slowly
        Real(0.0, 1.0, name="l1_ratio"),
    ],
}


def backup_factory(
    kind: str, n_products: int, svr_max_rows: int, seed: int, price_columns: tuple[int, ...] = ()
) -> Callable[[dict], object]:
    if kind == "lightgbm":
        return lambda params: LightGBMModel(LightGBMConfig(seed=seed, decreasing_columns=price_columns), **params)
    if kind == "svr":
        return lambda params: KernelSVRModel(SVRConfig(max_rows=svr_max_rows, seed=seed), n_products, **params)
    if kind == "elasticnet":
        return lambda params: ElasticNetModel(ElasticNetConfig(), n_products, **params)
    raise ValueError(f"unknown backup model {kind!r}")


def cross_val_mse(make: Callable[[], object], X: np.ndarray, y: np.ndarray, folds: int, seed: int) -> float:
    order = np.random.default_rng(seed).permutation(len(X))
    losses = []
    for fold in np.array_split(order, folds):
        train = np.setdiff1d(order, fold, assume_unique=True)
        model = make().fit(X[train], y[train])
        losses.append(float(np.mean((model.predict(X[fold]) - y[fold]) ** 2)))
    return float(np.mean(losses))


def tune_backup(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    n_products: int,
    calls: int,
    folds: int,
    seconds: float,
    svr_max_rows: int,
    seed: int = 0,
    price_columns: tuple[int, ...] = (),
) -> tuple[dict, dict]:
    """gp_minimize over k-fold CV MSE (log target); returns the best parameters and a summary."""
    space = BACKUP_SPACES[kind]
    factory = backup_factory(kind, n_products, svr_max_rows, seed, price_columns)
    names = [dim.name for dim in space]
    bar = tqdm(total=calls, desc=f"tune {kind}", unit="call")
    best_loss = math.inf

    def objective(values) -> float:
        nonlocal best_loss
        params = {name: _plain(v) for name, v in zip(names, values, strict=True)}
        loss = cross_val_mse(lambda: factory(params), X, y, folds, seed)
        loss = loss if math.isfinite(loss) else 1e6  # a diverged fit is a bad point, not a crash
        best_loss = min(best_loss, loss)
        bar.update()
        bar.set_postfix(best=f"{best_loss:.4f}")
        return loss

    started = time.perf_counter()
    result = gp_minimize(
        objective,
        space,
        n_calls=calls,
        n_initial_points=min(5, calls),
        random_state=seed,
        callback=[DeadlineStopper(seconds)],
    )
    bar.close()
    best = {name: _plain(v) for name, v in zip(names, result.x, strict=True)}
    return best, {
        "calls": len(result.func_vals),
        "best_cv_mse": float(result.fun),
        "folds": folds,
        "seconds": time.perf_counter() - started,
    }


def _plain(value):
    return value.item() if hasattr(value, "item") else value
