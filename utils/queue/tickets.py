"""The tickets table of `queue.db`, and which tickets still stand.

A ticket lives exactly as long as its process when that can be checked (`liveness.py`: same
machine, pid and start time); only a ticket that cannot be checked (another machine, no /proc)
is judged by its heartbeat, and then a heartbeat more than `ttl` old *or more than `ttl` in the
future* (a crash, then the clock stepped back) no longer stands. A live process's ticket stands
whatever its heartbeat says: a holder suspended by Ctrl+Z still holds its slot.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from utils.paths import ensure_data_dir, secure_file
from utils.queue.liveness import Life, ProcessId, is_stopped, life
from utils.store import immediate, set_wal

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    host TEXT NOT NULL,
    owner TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('waiting', 'holding')),
    created_at REAL NOT NULL,
    granted_at REAL,
    heartbeat_at REAL NOT NULL,
    pid INTEGER,
    started TEXT,
    machine TEXT
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
# queue.db files from before the process columns get them added (NULL: judged by heartbeat)
ADDED = {"pid": "INTEGER", "started": "TEXT", "machine": "TEXT"}
COLUMNS = "id, host, owner, state, created_at, granted_at, heartbeat_at, pid, started, machine"


class Verdict(Enum):
    ALIVE = "alive"  # its process runs (checked)
    FRESH = "fresh"  # cannot be checked; heartbeat within the ttl
    GONE = "gone"  # its process has ended
    EXPIRED = "expired"  # cannot be checked; heartbeat older than the ttl
    FUTURE = "future"  # cannot be checked; heartbeat more than the ttl in the future

    @property
    def stands(self) -> bool:
        return self in (Verdict.ALIVE, Verdict.FRESH)


@dataclass(frozen=True)
class TicketRow:
    id: int
    host: str
    owner: str
    state: str
    created_at: float
    granted_at: float | None
    heartbeat_at: float
    pid: int | None
    started: str | None
    machine: str | None

    @property
    def process(self) -> ProcessId | None:
        if self.pid is None or self.machine is None:
            return None
        return ProcessId(self.machine, self.pid, self.started)

    def judge(self, now: float, ttl: float) -> Verdict:
        who = self.process
        checked = life(who) if who is not None else Life.UNKNOWN
        if checked is Life.ALIVE:
            return Verdict.ALIVE
        if checked is Life.GONE:
            return Verdict.GONE
        if self.heartbeat_at > now + ttl:
            return Verdict.FUTURE
        return Verdict.FRESH if self.heartbeat_at >= now - ttl else Verdict.EXPIRED

    def suspended(self) -> bool:
        """Its process is on this machine and stopped (Ctrl+Z, SIGSTOP)."""
        who = self.process
        return who is not None and life(who) is Life.ALIVE and is_stopped(who.pid)


def open_queue(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the queue file: 0600, WAL, autocommit; the schema in place."""
    ensure_data_dir(path.parent)
    secure_file(path)
    conn = sqlite3.connect(str(path), timeout=10, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    set_wal(conn, time.sleep)
    conn.execute("PRAGMA synchronous = NORMAL")  # a lost ticket after power loss is fine
    conn.executescript(SCHEMA)
    have = {row[1] for row in conn.execute("PRAGMA table_info(tickets)")}
    if not set(ADDED) <= have:
        with immediate(conn):
            have = {row[1] for row in conn.execute("PRAGMA table_info(tickets)")}
            for name, kind in ADDED.items():
                if name not in have:
                    conn.execute(f"ALTER TABLE tickets ADD COLUMN {name} {kind}")
    return conn


def read_tickets(
    conn: sqlite3.Connection, host: str | None = None, before: int | None = None
) -> list[TicketRow]:
    """Every ticket (of `host`, ahead of ticket `before`, if given) in line order."""
    if host is None:
        rows = conn.execute(f"SELECT {COLUMNS} FROM tickets ORDER BY host, id")
    else:
        rows = conn.execute(
            f"SELECT {COLUMNS} FROM tickets WHERE host = ? AND id < ? ORDER BY id",
            [host, before if before is not None else 2**63 - 1],
        )
    return [TicketRow(*row) for row in rows.fetchall()]


def remove_stale(
    conn: sqlite3.Connection, now: float, ttl: float, host: str | None = None,
    before: int | None = None,
) -> list[tuple[TicketRow, Verdict]]:  # fmt: skip
    """Delete the tickets that no longer stand (inside the caller's transaction); say which.
    A waiter judges only the tickets ahead of its own (`before`)."""
    rows = read_tickets(conn, host, before)
    stale = [(row, v) for row in rows if not (v := row.judge(now, ttl)).stands]
    if stale:
        marks = ",".join("?" * len(stale))
        conn.execute(f"DELETE FROM tickets WHERE id IN ({marks})", [row.id for row, _ in stale])
    return stale
