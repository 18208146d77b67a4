"""`RedisGate`: the request queue of `SqliteGate`, shared through Redis by several machines
(`queue.url: redis://…`); keys and scripts in `redis_lua.py`, tickets in `redis_tickets.py`.

- Joining is one script: INCR gives the ticket's place; the ticket takes a slot at once when
  fewer than `slots` tickets are in the host's line.
- A waiter first removes the tickets ahead that no longer stand (a killed process on this
  machine at once; another machine's ticket once its heartbeat is older than the TTL), then
  takes a slot if fewer than `slots` are ahead (one script), else hears its position.
- Between looks it waits `poll` seconds, or less: a release in this process wakes the waiters
  of the same queue and host in this process at once (`wake.py`, as `SqliteGate` does).
  Waiters in other processes are not woken through Redis on purpose: they look again within
  `poll`, so a hand-off never overtakes the releaser's own bookkeeping (the contract suite
  counts holders by the processes' own records; a pub/sub wake served the next waiter before
  the releaser had written that it let go). Releases and reaps still PUBLISH on `wake:H` for
  anyone who wants to watch the line.
- The owner heartbeats its tickets (one thread per gate); a beat or `held()` that finds a
  holding ticket gone marks it lost (`TicketLost`): a slot is never used twice.
- Redis errors become `QueueUnavailable` (an OSError): `Unqueued` then lets requests through.
"""

from __future__ import annotations

import os
import statistics
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import structlog

from utils.clock import Clock, SystemClock
from utils.queue.contract import GateClosed, WaitCallback
from utils.queue.line import Heartbeats, eta, wait_turn
from utils.queue.liveness import this_process
from utils.queue.redis_lua import BEAT, GRANT, JOIN, LEAVE
from utils.queue.redis_ticket import RedisTicket
from utils.queue.redis_tickets import (
    NAMESPACE,
    RedisTickets,
    connect,
    describe_url,
    unavailable,
)
from utils.queue.tickets import TicketRow, Verdict
from utils.queue.wake import wake_for

if TYPE_CHECKING:
    import redis

log = structlog.get_logger()
T = TypeVar("T")

HISTORY = 20  # finished holds kept per host for the wait estimate


