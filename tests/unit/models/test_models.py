import pickle
from dataclasses import replace

import numpy as np
import pytest
import torch

from pricing.models.fallbacks import (
    ElasticNetModel,
    KernelSVRModel,
    LightGBMConfig,
    LightGBMModel,
    SVRConfig,
)
from pricing.models.network import DFNConfig, DFNEnsemble, DFNNetwork, DFNRegressor
from pricing.models.registry import spec
from pricing.training import network_fit
from pricing.training.network_fit import NonFiniteLoss, TrainableDFNEnsemble, TrainableDFNRegressor

N_PRODUCTS = 40


def toy_data(n: int, seed: int = 0, noise: float = 0.1):
    """y depends on two dense columns and on the product: every model should find that."""
    rng = np.random.default_rng(seed)
    dense = rng.normal(size=(n, 6)).astype(np.float32)
    product = rng.integers(1, N_PRODUCTS, n)
    effect = np.linspace(-1, 1, N_PRODUCTS)
    y = 1.5 + 0.8 * dense[:, 0] - 0.5 * dense[:, 1] ** 2 + effect[product] + noise * rng.normal(size=n)
    return np.hstack([dense, product[:, None].astype(np.float32)]), y


def small_network(**overrides) -> DFNRegressor:
    config = DFNConfig(units=(32, 16), max_epochs=30, batch_size=128, learning_rate=3e-3, seed=0)
    return TrainableDFNRegressor(config, n_products=N_PRODUCTS, **overrides)


MODELS = {
    "network-embedding": lambda: small_network(),
    "network-binary": lambda: small_network(product_encoding="binary"),
    "network-onehot": lambda: small_network(product_encoding="onehot"),
    "network-ensemble": lambda: TrainableDFNEnsemble(small_network().config, n_products=N_PRODUCTS, members=2),
    "lightgbm": lambda: LightGBMModel(LightGBMConfig(num_leaves=15, min_data_in_leaf=10)),
    "svr": lambda: KernelSVRModel(SVRConfig(gamma=0.05, C=3.0, components=200), n_products=N_PRODUCTS),
    "elasticnet": lambda: ElasticNetModel(n_products=N_PRODUCTS, alpha=1e-4),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_each_model_fits_and_beats_predicting_the_mean(name):
    X, y = toy_data(3_000)
    X_test, y_test = toy_data(1_000, seed=1)
    model = MODELS[name]()
    assert model.fit(X, y) is model
    prediction = model.predict(X_test)
    assert prediction.shape == (1_000,) and np.isfinite(prediction).all()
    mse = np.mean((prediction - y_test) ** 2)
    assert mse < 0.6 * np.var(y_test), f"{name}: mse {mse:.3f} vs variance {np.var(y_test):.3f}"


@pytest.mark.parametrize("name", list(MODELS))
def test_each_model_round_trips_through_its_saved_files(name, tmp_path):
    X, y = toy_data(1_500)
    model = MODELS[name]().fit(X, y)
    files = model.save(tmp_path)
    assert all(path.is_file() for path in files)
    assert not any(path.suffix in (".pkl", ".pickle", ".joblib") for path in files)
    loaded = type(model).load(tmp_path)
    assert np.allclose(loaded.predict(X[:200]), model.predict(X[:200]), atol=1e-6)


def test_early_stopping_stops_before_the_epoch_limit_on_a_plateau():
    X, _ = toy_data(2_000)
    noise = np.random.default_rng(3).normal(size=len(X))  # nothing to learn: validation loss plateaus
    model = small_network(max_epochs=200, patience=3).fit(X, noise)
    assert model.history.stopped_early
    assert len(model.history.val_loss) < 200
    assert len(model.history.val_loss) == model.history.best_epoch + 1 + 3


def test_the_best_epoch_weights_are_kept_not_the_last():
    X, y = toy_data(2_000)
    X_val, y_val = toy_data(500, seed=2)
    model = small_network(max_epochs=40, patience=3).fit(X, y, X_val, y_val)
    final_val = np.mean((model.predict(X_val) - y_val) ** 2)
    assert final_val == pytest.approx(min(model.history.val_loss), rel=1e-4)


def test_a_non_finite_loss_stops_training_with_a_clear_error():
    X, y = toy_data(500)
    y[10] = np.nan
    with pytest.raises(NonFiniteLoss, match="non-finite"):
        small_network().fit(X, y)


def test_the_same_seed_trains_the_same_network():
    X, y = toy_data(1_000)
    first = small_network(max_epochs=3).fit(X, y).predict(X[:50])
    second = small_network(max_epochs=3).fit(X, y).predict(X[:50])
    assert np.array_equal(first, second)
    other = small_network(max_epochs=3)
    other.config = replace(other.config, seed=1)
    assert not np.allclose(other.fit(X, y).predict(X[:50]), first)  # and the seed is what decides it


def test_network_weights_are_read_without_unpickling_code(tmp_path):
    X, y = toy_data(500)
    model = small_network(max_epochs=2).fit(X, y)
    model.save(tmp_path)

    class Payload:
        def __reduce__(self):
            return (print, ("this ran while loading",))

    torch.save({"weights": Payload()}, tmp_path / DFNRegressor.WEIGHTS)
    with pytest.raises(pickle.UnpicklingError):
        DFNRegressor.load(tmp_path)


def test_the_svr_sees_at_most_its_bounded_subsample():
    X, y = toy_data(5_000)
    model = KernelSVRModel(SVRConfig(max_rows=1_000, components=100), n_products=N_PRODUCTS).fit(X, y)
    assert model.rows_seen == 1_000
    assert model.landmarks.shape[0] == 100


def test_a_config_with_an_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match="optimizer"):
        DFNConfig(optimizer="lbfgs")


