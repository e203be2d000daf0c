"""Defects the reliability run found, each pinned in-process (the run itself shows them over HTTP)."""

import threading

import pytest
import redis

from pricing.artifacts.store import LocalStore
from pricing.config import Settings, SettingsError
from pricing.serving import app as app_module
from pricing.serving import state
from pricing.serving.app import create_app
from pricing.serving.cache import CacheUnavailable, RedisCache
from pricing.serving.state import service_of
from pricing.serving.warmup import WarmupFailed, warm_top_products
from tests.clock import manual_clock


class StalledRedis:
    """A Redis client whose every call times out, after all `callers` are inside it at once."""

    def __init__(self, callers: int) -> None:
        self.barrier = threading.Barrier(callers, timeout=30)
        self.calls = 0

    def get(self, key):
        self.calls += 1
        self.barrier.wait()
        raise redis.TimeoutError("Timeout reading from socket")


def test_concurrent_timeouts_of_one_slow_moment_count_as_one_failure_of_the_back_off():
    """Found under load with Redis slow: eight threads timing out together took the back-off from 0.5 s to
    the 30 s cap, so Redis stayed unused for 30 s after a blip (measured: first HIT 27.5 s after recovery)."""
    client = StalledRedis(callers=8)
    cache = RedisCache("redis://127.0.0.1:1/0", client=client)
    failures = []

    def read():
        try:
            cache.get("key")
        except CacheUnavailable:
            failures.append(1)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.calls == 8 and len(failures) == 8
    assert cache.backoff_seconds == 0.5


def test_a_new_failure_after_the_back_off_still_doubles_it():
    cache = RedisCache("redis://127.0.0.1:1/0", client=StalledRedis(callers=1))
    with pytest.raises(CacheUnavailable):
        cache.get("key")
    cache._down_until = 0.0  # the window is over: the next call is a new probe
    with pytest.raises(CacheUnavailable):
        cache.get("key")
    assert cache.backoff_seconds == 1.0


def some_product(app) -> str:
    return service_of(app).predictor.products.sort_values("lines", ascending=False).index[0]


def test_a_server_started_before_its_store_had_a_bundle_serves_once_one_is_published(
    quick_bundle, tmp_path, monkeypatch
):
    """Found with the store unreachable at cold start: the process answered 503 until restarted."""
    clock = manual_clock(monkeypatch, app_module, state)
    store = LocalStore(tmp_path / "store")
    app = create_app(Settings(env="test", artifact_store=str(store.root), bundle_retry_seconds=60))
    client = app.test_client()
    assert client.get("/v1/products").status_code == 503 and client.get("/health").status_code == 503
    store.publish(quick_bundle)
    clock.advance(60)  # the retry interval is over
    assert client.get("/health").status_code == 200
    assert client.get(f"/v1/predict-price/{some_product(app)}?num_price_bins=5").status_code == 200


def test_the_scheduled_warm_up_retries_a_store_that_had_no_bundle_at_start(quick_bundle, tmp_path, monkeypatch):
    """Found in review: the warm-up and the S3 batch read the predictor loaded at start, never the retry."""
    clock = manual_clock(monkeypatch, app_module, state)
    store = LocalStore(tmp_path / "store")
    app = create_app(Settings(env="test", artifact_store=str(store.root), bundle_retry_seconds=60))
    with pytest.raises(WarmupFailed, match="no bundle"):
        warm_top_products(app, 3)
    store.publish(quick_bundle)
    clock.advance(60)  # the retry interval is over
    assert warm_top_products(app, 3)["warmed"] == 3


def test_the_store_is_not_retried_before_the_interval(quick_bundle, tmp_path, monkeypatch):
    """A bad store is not hammered per request: a bundle published meanwhile is read once the interval is over,
    not a moment before."""
    clock = manual_clock(monkeypatch, app_module, state)
    store = LocalStore(tmp_path / "store")
    app = create_app(Settings(env="test", artifact_store=str(store.root), bundle_retry_seconds=3600))
    client = app.test_client()
    assert client.get("/health").status_code == 503
    store.publish(quick_bundle)
    clock.advance(3599)
    assert client.get("/health").status_code == 503
    clock.advance(1)
    assert client.get("/health").status_code == 200


def test_the_retry_interval_is_a_positive_setting():
    assert Settings.from_env({"BUNDLE_RETRY_SECONDS": "2.5"}).bundle_retry_seconds == 2.5
    with pytest.raises(SettingsError, match="BUNDLE_RETRY_SECONDS"):
        Settings.from_env({"BUNDLE_RETRY_SECONDS": "0"})
