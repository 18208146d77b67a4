"""Opening the database file safely: check first (read-only), then connect for writing.

A file that is not SQLite, is corrupt, or was written by a newer pocketchat is refused with a
one-line `StoreError` before anything is written to it, so it stays byte-identical. A file the
person may read but not write (another owner, a read-only dir or mount) is opened read-only
(`mode=ro`), and a full disk that leaves no room for the WAL index does the same: reading
commands work; writes are refused with a line that says why (`write_denied`, `is_full`).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from utils.paths import ensure_data_dir, secure_file, tighten
from utils.store.migrations import unknown_applied
from utils.store.models import NewerSchema, StoreError
from utils.store.sqlite_lib import Database

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000
_PERMISSION = ("readonly", "unable to open", "access permission", "permission denied")
_FULL = ("disk i/o error", "database or disk is full")


def is_permission(exc: BaseException) -> bool:
    return isinstance(exc, PermissionError) or any(w in str(exc).lower() for w in _PERMISSION)


def is_full(exc: BaseException) -> bool:
    return any(w in str(exc).lower() for w in _FULL)


def permission_line(path: Path, what: str = "write to") -> str:
    return (
        f"{path}: permission denied: pocketchat cannot {what} it; "
        "fix its ownership or permissions (chown/chmod)."
    )


def write_denied(path: Path) -> str | None:
    """Why this process may not write the database (its file, WAL files or dir); None if it may."""
    for probe in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if probe.exists() and not os.access(probe, os.W_OK):
            return f"{probe} is not writable by you"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"{path.parent} is not writable by you"
    return None


def tighten_files(path: Path) -> None:
    """A data dir or database of ours found open to others (0755, 0644) is made private."""
    tighten(path.parent, 0o700)
    for suffix in ("", "-wal", "-shm"):
        tighten(path.with_name(path.name + suffix), 0o600)


def connect_read_only(path: Path) -> Database:
    """A read-only connection (`mode=ro`). Where the WAL index cannot be created (a dir we may
    not write, a full disk) and no write-ahead log is pending, the file is read as it stands
    (`immutable=1`): no process is writing it then, or it would have made the index."""
    uri = path.resolve().as_uri()
    wal = path.with_name(path.name + "-wal")
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                           isolation_level=None)  # fmt: skip
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        conn.close()
        if not (is_permission(exc) or is_full(exc)) or (wal.exists() and wal.stat().st_size):
            raise
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return Database(conn, execute_plugins=False)


# Databases this process has checked (resolved paths). Checked once per process: reading the
# header with a plain file descriptor and closing it drops every POSIX lock this process holds
# on the file (fcntl semantics), including those of its open SQLite connections; another
# process closing its last connection could then checkpoint and delete the WAL they still
# write to, and their later commits would vanish (a server opens one store per thread).
_CHECKED: set[str] = set()


def mark_checked(path: Path) -> None:
    """The database at `path` is open here (created or checked): never read it raw again."""
    _CHECKED.add(str(path.resolve()))


def check_existing(path: Path) -> None:
    """Refuse a non-SQLite, corrupt or newer-schema file; never writes to it. The raw header
    is read once per process and path (see `_CHECKED`); the rest goes through SQLite."""
    try:
        if not path.exists() or path.stat().st_size == 0:
            return
        if path.is_dir():
            raise StoreError(f"{path}: is a directory, not a database; set data_dir elsewhere.")
        if str(path.resolve()) in _CHECKED:
            header = SQLITE_HEADER  # open here: SQLite has it (a raw read would drop its locks)
        else:
            with path.open("rb") as fh:
                header = fh.read(len(SQLITE_HEADER))
    except PermissionError as exc:
        raise StoreError(permission_line(path, "read")) from exc
    if header != SQLITE_HEADER:
        raise StoreError(
            f"{path}: not an SQLite database; move it aside or set data_dir to another directory."
        )
    try:
        db = connect_read_only(path)
    except sqlite3.Error as exc:
        if is_permission(exc):
            raise StoreError(permission_line(path, "read")) from exc
        raise StoreError(f"{path}: cannot open the database ({exc}).") from exc
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        unknown = unknown_applied(db.conn)
    except sqlite3.DatabaseError as exc:
        if is_permission(exc) or is_full(exc):
            raise StoreError(f"{path}: cannot read the database ({exc}).") from exc
        raise StoreError(
            f"{path}: the database is corrupt ({exc}); move it aside and restore a backup."
        ) from exc
    finally:
        db.close()
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
        if is_permission(exc):
            raise StoreError(permission_line(path)) from exc
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