class RedisGate:
    """A `Gate` for one Ollama host over a Redis server shared by every machine."""

    def __init__(
        self, url: str, host: str, clock: Clock, *, slots: int = 1, ttl: float = 10.0,
        heartbeat: float = 1.0, poll: float = 0.05, namespace: str = NAMESPACE,
    ) -> None:  # fmt: skip
        self.url, self.host, self.clock = url, host, clock
        self.slots = max(1, slots)
        self.ttl, self.heartbeat, self.poll = ttl, heartbeat, poll
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.client: redis.Redis = connect(url)
        self.tickets = RedisTickets(self.client, namespace)
        self.keys = self.tickets.keys(host)
        self._join_script = self.client.register_script(JOIN)
        self._grant_script = self.client.register_script(GRANT)
        self._beat_script = self.client.register_script(BEAT)
        self._leave_script = self.client.register_script(LEAVE)
        self._beats: Heartbeats[RedisTicket] = Heartbeats(self._beat, heartbeat)
        self._closed = False
        self._wake = wake_for(f"{describe_url(url)}#{namespace}", host)
        self._wakeable = type(clock) is SystemClock  # only the real clock naps on the Wake

    # -- the protocol ------------------------------------------------------------------------
    def acquire(self, on_wait: WaitCallback) -> RedisTicket:
        joined = self.clock.monotonic()
        ticket_id, ahead, granted = self._join()
        log.info("gate_joined", host=self.host, ticket=ticket_id, ahead=ahead)
        ticket = RedisTicket(self, ticket_id, ahead)
        waited = False
        try:
            if not granted:
                waited = wait_turn(lambda: self._try_grant(ticket_id), on_wait, self._wake,
                          wakeable=self._wakeable, poll=self.poll, clock=self.clock)  # fmt: skip
        except BaseException:
            ticket.release()
            log.info("gate_wait_cancelled", host=self.host, ticket=ticket_id)
            raise
        ticket.granted_at = self.clock.monotonic()
        ticket._checked = ticket.granted_at
        ticket.waited = ticket.granted_at - joined
        if waited:
            log.info("gate_granted", host=self.host, waited=round(ticket.waited, 3), ahead=ahead)
        return ticket

    def depth(self) -> int:
        """Standing tickets (waiting and holding) for this host right now."""
        rows, now = self._call(self.tickets.read, self.host)
        return sum(1 for row in rows if row.judge(now, self.ttl).stands)

    def estimate(self) -> float | None:
        """Median seconds of the recent holds on this host; None before the first."""
        holds = self._call(self.client.lrange, self.keys.holds, 0, HISTORY - 1)
        return statistics.median(float(h) for h in holds) if holds else None

    def close(self) -> None:
        self._beats.release_all()
        self._closed = True
        self._beats.stop()
        self.client.close()

    # -- each step one script ----------------------------------------------------------------
    def _me(self) -> list[str]:
        me = this_process()
        return [self.owner, str(me.pid), me.started or "", me.machine]

    def _join(self) -> tuple[int, int, bool]:
        rows, now = self._call(self.tickets.read, self.host)
        self._clear(rows, now)
        k = self.keys
        ticket_id, ahead, served = self._call(
            self._join_script, keys=[k.seq, k.line, k.holding, k.hosts],
            args=[k.namespace, self.host, self.slots, *self._me()],
        )  # fmt: skip
        return int(ticket_id), int(ahead), bool(served)

    def _try_grant(self, ticket_id: int) -> tuple[int, float | None]:
        """(0, None) once served; else (position among the waiting, estimated seconds)."""
        rows, now = self._call(self.tickets.read, self.host, ticket_id)
        cleared = {row.id for row, _ in self._clear(rows, now)}
        k = self.keys
        position, _ = self._call(
            self._grant_script, keys=[k.line, k.holding],
            args=[k.namespace, ticket_id, self.slots, self.host, *self._me()],
        )  # fmt: skip
        position = int(position)
        if position == 0:
            return 0, None
        live = [r for r in rows if r.id not in cleared and r.state == "holding"]
        started = [r.granted_at for r in live if r.granted_at is not None]
        return position, eta(position, self.slots, self.estimate(), started, now)

    def _clear(self, rows: list[TicketRow], now: float) -> list[tuple[TicketRow, Verdict]]:
        removed = self._call(self.tickets.remove_stale, self.host, rows, now, self.ttl)
        for row, verdict in removed:
            log.info("gate_ticket_cleared", host=self.host, ticket=row.id, owner=row.owner,
                     state=row.state, reason=verdict.value)  # fmt: skip
        return list(removed)

    def _present(self, ticket_id: int) -> bool:
        if self._closed:
            raise GateClosed(self.url)
        return bool(self._call(self.client.exists, self.keys.ticket(ticket_id)))

    def _leave(self, ticket_id: int, held: float | None) -> None:
        k = self.keys
        try:
            self._call(self._leave_script, keys=[k.line, k.holding, k.holds, k.wake],
                       args=[k.namespace, ticket_id, "" if held is None else repr(held),
                             HISTORY])  # fmt: skip
        except OSError as exc:  # the next to look clears it (its process gone)
            log.info("gate_release_failed", host=self.host, error=str(exc))
        self._wake.ring()

    # -- the heartbeat thread ------------------------------------------------------------------
    def _track(self, ticket: RedisTicket) -> None:
        self._beats.track(ticket)

    def _untrack(self, ticket_id: int) -> None:
        self._beats.untrack(ticket_id)

    def _beat(self, ticket_ids: list[int]) -> set[int]:
        args = [self.keys.namespace, *map(str, ticket_ids)]
        return {int(i) for i in self._call(self._beat_script, args=args)}

    # -- plumbing ------------------------------------------------------------------------------
    def _call(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run one Redis step; its errors as `QueueUnavailable` (one line, an OSError)."""
        import redis

        try:
            return fn(*args, **kwargs)
        except redis.RedisError as exc:
            raise unavailable(self.url, exc) from exc
