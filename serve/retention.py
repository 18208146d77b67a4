"""Run event logs expire; conversations never do.

A finished run's log is kept `serve.events_keep_seconds` after the run ended (the reply is
stored by then); a sweep every `serve.sweep_seconds` then removes all of it but its end
(`error`, `done`). Sessions, messages and the runs themselves are never removed. A swept run
still replays from what is stored (serve/events.py `replay`).
"""

from __future__ import annotations

import structlog

from serve.events import EventLog
from serve.periodic import Periodic

log = structlog.get_logger()


class Sweeper(Periodic):
    failed_event = "run_events_sweep_failed"  # a missed sweep only keeps logs longer

    def __init__(self, events: EventLog, keep_seconds: float, every: float) -> None:
        super().__init__("run-events-sweeper", events, every)
        self.keep = keep_seconds

    def tick(self) -> None:
        self.sweep()

    def sweep(self) -> int:
        from utils.store import iso

        store = self.events.store()
        removed = store.expire_run_events(iso(store.clock.now() - self.keep))
        if removed:
            log.info("run_events_expired", events=removed)
        return removed
