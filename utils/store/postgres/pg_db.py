"""A Postgres database behind the store's `SqlDb` / `SqlConn` seam (psycopg 3 + a pool).

Reads take a pooled connection (autocommit), fetch every row and give it back. A write
transaction (`transaction()`) binds one pooled connection to the thread until it ends: every
`execute` on this thread joins it (the store's methods called inside `Store.transaction(fn)`
share its commit, as on SQLite). Each write transaction first takes one advisory lock, so
writers follow one another as SQLite's `BEGIN IMMEDIATE` makes them: read-then-write steps
(the next `seq`, a lease check) never race, across threads, processes and replicas.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from utils.store.postgres.pg_sql import NumberLoader, Row, row_factory, translate

WRITE_LOCK = 0x70636861  # "pcha": pg_advisory_xact_lock key of the store's writers


class Result:
    """What `execute` returns: the rows, already fetched, and the affected row count."""

    def __init__(self, rows: list[Row], rowcount: int) -> None:
        self._rows, self.rowcount = rows, rowcount
        self._next = 0

    def fetchone(self) -> Row | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Row]:
        rest, self._next = self._rows[self._next :], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Row]:
        return iter(self.fetchall())


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.adapters.register_loader("numeric", NumberLoader)


def _run(conn: psycopg.Connection[Any], sql: str, params: Any) -> Result:
    cur = conn.cursor(row_factory=row_factory)
    cur.execute(translate(sql), [] if params is None else params)
    rows = cur.fetchall() if cur.description is not None else []
    return Result(rows, cur.rowcount)


class PgConn:
    """The thread's transaction connection when it has one, else a pooled one per statement."""

    def __init__(self, db: PgDb) -> None:
        self._db = db

    @property
    def in_transaction(self) -> bool:
        return self._db.bound() is not None

    def execute(self, sql: str, parameters: Any = None, /) -> Result:
        bound = self._db.bound()
        if bound is not None:
            return _run(bound, sql, parameters)
        with self._db.pool.connection() as conn:
            return _run(conn, sql, parameters)

    def script(self, sql: str) -> None:
        """Run SQL text as it is (several statements, no parameters: DDL)."""
        bound = self._db.bound()
        if bound is not None:
            bound.execute(sql.encode())
            return
        with self._db.pool.connection() as conn:
            conn.execute(sql.encode())

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Result:
        rows = list(parameters)
        bound = self._db.bound()
        if bound is None:
            with self._db.transaction() as conn:
                return conn.executemany(sql, rows)
        if not rows:
            return Result([], 0)
        cur = bound.cursor()
        cur.executemany(translate(sql), rows)
        return Result([], cur.rowcount)


class PgDb:
    """The pool, the thread's bound connection, and the `SqlDb` face the helpers use."""

    def __init__(self, url: str, *, max_size: int = 8) -> None:
        self.pool = ConnectionPool(
            url, min_size=1, max_size=max_size, kwargs={"autocommit": True},
            configure=_configure, open=False, name="pocketchat-store",
        )  # fmt: skip
        self.pool.open(wait=True, timeout=10)
        self._local = threading.local()
        self._conn = PgConn(self)

    @property
    def conn(self) -> PgConn:
        return self._conn

    def bound(self) -> psycopg.Connection[Any] | None:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        return conn

    def execute(self, sql: str, parameters: Any = None, /) -> Result:
        return self._conn.execute(sql, parameters)

    @contextmanager
    def transaction(self, *, lock: bool = True) -> Iterator[PgConn]:
        """One write transaction on this thread (joined if one is open): commit or roll back."""
        if self.bound() is not None:
            yield self._conn
            return
        with self.pool.connection() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():
                    if lock:
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
                    yield self._conn
            finally:
                self._local.conn = None

    def close(self) -> None:
        self.pool.close()
