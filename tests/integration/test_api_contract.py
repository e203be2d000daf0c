"""The API's contract on a stand-in predictor (no trained model needed): strict parameters, the response's
resolution, the cache headers a shared cache needs, and the payload 2.0 query."""

import pytest

from pricing.config import Settings
from pricing.serving import apigateway
from pricing.serving.app import create_app
from tests.integration.test_events_http import http_v2_event, lambda_context
from tests.standins import StandInPredictor

DASHBOARD = "https://dash.example"
CODE = "85123A"


@pytest.fixture
def predictor():
    return StandInPredictor()


@pytest.fixture
def app(predictor):
    return create_app(Settings(env="test", cors_origins=(DASHBOARD,)), predictor=predictor)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("unitprice_min=1_0", "unitprice_min: not a number: '1_0'"),
        ("customerid=13122.9", "customerid: not an integer: '13122.9'"),
        ("num_price_bins=%D9%A5", "num_price_bins: not an integer"),  # Arabic-Indic 5
        ("unitprice_max=%EF%BC%95", "unitprice_max: not a number"),  # full-width 5
        ("unitprice_min=1e0", "unitprice_min: not a number"),
        ("unitprice_min=3&unitprice_max=3.001&num_price_bins=100", "num_price_bins: 100 prices from 3 to 3.001"),
    ],
)
def test_numbers_not_written_the_way_people_write_them_get_a_400_naming_the_parameter(client, query, fragment):
    response = client.get(f"/v1/predict-price/{CODE}?{query}")
    assert response.status_code == 400 and fragment in response.get_json()["error"]


def test_every_reported_price_is_distinct_and_its_sales_are_that_price_times_its_quantity(client):
    rows = client.get(f"/v1/predict-price/{CODE}?unitprice_min=1&unitprice_max=1.0199&num_price_bins=200").get_json()
    prices = [row["unit_price"] for row in rows]
    assert len(set(prices)) == len(prices) == 200
    for row in rows:
        assert row["predicted_sales"] == pytest.approx(row["unit_price"] * row["quantity"], rel=1e-4)


def test_the_same_request_in_query_and_in_a_batch_row_is_one_request(app, predictor):
    from pricing.serving.batch import price_rows

    query = "unitprice_min=2.6&num_price_bins=12&customerid=17850.0&country=France"
    assert app.test_client().get(f"/v1/predict-price/{CODE.lower()}?{query}").status_code == 200
    row = {"stockcode": f" {CODE} ", "unitprice_min": "2.60", "num_price_bins": "12", "customerid": "17850"}
    [result] = price_rows(predictor, Settings(env="test"), [(2, {**row, "country": "France"})])
    assert result["status"] == "ok" and predictor.requests[0] == predictor.requests[1]


@pytest.mark.parametrize(
    "path", [f"/v1/predict-price/{CODE}", f"/v1/predict-price/{CODE}?num_samples=0", "/v1/products", "/health"]
)
@pytest.mark.parametrize("origin", [None, DASHBOARD, "https://elsewhere.example"])
def test_every_response_whose_cors_headers_depend_on_the_origin_says_vary_origin(client, path, origin):
    """A shared cache keeps `Cache-Control: public` answers: without Vary: Origin it could hand the dashboard a copy
    stored for curl (no Access-Control-Allow-Origin), which the browser then refuses."""
    response = client.get(path, headers={"Origin": origin} if origin else {})
    assert "Origin" in response.vary
    if origin is not None:  # the header the cache must not mix up: there for the dashboard, absent for others
        assert (response.headers.get("Access-Control-Allow-Origin") == DASHBOARD) == (origin == DASHBOARD)


def test_without_cors_no_response_varies_on_the_origin(predictor):
    client = create_app(Settings(env="test"), predictor=predictor).test_client()
    response = client.get(f"/v1/predict-price/{CODE}", headers={"Origin": DASHBOARD})
    assert response.status_code == 200 and "Origin" not in response.vary


def test_a_payload_2_event_without_raw_query_string_keeps_its_query(app):
    """Some invokers and test tools send only queryStringParameters: the query must not be lost (a silent default
    curve for a request that asked for 7 bins)."""
    event = http_v2_event(f"/v1/predict-price/{CODE}", raw_query="num_price_bins=7&unitprice_max=3.1")
    del event["rawQueryString"]
    payload, response = apigateway.handle_http_v2(app, event, lambda_context())
    assert response.status == 200
    assert len(response.body.decode().split("},{")) == 7 and '"unit_price":3.1,' in payload["body"]


def test_the_openapi_documents_the_bounds_the_parser_applies(predictor):
    settings = Settings(env="test", max_price_bins=40, default_price_bins=20, max_samples=300, default_samples=50)
    document = create_app(settings, predictor=predictor).test_client().get("/openapi.json").get_json()
    operation = document["paths"]["/v1/predict-price/{stockcode}"]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert parameters["num_price_bins"] == {"type": "integer", "minimum": 2, "maximum": 40, "default": 20}
    assert parameters["num_samples"] == {"type": "integer", "minimum": 1, "maximum": 300, "default": 50}
    assert parameters["unitprice_min"]["minimum"] == 0.0001


def test_each_bin_gains_weekly_orders_units_and_sales_and_the_optimum_is_weekly_by_default(client):
    rows = client.get(f"/v1/predict-price/{CODE}?num_price_bins=8").get_json()
    for row in rows:
        assert row["units_per_week"] == pytest.approx(row["orders_per_week"] * row["quantity"], rel=1e-3)
        assert row["sales_per_week"] == pytest.approx(row["unit_price"] * row["units_per_week"], rel=1e-3)
    weekly_best = max(rows, key=lambda row: row["sales_per_week"])["unit_price"]
    line_best = max(rows, key=lambda row: row["predicted_sales"])["unit_price"]
    assert weekly_best == rows[0]["unit_price"] and line_best == rows[-1]["unit_price"]  # the stand-in's shape
    assert {row["optimal_unit_price"] for row in rows} == {weekly_best}
    per_line = client.get(f"/v1/predict-price/{CODE}?num_price_bins=8&optimise=sales_per_line")
    assert {row["optimal_unit_price"] for row in per_line.get_json()} == {line_best}
    assert per_line.headers["X-Incidence-Model"] == "standin_incidence"
    bad = client.get(f"/v1/predict-price/{CODE}?optimise=profit")
    assert bad.status_code == 400 and bad.get_json()["error"].startswith("optimise: must be one of")
