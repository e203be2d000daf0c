"""The Flask app: `create_app(settings, store=None, cache=None)`.

The bundle is loaded once, when the app is created (a Lambda's init, a server's start). Helpers raise
ApiError or a domain error; one handler turns each into a JSON body with its status, so no response ever
carries a stack trace or a file path.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from dataclasses import dataclass, field

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from pricing.artifacts.store import ArtifactStore, open_store
from pricing.config import Settings
from pricing.data.features import canonical_stockcode
from pricing.serving.cache import CacheUnavailable, PriceCache, SingleFlight, cache_key, make_cache
from pricing.serving.dashboard import register_dashboard
from pricing.serving.predictor import NoContexts, NoUsableModel, Predictor, UnknownStockcode

log = logging.getLogger(__name__)
MAX_PRICE = 1_000_000.0
MIN_PRICE = 0.0001  # the curve reports prices to 4 decimals: a lower one would come back as a price of 0
PRODUCTS_PAGE_MAX = 200
KNOWN_PREDICT_PARAMS = ("unitprice_min", "unitprice_max", "num_price_bins", "num_samples", "country", "customerid")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Service:
    settings: Settings
    cache: PriceCache
    predictor: Predictor | None
    load_error: str | None
    flight: SingleFlight
    store: ArtifactStore | None = None
    next_load: float = 0.0  # time.monotonic() after which a request may try the store again
    _loading: threading.Lock = field(default_factory=threading.Lock)

    def require_predictor(self) -> Predictor:
        predictor = self.current_predictor()
        if predictor is None:
            raise ApiError(503, "no bundle is loaded; the service cannot price yet")
        return predictor

    def current_predictor(self) -> Predictor | None:
        """The loaded predictor. Without one, one request at a time (at most every BUNDLE_RETRY_SECONDS)
        tries the store again: a store down at start-up must not leave the process answering 503 until
        someone restarts it (a Lambda container lives for hours). The others answer 503 meanwhile."""
        if self.predictor is None and time.monotonic() >= self.next_load and self._loading.acquire(blocking=False):
            try:
                if self.predictor is None:
                    self.predictor, self.load_error = load_predictor(self.settings, self.store)
            finally:
                self.next_load = time.monotonic() + self.settings.bundle_retry_seconds
                self._loading.release()
        return self.predictor


def load_predictor(settings: Settings, store: ArtifactStore | None) -> tuple[Predictor | None, str | None]:
    """Fetch and verify the LATEST bundle; on failure the app still starts and says 503."""
    started = time.perf_counter()
    try:
        store = store or open_store(settings.artifact_store)
        predictor = Predictor(store.fetch(), torch_threads=settings.torch_threads)
    except Exception as exc:
        log.error("no bundle loaded from %s: %s: %s", settings.artifact_store, type(exc).__name__, exc)
        return None, type(exc).__name__
    log.info(
        "bundle %s loaded in %.2f s; models %s", predictor.version, time.perf_counter() - started, predictor.model_names
    )
    return predictor, None


def create_app(
    settings: Settings | None = None, store: ArtifactStore | None = None, cache: PriceCache | None = None
) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.json.sort_keys = False
    # '//' in a path is a 404 like any unknown path, not werkzeug's HTML redirect built from the Host header
    app.url_map.merge_slashes = False
    predictor, load_error = load_predictor(settings, store)
    cache = cache or make_cache(settings.redis_url, settings.redis_cluster, settings.cache_timeout_seconds)
    retry_at = time.monotonic() + settings.bundle_retry_seconds
    app.extensions["pricing"] = Service(settings, cache, predictor, load_error, SingleFlight(), store, retry_at)
    if settings.cors_origins:
        from flask_cors import CORS

        CORS(
            app,
            origins=list(settings.cors_origins),
            supports_credentials=False,
            expose_headers=["X-Model", "X-Model-Version", "X-Cache", "Server-Timing"],
        )
    app.register_blueprint(routes)
    register_dashboard(app)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.after_request(_security_headers)
    return app


def service() -> Service:
    return current_app.extensions["pricing"]


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    body = payload if isinstance(payload, bytes | str) else json.dumps(payload, separators=(",", ":"))
    return Response(body, status=status, mimetype="application/json", headers=headers or {})


def _api_error(error: ApiError) -> Response:
    return json_response({"error": error.message}, error.status)


def _http_error(error: HTTPException) -> Response:
    messages = {404: "no such route", 405: "method not allowed"}
    return json_response({"error": messages.get(error.code, error.name.lower())}, error.code or 500)


def _unexpected_error(error: Exception) -> Response:
    log.exception("unexpected error on %s", request.path)
    return json_response({"error": "internal error"}, 500)


def _security_headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    if "Cache-Control" not in response.headers:
        # recommendations are fixed for a bundle version: clients and CDNs may keep them a few minutes
        cacheable = response.status_code == 200 and request.path.startswith(("/v1/", "/openapi.json"))
        response.headers["Cache-Control"] = "public, max-age=300" if cacheable else "no-store"
    return response


# ---- parameters -------------------------------------------------------------------------------------
def _single(name: str) -> str | None:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise ApiError(400, f"{name}: given more than once")
    return values[0] if values else None


def _number(name: str, default: float) -> float:
    text = _single(name)
    if text is None:
        return default
    try:
        return parse_price(name, text)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


def parse_price(name: str, text: str) -> float:
    """A price parameter's value, or ValueError with a message naming it (the API and the batch job share it)."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}: not a number: {text[:40]!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name}: must be finite")
    if value <= 0:
        raise ValueError(f"{name}: must be a positive price")
    if value < MIN_PRICE:
        raise ValueError(f"{name}: must be at least {MIN_PRICE:g} (prices are reported to 4 decimals)")
    if value > MAX_PRICE:
        raise ValueError(f"{name}: must be at most {MAX_PRICE:g}")
    return value


