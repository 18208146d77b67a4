"""Releases of the queue in this process, heard at once: a waiter in the same process as the
holder need not wait for its next poll. One `Wake` per queue file (or Redis queue) and host,
shared by every gate of the process (each thread of `pocketchat serve` has its own gate)."""

from __future__ import annotations

import threading
from pathlib import Path


class Wake:
    """Releases of one queue file and host in this process: a counter and its Condition."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.count = 0

    def ring(self) -> None:
        with self.cond:
            self.count += 1
            self.cond.notify_all()

    def nap(self, seen: int, seconds: float) -> None:
        """Sleep up to `seconds`, or until a release after the count `seen`."""
        with self.cond:
            if self.count == seen:
                self.cond.wait(seconds)


WAKES: dict[tuple[str, str], Wake] = {}
WAKES_LOCK = threading.Lock()


def wake_for(path: Path | str, host: str) -> Wake:
    """The `Wake` of a queue file (or another queue's name: a Redis URL and namespace)."""
    key = (str(path.resolve()) if isinstance(path, Path) else path, host)
    with WAKES_LOCK:
        return WAKES.setdefault(key, Wake())
