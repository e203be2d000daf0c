"""What responses must not reveal or accept, in-process; found by the reliability run's fuzzer and probes."""

import pytest

from pricing.artifacts.store import LocalStore
from pricing.config import Settings
from pricing.serving.app import create_app
from pricing.serving.cache import RedisCache
from pricing.serving.state import service_of
from tests.servers import free_port


@pytest.fixture(scope="module")
def store(quick_bundle, tmp_path_factory):
    local = LocalStore(tmp_path_factory.mktemp("store"))
    local.publish(quick_bundle)
    return local


@pytest.fixture(scope="module")
def app(store):
    return create_app(Settings(env="test", artifact_store=str(store.root)))


@pytest.fixture(scope="module")
def code(app):
    return service_of(app).predictor.products.sort_values("lines", ascending=False).index[0]


def test_health_with_redis_down_names_the_error_type_but_not_redis_host_and_port(store):
    port = free_port()  # nothing listens there
    app = create_app(
        Settings(env="test", artifact_store=str(store.root)), cache=RedisCache(f"redis://127.0.0.1:{port}/0")
    )
    body = app.test_client().get("/health").get_data(as_text=True)
    assert '"available":false' in body.replace(" ", "") and '"error":"ConnectionError"' in body.replace(" ", "")
    assert str(port) not in body and "127.0.0.1" not in body


@pytest.mark.parametrize("path", ["/v1/predict-price//{code}", "/v1//products", "/health//"])
def test_a_double_slash_is_a_json_404_not_an_html_redirect_to_the_callers_host(app, code, path):
    response = app.test_client().get(path.format(code=code), headers={"Host": "attacker.example"})
    assert response.status_code == 404 and response.get_json() == {"error": "no such route"}
    assert "Location" not in response.headers


@pytest.mark.parametrize("price", ["0.0000001", "0.00001", "0.00009999"])
def test_a_price_below_a_ten_thousandth_is_a_400_not_a_curve_priced_at_zero(app, code, price):
    response = app.test_client().get(f"/v1/predict-price/{code}?unitprice_min={price}&num_price_bins=5")
    assert response.status_code == 400
    assert response.get_json()["error"] == "unitprice_min: must be at least 0.0001 (prices are reported to 4 decimals)"


def test_the_lowest_accepted_price_comes_back_positive_from_the_model_that_should_answer(app, code):
    response = app.test_client().get(f"/v1/predict-price/{code}?unitprice_min=0.0001&unitprice_max=1&num_price_bins=5")
    assert response.status_code == 200 and response.headers["X-Model"] == "network"
    assert all(row["unit_price"] > 0 for row in response.get_json())


def test_bounds_that_round_to_the_same_price_are_refused(app, code):
    response = app.test_client().get(f"/v1/predict-price/{code}?unitprice_min=1.0000001&unitprice_max=1.0000004")
    assert response.status_code == 400 and "must be below unitprice_max" in response.get_json()["error"]


def test_the_openapi_document_states_the_price_floor(app):
    spec = app.test_client().get("/openapi.json").get_json()
    parameters = {p["name"]: p for p in spec["paths"]["/v1/predict-price/{stockcode}"]["get"]["parameters"]}
    assert parameters["unitprice_min"]["schema"]["minimum"] == 0.0001
