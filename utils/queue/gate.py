"""The shared request queue: one request at a time (or `slots`) per Ollama host, machine-wide.

`CallOllama` takes a ticket before it sends a request and the turn releases it when the reply
has ended. Waiting callers hear their position through `on_wait(position, eta_seconds)`.

`SqliteGate` keeps the queue in its own small SQLite file (`<data_dir>/queue.db`, WAL), shared
by every pocketchat process on the machine: chats, `ask`, `flow run`.

- A ticket is a row; its `id` (AUTOINCREMENT) is its place in line, so the order is FIFO.
- A ticket is served when fewer than `slots` live tickets of the same host are ahead of it.
- The owner heartbeats while waiting and while holding (one thread per gate, started with its
  first ticket and kept, so taking a ticket starts no thread); a ticket whose heartbeat is
  older than `ttl` (its process crashed) is deleted by whoever looks next.
- Ctrl+C while waiting deletes the ticket before KeyboardInterrupt goes on.
- Each finished hold is remembered (the last `HISTORY` per host) to estimate waits.
"""

from __future__ import annotations

import math
import os
import sqlite3
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

import structlog

from utils.clock import Clock
from utils.paths import ensure_data_dir, secure_file
from utils.store import set_wal

log = structlog.get_logger()
T = TypeVar("T")

WaitCallback = Callable[[int, float | None], None]

HISTORY = 20  # finished holds kept per host for the wait estimate
SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    host TEXT NOT NULL,
    owner TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('waiting', 'holding')),
    created_at REAL NOT NULL,
    granted_at REAL,
    heartbeat_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_tickets_host ON tickets (host, id);
CREATE TABLE IF NOT EXISTS holds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    host TEXT NOT NULL,
    seconds REAL NOT NULL,
    finished_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_holds_host ON holds (host, id);
"""


class Ticket(Protocol):
    def release(self) -> None: ...


class Gate(Protocol):
    """The queue for one Ollama host, shared by every process that opens it (see
    `tests/test_gate_contract.py`, which every implementation passes)."""

    def acquire(self, on_wait: WaitCallback) -> Ticket:
        """Block until it is this caller's turn; raise KeyboardInterrupt through."""
        ...

    def depth(self) -> int:
        """Live tickets (waiting and holding) for this host right now."""
        ...

    def estimate(self) -> float | None:
        """Typical seconds one hold takes on this host; None before the first."""
        ...

    def close(self) -> None: ...


def host_key(url: str) -> str:
    """One queue per server: `localhost`, `http://LOCALHOST:11434/` -> `http://localhost:11434`."""
    from urllib.parse import urlsplit

    split = urlsplit(url if "://" in url else f"http://{url}")
    host = (split.hostname or "127.0.0.1").lower()
    port = split.port or (443 if split.scheme == "https" else 11434)
    return f"{split.scheme or 'http'}://{host}:{port}{split.path.rstrip('/')}"