@pytest.mark.parametrize("optimizer", spec("network").search_space["optimizer"][1])
def test_every_optimizer_in_the_search_space_trains(optimizer):
    """Each optimiser the tuner may pick is the one training builds, and five epochs with it learn: the held-out
    loss falls to under 0.8 of the first epoch's (0.30-0.66 of it on this data; RAdam's warm-up is the slowest)."""
    model = small_network(optimizer=optimizer, max_epochs=5, learning_rate=1e-2)
    built = network_fit._optimizer(model.config, [torch.nn.Parameter(torch.zeros(1))])
    assert type(built).__name__.lower() == optimizer
    X, y = toy_data(1_000)
    losses = model.fit(X, y).history.val_loss
    assert np.isfinite(losses).all()
    assert min(losses) < 0.8 * losses[0], losses


@pytest.mark.parametrize("encoding", ["embedding", "binary", "onehot"])
def test_the_networks_grid_prediction_equals_predicting_the_tiled_matrix(encoding):
    from pricing.serving.sweep import sweep_matrix

    X, y = toy_data(1_000)
    model = small_network(product_encoding=encoding, max_epochs=2, batch_norm=True).fit(X, y)
    contexts = X[:37].copy()
    contexts[:, -1] = 5  # one product, as in a sweep
    price_columns = [0, 2]
    scaled_prices = np.random.default_rng(0).normal(size=(11, 2)).astype(np.float32)
    expected = model.predict(sweep_matrix(contexts, price_columns, scaled_prices))
    assert np.allclose(model.predict_grid(contexts, price_columns, scaled_prices, chunk_rows=100), expected, atol=1e-5)


def test_lightgbm_can_keep_quantity_falling_as_price_rises():
    X, y = toy_data(3_000)
    y = y + 0.8 * np.sin(3 * X[:, 2])  # a wiggle the unconstrained trees would follow
    model = LightGBMModel(LightGBMConfig(num_leaves=15, min_data_in_leaf=10, decreasing_columns=(2,))).fit(X, y)
    grid = np.tile(X[:20], (40, 1))
    grid[:, 2] = np.repeat(np.linspace(-2.5, 2.5, 40), 20)
    curves = model.predict(grid).reshape(40, 20)
    assert (np.diff(curves, axis=0) <= 1e-9).all()


