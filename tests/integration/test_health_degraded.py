"""A model that fails at request time: the fallback answers, /health says degraded naming the model, and the
Fallbacks metric (which the SAM template's alarm watches) counts it; a coding error is a 500, never a fallback."""

import logging

import pytest

from pricing.artifacts.store import LocalStore
from pricing.config import Settings
from pricing.serving import events
from pricing.serving.app import create_app
from pricing.serving.health import ModelFailures
from pricing.serving.state import service_of
from pricing.tools.reliability.bundles import copy_latest, misshape_network_output
from tests.integration.test_events_http import emf_documents, rest_v1_event

QUERY = "num_price_bins=10&num_samples=50"


@pytest.fixture(scope="module")
def broken_app(store: LocalStore, tmp_path_factory):
    """The quick bundle with the network's output layer one input short (checksums updated): it loads and
    verifies, then raises ValueError on every prediction."""
    copy, manifest = copy_latest(str(store.root), tmp_path_factory.mktemp("misshapen"))
    assert manifest["model_priority"][0] == "network"
    misshape_network_output(copy, manifest)
    return create_app(Settings(env="test", artifact_store=str(copy.root)))


@pytest.fixture(scope="module")
def healthy_app(store: LocalStore):
    return create_app(Settings(env="test", artifact_store=str(store.root)))


def best_seller(app) -> str:
    return str(service_of(app).predictor.products.sort_values("lines").index[-1])


def test_a_failing_primary_is_answered_by_the_fallback_and_health_says_degraded_naming_it(broken_app, caplog):
    client = broken_app.test_client()
    before = client.get("/health").get_json()
    assert before["status"] == "ok" and before["request_failures"] == {}  # it loaded: nothing to see yet

    with caplog.at_level(logging.ERROR, logger="pricing.serving.predictor"):
        response = client.get(f"/v1/price-decision/{best_seller(broken_app)}?{QUERY}")
    assert response.status_code == 200
    assert response.headers["X-Model"] == "lightgbm" and response.headers["X-Fallback"] == "true"
    assert "model network failed to predict: ValueError" in caplog.text

    health = client.get("/health")
    body = health.get_json()
    assert health.status_code == 200 and body["status"] == "degraded"
    assert body["skipped_models"] == []  # not a load failure: a request-time one
    assert list(body["request_failures"]) == ["network"]
    assert body["request_failures"]["network"]["last_error"].startswith("model network failed to predict: ValueError")
    assert body["reason"].startswith("model network failed") and "fall back" in body["reason"]
    # every call of the per-line chain the request made failed on the network and was answered by LightGBM;
    # the incidence chain, unharmed, answered from its own primary
    failures = body["request_failures"]["network"]["failures"]
    assert failures >= 1 and body["answers_by_model"] == {"lightgbm": failures, "incidence_network": failures}


def test_the_healthy_bundle_answers_from_its_primary_and_says_so(healthy_app):
    client = healthy_app.test_client()
    response = client.get(f"/v1/price-decision/{best_seller(healthy_app)}?{QUERY}")
    assert response.headers["X-Model"] == "network" and response.headers["X-Fallback"] == "false"
    body = client.get("/health").get_json()
    assert body["status"] == "ok" and body["request_failures"] == {} and "reason" not in body


def test_the_fallbacks_metric_counts_each_answer_from_a_fallback_under_the_alarms_dimensions(
    broken_app, healthy_app, capsys
):
    """Through the Lambda handler with an API Gateway REST event: the EMF document carries Fallbacks = 1 for the
    broken bundle and 0 for the healthy one, in the dimension set {service} that FallbackRateAlarm reads."""
    for app, expected in ((broken_app, 1.0), (healthy_app, 0.0)):
        handler = events.lambda_handler(app, events.json_logger("INFO"), events.emf_metrics())
        code = best_seller(app)
        query = {"num_price_bins": ["10"], "num_samples": ["50"]}
        response = handler(rest_v1_event(f"/v1/predict-price/{code}", query), None)
        assert response["statusCode"] == 200
        (document,) = emf_documents(capsys.readouterr().out)
        directives = document["_aws"]["CloudWatchMetrics"][0]
        assert ["service"] in directives["Dimensions"] and document["service"] == "pricing"
        assert document["Fallbacks"] == [expected]


def test_the_alarm_watches_the_metric_the_handler_emits():
    from cfnlint.decode import decode

    from tests.integration.test_infra import TEMPLATE

    template, problems = decode(str(TEMPLATE))
    assert not problems
    alarm = template["Resources"]["FallbackRateAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (events.METRICS_NAMESPACE, "Fallbacks")
    assert [(d["Name"], d["Value"]) for d in alarm["Dimensions"]] == [("service", events.SERVICE)]
    assert alarm["Statistic"] == "Average"  # of 0/1 per answer: the fallback rate


def test_a_coding_error_in_a_model_is_a_500_not_a_fallback(healthy_app, monkeypatch):
    """A TypeError (a bug, not bad numbers) must reach the 500 handler and the logs: answering it from the next
    model would hide it behind a 200 and lose the primary's accuracy silently."""
    predictor = service_of(healthy_app).predictor
    _, network = predictor.models[0]

    def bug(*args, **kwargs):
        raise TypeError("predict_grid() got an unexpected keyword argument")

    monkeypatch.setattr(network, "predict_grid", bug)
    # samples no earlier request used, so the cache cannot answer it
    response = healthy_app.test_client().get(f"/v1/price-decision/{best_seller(healthy_app)}?num_samples=51")
    assert response.status_code == 500 and response.get_json() == {"error": "internal error"}
    assert predictor.failures.failing() == {}  # not counted as a model failure either


def test_failures_leave_the_window_after_its_length_without_waiting():
    now = [1000.0]
    failures = ModelFailures(window_s=300.0, clock=lambda: now[0])
    failures.failed("network", "ValueError: shapes")
    now[0] += 120.0
    failures.failed("network", "ValueError: shapes again")
    failures.answered("lightgbm")
    state = failures.failing()["network"]
    assert (state.failures, state.last_error, state.seconds_since_last) == (2, "ValueError: shapes again", 0.0)
    now[0] += 200.0  # the first failure is now 320 s old, the second 200 s
    assert failures.failing()["network"].failures == 1 and failures.answers() == {"lightgbm": 1}
    now[0] += 101.0
    assert failures.failing() == {} and failures.answers() == {}