def _integer(name: str, default: int, low: int, high: int) -> int:
    text = _single(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"{name}: not an integer: {text[:40]!r}") from None
    if not low <= value <= high:
        raise ApiError(400, f"{name}: must be within {low}..{high}, got {value}")
    return value


def predict_params(predictor: Predictor, settings: Settings, stockcode: str) -> dict:
    """Validated, defaulted parameters: the whole cache key. Unknown parameters never get here."""
    try:
        default_low, default_high = predictor.default_range(stockcode)
    except UnknownStockcode:
        raise ApiError(404, f"unknown stockcode {stockcode[:40]!r}") from None
    # rounded before they are compared: the cache key and the sweep use the rounded values
    low = round(_number("unitprice_min", default_low), 6)
    high = round(_number("unitprice_max", default_high), 6)
    if low >= high:
        raise ApiError(400, f"unitprice_min ({low:g}) must be below unitprice_max ({high:g})")
    country = _single("country")
    customer_text = _single("customerid")
    customer = None
    if customer_text is not None:
        try:
            customer = int(float(customer_text)) if customer_text.strip() else None
        except (ValueError, OverflowError):
            raise ApiError(400, f"customerid: not an integer: {customer_text[:40]!r}") from None
    return {
        "unitprice_min": low,
        "unitprice_max": high,
        "num_price_bins": _integer("num_price_bins", settings.default_price_bins, 2, settings.max_price_bins),
        "num_samples": _integer("num_samples", settings.default_samples, 1, settings.max_samples),
        "country": country,
        "customerid": customer,
    }


# ---- routes -----------------------------------------------------------------------------------------
routes = Blueprint("pricing", __name__)


