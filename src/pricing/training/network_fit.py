"""The network's training loop: what `DFNRegressor.fit` runs, imported only when a network is trained.

Early stopping on a validation loss (the best epoch's weights kept), gradient clipping, non-finite-loss
detection, AMP where CUDA is present, fixed seeds; for the loglinear price effect, the ratio model m is fitted
and frozen first. Serving never imports this module (pricing.models.network holds what it needs).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from pricing.models.network import (
    DFNConfig,
    DFNEnsemble,
    DFNNetwork,
    DFNRegressor,
    TrainingHistory,
    as_tensors,
    flush_subnormals,
)

RATIO_LEARNING_RATE, RATIO_MAX_EPOCHS = 3e-3, 30  # m's optimiser (Adam) and its epoch limit


class NonFiniteLoss(RuntimeError):
    """Training produced a NaN or infinite loss; the run is unusable."""


def fit_network(
    model: DFNRegressor,
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> DFNRegressor:
    """Train `model` in place (a new network from its config) and return it; `DFNRegressor.fit` documents it.

    X, X_val: (n, n_dense + 1), the product index last; y, y_val: (n,) log1p(quantity). Without X_val, a 10%
    hold-out of X is the validation set. Raises NonFiniteLoss when a training or validation loss is not finite."""
    cfg = model.config
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    if X_val is None:
        order = rng.permutation(len(X))
        cut = max(1, len(X) // 10)
        X, y, X_val, y_val = X[order[cut:]], y[order[cut:]], X[order[:cut]], y[order[:cut]]
    if model.n_products is None:
        model.n_products = int(max(X[:, -1].max(), X_val[:, -1].max())) + 1
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.n_dense = X.shape[1] - 1
    model.max_log_quantity = float(np.log1p(2 * np.expm1(np.max(y))))
    model.network = DFNNetwork(model.n_dense, model.n_products, cfg).to(device)
    dense, product, target = as_tensors(X, y, device)
    val_dense, val_product, _ = as_tensors(X_val, None, device)
    generator = torch.Generator().manual_seed(cfg.seed)
    if cfg.price_effect == "loglinear":
        _fit_ratio_model(model.network, cfg, dense, product, val_dense, val_product, generator)
    optimizer = _optimizer(cfg, [p for p in model.network.parameters() if p.requires_grad])
    scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda")  # AMP only where it helps

    best_loss, best_state, waited = math.inf, None, 0
    started = time.perf_counter()
    model.history = TrainingHistory()
    for epoch in range(cfg.max_epochs):
        model.network.train()
        total, batches = 0.0, 0
        for batch in torch.randperm(len(target), generator=generator).split(cfg.batch_size):
            batch = batch.to(device)
            if len(batch) < 2 and cfg.batch_norm:
                continue  # batch norm cannot normalise a single row
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device.type, enabled=device.type == "cuda"):
                loss = _training_loss(cfg.loss, model.network(dense[batch], product[batch]), target[batch])
                if cfg.price_effect == "loglinear":  # the slopes' prior, spread over the epoch's rows
                    loss = loss + cfg.slope_shrinkage * model.network.slope_penalty() / len(target)
            if not torch.isfinite(loss):
                raise NonFiniteLoss(f"non-finite training loss at epoch {epoch} (lr={cfg.learning_rate})")
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.network.parameters(), cfg.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            total += float(loss.detach())
            batches += 1
        val_loss = _validation_loss(cfg.loss, model.raw_outputs(val_dense, val_product), y_val)
        if not math.isfinite(val_loss):
            raise NonFiniteLoss(f"non-finite validation loss at epoch {epoch}")
        model.history.train_loss.append(total / max(batches, 1))
        model.history.val_loss.append(val_loss)
        if on_epoch is not None:
            on_epoch(epoch, val_loss)
        if val_loss < best_loss * (1 - cfg.min_delta):  # relative: a squared error, never negative
            best_loss, best_state, waited = val_loss, copy.deepcopy(model.network.state_dict()), 0
            model.history.best_epoch = epoch
        else:
            waited += 1
            if waited >= cfg.patience:
                model.history.stopped_early = True
                break
        if cfg.time_limit_s is not None and time.perf_counter() - started > cfg.time_limit_s:
            break
    if best_state is not None:
        model.network.load_state_dict(best_state)
    flush_subnormals(model.network)
    model.history.seconds = time.perf_counter() - started
    model.network.eval()
    return model


def _fit_ratio_model(network: DFNNetwork, cfg: DFNConfig, dense, product, val_dense, val_product, generator) -> None:
    """Fit m (price / median from the context) first, with its own early stopping, then freeze it: the demand
    fit reads the slope from residuals of a finished m (a nuisance fitted before the effect, as in double
    machine learning), whichever epoch the demand's early stopping keeps."""
    parameters = [*network.ratio_model.parameters(), *network.ratio_product.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=RATIO_LEARNING_RATE)
    best_loss, best_state, waited = math.inf, None, 0
    for _ in range(RATIO_MAX_EPOCHS):
        for batch in torch.randperm(len(dense), generator=generator).split(cfg.batch_size):
            optimizer.zero_grad(set_to_none=True)
            network.ratio_loss(dense[batch], product[batch]).backward()
            optimizer.step()
        with torch.no_grad():
            val_loss = float(network.ratio_loss(val_dense, val_product))
        if val_loss < best_loss * (1 - cfg.min_delta):  # relative: a squared error, never negative
            best_loss, best_state, waited = val_loss, [p.detach().clone() for p in parameters], 0
        else:
            waited += 1
            if waited >= cfg.patience:
                break
    if best_state is not None:
        with torch.no_grad():
            for parameter, value in zip(parameters, best_state, strict=True):
                parameter.copy_(value)
    for parameter in parameters:
        parameter.requires_grad_(False)