def test_subnormal_weights_are_flushed_to_zero_on_load(tmp_path):
    X, y = toy_data(500)
    model = small_network(max_epochs=2).fit(X, y)
    with torch.no_grad():
        model.network.hidden[0].weight[0, :3] = 1e-40  # what weight decay leaves on a dead unit
    model.save(tmp_path)
    loaded = DFNRegressor.load(tmp_path)
    weight = loaded.network.hidden[0].weight
    assert (weight[0, :3] == 0).all()
    assert not ((weight != 0) & (weight.abs() < torch.finfo(torch.float32).tiny)).any()


@pytest.mark.parametrize("encoding", ["embedding", "binary", "onehot"])
def test_folding_batch_norm_for_inference_keeps_every_prediction(encoding, tmp_path):
    X, y = toy_data(1_000)
    model = small_network(product_encoding=encoding, max_epochs=3, batch_norm=True, dropout=0.2).fit(X, y)
    model.save(tmp_path)
    loaded = DFNRegressor.load(tmp_path)  # loading folds
    assert not any(isinstance(m, (torch.nn.BatchNorm1d, torch.nn.Dropout)) for m in loaded.network.hidden)
    assert np.allclose(loaded.predict(X), model.predict(X), atol=1e-4)


def overdispersed_quantities(n: int, seed: int = 0):
    """Quantities >= 1 with a known mean 1.5 + exp(1 + 0.8 x0) and a long tail, like real order lines."""
    rng = np.random.default_rng(seed)
    X, _ = toy_data(n, seed)
    mean = 1.5 + np.exp(1.0 + 0.8 * X[:, 0])
    quantity = 1 + rng.poisson(rng.gamma(0.5, (mean - 1) / 0.5))
    return X, np.log1p(quantity), mean


def test_the_poisson_network_predicts_the_mean_quantity_where_squared_log_error_falls_short():
    X, y, _ = overdispersed_quantities(6_000)
    X_test, _, mean = overdispersed_quantities(2_000, seed=1)
    poisson = small_network(loss="poisson").fit(X, y)
    squared = small_network().fit(X, y)
    poisson_mean = np.expm1(poisson.predict(X_test)).mean()
    squared_mean = np.expm1(squared.predict(X_test)).mean()
    assert poisson_mean == pytest.approx(mean.mean(), rel=0.15)
    assert squared_mean < 0.8 * mean.mean()  # E[log1p q] is not log1p E[q]: the mean is lost


def test_an_unknown_loss_is_refused():
    with pytest.raises(ValueError, match="loss"):
        DFNConfig(loss="huber")


def test_an_ensemble_averages_its_members_on_the_quantity_scale(tmp_path):
    X, y = toy_data(1_500)
    ensemble = TrainableDFNEnsemble(small_network(max_epochs=3).config, n_products=N_PRODUCTS, members=3).fit(X, y)
    members = [np.expm1(m.predict(X[:100])) for m in ensemble.members]
    assert not np.allclose(members[0], members[1])  # different seeds, different networks
    np.testing.assert_allclose(np.expm1(ensemble.predict(X[:100])), np.mean(members, axis=0), rtol=1e-6)
    ensemble.save(tmp_path)
    assert len(DFNEnsemble.load(tmp_path).members) == 3


def test_a_single_networks_folder_still_loads_through_the_ensemble_loader(tmp_path):
    X, y = toy_data(500)
    network = small_network(max_epochs=2).fit(X, y)
    network.save(tmp_path)
    # loading folds batch norm into the linear layers: the same function up to float rounding
    np.testing.assert_allclose(DFNEnsemble.load(tmp_path).predict(X[:50]), network.predict(X[:50]), atol=1e-5)


# -- the loglinear price effect ----------------------------------------------------------------------------
RATIO_SCALE = 0.25  # the standard deviation of price / median in loglinear_sales


