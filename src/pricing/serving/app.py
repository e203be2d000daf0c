"""The Flask app: `create_app(settings, store=None, cache=None)`.

The bundle is loaded once, when the app is created (a Lambda's init, a server's start). Helpers raise
ApiError or a domain error; one handler turns each into a JSON body with its status, so no response ever
carries a stack trace or a file path.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from functools import partial

from flask import Blueprint, Flask, Response, request
from werkzeug.exceptions import HTTPException

from pricing.artifacts.store import ArtifactStore
from pricing.config import Settings
from pricing.data.features import canonical_stockcode
from pricing.experiments.design import week_end, week_of
from pricing.numbers import NumberError, parse_integer
from pricing.serving.cache import CacheUnavailable, PriceCache, cache_key, make_cache
from pricing.serving.dashboard import register_dashboard
from pricing.serving.decision_json import to_json
from pricing.serving.errors import NoContexts, NoUsableModel, RequestError, UnknownStockcode, error_message
from pricing.serving.openapi import RESPONSE_HEADERS
from pricing.serving.predictor import Predictor
from pricing.serving.request import (
    LAUNCH_NAMES,
    MODE_NAMES,
    PARAMETER_NAMES,
    PRODUCTS_PAGE_MAX,
    ModeRequest,
    PriceRequest,
    check_parameter_names,
    parse_launch,
    parse_mode,
    parse_request,
)
from pricing.serving.state import Loaded, Service, ServiceUnavailable, attach, current_service, load_serving

log = logging.getLogger(__name__)
# a browser on CORS_ORIGINS reads the headers every priced answer carries, the ones the OpenAPI document lists
EXPOSED_HEADERS = list(RESPONSE_HEADERS)
# what each route reads from the query: the price routes PARAMETER_NAMES (pricing.serving.request), the product
# list these; any other name is ignored, unless it is a near miss of one of them (_check_names)
PRODUCTS_QUERY = ("q", "page", "page_size")


class ApiError(Exception):
    """A request the API refuses outside the request model (a repeated parameter, a bad page): status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def create_app(
    settings: Settings | None = None,
    store: ArtifactStore | None = None,
    cache: PriceCache | None = None,
    predictor: Predictor | None = None,
) -> Flask:
    """The Flask app with its serving state: the LATEST bundle loaded (or the reason it is not), the cache
    (Redis when REDIS_URL is set, else in-process), CORS for CORS_ORIGINS, the API, the dashboard and the
    JSON error handlers. `store` and `cache` replace the ones the settings name (tests, the reliability harness);
    `predictor` replaces loading a bundle at all (a stand-in with Predictor's interface, for API tests that need
    no trained model)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.json.sort_keys = False
    # '//' in a path is a 404 like any unknown path, not werkzeug's HTML redirect built from the Host header
    app.url_map.merge_slashes = False
    loaded = Loaded(predictor, None) if predictor is not None else load_serving(settings, store)
    cache = cache or make_cache(settings.redis_url, settings.redis_cluster, settings.cache_timeout_seconds)
    retry_at = time.monotonic() + settings.bundle_retry_seconds
    service = Service(settings, cache, loaded.predictor, loaded.error, store=store, next_load=retry_at)
    service.experiment, service.experiment_error = loaded.experiment, loaded.experiment_error
    attach(app, service)
    if settings.cors_origins:
        from flask_cors import CORS

        # vary_header: flask-cors adds `Vary: Origin` only to responses that got CORS headers; _cache_headers
        # adds it to every other response as well, since each one's headers depend on the Origin sent
        CORS(app, origins=list(settings.cors_origins), supports_credentials=False, expose_headers=EXPOSED_HEADERS)
    app.register_blueprint(routes)
    register_dashboard(app)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(ServiceUnavailable, lambda error: json_response({"error": str(error)}, 503))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.after_request(partial(_cache_headers, vary_origin=bool(settings.cors_origins)))
    return app


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


def _cache_headers(response: Response, vary_origin: bool = False) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    if "Cache-Control" not in response.headers:
        # recommendations are fixed for a bundle version: clients and CDNs may keep them a few minutes
        cacheable = response.status_code == 200 and request.path.startswith(("/v1/", "/openapi.json"))
        response.headers["Cache-Control"] = "public, max-age=300" if cacheable else "no-store"
    if vary_origin:
        # With CORS on, a response's Access-Control-* headers depend on the request's Origin (present for the
        # dashboard's origin, absent for another's): a shared cache must key on it, or it hands the dashboard a
        # copy stored for another origin, and the browser refuses it. flask-cors says so only where it added them.
        vary = response.headers.get("Vary")
        if not vary:
            response.headers["Vary"] = "Origin"
        elif "origin" not in {token.strip().lower() for token in vary.split(",")}:
            response.headers["Vary"] = f"{vary}, Origin"
    return response


# ---- parameters -------------------------------------------------------------------------------------
def _check_names(known: tuple[str, ...]) -> None:
    """A 400 for a query parameter that is one of `known` but for case or a typo (`Floor`, `ceilling`), so a rule
    the client meant is never silently dropped; other unknown names are ignored (and never reach the cache key,
    which is built from the parsed PriceRequest alone)."""
    try:
        check_parameter_names(list(request.args), known)
    except RequestError as exc:
        raise ApiError(400, str(exc)) from None


def _single(name: str) -> str | None:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise ApiError(400, f"{name}: given more than once")
    return values[0] if values else None


def _page_parameter(name: str, default: int, high: int) -> int:
    text = _single(name)
    try:
        return default if text is None else parse_integer(name, text, 1, high)
    except NumberError as exc:
        raise ApiError(400, str(exc)) from None


# ---- routes -----------------------------------------------------------------------------------------
routes = Blueprint("pricing", __name__)


@routes.get("/v1/predict-price/<stockcode>")
def predict_price(stockcode: str) -> Response:
    """The swept curve: one object per price bin (the seed article's contract), optimum fields set to the
    decision's recommended price."""
    return _decision_response(stockcode, curve_only=True)


@routes.get("/v1/price-decision/<stockcode>")
def price_decision(stockcode: str) -> Response:
    """The decision: current price, recommended and unconstrained prices, rules and their costs, the interval,
    the probability of beating the current price, change or hold, the support, the observed history, the curve.
    With mode=experiment, the running experiment's price of the week instead (_experiment_response)."""
    _check_names((*PARAMETER_NAMES, *MODE_NAMES))
    try:
        mode = parse_mode({name: _single(name) for name in MODE_NAMES})
    except RequestError as exc:
        raise ApiError(400, str(exc)) from None
    if mode.mode == "experiment":
        return _experiment_response(stockcode, mode)
    return _decision_response(stockcode, curve_only=False)


def _cached(key: str, compute) -> tuple[bytes, str, float, float]:
    """(the answer's bytes, X-Cache, ms reading the cache, ms computing) for `key`: from the service's cache, else
    computed once however many requests ask at the same time (single-flight) and stored for the settings' TTL."""
    svc = current_service()
    cache_state, cached = "MISS", None
    cache_started = time.perf_counter()
    try:
        cached = svc.cache.get(key)
    except CacheUnavailable:
        cache_state = "BYPASS"
    cache_ms = (time.perf_counter() - cache_started) * 1000
    if cached is not None:
        return cached, "HIT", cache_ms, 0.0
    compute_started = time.perf_counter()
    value, computed_here = svc.flight.do(key, compute)
    compute_ms = (time.perf_counter() - compute_started) * 1000
    if cache_state == "MISS" and computed_here:
        try:
            svc.cache.set(key, value, svc.settings.cache_ttl_seconds)
        except CacheUnavailable:
            cache_state = "BYPASS"
    return value, cache_state, cache_ms, compute_ms


def _served_headers(version: str, cache_state: str, cache_ms: float, work: str, work_ms: float, started: float) -> dict:
    """The headers every priced answer carries: the bundle version, X-Cache, and Server-Timing's cache read, the
    work named `work` (sweep, experiment, launch) and the total since `started` (time.perf_counter())."""
    total_ms = (time.perf_counter() - started) * 1000
    return {
        "X-Model-Version": version,
        "X-Cache": cache_state,
        "Server-Timing": f"cache;dur={cache_ms:.2f}, {work};dur={work_ms:.2f}, total;dur={total_ms:.2f}",
    }


def _decision_response(stockcode: str, curve_only: bool, note: str | None = None) -> Response:
    """Both routes answer from one cached decision (the same request gives the same key). The cached envelope is
    `models \n curve JSON \n decision JSON`, so either route returns its bytes as stored, parsing nothing on a hit
    (JSON escapes every newline inside a string). `note`: an `experiment_note` added to the decision (a product
    outside the experiment asked for in experiment mode). A new product of the bundle's experiment evidence
    (pricing.serving.launched) is answered from its neighbours' launch curve and its test's posterior."""
    started = time.perf_counter()
    svc = current_service()
    predictor = svc.require_predictor()
    given = canonical_stockcode(stockcode)  # `40714d` and ` 40714D` are 40714D, as prepare stored it
    _check_names(PARAMETER_NAMES)
    values = {name: _single(name) for name in PARAMETER_NAMES}
    new_product = getattr(predictor, "new_products", {}).get(given)
    default_range = predictor.default_range if new_product is None else _new_product_range(new_product)
    try:
        price_request = parse_request(given, values, svc.settings, default_range)
    except (RequestError, UnknownStockcode) as exc:
        raise ApiError(*error_message(exc, stockcode=given)) from None
    key = cache_key(predictor.version, price_request.stockcode, price_request.key_fields())

    def compute() -> bytes:
        if new_product is None:
            decision = _decide(predictor, price_request)
            body = to_json(decision)
        else:
            decision, body = _decide_new_product(predictor, new_product, price_request)
        models = f"{decision.model}\t{decision.incidence_model or ''}"
        parts = (models, json.dumps(body["curve"], separators=(",", ":")), json.dumps(body, separators=(",", ":")))
        return "\n".join(parts).encode()

    envelope, cache_state, cache_ms, sweep_ms = _cached(key, compute)
    model, curve, decision = envelope.split(b"\n", 2)
    if note is not None:
        decision = json.dumps({**json.loads(decision), "experiment_note": note}, separators=(",", ":")).encode()
    model, _, incidence_model = model.decode().partition("\t")
    return json_response(
        curve if curve_only else decision,
        headers={
            "X-Model": model,
            "X-Incidence-Model": incidence_model or "none",
            # an answer from a model after the bundle's first of either chain (the primary failed now or at load)
            "X-Fallback": "true" if predictor.is_fallback(model, incidence_model or None) else "false",
            **_served_headers(predictor.version, cache_state, cache_ms, "sweep", sweep_ms, started),
        },
    )


def _experiment_response(stockcode: str, mode: ModeRequest) -> Response:
    """GET /v1/price-decision/<stockcode>?mode=experiment (pricing.serving.experiment): the product's price in the
    week (`week`, else the service clock's ISO week), cached under (bundle, experiment, product, week), so every
    request of a week gets the same bytes. 400 naming any decision parameter given (the experiment fixed them); 404
    naming `experiment` when the bundle runs none or another one; 404 for an unknown stockcode; 503 when the
    bundle's experiment could not be read. A product of the bundle outside the experiment gets its decision with an
    `experiment_note`."""
    from pricing.serving.experiment import NoExperiment, answer, check_experiment, not_in_experiment_note

    started = time.perf_counter()
    svc = current_service()
    predictor = svc.require_predictor()
    given = canonical_stockcode(stockcode)
    refused = [name for name in PARAMETER_NAMES if (_single(name) or "").strip()]
    if refused:
        raise ApiError(
            400,
            f"{', '.join(refused)}: not taken with mode=experiment (the experiment fixed the objective, costs and "
            "rules); drop them, or ask mode=decision",
        )
    if svc.experiment is None and svc.experiment_error is not None:
        raise ApiError(503, f"experiment: this bundle's experiment cannot be served ({svc.experiment_error[:200]})")
    try:
        served = check_experiment(svc.experiment, mode.experiment)
    except NoExperiment as exc:
        raise ApiError(404, str(exc)) from None
    try:
        predictor.product(given)
    except UnknownStockcode as exc:
        raise ApiError(*error_message(exc, stockcode=given)) from None
    config = served.config
    if config.product(given) is None:
        return _decision_response(given, curve_only=False, note=not_in_experiment_note(config, given))
    now = svc.clock()
    week = mode.week or week_of(now)
    key = cache_key(predictor.version, given, {"mode": "experiment", "experiment": config.id, "week": week})

    def compute() -> bytes:
        return json.dumps(answer(served, given, week, predictor.version), separators=(",", ":")).encode()

    body, cache_state, cache_ms, compute_ms = _cached(key, compute)
    # an answer for "this week" must not outlive the week in a client's or a CDN's cache
    max_age = 300 if mode.week else max(0, min(300, int((week_end(week) - now).total_seconds())))
    return json_response(
        body,
        headers={
            **_served_headers(predictor.version, cache_state, cache_ms, "experiment", compute_ms, started),
            "Cache-Control": f"public, max-age={max_age}",
        },
    )


def _decide(predictor: Predictor, price_request: PriceRequest):
    try:
        return predictor.decide(price_request)
    except (NoContexts, NoUsableModel, RequestError) as exc:
        raise ApiError(*error_message(exc, country=price_request.country)) from None


def _new_product_range(product):
    """parse_request's default range for a new product (pricing.serving.launched.default_range), any sweep."""
    from pricing.serving import launched

    return lambda _code, _sweep: launched.default_range(product)


def _decide_new_product(predictor: Predictor, product, price_request: PriceRequest):
    """(the decision, its JSON) for a new product (pricing.serving.launched): the decision's own JSON plus
    `new_product`; 404 when the bundle no longer has a look-alike, errors as `_decide`'s."""
    from pricing.serving import launched

    try:
        decision, launch_decided = launched.decide(predictor, product, price_request)
    except (NoContexts, NoUsableModel, RequestError, UnknownStockcode) as exc:
        raise ApiError(*error_message(exc, stockcode=product.stockcode, country=price_request.country)) from None
    return decision, launched.to_json(decision, product, launch_decided)


@routes.get("/v1/launch-decision")
def launch_decision() -> Response:
    """A launch price for a product the bundle has never seen, from the products with the most similar
    descriptions (pricing.serving.launch): 400 naming the parameter for bad input, `decision: no_similar_product`
    when no description is similar enough. Cached like the decision, under (bundle, "launch", the request)."""
    from pricing.serving import launch

    started = time.perf_counter()
    predictor = current_service().require_predictor()
    _check_names(LAUNCH_NAMES)
    try:
        launch_request = parse_launch({name: _single(name) for name in LAUNCH_NAMES})
    except RequestError as exc:
        raise ApiError(400, str(exc)) from None
    key = cache_key(predictor.version, "launch", launch_request.key_fields())

    def compute() -> bytes:
        try:
            decided = launch.launch_decision(
                predictor, launch_request, samples=current_service().settings.default_samples
            )
        except (NoContexts, NoUsableModel) as exc:
            raise ApiError(*error_message(exc, country=launch_request.country)) from None
        if decided is None:
            body = launch.no_similar_json(launch_request, launch.catalogue_index(predictor))
        else:
            body = launch.to_json(decided)
        return json.dumps(body, separators=(",", ":")).encode()

    body, cache_state, cache_ms, compute_ms = _cached(key, compute)
    return json_response(
        body, headers=_served_headers(predictor.version, cache_state, cache_ms, "launch", compute_ms, started)
    )


@routes.get("/v1/products")
def products() -> Response:
    predictor = current_service().require_predictor()
    _check_names(PRODUCTS_QUERY)
    term_name, page_name, size_name = PRODUCTS_QUERY
    page = _page_parameter(page_name, 1, 1_000_000)
    size = _page_parameter(size_name, 50, PRODUCTS_PAGE_MAX)
    term = canonical_stockcode(_single(term_name) or "").lower()
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
    """ok, degraded (200: serving, but a model failed at load or, within the rolling window, at request time, so
    requests are answered by a fallback; `reason` names each model) or unavailable (503: no bundle or no model)."""
    svc = current_service()
    predictor = svc.current_predictor()
    usable = predictor is not None and bool(predictor.models)
    body = {
        "status": "unavailable",
        "bundle_version": predictor.version if predictor else None,
        "models": predictor.model_names if predictor else [],
        "skipped_models": sorted(predictor.skipped) if predictor else [],
        "cache": svc.cache.state(),
    }
    if predictor is None:
        body["reason"] = f"no bundle loaded ({svc.load_error})"
        return json_response(body, 503)
    failing = predictor.failures.failing()
    window = predictor.failures.window_s
    body["request_failures"] = {name: asdict(failure) for name, failure in sorted(failing.items())}
    body["failure_window_seconds"] = window
    body["answers_by_model"] = predictor.failures.answers()
    reasons = [f"model {name} skipped at load ({error})" for name, error in sorted(predictor.skipped.items())]
    reasons += [
        f"model {name} failed {failure.failures} time(s) at request time in the last {window:g} s "
        f"(latest: {failure.last_error}); requests fall back to the next model"
        for name, failure in sorted(failing.items())
    ]
    body["status"] = ("degraded" if reasons else "ok") if usable else "unavailable"
    if reasons:
        body["reason"] = "; ".join(reasons)
    return json_response(body, 200 if usable else 503)


@routes.get("/openapi.json")
def openapi() -> Response:
    from pricing.serving.openapi import spec

    return json_response(spec(current_service().settings))
