"""A clock a test moves by hand, for code that decides by time.monotonic() (back-offs, retry intervals): the test
says "the interval is over" instead of sleeping through it and hoping the machine kept up."""

from __future__ import annotations

import time
from types import ModuleType


class ManualClock:
    """Stands in for the `time` module inside one module under test: monotonic() stands still until advance();
    everything else (perf_counter, sleep, ...) is the real time module's."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def __getattr__(self, name: str):
        return getattr(time, name)


def manual_clock(monkeypatch, *modules: ModuleType) -> ManualClock:
    """Replace the `time` of each of `modules` with one ManualClock for this test; the clock."""
    clock = ManualClock()
    for module in modules:
        monkeypatch.setattr(module, "time", clock)
    return clock
