"""The real server over loopback HTTP: `pricing serve` (waitress) in a subprocess, with a real redis-server."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from pricing.store import LocalStore
from tests.servers import free_port, wait_for_port


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def server(quick_bundle, redis_server, tmp_path_factory):
    store = LocalStore(tmp_path_factory.mktemp("store"))
    store.publish(quick_bundle)
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_server.url, "ENV": "test", "CORS_ORIGINS": "http://localhost:5173"}
    process = subprocess.Popen(
        [sys.executable, "-m", "pricing", "serve", "--store", str(store.root), "--port", str(port), "--cache-clear"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_port(port, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


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
