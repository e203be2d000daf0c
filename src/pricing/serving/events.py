"""Lambda event dispatch: which kind of event arrived, and what answers it.

- API Gateway REST (payload 1.0)          -> the Flask app through aws-wsgi (pricing.serving.apigateway)
- HTTP API or Function URL (payload 2.0)  -> the same Flask app
- S3 ObjectCreated under batch/in/*.csv   -> batch recommendations to batch/out/ (pricing.serving.batch)
- EventBridge scheduled event             -> the cache warmed for the top-N products (pricing.serving.warmup)
- anything else                           -> a logged error and UnsupportedEvent: the invocation fails with a
                                             clear type and message, and the runtime goes on to the next one.

Logs are JSON with the request id (aws-lambda-powertools Logger); per-route latency, cache outcome and model
go out as CloudWatch Embedded Metric Format lines (powertools Metrics), one document per invocation.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from flask import Flask
from werkzeug.exceptions import HTTPException

from pricing.artifacts.s3 import s3_client
from pricing.serving import apigateway
from pricing.serving.state import service_of

# The service name is also the name of powertools' logger: every `pricing.*` module logger is its child, so
# their records go out through the same JSON handler, with the same request id.
SERVICE = "pricing"
METRICS_NAMESPACE = "PricingService"
# A batch stops pricing this long before the invocation's deadline, so its report is still written.
BATCH_DEADLINE_MARGIN_S = 20.0

log = logging.getLogger(__name__)


class UnsupportedEvent(Exception):
    """An event this function is not wired for. Raised, so the invocation fails once with this type."""


def json_logger(level: str = "INFO", stream=None) -> Logger:
    return Logger(service=SERVICE, level=level, stream=stream)


def emf_metrics() -> Metrics:
    return Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)


def event_kind(event) -> str:
    if not isinstance(event, dict):
        raise UnsupportedEvent(f"expected a JSON object event, got {type(event).__name__}")
    if apigateway.is_v2(event):
        return "http-v2"
    if apigateway.is_v1(event):
        return "rest-v1"
    records = event.get("Records")
    if isinstance(records, list) and records and all(r.get("eventSource") == "aws:s3" for r in records):
        return "s3"
    if event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event":
        return "schedule"
    raise UnsupportedEvent("unsupported event with keys " + ", ".join(sorted(map(str, event))[:12]))


@dataclass(frozen=True)
class LocalContext:
    """What a direct call (a script, a test) passes when it has no Lambda context: the fields logs use."""

    aws_request_id: str
    function_name: str = "local"
    memory_limit_in_mb: int = 0
    invoked_function_arn: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 15 * 60 * 1000  # Lambda's longest timeout


def lambda_handler(app: Flask, logger: Logger, metrics: Metrics, s3_client=None) -> Callable:
    """The `handler(event, context)` Lambda calls, for an app built once at init."""
    dispatcher = Dispatcher(app, logger, metrics, s3_client)

    @metrics.log_metrics
    @logger.inject_lambda_context(clear_state=True)
    def instrumented(event, context):
        return dispatcher(event, context)

    def handler(event, context=None):
        return instrumented(event, context if context is not None else LocalContext(str(uuid.uuid4())))

    return handler


class Dispatcher:
    def __init__(self, app: Flask, logger: Logger, metrics: Metrics, s3_client=None) -> None:
        self.app = app
        self.logger = logger
        self.metrics = metrics
        self._s3_client = s3_client
        self._routes = app.url_map.bind("localhost")

    def __call__(self, event, context) -> dict:
        try:
            kind = event_kind(event)
        except UnsupportedEvent as exc:
            log.error("unsupported event: %s", exc)
            self.metrics.add_dimension("event", "unsupported")
            self.metrics.add_metric("UnsupportedEvents", MetricUnit.Count, 1)
            raise
        self.metrics.add_dimension("event", kind)
        # Every invocation emits at least this one: powertools clears dimensions only when it flushes metrics,
        # so an invocation without any would leave its dimensions to the next.
        self.metrics.add_metric("Invocations", MetricUnit.Count, 1)
        if kind in ("rest-v1", "http-v2"):
            return self.http(kind, event, context)
        if kind == "s3":
            return self.s3_batch(event, context)
        return self.warm_up(event)

    # ---- HTTP ------------------------------------------------------------------------------------------
    def http(self, kind: str, event: dict, context) -> dict:
        method, path = apigateway.request_line(event)
        request_id = (event.get("requestContext") or {}).get("requestId")
        if request_id:  # API Gateway's own id on every line of this invocation, beside Lambda's
            self.logger.set_correlation_id(request_id)
        started = time.perf_counter()
        adapter = apigateway.handle_http_v2 if kind == "http-v2" else apigateway.handle_rest_v1
        payload, response = adapter(self.app, event, context)
        elapsed_ms = (time.perf_counter() - started) * 1000
        route = self.route_of(method, path)
        cache, model = response.header("X-Cache"), response.header("X-Model")
        metrics = self.metrics
        metrics.add_dimension("route", route)
        if model:
            metrics.add_dimensions(service=SERVICE, model=model)  # a second dimension set: the figures per model
        metrics.add_metric("Latency", MetricUnit.Milliseconds, elapsed_ms)
        metrics.add_metric("ServerErrors", MetricUnit.Count, int(response.status >= 500))
        metrics.add_metric("ClientErrors", MetricUnit.Count, int(400 <= response.status < 500))
        fallback = response.header("X-Fallback")
        if fallback:
            # one 0 or 1 per priced answer, also under the service alone: the Average over that dimension set is
            # the service's fallback rate, which infra/template.yaml's FallbackRateAlarm watches
            metrics.add_dimensions(service=SERVICE)
            metrics.add_metric("Fallbacks", MetricUnit.Count, int(fallback == "true"))
        if cache:
            metrics.add_metric("CacheHits", MetricUnit.Count, int(cache == "HIT"))
            metrics.add_metric("CacheBypasses", MetricUnit.Count, int(cache == "BYPASS"))
        log.info(
            "%s %s -> %d in %.1f ms",
            method,
            path,
            response.status,
            elapsed_ms,
            extra={"route": route, "status": response.status, "cache": cache, "model": model, "event_kind": kind},
        )
        return payload

    def route_of(self, method: str, path: str) -> str:
        """The matched route's rule (`GET /v1/predict-price/<stockcode>`): a metric dimension of bounded
        cardinality, unlike the raw path."""
        try:
            rule, _ = self._routes.match(path, method=method, return_rule=True)
        except HTTPException:
            return "unmatched"
        return f"{method} {rule.rule}"

    # ---- S3 batch --------------------------------------------------------------------------------------
    def s3_batch(self, event: dict, context) -> dict:
        from pricing.serving import batch

        service = service_of(self.app)
        predictor = service.current_predictor()  # retries a store that was down at start
        if predictor is None:
            # a retry may find a bundle; a report saying "no bundle" would have to be deleted by hand
            raise RuntimeError(f"no bundle is loaded ({service.load_error}); cannot price batch files")
        deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - BATCH_DEADLINE_MARGIN_S
        results = []
        for record in event["Records"]:
            bucket = record["s3"]["bucket"]["name"]
            key = unquote_plus(record["s3"]["object"]["key"])  # S3 event keys are URL-encoded
            if not record.get("eventName", "").startswith("ObjectCreated") or batch.output_keys(key) is None:
                log.warning("ignored s3://%s/%s (%s): not a new batch/in/*.csv", bucket, key, record.get("eventName"))
                results.append({"source": f"s3://{bucket}/{key}", "skipped": "not a new batch/in/*.csv object"})
                self.metrics.add_metric("BatchFilesSkipped", MetricUnit.Count, 1)
                continue
            summary = batch.run_s3_object(predictor, service.settings, self.s3_client, bucket, key, deadline=deadline)
            results.append(summary)
            self.metrics.add_metric("BatchRows", MetricUnit.Count, summary.get("rows", 0))
            self.metrics.add_metric("BatchRowsFailed", MetricUnit.Count, summary.get("rows_failed", 0))
            self.metrics.add_metric("BatchSeconds", MetricUnit.Seconds, summary.get("seconds", 0.0))
        return {"batch": results}

    @property
    def s3_client(self):
        if self._s3_client is None:
            self._s3_client = s3_client()
        return self._s3_client

    # ---- scheduled warm-up -----------------------------------------------------------------------------
    def warm_up(self, event: dict) -> dict:
        from pricing.serving.warmup import WarmupFailed, warm_top_products

        top = service_of(self.app).settings.warmup_top_n
        try:
            summary = warm_top_products(self.app, top)
        except WarmupFailed as exc:
            log.error("warm-up failed: %s", exc)
            self.metrics.add_metric("WarmupFailures", MetricUnit.Count, top)
            raise
        self.metrics.add_metric("WarmedProducts", MetricUnit.Count, summary["warmed"])
        self.metrics.add_metric("WarmupFailures", MetricUnit.Count, len(summary["failed"]))
        self.metrics.add_metric("WarmupSeconds", MetricUnit.Seconds, summary["seconds"])
        return {"warmup": summary}
