"""Run event logs expire; conversations never do.

A finished run's log is kept `serve.events_keep_seconds` after the run ended (the reply is
stored by then); a sweep every `serve.sweep_seconds` then removes all of it but its end
(`error`, `done`). Sessions, messages and the runs themselves are never removed. A swept run
still replays from what is stored (serve/events.py `replay`).
"""

from __future__ import annotations

import threading

import structlog

from serve.events import EventLog

log = structlog.get_logger()


class Sweeper(threading.Thread):
    def __init__(self, events: EventLog, keep_seconds: float, every: float) -> None:
        super().__init__(name="run-events-sweeper", daemon=True)
        self.events = events
        self.keep = keep_seconds
        self.every = max(0.05, every)
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(5)

    def run(self) -> None:
        try:
            while True:
                try:
                    self.sweep()
                except Exception as exc:  # a missed sweep only keeps logs longer
                    log.warning("run_events_sweep_failed", error=type(exc).__name__)
                if self._stop.wait(self.every):
                    return
        finally:
            self.events.close_thread_store()

    def sweep(self) -> int:
        from utils.store import iso

        store = self.events.store()
        removed = store.expire_run_events(iso(store.clock.now() - self.keep))
        if removed:
            log.info("run_events_expired", events=removed)
        return removed
