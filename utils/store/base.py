"""What the mixins of a store rely on (implemented by `SqliteStore` and `PostgresStore`).

The mixins' SQL is written once for both: `?` / `:name` placeholders, ON CONFLICT upserts,
RETURNING for new ids. What differs (rows, transactions, the integrity error) is here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from utils.store.models import SessionNotFound
from utils.store.sql_seam import SqlConn, SqlDb

T = TypeVar("T")


class StoreBase:
    db: SqlDb
    INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)

    def _now(self) -> str:
        raise NotImplementedError

    def _write(self, fn: Callable[[SqlConn], T]) -> T:
        raise NotImplementedError

    def _rows(self, sql: str, params: list[Any] | dict[str, Any]) -> list[sqlite3.Row]:
        """Rows with index and name access (`sqlite3.Row`, or a row that behaves like one)."""
        raise NotImplementedError

    def _iter_rows(self, sql: str, params: list[Any] | dict[str, Any]) -> Iterator[sqlite3.Row]:
        """`_rows`, one at a time (a long session is not read into memory at once)."""
        yield from self._rows(sql, params)

    @staticmethod
    def _require_session(conn: SqlConn, session_id: str) -> None:
        if conn.execute("SELECT 1 FROM sessions WHERE id = ?", [session_id]).fetchone() is None:
            raise SessionNotFound(f"no session '{session_id}' (see `sessions list`)")
