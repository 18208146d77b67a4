"""`Periodic`: a serve-mode daemon thread that does one piece of upkeep every `every` seconds
until stopped (the run keeper, the event-log sweeper). A failing round is logged under the
subclass's `failed_event` and tried again next time; the thread's store connection is closed
when it ends."""

from __future__ import annotations

import threading
from typing import ClassVar

import structlog

from serve.events import EventLog

log = structlog.get_logger()


class Periodic(threading.Thread):
    failed_event: ClassVar[str]

    def __init__(self, name: str, events: EventLog, every: float) -> None:
        super().__init__(name=name, daemon=True)
        self.events = events
        self.every = max(0.05, every)
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(5)

    def tick(self) -> None:
        """One round of upkeep."""
        raise NotImplementedError

    def run(self) -> None:
        try:
            while True:
                try:
                    self.tick()
                except Exception as exc:  # e.g. Redis or the database away for a moment
                    log.warning(self.failed_event, error=type(exc).__name__)
                if self._stop.wait(self.every):
                    return
        finally:
            self.events.close_thread_store()
