"""What every response must be, whoever asked: each function returns the problems it finds (empty: fine).

Shared by the load clients, the fault scenarios, the fuzzer and the security probes, so "an error" means
the same thing everywhere in the report."""

from __future__ import annotations

import itertools
import json
import math
import re
from urllib.parse import unquote

# Things a response must never show: a stack trace, a file path, the software (and so the version) behind it.
LEAK_PATTERNS = {
    "stack trace": re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+"),
    "python file": re.compile(r"[\w/\\-]+\.py\b"),
    "absolute path": re.compile(r"(?<![\w.])/(?:work|tmp|home|root|usr|var|opt|srv|app|var/task)/"),
    "installed package": re.compile(r"site-packages|dist-packages|\.venv"),
    "server software": re.compile(r"werkzeug|waitress|gunicorn|python/\d|flask/\d", re.IGNORECASE),
    "internal exception": re.compile(r"\b(?:ConnectionError|TimeoutError|OSError|KeyError|ValueError)\b: "),
    "internal address": re.compile(r"\b(?:127\.0\.0\.1|localhost|\d{1,3}(?:\.\d{1,3}){3}):\d{2,5}\b"),
}
# Deliberate Cache-Control values: a recommendation is fixed for a bundle version, everything else is not.
CACHEABLE = "public, max-age=300"
NOT_CACHEABLE = "no-store"


class NotJson(ValueError):
    pass


def _no_constants(name: str):
    raise NotJson(f"non-standard JSON constant {name}")


def strict_json(body: bytes):
    """JSON as RFC 8259 has it: NaN and Infinity are not JSON, whatever Python's json accepts by default."""
    try:
        return json.loads(body, parse_constant=_no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotJson(f"not JSON: {exc}") from None


def error_body_problems(body: bytes) -> list[str]:
    try:
        payload = strict_json(body)
    except NotJson as exc:
        return [f"error body {exc}"]
    if not isinstance(payload, dict) or not isinstance(payload.get("error"), str) or not payload["error"].strip():
        return ['error body is not {"error": "<message>"}']
    return []


def price_curve_problems(body: bytes, stockcode: str | None, bins: int | None) -> list[str]:
    """A 200 from /v1/predict-price: one finite row per bin (a boolean `in_support`, and `profit_per_week` null
    without a unit cost), positive increasing prices, this product's."""
    try:
        rows = strict_json(body)
    except NotJson as exc:
        return [f"curve {exc}"]
    if not isinstance(rows, list) or not rows:
        return ["curve is not a non-empty array"]
    problems = []
    if bins is not None and len(rows) != bins:
        problems.append(f"{len(rows)} rows for {bins} bins")
    # every field is a finite number but the code, the support flag (a boolean) and a profit without a unit cost
    numbers = [
        v
        for row in rows
        for k, v in row.items()
        if k not in ("stockcode", "in_support") and not (k == "profit_per_week" and v is None)
    ]
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in numbers):
        problems.append("a non-finite or non-numeric value in the curve")
        return problems
    prices = [row["unit_price"] for row in rows]
    if min(prices) <= 0:
        problems.append(f"a price of {min(prices)} in the curve")
    if any(b < a for a, b in itertools.pairwise(prices)):
        problems.append("prices not in increasing order")
    if stockcode is not None and {row["stockcode"] for row in rows} != {stockcode}:
        problems.append("rows of another product")  # what a cache answering with the wrong entry would show
    return problems


def header_problems(path: str, status: int, headers: dict[str, str]) -> list[str]:
    lowered = {k.lower(): v for k, v in headers.items()}
    problems = []
    if lowered.get("x-content-type-options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    expected = CACHEABLE if status == 200 and path.startswith(("/v1/", "/openapi.json")) else NOT_CACHEABLE
    if lowered.get("cache-control") != expected:
        problems.append(f"Cache-Control {lowered.get('cache-control')!r}, expected {expected!r}")
    if lowered.get("access-control-allow-origin") == "*":
        problems.append("CORS allows any origin")
    return problems


def leak_problems(text: str, request: str = "") -> list[str]:
    """Leaks in a response; what the request itself sent (and an error message quotes back) does not count."""
    asked = unquote(request)
    # an error message quotes input with repr(): control characters come back escaped
    echoes = (asked, repr(asked), asked.encode("unicode_escape").decode("ascii"))
    return [
        f"{name}: {match.group(0)[:60]!r}"
        for name, pattern in LEAK_PATTERNS.items()
        for match in pattern.finditer(text)
        if not any(match.group(0) in echo for echo in echoes)
    ]


def response_problems(
    path: str, status: int, headers: dict[str, str], body: bytes, stockcode: str | None = None, bins: int | None = None
) -> list[str]:
    """Everything a response must satisfy, given its status; the caller judges whether the status is right."""
    problems = header_problems(path, status, headers)
    head = "\n".join(f"{k}: {v}" for k, v in headers.items())
    problems += leak_problems(head + "\n" + body.decode("utf-8", "replace"), path)
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    if not content_type.startswith("application/json"):
        problems.append(f"Content-Type {content_type!r}")
    if path.startswith("/health") and status in (200, 503):
        problems += _health_problems(body)  # a 503 from /health is its status report, with a reason
    elif status >= 400:
        problems += error_body_problems(body)
    elif status == 200 and path.startswith("/v1/predict-price/"):
        problems += price_curve_problems(body, stockcode, bins)
    elif status == 200:
        try:
            strict_json(body)
        except NotJson as exc:
            problems.append(str(exc))
    return problems


def _health_problems(body: bytes) -> list[str]:
    try:
        payload = strict_json(body)
    except NotJson as exc:
        return [f"health {exc}"]
    if not isinstance(payload, dict) or payload.get("status") not in ("ok", "degraded", "unavailable"):
        return ["health body without a status"]
    if payload["status"] == "unavailable" and not payload.get("reason"):
        return ["an unavailable health without a reason"]
    return []
