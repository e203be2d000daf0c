import numpy as np
import pytest

from pricing.artifacts.bundle import open_bundle
from pricing.data import features as F
from pricing.serving.errors import NoContexts, UnknownStockcode
from pricing.serving.predictor import Predictor
from pricing.serving.sweep import aggregate, price_grid, sweep_matrix
from tests.reference_features import key_to_product, with_price


@pytest.fixture(scope="module")
def predictor(quick_bundle):
    return Predictor(open_bundle(quick_bundle))


def test_the_fast_sweep_matrix_equals_the_feature_path_for_every_bin(predictor, quick_bundle):
    """Keying and pricing in matrix form gives exactly what key_to_product + with_price + transform give."""
    bundle = open_bundle(quick_bundle)
    products, pre = bundle.products(), bundle.preprocessor()
    contexts = bundle.contexts()
    stockcode = products.index[3]
    keyed = predictor.keyed_contexts(stockcode, samples=40)
    prices = price_grid(products.loc[stockcode, "price_min"], products.loc[stockcode, "price_max"], 7)
    X = sweep_matrix(keyed, predictor.price_columns, predictor.scaled_prices(stockcode, prices))
    pick = predictor.context_sample(stockcode, 40)
    raw = key_to_product(contexts.iloc[pick][list(F.FEATURES)].reset_index(drop=True), stockcode, products)
    for b, price in enumerate(prices):
        expected = pre.transform(with_price(raw, price, products))
        assert np.allclose(X[b * 40 : (b + 1) * 40], expected, atol=1e-5), f"bin {b}"


def test_every_product_gets_its_own_contexts_product_columns(predictor):
    a, b = predictor.products.index[:2]
    keyed_a, keyed_b = predictor.keyed_contexts(a, 30), predictor.keyed_contexts(b, 30)
    assert (keyed_a[:, -1] != keyed_b[:, -1]).all()
    assert not np.allclose(keyed_a[:, predictor.product_columns], keyed_b[:, predictor.product_columns])


def test_the_context_sample_is_deterministic_and_bounded(predictor):
    code = predictor.products.index[0]
    assert np.array_equal(predictor.keyed_contexts(code, 50), predictor.keyed_contexts(code, 50))
    assert len(predictor.keyed_contexts(code, 10**6)) == len(predictor.contexts)


def test_filters_with_no_matching_context_say_so(predictor):
    with pytest.raises(NoContexts):
        predictor.keyed_contexts(predictor.products.index[0], 10, country="Atlantis")
    with pytest.raises(UnknownStockcode):
        predictor.product("NOPE")


def test_aggregation_takes_the_median_min_max_and_the_best_revenue():
    prices = np.array([1.0, 2.0, 3.0])
    quantities = np.array([[10, 12, 14], [6, 7, 8], [2, 3, 4]], dtype=float)
    result = aggregate(prices, quantities.ravel())
    assert np.allclose(result.quantity, [12, 7, 3])
    assert np.allclose(result.quantity_min, [10, 6, 2]) and np.allclose(result.quantity_max, [14, 8, 4])
    assert result.optimal_price == 2.0 and np.allclose(result.sales, [12, 14, 9])
    rows = result.rows("X")
    assert [r["optimal_unit_price"] for r in rows] == [2.0] * 3 and rows[1]["max_predicted_sales"] == 14.0


def test_weekly_units_are_order_lines_times_mean_units_per_line_and_the_optimum_follows_the_objective():
    prices = np.array([1.0, 2.0, 3.0])
    quantities = np.array([[10, 12, 20], [6, 7, 11], [2, 3, 4]], dtype=float)  # mean 14, 8, 3; median 12, 7, 3
    orders = np.array([30.0, 10.0, 4.0])
    weekly = aggregate(prices, quantities.ravel(), orders_per_week=orders)
    assert np.allclose(weekly.units_per_week, orders * [14, 8, 3])
    assert np.allclose(weekly.sales_per_week, prices * orders * [14, 8, 3])  # 420, 160, 36
    assert weekly.optimal_price == 1.0 and weekly.rows("X")[0]["sales_per_week"] == 420.0
    per_line = aggregate(prices, quantities.ravel(), orders_per_week=orders, objective="sales_per_line")
    assert per_line.optimal_price == 2.0  # 12, 14, 9 per line
    without = aggregate(prices, quantities.ravel())  # a bundle without an incidence model: per line, nulls
    assert without.optimal_price == 2.0 and without.rows("X")[0]["orders_per_week"] is None
