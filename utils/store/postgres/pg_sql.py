"""The store's SQL as Postgres reads it: placeholders, rows and numbers like SQLite's.

The mixins write SQL once, with SQLite's `?` and `:name` placeholders. `translate` turns them
into psycopg's `%s` / `%(name)s` (skipping quoted text and `::` casts), doubles a literal `%`,
and turns SQLite's `x IS ?` into `x IS NOT DISTINCT FROM %s`. `Row` gives index and name access
like `sqlite3.Row`; numeric results (`sum`, `avg` of integers) load as int or float, as SQLite
returns them, never `Decimal`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

from psycopg import Cursor
from psycopg.adapt import Buffer, Loader

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IS_PARAM = re.compile(r"\bIS\s+%s", re.IGNORECASE)


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """SQLite-style placeholders as psycopg's (the text is always sent with parameters)."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            j = i + 1
            while j < n and not (sql[j] == ch and (j + 1 >= n or sql[j + 1] != ch)):
                j += 2 if sql[j] == ch else 1
            out.append(sql[i : j + 1].replace("%", "%%"))
            i = j + 1
        elif ch == "?":
            out.append("%s")
            i += 1
        elif ch == ":" and sql.startswith("::", i):
            out.append("::")
            i += 2
        elif ch == ":" and (m := _NAME.match(sql, i + 1)):
            out.append(f"%({m.group()})s")
            i = m.end()
        elif ch == "%":
            out.append("%%")
            i += 1
        else:
            out.append(ch)
            i += 1
    return _IS_PARAM.sub("IS NOT DISTINCT FROM %s", "".join(out))


class Row(tuple[Any, ...]):
    """A result row: `row[0]`, `row["name"]`, `row.keys()` (what code wrote for sqlite3.Row)."""

    _names: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def row_factory(cursor: Cursor[Any]) -> Callable[[Sequence[Any]], Row]:
    names: dict[str, int] = {}
    for i, column in enumerate(cursor.description or []):
        names.setdefault(column.name, i)
    return lambda values: Row(values, names)


class NumberLoader(Loader):
    """`numeric` as int when whole, else float (SQLite's integer and real)."""

    def load(self, data: Buffer) -> int | float:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)
