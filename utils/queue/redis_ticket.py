"""`RedisTicket`: a place in a Redis line, then a held slot (`RedisGate` hands them out).

`held()` asks Redis again at most every `RECHECK` seconds; a ticket found gone while holding is
lost (`TicketLost`): its holder must not start or go on with a request."""

from __future__ import annotations

import threading
from typing import Protocol

import structlog

from utils.clock import Clock
from utils.queue.contract import GateClosed

log = structlog.get_logger()

RECHECK = 0.2  # `held()` asks Redis again after this long


class TicketOwner(Protocol):
    """What a ticket needs of its gate."""

    clock: Clock
    host: str

    def _track(self, ticket: RedisTicket) -> None: ...
    def _untrack(self, ticket_id: int) -> None: ...
    def _leave(self, ticket_id: int, held: float | None) -> None: ...
    def _present(self, ticket_id: int) -> bool: ...


class RedisTicket:
    """A place in a Redis line, then a held slot. `release()` is idempotent and thread-safe."""

    def __init__(self, gate: TicketOwner, ticket_id: int, ahead: int) -> None:
        self.gate = gate
        self.id = ticket_id
        self.ahead = ahead
        self.waited = 0.0
        self.granted_at: float | None = None  # monotonic
        self.lost = False
        self._checked = gate.clock.monotonic()
        self._lock = threading.Lock()
        self._released = False
        gate._track(self)

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self.gate._untrack(self.id)
        held = None
        if self.granted_at is not None and not self.lost:
            held = max(0.0, self.gate.clock.monotonic() - self.granted_at)
        self.gate._leave(self.id, held)

    def held(self) -> bool:
        if self._released or self.lost:
            return False
        mono = self.gate.clock.monotonic()
        if 0 <= mono - self._checked < RECHECK:
            return True
        self._checked = mono
        try:
            present = self.gate._present(self.id)
        except (OSError, GateClosed):
            return True  # cannot tell: a missed check is not a lost slot
        if not present:
            self.mark_lost()
        return not self.lost

    def mark_lost(self) -> None:
        if not self.lost and not self._released and self.granted_at is not None:
            self.lost = True
            log.info("gate_ticket_lost", host=self.gate.host, ticket=self.id)
