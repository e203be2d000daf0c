"""The reliability run's short form on the quick bundle: the real server (waitress) over loopback with a real
redis-server, under load, with faults, fuzzing and security probes (what `make reliability` does for a
minute on the production bundle). Timings are reported, never asserted: the cores are shared."""

import json

import pytest

from pricing.artifacts.store import LocalStore
from pricing.tools.reliability import runner
from pricing.tools.reliability.faults import SHORT


@pytest.fixture(scope="module")
def report(quick_bundle, tmp_path_factory):
    store = LocalStore(tmp_path_factory.mktemp("reliability-store"))
    store.publish(quick_bundle)
    return runner.run(str(store.root), SHORT, progress=lambda line: None)


def test_the_load_mixes_cached_and_uncached_requests_with_zero_errors(report):
    load = report["load"]
    assert load["errors"] == 0, load["error_examples"]
    assert load["requests"] > 0 and load["statuses"] == {"200": load["requests"]}
    assert load["by_cache"]["HIT"]["requests"] > 0 and load["by_cache"]["MISS"]["requests"] > 0
    assert load["clients"] == 16 and load["throughput_rps"] > 0
    assert load["latency_ms"]["p50"] <= load["latency_ms"]["p95"] <= load["latency_ms"]["p99"]


def test_redis_killed_and_restarted_fails_no_request_and_the_cache_is_used_again(report):
    fault = report["faults"]["redis_killed"]
    assert fault["errors"] == 0, fault["error_examples"]
    assert fault["during_outage"]["x_cache"].get("BYPASS", 0) > 0
    assert fault["cache_used_again"] and fault["keys_after_restart"] > 0
    health = fault["health_during_outage"]
    assert health["status"] == 200 and health["cache"]["available"] is False and health["problems"] == []


def test_a_slow_redis_is_bypassed_rather_than_waited_for_and_used_again_once_fast(report):
    fault = report["faults"]["redis_slow"]
    assert fault["errors"] == 0, fault["error_examples"]
    assert fault["during_slow"]["requests"] > 0 and set(fault["during_slow"]["x_cache"]) == {"BYPASS"}
    assert fault["cache_used_again"]
    assert fault["max_server_wait_outside_sweep_ms"] is not None  # the bound's figure, reported not asserted


def test_requests_over_the_bounds_get_a_400_naming_the_parameter_amid_normal_traffic(report):
    fault = report["faults"]["over_bounds"]
    assert fault["errors"] == 0, fault["error_examples"]
    assert fault["over_bound_requests"] > 0 and fault["over_bound_statuses"] == {"400": fault["over_bound_requests"]}


def test_a_tampered_primary_model_is_refused_by_its_checksum_and_the_next_model_serves(report):
    fault = report["faults"]["corrupted_primary_model"]
    assert fault["errors"] == 0, fault["error_examples"]
    assert fault["refused_by_checksum"] and not fault["deserialised"]
    assert fault["x_model"] == {fault["expected_model"]: fault["requests"]}
    assert fault["health"]["status"] == "degraded" and fault["health"]["skipped_models"] == ["network"]


def test_a_network_predicting_nan_hands_every_request_to_the_next_model(report):
    fault = report["faults"]["non_finite_predictions"]
    assert fault["errors"] == 0, fault["error_examples"]
    assert fault["x_model"] == {fault["expected_model"]: fault["requests"]} and fault["fallbacks_logged"] > 0
    # the model loads, so /health is ok until a request reaches it; then degraded, naming it, with the count
    assert fault["health"]["status"] == "ok"
    after = fault["health_after"]
    assert after["status"] == "degraded" and "model network failed" in after["reason"]
    # every model call the load made (cache hits make none) failed on the network and was answered by the next
    failures = after["request_failures"]["network"]["failures"]
    assert failures > 0 and after["answers_by_model"][fault["expected_model"]] == failures
    assert "network" not in after["answers_by_model"]


def test_an_unreachable_store_at_cold_start_is_a_clear_503_and_the_server_recovers_by_itself(report):
    fault = report["faults"]["store_unreachable_at_cold_start"]
    assert fault["api"] == {"status": 503, "body": {"error": "no bundle is loaded; the service cannot price yet"}}
    assert fault["health"]["status"] == 503 and fault["health"]["body"]["reason"].startswith("no bundle loaded")
    assert fault["leaks"] == [] and fault["errors"] == 0, fault["error_examples"]
    assert fault["recovered"] and set(fault["statuses"]) == {"503", "200"}


def test_a_thousand_fuzzed_requests_get_no_5xx_and_every_4xx_is_a_json_message(report):
    fuzz = report["fuzz"]
    assert fuzz["cases"] >= 1000
    assert fuzz["server_errors"] == 0 and fuzz["failures"] == 0, fuzz["failure_examples"]
    assert {"200", "400", "404"} <= set(fuzz["statuses"])  # the cases reach every kind of answer


def test_cors_answers_only_the_configured_origin(report):
    cors = report["security"]["cors"]
    assert cors["passed"], cors["probes"]
    allowed = [p for p in cors["probes"] if p["allow_origin"]]
    assert {p["origin"] for p in allowed} == {"http://dashboard.example"} and len(allowed) == 2


def test_every_kind_of_response_has_nosniff_a_deliberate_cache_control_and_no_leak(report):
    headers = report["security"]["headers_and_leaks"]
    assert headers["passed"], [p for p in headers["probes"] if p["problems"]]
    assert {p["cache_control"] for p in headers["probes"] if "cache_control" in p} == {
        "public, max-age=300",
        "no-store",
    }


def test_unknown_parameters_and_other_spellings_add_one_cache_key_not_hundreds(report):
    inflation = report["security"]["cache_inflation"]
    assert inflation["passed"] and inflation["keys_added"] == 1 and inflation["requests"] >= 200


def test_the_report_says_passed_and_is_plain_json(report, tmp_path):
    runner.write_report(report, tmp_path / "reliability.json")
    written = json.loads((tmp_path / "reliability.json").read_text())
    assert written["summary"]["passed"] is True and written["form"] == "short"
    assert written["summary"]["fault_errors"] == 0 and written["summary"]["load_errors"] == 0
