"""The real server over loopback HTTP: `pricing serve` (waitress) in a subprocess, with a real redis-server."""

import json
import urllib.error
import urllib.request

import pytest

from pricing.tools.reliability.processes import ApiServer


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def server(store, redis_server, tmp_path_factory):
    env = {"REDIS_URL": redis_server.url, "CORS_ORIGINS": "http://localhost:5173"}
    api = ApiServer(str(store.root), tmp_path_factory.mktemp("server"), env).start(timeout=60)
    yield api.url
    api.stop()


def test_the_price_curve_over_http_follows_the_contract_and_caches(server):
    status, _, body = get(f"{server}/v1/products?page_size=1")
    code = json.loads(body)["items"][0]["stockcode"]
    url = f"{server}/v1/predict-price/{code}?num_price_bins=25&num_samples=300"
    status, headers, first = get(url)
    assert status == 200 and headers["Content-Type"] == "application/json"
    rows = json.loads(first)
    assert len(rows) == 25 and rows[0]["stockcode"] == code
    assert headers["X-Cache"] == "MISS" and headers["X-Model"] == "network"
    assert "sweep;dur=" in headers["Server-Timing"]
    status, headers, second = get(url)
    assert headers["X-Cache"] == "HIT" and second == first


def test_errors_over_http_are_json_with_the_right_status(server):
    status, _, body = get(f"{server}/v1/predict-price/NOPE1")
    assert status == 404 and json.loads(body) == {"error": "unknown stockcode 'NOPE1'"}
    status, _, body = get(f"{server}/v1/products?page=0")
    assert status == 400 and "page" in json.loads(body)["error"]


def test_health_over_http_reports_redis(server):
    status, _, body = get(f"{server}/health")
    health = json.loads(body)
    assert status == 200 and health["cache"]["backend"] == "redis" and health["cache"]["available"] is True
