"""Queue positions sent off the hand-off's path: when a run takes Ollama's slot, everyone
behind it moves up, but telling them (a `queued` event per waiting run, each followed by a
store read per stream) must not delay the request that run is about to send. A poke asks for
an announcement `delay` seconds later, on this thread; pokes meanwhile make one."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

log = structlog.get_logger()


class Announcer(threading.Thread):
    def __init__(
        self, announce: Callable[[], None], delay: float, done: Callable[[], None]
    ) -> None:  # fmt: skip
        super().__init__(name="run-announcer", daemon=True)
        self._announce = announce
        self._done = done  # this thread's last call (closes its store)
        self.delay = delay
        self._poked = threading.Event()
        self._stop = threading.Event()

    def poke(self) -> None:
        self._poked.set()

    def stop(self) -> None:
        self._stop.set()
        self._poked.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(5)

    def run(self) -> None:
        try:
            while True:
                self._poked.wait()
                if self._stop.is_set():
                    return
                self._stop.wait(self.delay)  # the request goes out first
                self._poked.clear()
                try:
                    self._announce()
                except Exception as exc:  # positions are news, not the run: keep going
                    log.error("run_announce_failed", error=type(exc).__name__, exc_info=exc)
        finally:
            self._done()