@routes.get("/v1/predict-price/<stockcode>")
def predict_price(stockcode: str) -> Response:
    started = time.perf_counter()
    stockcode = canonical_stockcode(stockcode)  # `40714d` and ` 40714D` are 40714D, as prepare stored it
    svc = service()
    predictor = svc.require_predictor()
    params = predict_params(predictor, svc.settings, stockcode)
    key = cache_key(predictor.version, stockcode, params)

    cache_state, cached = "MISS", None
    cache_started = time.perf_counter()
    try:
        cached = svc.cache.get(key)
    except CacheUnavailable:
        cache_state = "BYPASS"
    cache_ms = (time.perf_counter() - cache_started) * 1000

    sweep_ms = 0.0
    if cached is not None:
        cache_state = "HIT"
        model, _, body = cached.partition(b"\n")
    else:

        def compute() -> bytes:
            rec = _recommend(predictor, stockcode, params)
            return rec.model.encode() + b"\n" + json.dumps(rec.result.rows(stockcode), separators=(",", ":")).encode()

        sweep_started = time.perf_counter()
        envelope, computed_here = svc.flight.do(key, compute)
        sweep_ms = (time.perf_counter() - sweep_started) * 1000
        model, _, body = envelope.partition(b"\n")
        if cache_state == "MISS" and computed_here:
            try:
                svc.cache.set(key, envelope, svc.settings.cache_ttl_seconds)
            except CacheUnavailable:
                cache_state = "BYPASS"
    total_ms = (time.perf_counter() - started) * 1000
    return json_response(
        body,
        headers={
            "X-Model": model.decode(),
            "X-Model-Version": predictor.version,
            "X-Cache": cache_state,
            "Server-Timing": f"cache;dur={cache_ms:.2f}, sweep;dur={sweep_ms:.2f}, total;dur={total_ms:.2f}",
        },
    )


def _recommend(predictor: Predictor, stockcode: str, params: dict):
    try:
        return predictor.recommend(
            stockcode,
            params["unitprice_min"],
            params["unitprice_max"],
            params["num_price_bins"],
            params["num_samples"],
            params["country"],
            params["customerid"],
        )
    except NoContexts as exc:
        name = "country" if params["country"] is not None else "customerid"
        raise ApiError(400, f"{name}: {exc}") from None
    except NoUsableModel:
        raise ApiError(503, "no usable model: every model in the bundle failed") from None


@routes.get("/v1/products")
def products() -> Response:
    predictor = service().require_predictor()
    page = _integer("page", 1, 1, 1_000_000)
    size = _integer("page_size", 50, 1, PRODUCTS_PAGE_MAX)
    term = canonical_stockcode(_single("q") or "").lower()
    table = predictor.products
    if term:
        match = table.index.str.lower().str.contains(term, regex=False) | table["description"].str.lower().str.contains(
            term, regex=False
        )
        table = table[match]
    table = table.sort_values("lines", ascending=False)
    chunk = table.iloc[(page - 1) * size : page * size]
    items = [
        {
            "stockcode": code,
            "description": row["description"],
            "price_min": float(row["price_min"]),
            "price_median": float(row["price_median"]),
            "price_max": float(row["price_max"]),
            "lines": int(row["lines"]),
            "units": int(row["units"]),
        }
        for code, row in chunk.iterrows()
    ]
    return json_response({"items": items, "page": page, "page_size": size, "total": len(table)})


@routes.get("/health")
def health() -> Response:
    svc = service()
    predictor = svc.current_predictor()
    usable = predictor is not None and bool(predictor.models)
    body = {
        "status": "ok" if usable and not predictor.skipped else ("degraded" if usable else "unavailable"),
        "bundle_version": predictor.version if predictor else None,
        "models": predictor.model_names if predictor else [],
        "skipped_models": sorted(predictor.skipped) if predictor else [],
        "cache": svc.cache.state(),
    }
    if predictor is None:
        body["reason"] = f"no bundle loaded ({svc.load_error})"
    return json_response(body, 200 if usable else 503)


@routes.get("/openapi.json")
def openapi() -> Response:
    from pricing.serving.openapi import spec

    return json_response(spec())