MAX_LOG_MEAN = 15.0  # exp(15) = 3.3 million units a line: beyond any real order, and no overflow early on


def _training_loss(kind: str, outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The batch's mean loss: Poisson deviance (up to a constant) of log-mean outputs, or squared error."""
    if kind == "poisson":
        log_mean = outputs.clamp(max=MAX_LOG_MEAN)
        return (torch.exp(log_mean) - torch.expm1(target) * log_mean).mean()
    return ((outputs - target) ** 2).mean()


def _validation_loss(kind: str, outputs: np.ndarray, target: np.ndarray) -> float:
    """The same loss as `_training_loss`, in numpy over the whole validation set."""
    if kind == "poisson":
        log_mean = np.minimum(outputs, MAX_LOG_MEAN)
        return float(np.mean(np.exp(log_mean) - np.expm1(target) * log_mean))
    return float(np.mean((outputs - target) ** 2))


def _optimizer(cfg: DFNConfig, parameters) -> torch.optim.Optimizer:
    """The config's optimiser over `parameters`, with its learning rate and weight decay."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            parameters, lr=cfg.learning_rate, momentum=0.9, weight_decay=cfg.weight_decay, nesterov=True
        )
    kinds = {
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "rmsprop": torch.optim.RMSprop,
        "radam": torch.optim.RAdam,
    }
    return kinds[cfg.optimizer](parameters, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)


class TrainableDFNRegressor(DFNRegressor):
    """The network with the estimator contract's fit; serving loads the plain DFNRegressor from what it saves."""

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        on_epoch: Callable[[int, float], None] | None = None,
    ) -> TrainableDFNRegressor:
        """Train with early stopping on (X_val, y_val), or on a 10% hold-out of X when none is given.

        X: (n, n_dense + 1), y: (n,) log1p(quantity). `on_epoch(epoch, val_loss)` is called after each epoch; it
        may raise to stop (Optuna's pruning). Raises NonFiniteLoss when a loss turns NaN or infinite."""
        return fit_network(self, X, y, X_val, y_val, on_epoch)


class TrainableDFNEnsemble(DFNEnsemble):
    """DFNEnsemble whose members fit: member k trained with seed + k, one after the other."""

    member_class = TrainableDFNRegressor

    def fit(self, X, y, X_val=None, y_val=None, on_epoch=None) -> TrainableDFNEnsemble:
        for member in self.members:
            member.fit(X, y, X_val, y_val, on_epoch=on_epoch)
        return self
