"""Cache warm-up: the best-selling products of the loaded bundle, priced ahead of their first request, and this
week's experiment price of every product of the bundle's running experiment (`?mode=experiment`, the week of the
service's clock), so the week's prices are cached before the first customer asks.

Each product is requested through the app's own route with no parameters, which is what a default request
(the dashboard opening a product, a plain curl) asks for: the cache key, the stored bytes and the TTL are then
exactly the ones a real request would make and read, with no second code path that could drift from it.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from urllib.parse import quote

from flask import Flask

from pricing.serving.state import service_of

log = logging.getLogger(__name__)


class WarmupFailed(RuntimeError):
    """Nothing could be warmed: no bundle, or no product could be priced."""


def top_products(app: Flask, top: int) -> list[str]:
    service = service_of(app)
    predictor = service.current_predictor()  # retries a store that was down at start
    if predictor is None:
        raise WarmupFailed(f"no bundle is loaded ({service.load_error})")
    return list(predictor.products.sort_values("lines", ascending=False).index[: max(top, 0)])


def warm_top_products(app: Flask, top: int) -> dict:
    """Price the top products into the cache. Returns counts per cache outcome and the products that failed."""
    started = time.perf_counter()
    service = service_of(app)
    codes = top_products(app, top)
    if service.cache.state().get("backend") == "memory":
        log.warning("warm-up fills this instance's in-process cache only: set REDIS_URL to share it")
    outcomes: Counter[str] = Counter()
    failed: list[dict] = []
    client = app.test_client()
    for code in codes:
        response = client.get(f"/v1/predict-price/{quote(code, safe='')}")
        if response.status_code != 200:
            failed.append({"stockcode": code, "status": response.status_code, "error": _error_of(response)})
        else:
            outcomes[response.headers.get("X-Cache", "MISS")] += 1
    experiment = warm_experiment(app, client)
    summary = {
        "bundle_version": service.predictor.version,
        "products": len(codes),
        "warmed": outcomes["MISS"],  # priced now and stored
        "already_cached": outcomes["HIT"],
        "not_stored": outcomes["BYPASS"],  # priced, but the cache was unreachable
        "failed": failed,
        "cache": service.cache.state().get("backend"),
        "experiment": experiment,
        "seconds": round(time.perf_counter() - started, 3),
    }
    failing = experiment is not None and (experiment["failed"] or experiment["not_stored"])
    level = logging.ERROR if failed or outcomes["BYPASS"] or failing else logging.INFO
    counts = {k: v for k, v in summary.items() if k not in ("failed", "experiment")}
    log.log(level, "warm-up of the top %d products: %s", len(codes), counts)
    if codes and not outcomes["MISS"] + outcomes["HIT"]:
        raise WarmupFailed(f"none of the top {len(codes)} products could be cached: {summary}")
    return summary


def warm_experiment(app: Flask, client=None) -> dict | None:
    """Request this week's experiment price (`?mode=experiment`, no week: the service clock's, as a shop's page
    asks) of every product of the loaded bundle's experiment, through the app's own route. None when the bundle runs
    no experiment; else {id, week, products, warmed, already_cached, not_stored, failed: [...]}, as the top products'
    counts."""
    from pricing.experiments.design import week_of

    service = service_of(app)
    served = service.experiment
    if served is None:
        return None
    client = client or app.test_client()
    outcomes: Counter[str] = Counter()
    failed: list[dict] = []
    for product in served.config.products:
        response = client.get(f"/v1/price-decision/{quote(product.stockcode, safe='')}?mode=experiment")
        if response.status_code != 200:
            error = _error_of(response)
            failed.append({"stockcode": product.stockcode, "status": response.status_code, "error": error})
        else:
            outcomes[response.headers.get("X-Cache", "MISS")] += 1
    summary = {
        "id": served.config.id,
        "week": week_of(service.clock()),
        "products": len(served.config.products),
        "warmed": outcomes["MISS"],
        "already_cached": outcomes["HIT"],
        "not_stored": outcomes["BYPASS"],
        "failed": failed,
    }
    log.log(
        logging.ERROR if failed or outcomes["BYPASS"] else logging.INFO,
        "warm-up of experiment %s's prices: %s",
        summary["id"],
        {k: v for k, v in summary.items() if k != "failed"},
    )
    return summary


def _error_of(response) -> str:
    body = response.get_json(silent=True)  # None for a body that is not JSON: the status says enough
    return str(body.get("error", ""))[:200] if isinstance(body, dict) else ""
