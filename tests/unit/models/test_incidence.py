"""The incidence part: order lines per week at a list price, learned from product-week counts."""

import numpy as np
import pytest
import torch

from pricing.models.incidence import IncidenceNetwork
from pricing.models.incidence_lightgbm import IncidenceLightGBM
from pricing.training.incidence_fit import WeeklySplit, fit_incidence_network, poisson_deviance, product_log_rate

N_PRODUCTS = 120
TRUE_POOLED_SLOPE = 1.3  # lines fall 1.3% per 1% of list price


def synthetic_counts(weeks: int, seed: int, slopes: np.ndarray, levels: np.ndarray) -> WeeklySplit:
    """Counts of lines per product-week: rate per trading day = exp(level_j + 0.3 season - slope_j x price_x)."""
    rng = np.random.default_rng(seed)
    product = np.repeat(np.arange(1, N_PRODUCTS), weeks)
    week = np.tile(np.arange(weeks), N_PRODUCTS - 1)
    price_x = rng.normal(0, 0.2, len(product))  # list-price changes and promotions, centred per week
    angle = 2 * np.pi * week / 52
    X = np.column_stack([price_x, np.sin(angle), np.cos(angle), week / 52]).astype(np.float32)
    days = np.where(week % 9 == 0, 4.0, 6.0)
    rate = np.exp(levels[product] + 0.3 * np.sin(angle) - slopes[product] * price_x)
    return WeeklySplit(X, product, rng.poisson(rate * days).astype(float), days)


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(0)
    slopes = np.clip(TRUE_POOLED_SLOPE + rng.normal(0, 0.15, N_PRODUCTS), 0.5, None)
    levels = rng.normal(-0.5, 0.8, N_PRODUCTS)
    return slopes, levels, synthetic_counts(40, 1, slopes, levels), synthetic_counts(12, 2, slopes, levels)


def test_the_network_recovers_the_pooled_slope_of_known_counts(world):
    """Tolerance 0.15 on a slope of 1.3 (about 4,700 product-weeks)."""
    slopes, _, train, val = world
    model = fit_incidence_network(train, val, N_PRODUCTS, seed=0)
    assert -model.pooled_slope() == pytest.approx(TRUE_POOLED_SLOPE, abs=0.15)
    product_slopes = model.module.slope(torch.arange(1, N_PRODUCTS)).detach().numpy()
    assert (product_slopes > 0).all()  # demand falls with the list price by construction
    assert np.corrcoef(product_slopes, slopes[1:])[0, 1] > 0  # and the per-product slopes follow the truth


def test_both_models_beat_each_products_mean_rate_and_fall_with_price(world, tmp_path):
    _, _, train, val = world
    network = fit_incidence_network(train, val, N_PRODUCTS, seed=0)
    lightgbm = IncidenceLightGBM(product_log_rate(train, N_PRODUCTS)).fit(
        train.X, train.product, train.lines, train.days, val.X, val.product, val.lines, val.days
    )
    baseline = np.exp(product_log_rate(train, N_PRODUCTS))[val.product] * val.days
    for model in (network, lightgbm):
        assert poisson_deviance(val.lines, model.predict_rate(val.X, val.product) * val.days) < poisson_deviance(
            val.lines, baseline
        )
        X = np.repeat(val.X[:1], 5, axis=0)
        X[:, 0] = np.linspace(-0.4, 0.4, 5)  # the same product and week at five list prices
        rates = model.predict_rate(X, np.repeat(val.product[:1], 5))
        assert (np.diff(rates) <= 1e-12).all() and rates[0] > rates[-1]
    # and each reads back what it wrote
    for model, cls in ((network, IncidenceNetwork), (lightgbm, IncidenceLightGBM)):
        model.save(tmp_path / cls.__name__)
        again = cls.load(tmp_path / cls.__name__)
        np.testing.assert_allclose(again.predict_rate(val.X, val.product), model.predict_rate(val.X, val.product))
