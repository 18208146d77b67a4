"""`Background`: a thread that runs pending extraction jobs while the line is free.

Used by `chat` (between turns) and `serve` (the workers' idle time). `make(...)` builds the
thread's own `Extractor` inside the thread (SQLite connections stay in the thread that opened
them). It wakes at `wake()` (a turn just ended) or every `idle_seconds`, and runs jobs one by one
while there are any and nobody waits; a job given back to a waiting turn is tried again later.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from utils.memory.extractor import Extractor

log = structlog.get_logger()


class Background(threading.Thread):
    def __init__(
        self, make: Callable[[], tuple[Extractor, Callable[[], None]]], *,
        poll_seconds: float, idle_seconds: float = 5.0,
    ) -> None:  # fmt: skip
        super().__init__(name="memory-extraction", daemon=True)
        self.make = make
        self.poll = max(0.01, poll_seconds)
        self.idle = idle_seconds
        self._wake = threading.Event()
        self._halt = threading.Event()
        self.done = 0  # jobs finished (done or failed) by this thread

    def stopping(self) -> bool:
        """True once `stop()` was asked: a job under way gives its slot back, kept pending."""
        return self._halt.is_set()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._halt.set()
        self._wake.set()
        if self.is_alive():
            self.join(timeout)

    def run(self) -> None:
        try:
            extractor, close = self.make()
        except Exception as exc:
            log.error("memory_background_failed", error=type(exc).__name__, exc_info=exc)
            return
        try:
            while not self._halt.is_set():
                self._wake.wait(self.idle)
                self._wake.clear()
                self._drain(extractor)
        except Exception as exc:  # say why it stopped; the jobs stay pending
            log.error("memory_background_failed", error=type(exc).__name__, exc_info=exc)
        finally:
            close()

    def _drain(self, extractor: Extractor) -> None:
        while not self._halt.is_set():
            outcome = extractor.run_one()
            if outcome.status == "none":
                return
            if outcome.status in ("done", "failed"):
                self.done += 1
                continue
            if outcome.status == "later":
                return  # Ollama unreachable: at the next wake
            self._halt.wait(self.poll)  # yielded to a turn: look again shortly
