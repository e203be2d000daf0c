"""The price cache: Redis (standalone or cluster, TLS with rediss://) or in-process memory.

A cache never breaks a request: every Redis call has a short socket timeout, and after a failure Redis is
skipped (CacheUnavailable at once, so the request is served uncached) for a back-off that doubles up to a
cap before the client tries again. Keys are `pricing-service:<bundle version>:{<stockcode>}:<params digest>`:
a new bundle never reads an old one's entries, the hash tag keeps a product's keys on one cluster slot, and
clearing deletes only keys under the service prefix, never the whole Redis.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from typing import Protocol

log = logging.getLogger(__name__)

PREFIX = "pricing-service"


class CacheUnavailable(Exception):
    """The cache cannot be used right now; serve without it."""


def cache_key(version: str, stockcode: str, params: dict) -> str:
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:24]
    return f"{PREFIX}:{version}:{{{stockcode}}}:{digest}"


class PriceCache(Protocol):
    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, value: bytes, ttl: int) -> None: ...
    def clear(self) -> int: ...
    def state(self) -> dict: ...


class MemoryCache:
    """The local default and the test double: a bounded LRU with expiry, safe across threads."""

    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, ttl: int) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            return count

    def state(self) -> dict:
        return {"backend": "memory", "available": True, "entries": len(self._entries)}


class RedisCache:
    def __init__(
        self, url: str, cluster: bool = False, timeout: float = 0.25, backoff_cap: float = 30.0, client=None
    ) -> None:
        self.url = url
        self.cluster = cluster
        self.timeout = timeout
        self.backoff_cap = backoff_cap
        self._client = client
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._backoff = 0.0
        self._failed_at = 0.0
        self.last_error: str | None = None
        self.last_error_type: str | None = None

    @property
    def client(self):
        if self._client is None:
            from redis import Redis
            from redis.backoff import NoBackoff
            from redis.cluster import RedisCluster
            from redis.retry import Retry

            options = {
                "socket_timeout": self.timeout,
                "socket_connect_timeout": self.timeout,
                "retry": Retry(NoBackoff(), 0),
            }  # the back-off below decides when to try again
            factory = RedisCluster if self.cluster else Redis
            self._client = factory.from_url(self.url, **options)
        return self._client

    @property
    def backoff_seconds(self) -> float:
        """How long Redis is skipped after the latest failure (0: in use)."""
        return self._backoff

    def _call(self, operation, *args):
        if time.monotonic() < self._down_until:
            raise CacheUnavailable(f"redis skipped after a failure: {self.last_error}")
        began = time.monotonic()
        try:
            result = operation(*args)
        except _redis_errors() as exc:  # any redis, socket or TLS error: degrade, never fail the request
            self._failed(exc, began)
            raise CacheUnavailable(str(exc)) from exc
        if self._backoff:
            log.info("redis is back")
        self._backoff = 0.0
        return result

    def _failed(self, exc: Exception, began: float) -> None:
        with self._lock:
            # Calls already in flight when a failure was counted are the same outage, not new evidence: under
            # load, eight threads timing out together would otherwise double the back-off eight times (0.5 s
            # to the 30 s cap at once) and keep a Redis that was slow for a moment out of use for 30 s.
            if began >= self._failed_at:
                self._backoff = min(self.backoff_cap, self._backoff * 2 if self._backoff else 0.5)
                self._failed_at = time.monotonic()
                self._down_until = self._failed_at + self._backoff
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.last_error_type = type(exc).__name__
            if self.cluster:
                self._client = None  # a cluster client re-discovers its nodes on the next try
        log.warning("redis unavailable (%s); bypassing it for %.1f s", self.last_error, self._backoff)

    def get(self, key: str) -> bytes | None:
        return self._call(lambda: self.client.get(key))

    def set(self, key: str, value: bytes, ttl: int) -> None:
        self._call(lambda: self.client.set(key, value, ex=ttl))

    def clear(self) -> int:
        """Delete this service's keys only (SCAN + DEL, on every node of a cluster)."""

        def delete_all() -> int:
            count = 0
            batch: list = []
            for key in self.client.scan_iter(match=f"{PREFIX}:*", count=500):
                batch.append(key)
                if len(batch) == 500:
                    count += self._delete(batch)
                    batch = []
            return count + (self._delete(batch) if batch else 0)

        return self._call(delete_all)

    def _delete(self, keys: list) -> int:
        if self.cluster:  # keys of different slots cannot share one DEL
            return sum(self.client.delete(k) for k in keys)
        return self.client.delete(*keys)

    def state(self) -> dict:
        state = {"backend": "redis-cluster" if self.cluster else "redis", "tls": self.url.startswith("rediss://")}
        try:
            self._call(lambda: self.client.ping())
            state["available"] = True
        except CacheUnavailable:
            # the type only: the message names Redis's host and port, which /health must not show (the log has it)
            state.update(available=False, error=self.last_error_type)
        return state


def _redis_errors() -> tuple[type[Exception], ...]:
    """What a Redis call can raise when Redis (not this code) is the problem: redis-py's errors (its cluster
    errors derive from Exception alone), the socket's and TLS's (OSError), a URL or reply it cannot parse
    (ValueError). Imported when first needed, as the client is, so a service without Redis never imports it."""
    from redis.exceptions import RedisClusterException, RedisError

    return (RedisError, RedisClusterException, OSError, ValueError)


def make_cache(redis_url: str | None, cluster: bool, timeout: float) -> PriceCache:
    return RedisCache(redis_url, cluster=cluster, timeout=timeout) if redis_url else MemoryCache()


class SingleFlight:
    """Concurrent identical misses compute once: the first caller computes, the others wait for its result."""

    class _Call:
        def __init__(self) -> None:
            self.done = threading.Event()
            self.result = None
            self.error: BaseException | None = None

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, SingleFlight._Call] = {}

    def do(self, key: str, compute):
        """Returns (result, computed_here)."""
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if leader:
                call = self._calls[key] = self._Call()
        if leader:
            try:
                call.result = compute()
            except BaseException as exc:
                call.error = exc
            finally:
                with self._lock:
                    del self._calls[key]
                call.done.set()
        else:
            call.done.wait()
        if call.error is not None:
            raise call.error
        return call.result, leader
