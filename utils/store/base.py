"""What the sessions and messages halves of `SqliteStore` rely on (implemented by it)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from utils.store.models import SessionNotFound
from utils.store.sqlite_lib import Database

T = TypeVar("T")


class StoreBase:
    db: Database

    def _now(self) -> str:
        raise NotImplementedError

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    def _rows(self, sql: str, params: list[Any] | dict[str, Any]) -> list[sqlite3.Row]:
        raise NotImplementedError

    @staticmethod
    def _require_session(conn: sqlite3.Connection, session_id: str) -> None:
        if conn.execute("SELECT 1 FROM sessions WHERE id = ?", [session_id]).fetchone() is None:
            raise SessionNotFound(f"no session '{session_id}' (see `sessions list`)")
