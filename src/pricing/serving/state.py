"""Serving state: the loaded predictor, the cache, single-flight, and the store retry, for one process.

Built once by `create_app` and held by the Flask app; everything that needs it (routes, warm-up, Lambda events,
the CLI) reaches it through `service_of(app)` (or `current_service()` inside a request), a typed accessor,
never through the extension's name.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Flask, current_app

from pricing.artifacts.store import ArtifactStore, open_store
from pricing.config import Settings
from pricing.serving.cache import PriceCache, SingleFlight
from pricing.serving.experiment import ServedExperiment, load_experiment
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
    # the loaded bundle's running experiment (experiment.json; None: it runs none, or it could not be read, in which
    # case experiment_error says why: the decisions still serve)
    experiment: ServedExperiment | None = None
    experiment_error: str | None = None
    # the UTC clock that says which ISO week an experiment answer without `week` is for (tests set their own)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
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
                    loaded = load_serving(self.settings, self.store)
                    self.predictor, self.load_error = loaded.predictor, loaded.error
                    self.experiment, self.experiment_error = loaded.experiment, loaded.experiment_error
            finally:
                self.next_load = time.monotonic() + self.settings.bundle_retry_seconds
                self._loading.release()
        return self.predictor


@dataclass(frozen=True)
class Loaded:
    """What a load from the store gave: the predictor (None: `error`, the exception's type, says why) and the
    bundle's experiment (None: it runs none, or `experiment_error` says why it could not be read)."""

    predictor: Predictor | None
    error: str | None
    experiment: ServedExperiment | None = None
    experiment_error: str | None = None


def load_serving(settings: Settings, store: ArtifactStore | None) -> Loaded:
    """Fetch and verify the LATEST bundle and load its predictor and experiment. Never raises: whatever stops the
    load (S3, a checksum, a table, a bug), the app must still start and answer 503 with the error's type, which
    /health shows (a cold start that crashes is retried by Lambda without a word to the client); an experiment
    that cannot be read leaves the decisions serving and experiment mode answering 503."""
    started = time.perf_counter()
    try:
        store = store or open_store(settings.artifact_store, cache_dir=settings.bundle_cache_dir)
        bundle = store.fetch()
        predictor = Predictor(bundle, torch_threads=settings.torch_threads)
    except Exception as exc:
        log.error("no bundle loaded from %s: %s: %s", settings.artifact_store, type(exc).__name__, exc)
        return Loaded(None, type(exc).__name__)
    experiment, experiment_error = None, None
    try:
        experiment = load_experiment(bundle)
    except Exception as exc:  # a bad experiment.json must not take the decisions down with it
        experiment_error = f"{type(exc).__name__}: {exc}"
        log.error("bundle %s: its experiment cannot be served: %s", bundle.version, experiment_error)
    log.info(
        "bundle %s loaded in %.2f s; models %s; experiment %s",
        predictor.version,
        time.perf_counter() - started,
        predictor.model_names,
        experiment.config.id if experiment else None,
    )
    return Loaded(predictor, None, experiment, experiment_error)


def load_predictor(settings: Settings, store: ArtifactStore | None) -> tuple[Predictor | None, str | None]:
    """(predictor, None), or (None, the error's type) so the app still starts and says 503 (load_serving)."""
    loaded = load_serving(settings, store)
    return loaded.predictor, loaded.error


def attach(app: Flask, service: Service) -> None:
    app.extensions[EXTENSION] = service


def service_of(app: Flask) -> Service:
    """The serving state of an app built by `create_app`."""
    return app.extensions[EXTENSION]


def current_service() -> Service:
    """The serving state of the app handling the current request."""
    return service_of(current_app)
