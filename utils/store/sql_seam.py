"""The seam helpers write SQL through: `SqlDb` to read, `SqlConn` inside a write transaction.

sqlite-utils' `Database` and `sqlite3.Connection` satisfy them as they are; the Postgres store's
adapter (utils/store/postgres/pg_db.py) too, translating `?` / `:name` placeholders. Kept apart
from contract.py (which names the mixins' records) so the mixins can use it without a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol


class SqlCursor(Protocol):
    """What `execute` returns: rows (index and name access, like `sqlite3.Row`) and a count."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class SqlConn(Protocol):
    """A connection inside a write transaction (`sqlite3.Connection` is one)."""

    @property
    def in_transaction(self) -> bool: ...
    def execute(self, sql: str, parameters: Any = ..., /) -> SqlCursor: ...
    def executemany(self, sql: str, parameters: Iterable[Any], /) -> SqlCursor: ...


class SqlDb(Protocol):
    """The store's database for reads (sqlite-utils' `Database` is one)."""

    @property
    def conn(self) -> SqlConn: ...
    def execute(self, sql: str, parameters: Any = ..., /) -> SqlCursor: ...
