"""Serving state: the loaded predictor, the cache, single-flight, and the store retry, for one process.

Built once by `create_app` and held by the Flask app; everything that needs it (routes, warm-up, Lambda events,
the CLI) reaches it through `service_of(app)` (or `current_service()` inside a request), a typed accessor,
never through the extension's name.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from flask import Flask, current_app

from pricing.artifacts.store import ArtifactStore, open_store
from pricing.config import Settings
from pricing.serving.cache import PriceCache, SingleFlight
from pricing.serving.predictor import Predictor

log = logging.getLogger(__name__)
EXTENSION = "pricing"


class ServiceUnavailable(RuntimeError):
    """No bundle is loaded, so nothing can be priced yet (HTTP 503)."""


@dataclass
class Service:
    """One process's serving state. `predictor` is None while no bundle could be loaded (`load_error` says why)."""

    settings: Settings
    cache: PriceCache
    predictor: Predictor | None
    load_error: str | None
    flight: SingleFlight = field(default_factory=SingleFlight)
    store: ArtifactStore | None = None
    next_load: float = 0.0  # time.monotonic() after which a request may try the store again
    _loading: threading.Lock = field(default_factory=threading.Lock)

    def require_predictor(self) -> Predictor:
        """The loaded predictor; ServiceUnavailable when there is none."""
        predictor = self.current_predictor()
        if predictor is None:
            raise ServiceUnavailable("no bundle is loaded; the service cannot price yet")
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
    """Fetch and verify the LATEST bundle: (predictor, None), or (None, the error's type) so the app still starts
    and says 503."""
    started = time.perf_counter()
    try:
        store = store or open_store(settings.artifact_store, cache_dir=settings.bundle_cache_dir)
        predictor = Predictor(store.fetch(), torch_threads=settings.torch_threads)
    except Exception as exc:  # whatever stops the load (S3, a checksum, a table, a bug), the app
        # must still start and answer 503 with the error's type, which /health shows: a cold start that crashes
        # is retried by Lambda without a word to the client
        log.error("no bundle loaded from %s: %s: %s", settings.artifact_store, type(exc).__name__, exc)
        return None, type(exc).__name__
    log.info(
        "bundle %s loaded in %.2f s; models %s", predictor.version, time.perf_counter() - started, predictor.model_names
    )
    return predictor, None


def attach(app: Flask, service: Service) -> None:
    app.extensions[EXTENSION] = service


def service_of(app: Flask) -> Service:
    """The serving state of an app built by `create_app`."""
    return app.extensions[EXTENSION]


def current_service() -> Service:
    """The serving state of the app handling the current request."""
    return service_of(current_app)
