"""The sweep on a trained bundle: the fast sweep matrix equals the feature path, and the contexts a request
keys to a product (moved from tests/unit/serving/test_sweep.py: they need the run's quick bundle)."""

import numpy as np
import pytest

from pricing.artifacts.bundle import open_bundle
from pricing.data import features as F
from pricing.serving.errors import NoContexts, UnknownStockcode
from pricing.serving.predictor import Predictor
from pricing.serving.sweep import price_grid, sweep_matrix
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
