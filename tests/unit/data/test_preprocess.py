import numpy as np
import pandas as pd
import pytest

from pricing.data.features import NUMERIC_FEATURES
from pricing.data.preprocess import Preprocessor, binary_code


@pytest.fixture(scope="module")
def frames(small_prepared):
    return {name: pd.read_parquet(small_prepared / f"{name}.parquet") for name in ("train", "val", "test")}


def test_it_is_fitted_on_the_training_split_only(frames):
    pre = Preprocessor.fit(frames["train"])
    train_means = frames["train"][list(NUMERIC_FEATURES)].mean().to_numpy()
    everything = pd.concat(frames.values())[list(NUMERIC_FEATURES)].mean().to_numpy()
    assert np.allclose(pre.means, train_means)
    assert not np.allclose(pre.means, everything)
    assert set(pre.products) == set(frames["train"]["stockcode"])


def test_the_matrix_is_scaled_numbers_one_hot_context_and_the_product_index_last(frames):
    pre = Preprocessor.fit(frames["train"])
    X = pre.transform(frames["train"])
    assert X.shape == (len(frames["train"]), len(pre.columns)) and X.dtype == np.float32
    numeric = X[:, : len(pre.numeric)]
    assert np.allclose(numeric.mean(axis=0), 0, atol=1e-4)
    onehot = X[:, len(pre.numeric) : -1]
    assert set(np.unique(onehot)) <= {0.0, 1.0}
    assert np.allclose(onehot.sum(axis=1), len(pre.categories))  # exactly one hot per categorical
    assert X[:, -1].min() >= 1 and X[:, -1].max() <= len(pre.products)


def test_unknown_products_and_countries_do_not_break_the_transform(frames):
    pre = Preprocessor.fit(frames["train"])
    row = frames["test"].head(1).assign(stockcode="00000Z", country="Atlantis")
    X = pre.transform(row)
    assert X[0, -1] == 0
    country_columns = [i for i, c in enumerate(pre.columns) if c.startswith("country=")]
    assert X[0, country_columns].sum() == 0


def test_it_round_trips_through_json(frames):
    pre = Preprocessor.fit(frames["train"])
    again = Preprocessor.from_json(pre.to_json())
    assert again == pre
    assert np.array_equal(again.transform(frames["test"]), pre.transform(frames["test"]))


def test_the_binary_code_is_distinct_per_product():
    codes = binary_code(np.arange(300), 300)
    assert codes.shape == (300, 9)
    assert len({tuple(row) for row in codes}) == 300
