"""Security probes against the running server: CORS, response headers, what responses reveal, paths that
try to leave the dashboard's folder, and whether unknown parameters can grow the cache."""

from __future__ import annotations

import random
from urllib.parse import quote

from pricing.serving.cache import PREFIX
from pricing.tools.reliability.checks import CACHEABLE, NOT_CACHEABLE, header_problems, leak_problems
from pricing.tools.reliability.faults import Target, get_json
from pricing.tools.reliability.traffic import Connection, predict_path

ALLOWED_ORIGIN = "http://dashboard.example"
DENIED_ORIGINS = ("http://evil.example", "null", "http://dashboard.example.evil.example", "https://dashboard.example")


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def cors(target: Target) -> dict:
    """Only the configured origin gets Access-Control-Allow-Origin, on requests and on preflights."""
    path = predict_path(target.hot[0])
    probes = []
    for origin in (ALLOWED_ORIGIN, *DENIED_ORIGINS):
        for method in ("GET", "OPTIONS"):
            headers = {"Origin": origin}
            if method == "OPTIONS":
                headers["Access-Control-Request-Method"] = "GET"
            connection_status, response_headers, _ = _request(target, path, headers, method)
            allowed = _lower(response_headers).get("access-control-allow-origin")
            expected = origin if origin == ALLOWED_ORIGIN else None
            probes.append(
                {
                    "origin": origin,
                    "method": method,
                    "status": connection_status,
                    "allow_origin": allowed,
                    "credentials": _lower(response_headers).get("access-control-allow-credentials"),
                    "ok": allowed == expected
                    and _lower(response_headers).get("access-control-allow-credentials") is None,
                }
            )
    return {"passed": all(p["ok"] for p in probes), "allowed_origins": [ALLOWED_ORIGIN], "probes": probes}


def _request(target: Target, path: str, headers: dict[str, str], method: str = "GET"):
    connection = Connection(target.api.port)
    try:
        return connection.get(path, headers, method)
    finally:
        connection.close()


def headers_and_leaks(target: Target) -> dict:
    """One response of each kind: nosniff, the deliberate Cache-Control, a Server header naming no software,
    and nothing internal in headers or body."""
    code = target.hot[0]
    paths = [
        predict_path(code, num_price_bins=7),
        "/v1/products?page_size=3",
        "/health",
        "/openapi.json",
        predict_path("NO-SUCH-PRODUCT"),
        predict_path(code, num_price_bins="x"),
        predict_path(code, country="Atlantis"),
        "/v1/products?page=0",
        "/v2/anything",
        "/assets/..%2f..%2fpyproject.toml",
        "/assets/%2e%2e/%2e%2e/src/pricing/api.py",
        "/assets/../../../etc/passwd",
        "/v1/predict-price/..%2f..%2fetc%2fpasswd",
    ]
    probes = []
    for path in paths:
        status, headers, body = get_json(target.api.port, path)
        problems = header_problems(path, status, headers)
        problems += leak_problems("\n".join(f"{k}: {v}" for k, v in headers.items()) + body.decode(), path)
        if path.startswith("/assets/") and status == 200:
            problems.append("a file outside the dashboard's assets was served")
        server = _lower(headers).get("server", "")
        if any(ch.isdigit() for ch in server) or server.lower() not in ("", "pricing-service"):
            problems.append(f"Server header {server!r}")
        probes.append({"path": path, "status": status, "cache_control": _lower(headers).get("cache-control")})
        probes[-1]["problems"] = problems
    method_status, method_headers, _ = _request(target, predict_path(code), {}, "POST")
    method_problems = header_problems("/v1/predict-price", method_status, method_headers)
    probes.append({"path": "POST " + predict_path(code), "status": method_status, "problems": method_problems})
    return {
        "passed": all(not p["problems"] for p in probes),
        "cache_control": {"200 from /v1/ and /openapi.json": CACHEABLE, "anything else": NOT_CACHEABLE},
        "probes": probes,
    }


def cache_inflation(target: Target, requests: int = 200, seed: int = 0) -> dict:
    """Hundreds of requests for one recommendation, each with different unknown parameters or another
    spelling of the same known ones: Redis gains one key, not hundreds. A near miss of a known parameter's name
    (`NUM_PRICE_BINS`, `num_price_bins[]`) is a 400 naming the one meant (pricing.serving.request.
    check_parameter_names), never a key; every other request is a 200."""
    rng = random.Random(seed)
    redis = target.redis.client()
    code = target.hot[-1]
    bins = 37  # a bin count the load never asks for, so the first request is a miss
    # every spelling a person writes for 37 (full-width digits, which int() also reads, are refused: strict numbers)
    spellings = [str(bins), f"0{bins}", f"+{bins}", f" {bins} ", f"{bins:04d}", f"{bins}.0"]

    def keys() -> int:
        return sum(1 for _ in redis.scan_iter(match=f"{PREFIX}:*{{{code}}}*", count=1000))

    before = keys()
    states, near_misses = [], []
    for i in range(requests):
        junk = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz_") for _ in range(rng.randint(1, 12)))
        extra = rng.choice(
            [
                f"{junk}={rng.random()}",
                f"NUM_PRICE_BINS={rng.randint(2, 500)}",
                f"num_price_bins%5B%5D={rng.randint(2, 500)}",
                f"utm_source={junk}&utm_campaign={i}",
                f"cache_buster={i}",
            ]
        )
        path = f"{predict_path(code)}?num_price_bins={quote(rng.choice(spellings))}&{extra}"
        status, headers, body = get_json(target.api.port, path)
        if extra.lower().startswith("num_price_bins"):  # a near miss of the name: refused, naming it
            near_misses.append(status == 400 and "did you mean num_price_bins" in body.decode(errors="replace"))
        else:
            states.append((status, headers.get("X-Cache")))
    added = keys() - before
    return {
        "passed": added == 1
        and all(status == 200 for status, _ in states)
        and all(near_misses)
        and states[0][1] == "MISS",
        "requests": requests,
        "near_misses_refused": f"{sum(near_misses)} of {len(near_misses)}",
        "keys_added": added,
        "x_cache": {state: sum(1 for _, s in states if s == state) for state in ("MISS", "HIT", "BYPASS")},
    }
