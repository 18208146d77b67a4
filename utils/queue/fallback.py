"""A queue that cannot be opened or written (a full disk, an unwritable `queue.db`) must not
cost the person their reply: `Unqueued` wraps a `Gate` and, on the first SQLite or OS error,
logs `queue_unavailable` once (to the log file; `doctor` reports the queue file) and lets every
later request through without the cross-process queue, as `queue.enabled: false` would.
"""

from __future__ import annotations

import sqlite3

import structlog

from utils.queue.contract import Gate, Ticket, WaitCallback

log = structlog.get_logger()
_BROKEN = (sqlite3.Error, OSError)  # what a queue file that cannot be used raises


class FreeTicket:
    """A ticket from no queue, or a real one (its `ahead`, `waited` shown) whose release
    cannot fail: a queue file that broke meanwhile is reported, not raised."""

    def __init__(self, inner: Ticket | None = None, gate: Unqueued | None = None) -> None:
        self._inner, self._gate = inner, gate
        self._released = False
        self.ahead = int(getattr(inner, "ahead", 0))
        self.waited = float(getattr(inner, "waited", 0.0))

    def release(self) -> None:
        self._released = True
        inner, self._inner = self._inner, None
        if inner is None:
            return
        try:
            inner.release()
        except _BROKEN as exc:
            if self._gate is not None:
                self._gate.broken(exc)

    def held(self) -> bool:
        """No queue holds nothing back; a real ticket says whether it still stands (a queue
        file that broke meanwhile counts as held: nothing else can take the slot through it)."""
        if self._released or self._inner is None:
            return not self._released
        try:
            return self._inner.held()
        except _BROKEN as exc:
            if self._gate is not None:
                self._gate.broken(exc)
            return True


class Unqueued:
    """A `Gate` that degrades to no queue at all when its own gate's file fails."""

    def __init__(self, gate: Gate, path: object) -> None:
        self.gate = gate
        self.path = path
        self.failed = False

    def broken(self, exc: BaseException) -> None:
        if not self.failed:
            self.failed = True
            log.info("queue_unavailable", path=str(self.path), error=str(exc),
                        effect="requests go to Ollama without the shared queue")  # fmt: skip

    def acquire(self, on_wait: WaitCallback) -> Ticket:
        if self.failed:
            return FreeTicket()
        try:
            ticket = self.gate.acquire(on_wait)
        except _BROKEN as exc:
            self.broken(exc)
            return FreeTicket()
        return FreeTicket(ticket, self)

    def depth(self) -> int:
        if not self.failed:
            try:
                return self.gate.depth()
            except _BROKEN as exc:
                self.broken(exc)
        return 0

    def estimate(self) -> float | None:
        if not self.failed:
            try:
                return self.gate.estimate()
            except _BROKEN as exc:
                self.broken(exc)
        return None

    def close(self) -> None:
        try:
            self.gate.close()
        except _BROKEN as exc:
            self.broken(exc)
