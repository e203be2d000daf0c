"""The whole Lambda boot: `python -m awslambdaric app.handler` in a subprocess, as the container's ENTRYPOINT and
CMD run it, against a loopback implementation of the Lambda Runtime API (pricing.tools.lambda_runtime) that hands
it events and records what it posts back."""

import json
import time
from pathlib import Path

import pytest

from pricing.artifacts.bundle import open_bundle
from pricing.tools.lambda_runtime import RuntimeApi, start_runtime
from pricing.tools.reliability.processes import stop_process
from tests.integration.test_events_http import function_url_event, rest_v1_event

ROOT = Path(__file__).parents[2]


@pytest.fixture
def runtime_api():
    api = RuntimeApi()
    yield api
    api.close()


def test_the_runtime_boots_the_app_and_answers_api_gateway_events(runtime_api, store, quick_bundle, tmp_path):
    products = open_bundle(quick_bundle).products().sort_values("lines", ascending=False)
    stockcode = products.index[0]
    runtime_api.invoke("req-rest", rest_v1_event(f"/v1/predict-price/{stockcode}", {"num_price_bins": ["9"]}))
    runtime_api.invoke("req-url", function_url_event(f"/v1/predict-price/{stockcode}", "num_price_bins=4"))
    runtime_api.invoke("req-odd", {"hello": "world"})
    runtime_api.invoke("req-health", rest_v1_event("/health"))
    log_path = tmp_path / "runtime.log"
    started = time.monotonic()
    process = start_runtime(runtime_api, store.root, log_path, ROOT)
    try:
        posted = {p["request_id"]: p for p in runtime_api.wait_posted(4)}
        init_seconds = runtime_api.first_next_at - started
    finally:
        stop_process(process)

    rest = posted["req-rest"]
    assert rest["kind"] == "response" and rest["body"]["statusCode"] == 200
    rows = json.loads(rest["body"]["body"])
    assert len(rows) == 9 and rows[0]["stockcode"] == stockcode
    assert rest["body"]["headers"]["X-Model"] == "network"
    url = posted["req-url"]
    assert url["kind"] == "response" and url["body"]["statusCode"] == 200
    assert len(json.loads(url["body"]["body"])) == 4
    odd = posted["req-odd"]
    assert odd["kind"] == "error"
    assert odd["body"]["errorType"] == "UnsupportedEvent" and "hello" in odd["body"]["errorMessage"]
    # the same process went on to the next event after the failed one: no crash, no restart loop
    assert posted["req-health"]["kind"] == "response" and posted["req-health"]["body"]["statusCode"] == 200

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    loaded = [line for line in lines if "bundle" in line.get("message", "") and "loaded" in line["message"]]
    assert loaded and "function_request_id" not in loaded[0]  # logged during init, before any invocation
    access = {line["function_request_id"]: line for line in lines if line.get("route") and "_aws" not in line}
    assert access["req-rest"]["status"] == 200 and access["req-rest"]["function_name"] == "pricing-api"
    assert any(line.get("_aws") and line.get("route") == "GET /health" for line in lines)
    print(f"\n[measure] awslambdaric cold init (process start -> first /invocation/next): {init_seconds:.2f} s")


def test_a_failing_init_is_reported_to_the_init_error_endpoint(runtime_api, store, tmp_path):
    process = start_runtime(runtime_api, store.root, tmp_path / "runtime.log", ROOT, ENV="staging")
    try:
        (posted,) = runtime_api.wait_posted(1)
        assert process.wait(timeout=30) != 0
    finally:
        if process.poll() is None:
            stop_process(process)
    assert posted["kind"] == "init-error" and posted["error_type"] == "SettingsError"
    assert "ENV must be one of" in posted["body"]["errorMessage"]
    assert runtime_api.first_next_at is None  # it never asked for an event
