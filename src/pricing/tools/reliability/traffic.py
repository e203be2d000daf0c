"""Concurrent HTTP clients against the real server: each client keeps one keep-alive connection and sends
what a plan draws, until stopped; every response is checked (reliability.checks) and timed.

A request is an error when it fails to connect or time out, gets a status other than the one planned, or
gets a response that breaks the contract (wrong rows, non-finite numbers, missing headers, a leak)."""

from __future__ import annotations

import http.client
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import numpy as np

from pricing.tools.reliability.checks import response_problems

DEFAULT_BINS = 100  # Settings.default_price_bins: what a request without num_price_bins gets


@dataclass(frozen=True)
class Planned:
    path: str
    kind: str  # what the plan meant it to be: cached, uncached, over_bound, ...
    expect: tuple[int, ...] = (200,)
    stockcode: str | None = None
    bins: int | None = None
    names: str | None = None  # the parameter a 400 must name


@dataclass(frozen=True)
class Outcome:
    started: float  # seconds since the run began
    seconds: float
    kind: str
    status: int | None
    problems: tuple[str, ...]
    cache: str | None = None  # X-Cache
    model: str | None = None  # X-Model
    timing: dict[str, float] = field(default_factory=dict)  # Server-Timing, milliseconds

    @property
    def ok(self) -> bool:
        return not self.problems


def predict_path(stockcode: str, **query) -> str:
    path = f"/v1/predict-price/{quote(stockcode, safe='')}"
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def server_timing(header: str | None) -> dict[str, float]:
    timings = {}
    for part in (header or "").split(","):
        name, _, duration = part.strip().partition(";dur=")
        try:
            timings[name] = float(duration)
        except ValueError:
            continue
    return timings


class Connection:
    """One keep-alive HTTP/1.1 connection; reopened after a failure."""

    def __init__(self, port: int, timeout: float = 60) -> None:
        self.port = port
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def get(self, path: str, headers: dict[str, str] | None = None, method: str = "GET"):
        if self._connection is None:
            self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self._connection.request(method, path, headers=headers or {})
            response = self._connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        return response.status, dict(response.getheaders()), body

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def check(planned: Planned, status: int, headers: dict[str, str], body: bytes) -> list[str]:
    problems = [] if status in planned.expect else [f"HTTP {status} for {planned.kind}, expected {planned.expect}"]
    problems += response_problems(planned.path, status, headers, body, planned.stockcode, planned.bins)
    if status == 400 and planned.names and planned.names not in body.decode("utf-8", "replace"):
        problems.append(f"the 400 does not name {planned.names}")
    return problems


def send(connection: Connection, planned: Planned, clock: Callable[[], float]) -> Outcome:
    started = clock()
    try:
        status, headers, body = connection.get(planned.path)
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(started, clock() - started, planned.kind, None, (f"{type(exc).__name__}: {exc}",))
    return Outcome(
        started,
        clock() - started,
        planned.kind,
        status,
        tuple(check(planned, status, headers, body)),
        headers.get("X-Cache"),
        headers.get("X-Model"),
        server_timing(headers.get("Server-Timing")),
    )


class LoadRun:
    """`clients` threads sending `plan(rng)` back to back from start() to stop()."""

    def __init__(
        self, port: int, plan: Callable[[random.Random], Planned], clients: int, seed: int = 0, pause: float = 0.0
    ) -> None:
        self.port = port
        self.plan = plan
        self.clients = clients
        self.seed = seed
        self.pause = pause  # seconds a client waits between its requests (0: back to back)
        self._origin = time.monotonic()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._results: list[list[Outcome]] = [[] for _ in range(clients)]

    def now(self) -> float:
        return time.monotonic() - self._origin

    def _client(self, index: int) -> None:
        rng = random.Random(self.seed * 1000 + index)
        connection = Connection(self.port)
        results = self._results[index]
        try:
            while not self._stop.is_set():
                results.append(send(connection, self.plan(rng), self.now))
                if self.pause:
                    self._stop.wait(self.pause)
        finally:
            connection.close()

    def start(self) -> LoadRun:
        self._origin = time.monotonic()
        for index in range(self.clients):
            thread = threading.Thread(target=self._client, args=(index,), name=f"load-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def outcomes(self) -> list[Outcome]:
        return sorted((o for results in self._results for o in list(results)), key=lambda o: o.started)

    def wait_for(self, condition: Callable[[list[Outcome]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(self.outcomes()):
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)
        return self.outcomes()

    def run_for(self, seconds: float) -> list[Outcome]:
        self.start()
        time.sleep(seconds)
        return self.stop()


def percentiles(seconds: list[float]) -> dict[str, float | None]:
    if not seconds:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ms = np.asarray(seconds) * 1000
    return {
        "p50": round(float(np.percentile(ms, 50)), 2),
        "p95": round(float(np.percentile(ms, 95)), 2),
        "p99": round(float(np.percentile(ms, 99)), 2),
        "max": round(float(ms.max()), 2),
    }


def error_examples(outcomes: list[Outcome], limit: int = 5) -> list[str]:
    counts = Counter(problem for o in outcomes for problem in o.problems)
    return [f"{problem} (x{count})" for problem, count in counts.most_common(limit)]


def summarize(outcomes: list[Outcome], seconds: float) -> dict:
    """Requests, errors, latency percentiles (ms) and throughput, overall and by what the cache did."""
    errors = [o for o in outcomes if not o.ok]
    by_cache = {}
    for state in ("HIT", "MISS", "BYPASS"):
        chosen = [o for o in outcomes if o.cache == state]
        if chosen:
            # the server's own time (Server-Timing total) beside the client's: the gap is queueing
            server = [o.timing["total"] / 1000 for o in chosen if "total" in o.timing]
            by_cache[state] = {
                "requests": len(chosen),
                "latency_ms": percentiles([o.seconds for o in chosen]),
                "server_ms": percentiles(server),
            }
    return {
        "requests": len(outcomes),
        "errors": len(errors),
        "error_examples": error_examples(errors),
        "seconds": round(seconds, 2),
        "throughput_rps": round(len(outcomes) / seconds, 1) if seconds else None,
        "latency_ms": percentiles([o.seconds for o in outcomes]),
        "by_cache": by_cache,
        "by_kind": dict(Counter(o.kind for o in outcomes)),
        "statuses": {str(k): v for k, v in sorted(Counter(o.status for o in outcomes).items(), key=str)},
    }


def mixed_plan(hot: list[str], catalogue: list[str], cached_share: float) -> Callable[[random.Random], Planned]:
    """Popular products at the default parameters (cached once warmed), and any product at a bin count
    drawn from 10..99 (almost always a new cache key: uncached)."""

    def plan(rng: random.Random) -> Planned:
        if rng.random() < cached_share:
            code = rng.choice(hot)
            return Planned(predict_path(code), "cached", stockcode=code, bins=DEFAULT_BINS)
        code, bins = rng.choice(catalogue), rng.randint(10, 99)
        return Planned(predict_path(code, num_price_bins=bins), "uncached", stockcode=code, bins=bins)

    return plan
