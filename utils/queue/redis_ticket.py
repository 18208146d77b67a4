"""`RedisTicket`: a place in a Redis line, then a held slot (`RedisGate` hands them out).

`held()` asks Redis again at most every `RECHECK` seconds; a ticket found gone while holding is
lost (`TicketLost`): its holder must not start or go on with a request."""

from __future__ import annotations

from typing import Protocol

from utils.queue.contract import GateClosed
from utils.queue.line import LineTicket, TicketGate

RECHECK = 0.2  # `held()` asks Redis again after this long


class TicketOwner(TicketGate, Protocol):
    """What a ticket needs of its gate."""

    def _track(self, ticket: RedisTicket) -> None: ...
    def _present(self, ticket_id: int) -> bool: ...


class RedisTicket(LineTicket):
    """A place in a Redis line, then a held slot. `release()` is idempotent and thread-safe."""

    def __init__(self, gate: TicketOwner, ticket_id: int, ahead: int) -> None:
        super().__init__(gate, ticket_id, ahead)
        self.gate: TicketOwner = gate
        self._checked = gate.clock.monotonic()
        gate._track(self)

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
