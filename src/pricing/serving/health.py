"""What /health reports about the models beyond what failed at load: the failures at request time, over a
rolling window, and which model answered.

A model that fails at request time (it raised one of pricing.models.errors.PREDICT_ERRORS, or predicted
non-finite or absurd quantities) is answered by the next model of its chain with a 200, so only a count can
tell a maintainer the product is degraded: on the generator's data the fallbacks' weekly profit regret is
several times the network's (docs/PRICING_QUALITY.md), so a silent fallback is a silent loss of money.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# How far back /health looks: long enough that a failure between two probes of a load balancer or an alarm's
# 5-minute period is seen, short enough that the status returns to ok soon after the model recovers.
FAILURE_WINDOW_S = 300.0
# The most failure times kept per model: a model failing on every request under load must not grow memory.
MAX_EVENTS = 10_000


@dataclass(frozen=True)
class ModelFailure:
    """One model's request-time failures within the window: how many, the latest one's error and its age (s)."""

    failures: int
    last_error: str
    seconds_since_last: float


class ModelFailures:
    """Request-time failures and answers per model over a rolling window of `window_s` seconds; thread-safe.

    `clock` (seconds, monotonic) is injectable so that a test moves time instead of sleeping."""

    def __init__(self, window_s: float = FAILURE_WINDOW_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s, self._clock = window_s, clock
        self._failures: dict[str, deque[float]] = {}
        self._answers: dict[str, deque[float]] = {}
        self._last_error: dict[str, str] = {}
        self._lock = threading.Lock()

    def failed(self, name: str, reason: str) -> None:
        """Count a failure of model `name` now; `reason` is the error's one-line description."""
        with self._lock:
            self._failures.setdefault(name, deque(maxlen=MAX_EVENTS)).append(self._clock())
            self._last_error[name] = reason

    def answered(self, name: str) -> None:
        """Count an answer given by model `name` now (the first of its chain that predicted usable numbers)."""
        with self._lock:
            self._answers.setdefault(name, deque(maxlen=MAX_EVENTS)).append(self._clock())

    def failing(self) -> dict[str, ModelFailure]:
        """The models with at least one failure within the window, by name."""
        now = self._clock()
        with self._lock:
            failing = {}
            for name, times in self._failures.items():
                recent = self._trim(times, now)
                if recent:
                    failing[name] = ModelFailure(recent, self._last_error[name], round(now - times[-1], 3))
            return failing

    def answers(self) -> dict[str, int]:
        """Answers per model within the window (models with none left out)."""
        now = self._clock()
        with self._lock:
            counts = {name: self._trim(times, now) for name, times in self._answers.items()}
        return {name: n for name, n in counts.items() if n}

    def _trim(self, times: deque[float], now: float) -> int:
        """Drop the times older than the window (oldest first) and return how many remain."""
        while times and now - times[0] > self.window_s:
            times.popleft()
        return len(times)
