"""The EventBridge schedule warms a real redis-server with the top-N products, so their first real request is
a hit; an unreachable Redis makes the warm-up fail clearly instead of reporting success."""

import json

import pytest
import redis

from pricing.config import Settings
from pricing.serving import events
from pricing.serving.app import create_app
from pricing.serving.cache import PREFIX
from pricing.serving.state import service_of
from pricing.serving.warmup import WarmupFailed
from tests.integration.test_events_http import json_logging, lambda_context, rest_v1_event  # noqa: F401  (a fixture)
from tests.servers import free_port

pytestmark = pytest.mark.usefixtures("json_logging")

# A database of its own on the shared test server: the counts below are this test's keys only.
WARMUP_DB = 11


def scheduled_event() -> dict:
    """EventBridge scheduled rule (AWS's sample `cloudwatch-scheduled-event`)."""
    return {
        "version": "0",
        "account": "123456789012",
        "region": "us-east-2",
        "detail": {},
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": "2026-11-22T03:00:00Z",
        "id": "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c",
        "resources": ["arn:aws:events:us-east-2:123456789012:rule/pricing-warmup"],
    }


@pytest.fixture
def redis_db(redis_server):
    url = f"redis://127.0.0.1:{redis_server.port}/{WARMUP_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url, client
    client.flushdb()


def handler_for(store, redis_url: str, warmup_top_n: int = 100):
    settings = Settings(env="test", artifact_store=str(store.root), redis_url=redis_url, warmup_top_n=warmup_top_n)
    app = create_app(settings)
    return app, events.lambda_handler(app, events.json_logger("INFO"), events.emf_metrics())


def test_the_schedule_fills_redis_with_the_top_products_and_their_first_request_hits(store, redis_db, capsys):
    url, client = redis_db
    app, handler = handler_for(store, url, warmup_top_n=5)
    top = [item["stockcode"] for item in app.test_client().get("/v1/products?page_size=5").get_json()["items"]]

    summary = handler(scheduled_event(), lambda_context())["warmup"]

    assert (summary["products"], summary["warmed"], summary["already_cached"], summary["failed"]) == (5, 5, 0, [])
    version = service_of(app).predictor.version
    keys = sorted(key.decode() for key in client.scan_iter(match=f"{PREFIX}:*"))
    assert len(keys) == 5 and all(key.startswith(f"{PREFIX}:{version}:") for key in keys)
    assert sorted(key.split("{")[1].split("}")[0] for key in keys) == sorted(top)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert emf[-1]["WarmedProducts"] == [5.0] and emf[-1]["event"] == "schedule"

    # a fresh instance (another Lambda container) answers the first default request from Redis
    _, other_instance = handler_for(store, url, warmup_top_n=5)
    response = other_instance(rest_v1_event(f"/v1/predict-price/{top[0]}"), lambda_context())
    assert response["statusCode"] == 200 and response["headers"]["X-Cache"] == "HIT"

    again = other_instance(scheduled_event(), lambda_context())["warmup"]
    assert (again["warmed"], again["already_cached"]) == (0, 5)
    assert len(list(client.scan_iter(match=f"{PREFIX}:*"))) == 5


def test_a_warm_up_that_cannot_reach_redis_fails_the_invocation(store, capsys):
    _, handler = handler_for(store, f"redis://127.0.0.1:{free_port()}/0", warmup_top_n=3)  # nothing listens there
    with pytest.raises(WarmupFailed, match="none of the top 3 products could be cached"):
        handler(scheduled_event(), lambda_context())
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert emf[-1]["WarmupFailures"] == [3.0]