class SqliteTicket:
    """A place in line, then a held slot. `release()` is idempotent and thread-safe."""

    def __init__(self, gate: SqliteGate, ticket_id: int, ahead: int) -> None:
        self.gate = gate
        self.id = ticket_id
        self.ahead = ahead  # live tickets ahead when it joined (the queue depth it saw)
        self.waited = 0.0  # seconds between joining and being served
        self.granted_at: float | None = None
        self._lock = threading.Lock()
        self._released = False
        gate._track(ticket_id)

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self.gate._untrack(self.id)
        held = None
        if self.granted_at is not None:
            held = self.gate.clock.now() - self.granted_at
        self.gate._leave(self.id, held)


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
        self._live: set[int] = set()  # this gate's tickets, waiting or holding
        self._live_lock = threading.Lock()
        self._beater: threading.Thread | None = None
        self._stop = threading.Event()

    # -- the protocol ------------------------------------------------------------------------
    def acquire(self, on_wait: WaitCallback) -> SqliteTicket:
        joined = self.clock.now()
        ticket_id, ahead, granted = self._join(joined)
        log.info("gate_joined", host=self.host, ticket=ticket_id, ahead=ahead)
        ticket = SqliteTicket(self, ticket_id, ahead)
        shown: tuple[int, int | None] | None = None
        try:
            while not granted:
                position, eta = self._try_grant(ticket_id)
                if position == 0:
                    break
                rounded = None if eta is None else math.ceil(eta)
                if (position, rounded) != shown:
                    shown = (position, rounded)
                    on_wait(position, eta)
                self.clock.sleep(self.poll)
        except BaseException:
            ticket.release()
            log.info("gate_wait_cancelled", host=self.host, ticket=ticket_id)
            raise
        ticket.granted_at = self.clock.now()
        ticket.waited = ticket.granted_at - joined
        if shown is not None:
            log.info("gate_granted", host=self.host, waited=round(ticket.waited, 3), ahead=ahead)
        return ticket

    # -- queries, each one short transaction -------------------------------------------------
    def depth(self) -> int:
        """Live tickets (waiting and holding) for this host right now."""
        with self._lock:
            row = (
                self._db()
                .execute(
                    "SELECT count(*) FROM tickets WHERE host = ? AND heartbeat_at >= ?",
                    [self.host, self.clock.now() - self.ttl],
                )
                .fetchone()
            )
        return int(row[0])

    def estimate(self) -> float | None:
        """Median seconds of the recent holds on this host; None before the first."""
        with self._lock:
            return self._median_hold(self._db())

    def _join(self, now: float) -> tuple[int, int, bool]:
        """(ticket id, tickets ahead, served at once): a free slot is taken in the same
        transaction that joins the line (AUTOINCREMENT: every live ticket is ahead)."""

        def join(conn: sqlite3.Connection) -> tuple[int, int, bool]:
            self._expire(conn, now)
            counted = conn.execute("SELECT count(*) FROM tickets WHERE host = ?", [self.host])
            ahead = int(counted.fetchone()[0])
            served = ahead < self.slots
            cur = conn.execute(
                "INSERT INTO tickets (host, owner, state, created_at, granted_at, heartbeat_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [self.host, self.owner, "holding" if served else "waiting", now,
                 now if served else None, now],
            )  # fmt: skip
            return int(cur.lastrowid or 0), ahead, served

        return self._write(join)

    def _try_grant(self, ticket_id: int) -> tuple[int, float | None]:
        """(0, None) once served; else (position among the waiting, estimated seconds)."""
        now = self.clock.now()

        def check(conn: sqlite3.Connection) -> tuple[int, float | None]:
            self._expire(conn, now)
            rows = conn.execute(
                "SELECT state, granted_at FROM tickets WHERE host = ? AND id < ? ORDER BY id",
                [self.host, ticket_id],
            ).fetchall()
            if len(rows) < self.slots:
                # An upsert: a ticket that expired while this process was suspended comes back.
                conn.execute(
                    "INSERT INTO tickets (id, host, owner, state, created_at, granted_at, "
                    "heartbeat_at) VALUES (?, ?, ?, 'holding', ?, ?, ?) ON CONFLICT (id) DO "
                    "UPDATE SET state = 'holding', granted_at = ?, heartbeat_at = ?",
                    [ticket_id, self.host, self.owner, now, now, now, now, now],
                )
                return 0, None
            position = len(rows) - self.slots + 1
            median = self._median_hold(conn)
            if median is None:
                return position, None
            rounds = math.ceil(position / self.slots)
            started = [r[1] for r in rows if r[0] == "holding" and r[1] is not None]
            elapsed = min(now - min(started), median) if started else 0.0
            return position, max(0.0, rounds * median - elapsed)

        return self._write(check)

    def _track(self, ticket_id: int) -> None:
        with self._live_lock:
            self._live.add(ticket_id)
            if self._beater is None or not self._beater.is_alive():
                self._stop = threading.Event()
                self._beater = threading.Thread(
                    target=self._heartbeats, args=(self._stop,), name="gate-heartbeat", daemon=True
                )
                self._beater.start()

    def _untrack(self, ticket_id: int) -> None:
        with self._live_lock:
            self._live.discard(ticket_id)

    def _heartbeats(self, stop: threading.Event) -> None:
        """The heartbeat thread: every `heartbeat` seconds, beat this gate's live tickets."""
        while not stop.wait(self.heartbeat):
            with self._live_lock:
                ids = sorted(self._live)
            if not ids:
                continue
            try:
                self._beat(ids)
            except sqlite3.Error as exc:  # a missed beat only risks expiry
                log.warning("gate_heartbeat_failed", error=str(exc))

    def _beat(self, ticket_ids: list[int]) -> None:
        now = self.clock.now()
        marks = ",".join("?" * len(ticket_ids))
        self._write(
            lambda c: c.execute(
                f"UPDATE tickets SET heartbeat_at = ? WHERE id IN ({marks})", [now, *ticket_ids]
            )
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
        except sqlite3.Error as exc:  # the ticket then expires on its own
            log.warning("gate_release_failed", host=self.host, error=str(exc))

    def _expire(self, conn: sqlite3.Connection, now: float) -> None:
        gone = conn.execute(
            "DELETE FROM tickets WHERE host = ? AND heartbeat_at < ? RETURNING id, owner",
            [self.host, now - self.ttl],
        ).fetchall()
        for ticket_id, owner in gone:
            log.warning("gate_ticket_expired", host=self.host, ticket=ticket_id, owner=owner)

    def _median_hold(self, conn: sqlite3.Connection) -> float | None:
        rows = conn.execute(
            "SELECT seconds FROM holds WHERE host = ? ORDER BY id DESC LIMIT ?",
            [self.host, HISTORY],
        ).fetchall()
        return statistics.median(r[0] for r in rows) if rows else None

    # -- plumbing ------------------------------------------------------------------------------
    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            conn = self._db()
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return result

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            ensure_data_dir(self.path.parent)
            secure_file(self.path)
            conn = sqlite3.connect(
                str(self.path), timeout=10, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA busy_timeout = 10000")
            set_wal(conn, time.sleep)
            conn.execute("PRAGMA synchronous = NORMAL")  # a lost ticket after power loss is fine
            conn.executescript(SCHEMA)
            self._conn = conn
        return self._conn

    def close(self) -> None:
        self._stop.set()
        beater = self._beater
        if beater is not None and beater is not threading.current_thread():
            beater.join(timeout=5)
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