def loglinear_sales(n: int, seed: int = 0, fixed_price_product: int | None = None):
    """Sales with log E[q] = 2 + 0.5 x2 + product level - slope[product] * price / median, as counts.

    Dense columns: 0 the standardised price / median, 1 log(price / median) (another price column), 2-5
    context. Returns X, log1p(quantity) and the true slopes."""
    rng = np.random.default_rng(seed)
    slopes = np.linspace(0.6, 1.6, N_PRODUCTS)
    product = rng.integers(1, N_PRODUCTS, n)
    ratio = np.clip(1 + RATIO_SCALE * rng.normal(size=n), 0.3, None)
    if fixed_price_product is not None:
        ratio[product == fixed_price_product] = 1.0
    context = rng.normal(size=(n, 4))
    log_mean = 2 + 0.5 * context[:, 0] + np.linspace(-0.5, 0.5, N_PRODUCTS)[product] - slopes[product] * ratio
    quantity = rng.poisson(np.exp(log_mean))
    dense = np.column_stack([(ratio - 1) / RATIO_SCALE, np.log(ratio), context])
    return np.hstack([dense, product[:, None]]).astype(np.float32), np.log1p(quantity), slopes


def loglinear_network(**overrides) -> DFNRegressor:
    return small_network(
        loss="poisson",
        price_effect="loglinear",
        price_columns=(0, 1),
        ratio_column=0,
        ratio_scale=RATIO_SCALE,
        **{"max_epochs": 25, "batch_size": 512, "learning_rate": 1e-2, **overrides},
    )


def fitted_slopes(model: DFNRegressor) -> np.ndarray:
    with torch.no_grad():
        return model.network.slope(torch.arange(N_PRODUCTS)).numpy()


def test_the_loglinear_network_recovers_each_products_price_slope():
    X, y, slopes = loglinear_sales(30_000)  # ~770 rows a product: a slope's standard error near 0.08
    model = loglinear_network(slope_shrinkage=10.0, batch_size=1024).fit(X, y)
    error = np.abs(fitted_slopes(model)[1:] - slopes[1:])
    assert np.median(error) < 0.1, error  # the slopes range over 0.6-1.6


def test_a_product_without_price_variation_gets_the_pooled_slope_not_a_flat_curve():
    X, y, _ = loglinear_sales(12_000, fixed_price_product=7)
    model = loglinear_network(slope_shrinkage=10.0).fit(X, y)
    fitted = fitted_slopes(model)
    pooled = model.network.pooled_slope()
    assert fitted[7] == pytest.approx(pooled, rel=0.05)  # no evidence of its own: near the prior's value
    assert 0.8 < pooled < 1.4  # the typical slope of the others, far from "price does not matter"


def test_stronger_shrinkage_pulls_the_slopes_toward_the_pooled_one():
    X, y, _ = loglinear_sales(8_000)
    loose = np.std(fitted_slopes(loglinear_network(slope_shrinkage=1.0).fit(X, y))[1:])
    tight = np.std(fitted_slopes(loglinear_network(slope_shrinkage=1e6).fit(X, y))[1:])
    assert tight < 0.1 * loose


def test_the_loglinear_body_reads_no_price_and_demand_falls_with_the_ratio(tmp_path):
    from pricing.serving.sweep import sweep_matrix

    X, y, _ = loglinear_sales(3_000)
    model = loglinear_network(max_epochs=3).fit(X, y)
    moved = X[:200].copy()
    moved[:, 1] += 5.0  # another price column: only price / median may move the prediction
    np.testing.assert_allclose(model.predict(moved), model.predict(X[:200]), atol=1e-6)

    contexts = X[:37].copy()
    contexts[:, -1] = 5
    ratios = np.linspace(-2, 2, 11)
    scaled_prices = np.column_stack([ratios, np.log(1 + RATIO_SCALE * ratios)]).astype(np.float32)
    grid = model.predict_grid(contexts, [0, 1], scaled_prices).reshape(11, 37)
    np.testing.assert_allclose(grid.ravel(), model.predict(sweep_matrix(contexts, [0, 1], scaled_prices)), atol=1e-5)
    assert (np.diff(grid, axis=0) < 0).all()
    model.save(tmp_path)
    np.testing.assert_allclose(DFNRegressor.load(tmp_path).predict(X[:50]), model.predict(X[:50]), atol=1e-5)


