"""One identity for a product: prepare, the API path, the batch job and the product search key a product by
canonical_stockcode, so `40714d`, ` 40714D` and `40714D` are one product everywhere."""

import pandas as pd
import pytest

from pricing.config import Settings
from pricing.data.features import canonical_stockcode
from pricing.data.prepare import prepare
from pricing.serving import batch
from pricing.serving.app import create_app
from pricing.serving.state import service_of

SPELLINGS = ("40714d", " 40714D", "40714D ", "４０７１４Ｄ")  # the last: full-width, as some keyboards type it


def test_canonical_stockcode():
    assert {canonical_stockcode(code) for code in SPELLINGS} == {"40714D"}
    assert canonical_stockcode("85123a\t") == "85123A"


def test_prepare_stores_one_product_for_every_spelling(small_raw, tmp_path):
    raw = pd.read_csv(small_raw / "online_retail.csv", dtype=str, keep_default_na=False)
    code = raw["StockCode"].value_counts().index[0]
    rows = raw.index[raw["StockCode"] == code]
    raw.loc[rows, "StockCode"] = [SPELLINGS[i % len(SPELLINGS)] for i in range(len(rows))]
    raw.to_csv(tmp_path / "raw.csv", index=False)
    prepare(tmp_path / "raw.csv", tmp_path / "out")
    products = pd.read_parquet(tmp_path / "out" / "products.parquet")
    assert products["stockcode"].str.contains("40714", regex=False).sum() == 1
    assert "40714D" in set(products["stockcode"])


@pytest.fixture(scope="module")
def app(store):
    return create_app(Settings(env="test", artifact_store=str(store.root)))


@pytest.fixture(scope="module")
def code(app):
    """A product of the quick bundle whose code has a letter, so that its case can differ."""
    table = service_of(app).predictor.products.sort_values("lines", ascending=False)
    return next(c for c in table.index if any(ch.isalpha() for ch in c))


def test_the_api_answers_every_spelling_as_the_one_product(app, code):
    client = app.test_client()
    query = "?num_price_bins=5&num_samples=20"
    canonical = client.get(f"/v1/predict-price/{code}{query}")
    assert canonical.status_code == 200
    for spelling in (code.lower(), f"%20{code}", f"{code.lower()}%20"):
        response = client.get(f"/v1/predict-price/{spelling}{query}")
        assert response.status_code == 200, spelling
        assert response.get_json() == canonical.get_json()
        assert response.headers["X-Cache"] == "HIT"  # one cache entry for the one product
    found = client.get(f"/v1/products?q=%20{code.lower()}%20").get_json()["items"]
    assert code in [item["stockcode"] for item in found]


def test_the_batch_job_prices_every_spelling_as_the_one_product(app, code):
    service = service_of(app)
    text = "stockcode,num_price_bins,num_samples\n" + "".join(
        f'"{spelling}",5,20\n' for spelling in (code, code.lower(), f" {code}", f"{code.lower()} ")
    )
    rows, _ = batch.read_rows(text)
    results = batch.price_rows(service.predictor, service.settings, rows)
    assert [r["status"] for r in results] == ["ok"] * 4
    assert {r["stockcode"] for r in results} == {code}
    assert len({r["optimal_unit_price"] for r in results}) == 1
