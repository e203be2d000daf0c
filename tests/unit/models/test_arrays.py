"""The networks' serving format (pricing.models.arrays) computes what the torch networks compute."""

import numpy as np
import pytest
import torch

from pricing.models.arrays import (
    INCIDENCE_ARRAYS,
    NETWORK_ARRAYS,
    ArrayDFNEnsemble,
    ArrayDFNRegressor,
    ArrayIncidenceNetwork,
)
from pricing.models.incidence import IncidenceNetwork
from pricing.models.loaders import IncidenceLoader, NetworkLoader
from pricing.models.network import DFNEnsemble, DFNRegressor
from pricing.training.network_fit import TrainableDFNEnsemble
from tests.unit.models.test_models import (
    N_PRODUCTS,
    RATIO_SCALE,
    loglinear_network,
    loglinear_sales,
    small_network,
    toy_data,
)

RTOL = 1e-5  # the parity bound, on quantities
ATOL = 1e-6  # units: float32's rounding where a toy network's quantity crosses zero (a relative bound means nothing)


def quantities(log1p: np.ndarray) -> np.ndarray:
    return np.expm1(np.asarray(log1p, dtype=float))


def sweep_inputs(X: np.ndarray, product: int = 5):
    contexts = X[:37].copy()
    contexts[:, -1] = product
    ratios = np.linspace(-2, 2, 11)
    return contexts, np.column_stack([ratios, np.log(1 + RATIO_SCALE * ratios)]).astype(np.float32)


@pytest.mark.parametrize(
    "build",
    [
        lambda: small_network(product_encoding="embedding", batch_norm=True, dropout=0.2, max_epochs=3),
        lambda: small_network(product_encoding="binary", batch_norm=True, max_epochs=3),
        lambda: small_network(product_encoding="onehot", batch_norm=True, dropout=0.2, max_epochs=3),
        lambda: loglinear_network(max_epochs=3, batch_norm=True),
        lambda: loglinear_network(max_epochs=3, product_encoding="onehot"),
    ],
    ids=["free-embedding", "free-binary", "free-onehot", "loglinear-embedding", "loglinear-onehot"],
)
def test_the_exported_network_predicts_what_torch_predicts(build, tmp_path):
    loglinear = build().config.price_effect == "loglinear"
    X, y = loglinear_sales(2_000)[:2] if loglinear else toy_data(2_000)
    model = build().fit(X, y)
    files = model.save(tmp_path)
    assert tmp_path / NETWORK_ARRAYS in files  # listed, so the manifest checksums it
    torch_model, array_model = DFNRegressor.load(tmp_path), ArrayDFNRegressor.load(tmp_path)
    np.testing.assert_allclose(
        quantities(array_model.predict(X)), quantities(torch_model.predict(X)), rtol=RTOL, atol=ATOL
    )
    contexts, prices = sweep_inputs(X)
    columns = [0, 1] if loglinear else [0, 2]
    expected = quantities(torch_model.predict_grid(contexts, columns, prices))
    got = quantities(array_model.predict_grid(contexts, columns, prices, chunk_rows=100))
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    # the recommended price is the same bin: revenue per line at each price, averaged over the contexts
    revenue = lambda q: q.reshape(len(prices), -1).mean(axis=1) * np.exp(prices[:, 0])  # noqa: E731
    assert np.argmax(revenue(got)) == np.argmax(revenue(expected))


def test_an_ensembles_export_loads_without_torch_classes_and_averages_its_members(tmp_path):
    X, y = toy_data(1_500)
    ensemble = TrainableDFNEnsemble(small_network(max_epochs=2).config, n_products=N_PRODUCTS, members=2).fit(X, y)
    ensemble.save(tmp_path)
    loaded = NetworkLoader.load(tmp_path)
    assert isinstance(loaded, ArrayDFNEnsemble) and len(loaded.members) == 2
    np.testing.assert_allclose(
        quantities(loaded.predict(X)), quantities(DFNEnsemble.load(tmp_path).predict(X)), rtol=RTOL, atol=ATOL
    )


def test_a_network_folder_without_the_export_loads_the_torch_network(tmp_path):
    X, y = toy_data(1_000)
    model = small_network(max_epochs=2).fit(X, y)
    model.save(tmp_path)
    (tmp_path / NETWORK_ARRAYS).unlink()  # a bundle written before the export
    loaded = NetworkLoader.load(tmp_path)
    assert isinstance(loaded, DFNRegressor)
    np.testing.assert_allclose(quantities(loaded.predict(X)), quantities(model.predict(X)), rtol=RTOL, atol=ATOL)


def test_the_exported_archive_holds_plain_arrays_only(tmp_path):
    X, y = toy_data(1_000)
    small_network(max_epochs=1).fit(X, y).save(tmp_path)
    with np.load(tmp_path / NETWORK_ARRAYS, allow_pickle=False) as archive:  # refuses object arrays
        assert all(archive[key].dtype.kind in "fiub" for key in archive.files)


def test_the_exported_incidence_network_predicts_the_torch_rates(tmp_path):
    model = IncidenceNetwork(N_PRODUCTS, units=8)
    with torch.no_grad():  # weights away from their zero start, so every term counts
        for parameter in model.module.parameters():
            parameter.normal_(0, 0.5)
    files = model.save(tmp_path)
    assert tmp_path / INCIDENCE_ARRAYS in files
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4)).astype(np.float32)
    product = rng.integers(0, N_PRODUCTS + 3, 500)  # beyond the vocabulary: clipped, as torch does
    loaded = IncidenceLoader.load(tmp_path)
    assert isinstance(loaded, ArrayIncidenceNetwork)
    np.testing.assert_allclose(loaded.predict_rate(X, product), model.predict_rate(X, product), rtol=RTOL, atol=ATOL)
    (tmp_path / INCIDENCE_ARRAYS).unlink()
    assert isinstance(IncidenceLoader.load(tmp_path), IncidenceNetwork)
