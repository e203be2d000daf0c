"""The DataFrame way of pricing a product's contexts: re-key held-out rows to a product, recompute the price
columns. Serving does the same in matrix form (Predictor.keyed_contexts, sweep_matrix); the tests check one
against the other, and that the features training computes are the ones serving recomputes."""

import numpy as np
import pandas as pd

from pricing.data.features import PRICE_FEATURES, PRODUCT_FEATURES, PRODUCT_ID, price_features, product_features


def key_to_product(contexts: pd.DataFrame, stockcode: str, products: pd.DataFrame) -> pd.DataFrame:
    """Context rows re-keyed to one product: its id and every product-level feature become that product's."""
    keyed = contexts.copy()
    keyed[PRODUCT_ID] = stockcode
    keyed[list(PRODUCT_FEATURES)] = product_features([stockcode] * len(keyed), products).to_numpy()
    return keyed


def with_price(contexts: pd.DataFrame, price, products: pd.DataFrame) -> pd.DataFrame:
    """Context rows of one product at the given price(s): the price columns recomputed, nothing else."""
    stockcode = str(contexts[PRODUCT_ID].iat[0])
    product = products.loc[stockcode]
    priced = contexts.copy()
    prices = np.broadcast_to(np.asarray(price, dtype=float), (len(contexts),))
    priced[list(PRICE_FEATURES)] = price_features(prices, product["price_median"], product["price_max"]).to_numpy()
    return priced
