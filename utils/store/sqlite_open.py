"""Opening the database file safely: check first (read-only), then connect for writing.

A file that is not SQLite, is corrupt, or was written by a newer pocketchat is refused with a
one-line `StoreError` before anything is written to it, so it stays byte-identical.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from utils.paths import ensure_data_dir, secure_file
from utils.store.migrations import unknown_applied
from utils.store.models import NewerSchema, StoreError
from utils.store.sqlite_lib import Database

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000


def check_existing(path: Path) -> None:
    """Refuse a non-SQLite, corrupt or newer-schema file; never writes to it."""
    if not path.exists() or path.stat().st_size == 0:
        return
    if path.is_dir():
        raise StoreError(f"{path}: is a directory, not a database; set data_dir elsewhere.")
    with path.open("rb") as fh:
        header = fh.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise StoreError(
            f"{path}: not an SQLite database; move it aside or set data_dir to another directory."
        )
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the database ({exc}).") from exc
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        unknown = unknown_applied(conn)
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{path}: the database is corrupt ({exc}); move it aside and restore a backup."
        ) from exc
    finally:
        conn.close()
    if unknown:
        raise NewerSchema(
            f"{path}: written by a newer pocketchat (unknown migration {unknown[0]}); "
            "upgrade pocketchat to use it."
        )


def connect(path: Path, *, create: bool, sleep: Callable[[float], None] = time.sleep) -> Database:
    """A read-write connection with WAL, synchronous=NORMAL, busy_timeout and foreign keys on.

    NORMAL in WAL mode: a commit does not wait for fsync; it survives a killed process, and
    only an OS crash or power loss can lose the last commits (docs/design.md, Schema).

    The connection is in autocommit mode (`isolation_level=None`): every write transaction is
    an explicit `BEGIN IMMEDIATE ... COMMIT`, so nothing is left open by accident.
    """
    if create:
        ensure_data_dir(path.parent)
        secure_file(path)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")  # see the docstring
        mode = set_wal(conn, sleep)
        if str(mode).lower() != "wal":
            raise StoreError(f"{path}: cannot switch the database to WAL mode (got {mode}).")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: cannot open the database ({exc}).") from exc
    return Database(conn, execute_plugins=False)


def set_wal(conn: sqlite3.Connection, sleep: Callable[[float], None]) -> str:
    """Switch to WAL; another process doing the same on a fresh file may hold it briefly."""
    for attempt in range(20):
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 19:
                raise
            sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")