def test_a_loglinear_network_without_its_price_layout_is_refused():
    with pytest.raises(ValueError, match="ratio_column"):
        DFNConfig(price_effect="loglinear")
    with pytest.raises(ValueError, match="price_effect"):
        DFNConfig(price_effect="quadratic")


def test_a_confounder_the_body_underfits_bends_the_slope_far_less_once_the_price_is_partialled_out(monkeypatch):
    """Buyers who pay less also buy more (x2 lowers the price and raises demand through a curve a 2-unit body
    cannot follow). Reading the slope from the price variation x2 does not explain (r - m) keeps it much nearer
    the truth (1.0) than reading it from the price itself, the design before (m fixed at zero)."""
    rng = np.random.default_rng(3)
    n = 20_000
    context = rng.normal(size=(n, 4))
    wave = np.sin(3 * context[:, 0])
    ratio = 1 + 0.1 * rng.normal(size=n) - 0.2 * wave
    quantity = rng.poisson(np.exp(2 + 1.5 * wave - 1.0 * ratio))
    X = np.column_stack([(ratio - 1) / RATIO_SCALE, np.log(ratio), context, np.ones(n)]).astype(np.float32)

    def pooled_slope() -> float:
        model = loglinear_network(units=(2,), slope_shrinkage=1e6).fit(X, np.log1p(quantity))
        return model.network.pooled_slope()

    partialled = pooled_slope()
    monkeypatch.setattr(network_fit, "_fit_ratio_model", lambda *args: None)
    monkeypatch.setattr(DFNNetwork, "expected_ratio", lambda self, dense, product: torch.zeros(len(dense)))
    raw = pooled_slope()
    assert raw > 2.0  # the confounder is real: the price read raw doubles the slope at least
    assert abs(partialled - 1.0) < 0.5 * abs(raw - 1.0)


def test_a_context_unlike_any_in_training_predicts_at_most_twice_the_largest_training_line(tmp_path):
    """A rare country at an hour never seen read as a line of 90,000 units on a quick bundle (its Poisson deviance
    twice the baseline's): predictions are capped at log1p of twice the largest quantity in the training lines."""
    X, y = toy_data(2_000)
    model = small_network(max_epochs=3, loss="poisson").fit(X, y)
    cap = np.log1p(2 * np.expm1(y.max()))
    assert model.max_log_quantity == pytest.approx(cap)
    wild = X[:50].copy()
    wild[:, :-1] *= 1_000.0  # every dense feature a thousand standard deviations out
    assert model.predict(wild).max() <= cap + 1e-9
    model.save(tmp_path)
    assert DFNRegressor.load(tmp_path).predict(wild).max() <= cap + 1e-9


@pytest.mark.parametrize("name", ["elasticnet", "svr", "lightgbm"])
def test_the_fallbacks_grid_prediction_equals_predicting_the_tiled_matrix(name):
    """Their predict_grid computes only what changes between bins (linear: the context's part once; RBF: the
    kernel's context factor once; trees: one prediction per cell of the price thresholds), and must give every
    bin's prediction the tiled matrix gives."""
    from pricing.serving.sweep import sweep_matrix

    X, y = toy_data(1_500)
    model = MODELS[name]().fit(X, y)
    contexts = X[:37].copy()
    contexts[:, -1] = 5
    price_columns = [0, 2]
    scaled_prices = np.random.default_rng(0).normal(size=(41, 2)).astype(np.float32)
    scaled_prices[20:] = np.sort(scaled_prices[20:], axis=0)  # neighbours: trees give some bins one cell
    expected = model.predict(sweep_matrix(contexts, price_columns, scaled_prices))
    np.testing.assert_allclose(model.predict_grid(contexts, price_columns, scaled_prices), expected, atol=1e-9)
