"""Which Ollama hosts are failing, shared by every pocketchat process on the machine.

`<data_dir>/hosts.db` (SQLite, WAL) has a row per host: consecutive `failures`, `cooling_until`
(wall clock), the last error, and `served` / `errors` counters for `doctor`, `stats` and
`/metrics`. A failure (connection refused, a 5xx, a timeout before the first token) cools the
host down for `base * 2**(failures-1)` seconds, capped at `cap`; a success (or a probe that
answers) sets `failures` back to 0. Once a cooldown is over the host is `down` until one
process probes it: `claim_probe` lets only one process at a time do that (it pushes the
cooldown on by `hold` seconds in the same transaction). Counters only ever go up: nothing here
says how many requests are in flight (the gates' tickets do).

A `hosts.db` that cannot be opened or written (a full disk, garbage in the file) must not cost a
reply: the first SQLite or OS error is logged once (`hosts_db_unavailable`) and from then on
every host counts as up and nothing is recorded, as with one host.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import structlog

from utils.paths import ensure_data_dir, secure_file
from utils.store import immediate

log = structlog.get_logger()
T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS hosts (
    host TEXT PRIMARY KEY,
    failures INTEGER NOT NULL DEFAULT 0,
    cooling_until REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    served INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    changed_at REAL NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class HostState:
    host: str
    failures: int = 0
    cooling_until: float = 0.0
    last_error: str | None = None
    served: int = 0
    errors: int = 0

    def state(self, now: float) -> str:
        """`up`, `cooling` (until `cooling_until`) or `down` (cooled, not yet probed back)."""
        if self.failures == 0:
            return "up"
        return "cooling" if now < self.cooling_until else "down"

    def describe(self, now: float) -> str:
        state = self.state(now)
        if state == "cooling":
            return f"cooling for {max(0.0, self.cooling_until - now):.0f} s"
        return state


class HostHealth:
    """The cooldown table; one connection, used under the caller's lock or from one thread."""

    def __init__(self, path: Path, *, base: float = 1.0, cap: float = 60.0) -> None:
        self.path = path
        self.base = base
        self.cap = cap
        self._conn: sqlite3.Connection | None = None
        self.unavailable = False  # the file failed once: no cooldowns from then on

    def cooldown(self, failures: int) -> float:
        """Seconds a host with `failures` consecutive failures stays out: exponential, capped."""
        return float(min(self.cap, self.base * 2.0 ** max(0, min(failures, 32) - 1)))

    def states(self, hosts: list[str]) -> dict[str, HostState]:
        found = {h: HostState(h) for h in hosts}
        marks = ",".join("?" * len(hosts))

        def read(conn: sqlite3.Connection) -> None:
            rows = conn.execute(
                "SELECT host, failures, cooling_until, last_error, served, errors FROM hosts "
                f"WHERE host IN ({marks})",
                hosts,
            )
            for row in rows.fetchall():
                found[row[0]] = HostState(*row)

        self._safely(read, None)
        return found

    def failed(self, host: str, error: str, now: float | None = None) -> HostState:
        """One more consecutive failure: cool the host down for longer."""
        now = time.time() if now is None else now

        def fail(conn: sqlite3.Connection) -> HostState:
            with immediate(conn):
                failures = self._row(conn, host).failures + 1
                until = now + self.cooldown(failures)
                conn.execute(
                    "UPDATE hosts SET failures = ?, cooling_until = ?, last_error = ?, "
                    "errors = errors + 1, changed_at = ? WHERE host = ?",
                    [failures, until, error[:200], now, host],
                )
                return self._row(conn, host)

        return self._safely(fail, HostState(host))

    def succeeded(self, host: str, *, served: bool = True, now: float | None = None) -> bool:
        """The host answered (a request's first piece, or a probe): up again. True when it had
        been failing (it is back)."""
        now = time.time() if now is None else now

        def ok(conn: sqlite3.Connection) -> bool:
            with immediate(conn):
                was = self._row(conn, host).failures
                conn.execute(
                    "UPDATE hosts SET failures = 0, cooling_until = 0, served = served + ?, "
                    "changed_at = CASE WHEN failures > 0 THEN ? ELSE changed_at END "
                    "WHERE host = ?",
                    [1 if served else 0, now, host],
                )
            return was > 0

        return self._safely(ok, False)

    def claim_probe(self, host: str, hold: float, now: float | None = None) -> bool:
        """True for the one caller that may probe a host whose cooldown is over; the cooldown
        is pushed on by `hold` seconds meanwhile, so nobody else sends it requests or probes."""
        now = time.time() if now is None else now

        def claim(conn: sqlite3.Connection) -> bool:
            with immediate(conn):
                cur = conn.execute(
                    "UPDATE hosts SET cooling_until = ? WHERE host = ? AND failures > 0 "
                    "AND cooling_until <= ?",
                    [now + hold, host, now],
                )
                return cur.rowcount == 1

        return self._safely(claim, False)

    def _safely(self, fn: Callable[[sqlite3.Connection], T], broken: T) -> T:
        if self.unavailable:
            return broken
        try:
            return fn(self._db())
        except (sqlite3.Error, OSError) as exc:
            self.unavailable = True
            log.info("hosts_db_unavailable", path=str(self.path), error=str(exc),
                     effect="every host counts as up; no cooldowns")  # fmt: skip
            return broken

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _row(self, conn: sqlite3.Connection, host: str) -> HostState:
        conn.execute("INSERT OR IGNORE INTO hosts (host) VALUES (?)", [host])
        row = conn.execute(
            "SELECT host, failures, cooling_until, last_error, served, errors FROM hosts "
            "WHERE host = ?",
            [host],
        ).fetchone()
        return HostState(*row)

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = open_health(self.path)
        return self._conn


def open_health(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) `hosts.db`: 0600, WAL, autocommit, the table in place."""
    from utils.store import set_wal

    ensure_data_dir(path.parent)
    secure_file(path)
    conn = sqlite3.connect(str(path), timeout=10, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    set_wal(conn, time.sleep)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.executescript(SCHEMA)
    return conn
