"""Conversations in SQLite: sessions, messages, leases; the one place that writes history.

Every write is one `BEGIN IMMEDIATE` transaction (retried a few times if another process holds
the lock past `busy_timeout`), so concurrent chats never lose or duplicate a turn and a killed
process leaves every committed message intact.

Read-only mode: when free space under the data dir drops below `min_free_mb`, `writable` turns
False, `read_only_reason` says why (logged once as `disk_low`), and every write raises
`ReadOnlyStore` without touching stored data; reads keep working, so the app keeps answering
without recording new history. Lease calls become no-ops that succeed (nothing is archived while
read-only, so there is nothing to protect against). A database this process may not write
(another owner, a read-only dir or mount) or a disk so full that SQLite cannot make its WAL
index is opened read-only for good (`mode=ro`): the same mode, with a reason that says so.

Opening reads first: migrations are applied (under `BEGIN IMMEDIATE`) only when some are
pending, so reading commands never wait for another process's write lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import structlog

from utils.clock import Clock
from utils.paths import free_mb
from utils.store import migrations, search
from utils.store.experiments_sql import ExperimentsMixin
from utils.store.flow_runs_sql import FlowRunsMixin
from utils.store.keys_sql import KeysMixin
from utils.store.leases_ops import LeasesMixin
from utils.store.messages_sql import MessagesMixin
from utils.store.models import (
    ReadOnlyStore,
    SearchHit,
    StoreError,
    iso,
)
from utils.store.parts_sql import PartsMixin
from utils.store.rag_sql import RagMixin
from utils.store.runs_sql import RunsMixin
from utils.store.sessions_sql import SessionsMixin
from utils.store.sql_seam import SqlConn
from utils.store.sqlite_lib import Database
from utils.store.sqlite_open import (
    check_existing,
    connect,
    connect_read_only,
    is_full,
    is_permission,
    mark_checked,
    permission_line,
    tighten_files,
    write_denied,
)
from utils.store.transactions import immediate

log = structlog.get_logger()
T = TypeVar("T")

LOCK_RETRIES = 5


class SqliteStore(
    SessionsMixin, MessagesMixin, PartsMixin, FlowRunsMixin, RagMixin, KeysMixin, RunsMixin,
    ExperimentsMixin, LeasesMixin,
):
    db: Database

    def __init__(self, db: Database, path: Path, clock: Clock, min_free_mb: float) -> None:
        self.db = db
        self.path = path
        self._clock = clock
        self._min_free_mb = min_free_mb
        self.writable = True
        self.read_only_reason: str | None = None
        self._announced = False
        self._denied: str | None = None  # why writes are refused for good (permissions, full)
        self._archived_at: float | None = None  # the last archive_idle, by the clock

    @classmethod
    def open(
        cls, path: Path, clock: Clock, *, min_free_mb: float = 0, migrate: bool = True
    ) -> SqliteStore:
        """Open (creating 0600 in a 0700 dir if new) and bring the schema to head."""
        check_existing(path)
        fresh = not path.exists() or path.stat().st_size == 0
        if not fresh:
            tighten_files(path)
        denied = write_denied(path) if path.parent.exists() else None
        if fresh and denied:
            raise StoreError(permission_line(path, "create"))
        if fresh and min_free_mb > 0 and free_mb(path.parent) < min_free_mb:
            raise ReadOnlyStore(
                f"{path}: disk nearly full (under {min_free_mb:g} MB free); "
                "cannot create the database. Free some space."
            )
        db, reason = cls._connect(path, fresh, denied, clock)
        mark_checked(path)  # a later raw read of the file would drop this connection's locks
        store = cls(db, path, clock, min_free_mb)
        if reason:
            store._deny(reason)
        store._check_disk()
        if migrate:
            pending = migrations.status(store.db)[1]  # a plain read: no write lock
            if pending and not store.writable:
                store.close()
                raise ReadOnlyStore(
                    f"{path}: read-only ({store.read_only_reason}) and "
                    f"{len(pending)} migration(s) pending; fix that, then run `pocketchat db "
                    "migrate`."
                )
            if pending:
                store.apply_migrations()
            if store.writable:
                store.fold_parts()  # a reply cut off by a crash becomes whole (`partial`)
        return store

    @staticmethod
    def _connect(
        path: Path, fresh: bool, denied: str | None, clock: Clock
    ) -> tuple[Database, str | None]:
        """(connection, why it is read-only or None): read-write when allowed and possible."""
        if denied:
            reason = f"{denied} (fix its ownership or permissions)"
            log.info("store_read_only", path=str(path), reason=reason)
            return connect_read_only(path), reason
        try:
            return connect(path, create=fresh, sleep=clock.sleep), None
        except StoreError as exc:
            cause = exc.__cause__
            if fresh or cause is None or not (is_full(cause) or is_permission(cause)):
                raise
        reason = (
            "the disk is full" if is_full(cause) else f"{path} is not writable by you"
        )
        log.info("store_read_only", path=str(path), reason=reason, error=str(cause))
        return connect_read_only(path), reason

    def _deny(self, reason: str) -> None:
        self._denied = f"{reason}: new history is not being saved"
        self.writable, self.read_only_reason = False, self._denied

    @property
    def location(self) -> str:
        return str(self.path)

    def close(self) -> None:
        self.db.close()

    # -- plumbing -------------------------------------------------------------------------

    def _now(self) -> str:
        return iso(self._clock.now())

    def _check_disk(self) -> bool:
        if self._denied:
            return False
        if self._min_free_mb <= 0:
            return True
        free = free_mb(self.path.parent)
        low = free < self._min_free_mb
        if low and self.writable:
            self.writable = False
            self.read_only_reason = (
                f"disk space is low ({free:.0f} MB free, need {self._min_free_mb:g} MB): "
                "new history is not being saved"
            )
            log.warning("disk_low", path=str(self.path), free_mb=round(free, 1),
                        min_free_mb=self._min_free_mb)  # fmt: skip
        elif not low and not self.writable:
            self.writable, self.read_only_reason, self._announced = True, None, False
            log.info("disk_recovered", path=str(self.path), free_mb=round(free, 1))
        return self.writable

    def can_write(self) -> bool:
        """False while the disk is below the floor (checked now; see the module docstring)."""
        return self._check_disk()

    def read_only_notice(self) -> str | None:
        """The reason for read-only mode, the first time it is asked after it began; else None."""
        if self._check_disk() or self._announced:
            return None
        self._announced = True
        return self.read_only_reason

    @property
    def clock(self) -> Clock:
        """The injected clock (for modules that time-stamp their own rows)."""
        return self._clock

    def transaction(self, fn: Callable[[SqlConn], T]) -> T:
        """Run `fn` in one `BEGIN IMMEDIATE` write transaction, with the store's lock retry and
        disk guard (raises `ReadOnlyStore` when the disk is nearly full). For the tables of
        later issues (summaries, cache, calibration, metrics). Store writes made inside `fn`
        (`update_message`, `touch_session`...) join it: one commit for all of them, and a
        failure rolls them all back."""
        return self._write(fn)

    def _write(self, fn: Callable[[SqlConn], T]) -> T:
        conn = self.db.conn
        if conn.in_transaction:  # a write inside `transaction(fn)`: part of its one commit
            return fn(conn)
        if not self._check_disk():
            raise ReadOnlyStore(f"{self.path}: read-only, {self.read_only_reason}.")
        for attempt in range(LOCK_RETRIES):
            try:
                with immediate(conn):
                    return fn(conn)
            except sqlite3.OperationalError as exc:
                if is_permission(exc):
                    raise StoreError(permission_line(self.path)) from exc
                if is_full(exc):
                    line = f"{self.path}: the disk is full ({exc}); free some space."
                    raise StoreError(line) from exc
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                log.warning("store_busy_retry", attempt=attempt + 1, path=str(self.path))
                self._clock.sleep(0.05 * 2**attempt)
        raise StoreError(
            f"{self.path}: another pocketchat is writing to the database; try again."
        )

    def _rows(self, sql: str, params: list[Any] | dict[str, Any]) -> list[sqlite3.Row]:
        return list(self._iter_rows(sql, params))

    def _iter_rows(self, sql: str, params: list[Any] | dict[str, Any]) -> Iterator[sqlite3.Row]:
        cur = self.db.conn.cursor()
        cur.row_factory = sqlite3.Row
        yield from cur.execute(sql, params)

    # -- search ---------------------------------------------------------------------------

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        if self._check_disk():
            self.fold_parts()  # the FTS index sees folded text only
        return search.search(self.db.conn, query, limit)

    # -- migrations -----------------------------------------------------------------------

    def migrations_status(self) -> tuple[list[tuple[str, str]], list[str]]:
        return migrations.status(self.db)

    def apply_migrations(self) -> list[str]:
        if not self._check_disk():
            raise ReadOnlyStore(f"{self.path}: read-only, {self.read_only_reason}.")
        if not migrations.status(self.db)[1]:
            return []  # nothing pending: no write lock taken
        try:
            return migrations.apply_pending(self.db)
        except sqlite3.OperationalError as exc:
            if is_permission(exc):
                raise StoreError(permission_line(self.path)) from exc
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(
                    f"{self.path}: another pocketchat is writing to the database; try again."
                ) from exc
            raise

