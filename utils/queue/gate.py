"""`SqliteGate`: the shared request queue, one request at a time (or `slots`) per Ollama host.

`CallOllama` takes a ticket before it sends a request and the turn releases it when the reply
has ended. Waiting callers hear their position through `on_wait(position, eta_seconds)`.
The queue lives in its own small SQLite file (`<data_dir>/queue.db`, WAL; `tickets.py`), shared
by every pocketchat process on the machine: chats, `ask`, `flow run`.

- A ticket is a row; its `id` (AUTOINCREMENT) is its place in line, so the order is FIFO. It
  records its process (machine, pid, start time): see `tickets.py` for when a ticket stands.
- A ticket is served when fewer than `slots` standing tickets of the same host are ahead of it.
  Whoever looks (joining, or each poll of a waiter) first deletes the tickets ahead that no
  longer stand: a killed waiter or holder frees the line at the next poll.
- The owner heartbeats while waiting and while holding (one thread per gate, started with its
  first ticket and kept). A beat that finds its holding ticket gone marks it lost: `held()` then
  says False and the reply stops (`TicketLost`), so a slot is never used twice.
- Ctrl+C while waiting deletes the ticket before KeyboardInterrupt goes on; `close()` deletes
  every ticket the process still has (a chat left while the warm-up holds one).
- A release wakes the waiters of the same queue file and host in this process at once (a
  `threading.Condition` per file and host, with the system clock); other processes' waiters
  see it at their next poll (`poll`).
- Each finished hold is remembered (the last `HISTORY` per host) to estimate waits; hold times
  come from the monotonic clock.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import structlog

from utils.clock import Clock, SystemClock
from utils.queue.contract import GateClosed, WaitCallback
from utils.queue.line import Heartbeats, LineTicket, eta, wait_turn
from utils.queue.liveness import this_process
from utils.queue.tickets import open_queue, read_tickets, remove_stale
from utils.queue.wake import wake_for
from utils.store import immediate

log = structlog.get_logger()
T = TypeVar("T")

HISTORY = 20  # finished holds kept per host for the wait estimate
RECHECK = 0.2  # `held()` asks queue.db again after this long on either clock (or a jump back)


class SqliteTicket(LineTicket):
    """A place in line, then a held slot. `release()` is idempotent and thread-safe."""

    def __init__(self, gate: SqliteGate, ticket_id: int, ahead: int) -> None:
        super().__init__(gate, ticket_id, ahead)
        self.gate: SqliteGate = gate
        self._checked = (gate.clock.monotonic(), gate.clock.now())
        gate._track(self)

    def held(self) -> bool:
        if self._released or self.lost:
            return False
        mono, wall = self.gate.clock.monotonic(), self.gate.clock.now()
        last_mono, last_wall = self._checked
        if 0 <= mono - last_mono < RECHECK and 0 <= wall - last_wall < RECHECK:
            return True
        self._checked = (mono, wall)
        try:
            present = self.gate._present([self.id])
        except (sqlite3.Error, GateClosed):
            return True  # cannot tell: a missed check is not a lost slot
        if self.id not in present:
            self.mark_lost()
        return not self.lost


class SqliteGate:
    """A `Gate` for one Ollama host over a shared SQLite file."""

    def __init__(
        self,
        path: Path,
        host: str,
        clock: Clock,
        *,
        slots: int = 1,
        ttl: float = 10.0,
        heartbeat: float = 1.0,
        poll: float = 0.05,
    ) -> None:
        self.path = path
        self.host = host
        self.clock = clock
        self.slots = max(1, slots)
        self.ttl = ttl
        self.heartbeat = heartbeat
        self.poll = poll
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # one connection, shared with the heartbeat thread
        self._beats: Heartbeats[SqliteTicket] = Heartbeats(self._beat, heartbeat)
        self._closed = False
        self._wake = wake_for(path, host)
        # a waiter in this process is woken by a release here; only the real clock waits on it
        self._wakeable = type(clock) is SystemClock

    # -- the protocol ------------------------------------------------------------------------
    def acquire(self, on_wait: WaitCallback) -> SqliteTicket:
        joined = self.clock.monotonic()
        ticket_id, ahead, granted = self._join()
        log.info("gate_joined", host=self.host, ticket=ticket_id, ahead=ahead)
        ticket = SqliteTicket(self, ticket_id, ahead)
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
        ticket._checked = (ticket.granted_at, self.clock.now())
        ticket.waited = ticket.granted_at - joined
        if waited:
            log.info("gate_granted", host=self.host, waited=round(ticket.waited, 3), ahead=ahead)
        return ticket

    def depth(self) -> int:
        """Standing tickets (waiting and holding) for this host right now."""
        now = self.clock.now()
        with self._lock:
            rows = read_tickets(self._db(), self.host)
        return sum(1 for row in rows if row.judge(now, self.ttl).stands)

    def estimate(self) -> float | None:
        """Median seconds of the recent holds on this host; None before the first."""
        with self._lock:
            return self._median_hold(self._db())

    def close(self) -> None:
        self._beats.release_all()  # e.g. a chat left while its warm-up holds a ticket
        self._closed = True
        self._beats.stop()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- each step one short transaction -------------------------------------------------------
    def _join(self) -> tuple[int, int, bool]:
        """(ticket id, tickets ahead, served at once): a free slot is taken in the same
        transaction that joins the line (AUTOINCREMENT: every standing ticket is ahead)."""
        now, me = self.clock.now(), this_process()

        def join(conn: sqlite3.Connection) -> tuple[int, int, bool]:
            self._clear(conn, now, None)
            counted = conn.execute("SELECT count(*) FROM tickets WHERE host = ?", [self.host])
            ahead = int(counted.fetchone()[0])
            served = ahead < self.slots
            cur = conn.execute(
                "INSERT INTO tickets (host, owner, state, created_at, granted_at, heartbeat_at, "
                "pid, started, machine) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [self.host, self.owner, "holding" if served else "waiting", now,
                 now if served else None, now, me.pid, me.started, me.machine],
            )  # fmt: skip
            return int(cur.lastrowid or 0), ahead, served

        return self._write(join)

    def _try_grant(self, ticket_id: int) -> tuple[int, float | None]:
        """(0, None) once served; else (position among the waiting, estimated seconds)."""
        now, me = self.clock.now(), this_process()

        def check(conn: sqlite3.Connection) -> tuple[int, float | None]:
            self._clear(conn, now, ticket_id)
            rows = conn.execute(
                "SELECT state, granted_at FROM tickets WHERE host = ? AND id < ? ORDER BY id",
                [self.host, ticket_id],
            ).fetchall()
            if len(rows) < self.slots:
                # An upsert: a waiting ticket cleared from another machine comes back.
                conn.execute(
                    "INSERT INTO tickets (id, host, owner, state, created_at, granted_at, "
                    "heartbeat_at, pid, started, machine) VALUES (?, ?, ?, 'holding', ?, ?, ?, "
                    "?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = 'holding', granted_at = ?, "
                    "heartbeat_at = ?",
                    [ticket_id, self.host, self.owner, now, now, now, me.pid, me.started,
                     me.machine, now, now],
                )  # fmt: skip
                return 0, None
            position = len(rows) - self.slots + 1
            started = [r[1] for r in rows if r[0] == "holding" and r[1] is not None]
            return position, eta(position, self.slots, self._median_hold(conn), started, now)

        return self._write(check)

    def _clear(self, conn: sqlite3.Connection, now: float, before: int | None) -> None:
        for row, verdict in remove_stale(conn, now, self.ttl, self.host, before):
            log.info("gate_ticket_cleared", host=self.host, ticket=row.id, owner=row.owner,
                     state=row.state, reason=verdict.value)  # fmt: skip

    def _present(self, ticket_ids: list[int]) -> set[int]:
        marks = ",".join("?" * len(ticket_ids))
        with self._lock:
            if self._closed:
                raise GateClosed(str(self.path))
            rows = (
                self._db()
                .execute(f"SELECT id FROM tickets WHERE id IN ({marks})", ticket_ids)
                .fetchall()
            )
        return {int(r[0]) for r in rows}

    # -- the heartbeat thread ------------------------------------------------------------------
    def _track(self, ticket: SqliteTicket) -> None:
        self._beats.track(ticket)

    def _untrack(self, ticket_id: int) -> None:
        self._beats.untrack(ticket_id)

    def _beat(self, ticket_ids: list[int]) -> set[int]:
        now = self.clock.now()
        marks = ",".join("?" * len(ticket_ids))
        return self._write(
            lambda c: {
                int(r[0])
                for r in c.execute(
                    f"UPDATE tickets SET heartbeat_at = ? WHERE id IN ({marks}) RETURNING id",
                    [now, *ticket_ids],
                ).fetchall()
            }
        )

    def _leave(self, ticket_id: int, held: float | None) -> None:
        now = self.clock.now()

        def leave(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM tickets WHERE id = ?", [ticket_id])
            if held is not None:
                conn.execute(
                    "INSERT INTO holds (host, seconds, finished_at) VALUES (?, ?, ?)",
                    [self.host, held, now],
                )
                conn.execute(
                    "DELETE FROM holds WHERE host = ? AND id <= (SELECT id FROM holds "
                    "WHERE host = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    [self.host, self.host, HISTORY],
                )

        try:
            self._write(leave)
        except (sqlite3.Error, GateClosed) as exc:  # the next to look clears it (pid gone)
            log.info("gate_release_failed", host=self.host, error=str(exc))
        self._wake.ring()

    def _median_hold(self, conn: sqlite3.Connection) -> float | None:
        rows = conn.execute(
            "SELECT seconds FROM holds WHERE host = ? ORDER BY id DESC LIMIT ?",
            [self.host, HISTORY],
        ).fetchall()
        return statistics.median(r[0] for r in rows) if rows else None

    # -- plumbing ------------------------------------------------------------------------------
    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            if self._closed:
                raise GateClosed(str(self.path))
            with immediate(self._db()) as conn:
                return fn(conn)

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = open_queue(self.path)
        return self._conn
