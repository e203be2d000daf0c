"""The fallback chain on a trained bundle: it tries the models in the registry's order and checks what it returns
(quantities, after the inverse of the log transform)."""

import json
import shutil

import numpy as np
import pytest

from pricing.artifacts.bundle import open_bundle
from pricing.models import registry
from pricing.serving.errors import NoUsableModel
from pricing.serving.predictor import Predictor
from pricing.serving.request import PriceRequest


class FiniteButHuge:
    """A fallback far outside its data: every log prediction finite (800), its quantity e^800 is not."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), 800.0)


@pytest.fixture(scope="module")
def predictor(quick_bundle):
    return Predictor(open_bundle(quick_bundle, lazy_models=True))


def test_a_model_whose_quantities_overflow_falls_back_instead_of_answering_infinity(predictor):
    code = predictor.products.index[0]
    low, high = predictor.default_range(code)
    request = PriceRequest(code, low, high, 5, 20)
    expected = predictor.recommend(request)
    predictor.models.insert(0, ("huge", FiniteButHuge()))
    try:
        rec = predictor.recommend(request)
        with pytest.raises(NoUsableModel):
            predictor.recommend(request, only="huge")
    finally:
        predictor.models.pop(0)
    assert rec.model == expected.model != "huge"
    assert np.array_equal(rec.result.quantity, expected.result.quantity)
    json.dumps(rec.result.rows(code), allow_nan=False)  # raises on Infinity or NaN


# -- serving: the predictor's fallback order ------------------------------------------------------------------
def test_the_predictor_tries_the_models_in_registry_order_and_skips_an_unknown_one_by_name(quick_bundle, tmp_path):
    assert Predictor(open_bundle(quick_bundle, lazy_models=True)).model_names == list(registry.MODEL_PRIORITY)
    root = tmp_path / "bundle"
    shutil.copytree(quick_bundle, root)
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["model_priority"] = ["svr", "mystery", "elasticnet", "network", "lightgbm"]
    manifest["models"]["mystery"] = {"files": []}
    (root / "manifest.json").write_text(json.dumps(manifest))
    predictor = Predictor(open_bundle(root, lazy_models=True))
    assert predictor.model_names == list(registry.MODEL_PRIORITY)
    assert set(predictor.skipped) == {"mystery"} and "UnknownModel" in predictor.skipped["mystery"]
