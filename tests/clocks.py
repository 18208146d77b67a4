"""Clocks for tests: time moves only when the test says so."""

from __future__ import annotations


class FixedClock:
    """Wall time starts at `start` (2025-01-01 UTC); `sleep` and `advance` move it."""

    def __init__(self, start: float = 1_735_689_600.0) -> None:
        self.t = start
        self.mono = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.t += seconds
        self.mono += seconds

    def advance_days(self, days: float) -> None:
        self.advance(days * 86400)
