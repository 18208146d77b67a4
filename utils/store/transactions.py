"""One write transaction on a raw SQLite connection in autocommit mode (`isolation_level=None`).

`with immediate(conn):` takes the write lock at once (`BEGIN IMMEDIATE`), commits when the block
ends and rolls back on any exception. BEGIN sits inside the guard: a Ctrl+C landing as it
returns must not leave the transaction open, or every later write on the connection would join
it and vanish when the process closes it. Used by the store, the queue and `queue clear`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
