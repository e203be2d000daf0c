import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from pricing.config import Settings
from pricing.serving import cache as cache_module
from pricing.serving.app import create_app
from pricing.serving.cache import PREFIX, RedisCache, cache_key
from pricing.serving.state import service_of
from tests.clock import manual_clock
from tests.integration.test_store import second_version
from tests.servers import RedisServer


def app_with(store_root, cache):
    return create_app(Settings(env="test", artifact_store=str(store_root)), cache=cache)


def some_product(app, n: int = 0) -> str:
    return service_of(app).predictor.products.sort_values("lines", ascending=False).index[n]


def test_keys_carry_the_service_prefix_the_version_and_the_stockcode_as_a_hash_tag():
    key = cache_key("v1", "85123A", {"a": 1, "b": None})
    assert key.startswith(f"{PREFIX}:v1:{{85123A}}:")
    assert key == cache_key("v1", "85123A", {"b": None, "a": 1})  # canonical: order does not matter
    assert key != cache_key("v2", "85123A", {"a": 1, "b": None})


def test_a_second_request_is_a_hit_with_an_identical_body_through_redis(store, redis_server):
    app = app_with(store.root, RedisCache(redis_server.url))
    url = f"/v1/predict-price/{some_product(app)}?num_price_bins=9&num_samples=80"
    first, second = app.test_client().get(url), app.test_client().get(url)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert first.data == second.data
    ttl = redis.Redis.from_url(redis_server.url).ttl(
        next(iter(redis.Redis.from_url(redis_server.url).scan_iter(match=f"{PREFIX}:*")))
    )
    assert 0 < ttl <= 3600


def test_a_new_bundle_version_never_reads_the_old_versions_entries(store, quick_bundle, redis_server, tmp_path):
    old_app = app_with(store.root, RedisCache(redis_server.url))
    url = f"/v1/predict-price/{some_product(old_app, 1)}?num_price_bins=7"
    old_app.test_client().get(url)
    assert old_app.test_client().get(url).headers["X-Cache"] == "HIT"
    store.publish(second_version(quick_bundle, tmp_path))
    new_app = app_with(store.root, RedisCache(redis_server.url))
    response = new_app.test_client().get(url)
    assert response.headers["X-Model-Version"] != service_of(old_app).predictor.version
    assert response.headers["X-Cache"] == "MISS"


def test_redis_stopped_mid_test_serves_uncached_then_hits_again_once_back(store, tmp_path, monkeypatch):
    clock = manual_clock(monkeypatch, cache_module)  # the back-off's clock: moved past it, never slept through
    server = RedisServer(tmp_path).start()
    cache = RedisCache(server.url, backoff_cap=1.0)
    app = app_with(store.root, cache)
    client = app.test_client()
    url = f"/v1/predict-price/{some_product(app, 2)}?num_price_bins=6&num_samples=60"
    assert client.get(url).headers["X-Cache"] == "MISS"
    server.stop()
    down = [client.get(url) for _ in range(3)]
    assert [r.status_code for r in down] == [200] * 3
    assert {r.headers["X-Cache"] for r in down} == {"BYPASS"}
    assert app.test_client().get("/health").get_json()["cache"]["available"] is False

    server.start()  # same port, empty: the entry is gone with the old process
    try:
        assert client.get(url).headers["X-Cache"] == "BYPASS"  # still within the back-off: Redis is not asked
        clock.advance(cache.backoff_cap)  # the back-off is over
        states = [client.get(url).headers["X-Cache"] for _ in range(2)]
    finally:
        server.stop()
    assert states == ["MISS", "HIT"]  # the cache is used again: filled, then read


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    """Whether Redis answers a PING within `timeout` seconds (a fresh connection, no retry): an idle local Redis
    answers in well under a millisecond, so a second without an answer is a Redis that is busy."""
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": Retry(NoBackoff(), 0)}
    probe = redis.Redis.from_url(url, **options)
    try:
        return probe.ping()
    except redis.TimeoutError:
        return False
    finally:
        probe.close()


def test_a_slow_redis_costs_a_bounded_wait_then_bypass(store, tmp_path):
    server = RedisServer(tmp_path).start()
    try:
        app = app_with(store.root, RedisCache(server.url, timeout=0.2))
        url = f"/v1/predict-price/{some_product(app, 3)}?num_price_bins=5&num_samples=40"
        assert redis_answers(server.url)
        sleeper = threading.Thread(target=server.cli, args=("DEBUG", "SLEEP", "25"))
        sleeper.start()
        deadline = time.monotonic() + 20
        while redis_answers(server.url):  # each probe waits up to 1 s: no sleep, the condition itself
            assert time.monotonic() < deadline, "DEBUG SLEEP never blocked redis"
        response = app.test_client().get(url)
        assert response.status_code == 200 and response.headers["X-Cache"] == "BYPASS"
        # answered while redis was still asleep: the wait was bounded by the client's timeout, not by redis
        assert not redis_answers(server.url) and sleeper.is_alive()
    finally:
        server.process.kill()  # redis asleep handles no SIGTERM until it wakes: end it now
        server.stop()
    sleeper.join()


def test_clearing_deletes_only_this_services_keys(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    client.set("someone-else:key", b"keep me")
    cache = RedisCache(redis_server.url)
    for i in range(30):
        cache.set(cache_key("v", f"{10000 + i}", {"i": i}), b"x", 60)
    assert cache.clear() >= 30
    assert list(client.scan_iter(match=f"{PREFIX}:*")) == []
    assert client.get("someone-else:key") == b"keep me"


def test_the_cache_works_on_a_three_node_cluster(store, redis_cluster):
    cache = RedisCache(redis_cluster[0].url, cluster=True)
    keys = [cache_key("v", f"{20000 + i}", {"i": i}) for i in range(60)]
    for key in keys:
        cache.set(key, key.encode(), 60)
    assert all(cache.get(key) == key.encode() for key in keys)
    nodes_with_keys = sum(1 for node in redis_cluster if int(node.cli("dbsize").strip() or 0) > 0)
    assert nodes_with_keys == 3  # hash tags spread products over the slots of every node

    app = app_with(store.root, RedisCache(redis_cluster[0].url, cluster=True))
    url = f"/v1/predict-price/{some_product(app, 4)}?num_price_bins=5"
    assert [app.test_client().get(url).headers["X-Cache"] for _ in range(2)] == ["MISS", "HIT"]

    redis_cluster[1].cli("set", "someone-else:key", "keep me")
    assert cache.clear() >= 60
    assert redis_cluster[1].cli("get", "someone-else:key").strip() == "keep me"
    assert cache.get(keys[0]) is None
