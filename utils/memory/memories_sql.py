"""The `memories` and `memory_owners` tables (migration m013), through the `SqlStore` seam.

Portable SQL only (plain `?` parameters, `ON CONFLICT` upserts, no SQLite-only functions): the
Postgres store ports these statements. Every write to an owner's memories bumps its
`memory_owners.version` in the same transaction, so recall's cached matrix knows it is stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from utils.store import iso

if TYPE_CHECKING:
    from utils.store import SqlConn, SqlStore

COLUMNS = (
    "id, owner, text, embed_model, dims, source_message_id, source_session_id, created_at, "
    "updated_at, last_used_at, use_count"
)


@dataclass(frozen=True)
class Memory:
    id: int
    owner: str
    text: str
    embed_model: str | None
    dims: int | None
    source_message_id: int | None
    source_session_id: str | None
    created_at: str
    updated_at: str
    last_used_at: str | None
    use_count: int

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id, "text": self.text, "source_message_id": self.source_message_id,
            "source_session_id": self.source_session_id, "created_at": self.created_at,
            "updated_at": self.updated_at, "last_used_at": self.last_used_at,
            "use_count": self.use_count, "embed_model": self.embed_model, "dims": self.dims,
        }  # fmt: skip


@dataclass(frozen=True)
class NewFact:
    text: str
    norm: str
    blob: bytes
    dims: int


def _memory(row: tuple[Any, ...]) -> Memory:
    return Memory(int(row[0]), str(row[1]), str(row[2]), _s(row[3]), _i(row[4]), _i(row[5]),
                  _s(row[6]), str(row[7]), str(row[8]), _s(row[9]), int(row[10] or 0))  # fmt: skip


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


def _i(value: Any) -> int | None:
    return None if value is None else int(value)


def bump(conn: SqlConn, owner: str) -> None:
    conn.execute(
        "INSERT INTO memory_owners (owner, version) VALUES (?, 1) "
        "ON CONFLICT (owner) DO UPDATE SET version = memory_owners.version + 1",
        [owner],
    )


def version(store: SqlStore, owner: str) -> int:
    row = store.db.execute("SELECT version FROM memory_owners WHERE owner = ?", [owner]).fetchone()
    return int(row[0]) if row else 0


def by_norm(conn: SqlConn, owner: str, norm: str) -> int | None:
    row = conn.execute(
        "SELECT id FROM memories WHERE owner = ? AND norm = ?", [owner, norm]
    ).fetchone()
    return int(row[0]) if row else None


def insert(
    conn: SqlConn, owner: str, fact: NewFact, model: str,
    source: tuple[int | None, str | None], at: float,
) -> int:  # fmt: skip
    now = iso(at)
    cur = conn.execute(
        "INSERT INTO memories (owner, text, norm, embedding, embed_model, dims, "
        "source_message_id, source_session_id, created_at, updated_at, use_count) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0) RETURNING id",
        [owner, fact.text, fact.norm, fact.blob, model, fact.dims, source[0], source[1], now, now],
    )
    return int(cur.fetchone()[0])


def replace_fact(
    conn: SqlConn, memory_id: int, fact: NewFact, model: str,
    source: tuple[int | None, str | None], at: float,
) -> None:  # fmt: skip
    """The same memory, said anew (or said differently): its text, vector and source."""
    conn.execute(
        "UPDATE memories SET text = ?, norm = ?, embedding = ?, embed_model = ?, dims = ?, "
        "source_message_id = ?, source_session_id = ?, updated_at = ? WHERE id = ?",
        [fact.text, fact.norm, fact.blob, model, fact.dims, source[0], source[1], iso(at),
         memory_id],
    )  # fmt: skip


@dataclass(frozen=True)
class Rows:
    ids: list[int]
    blobs: list[bytes]
    stated: list[str]  # updated_at
    texts: list[str]
    dims: int


def vectors(store: SqlStore, owner: str, model: str) -> Rows:
    """The owner's memories embedded by `model`, with the most common size (a model's size
    never changes; a row of another size is left out)."""
    rows = store.db.execute(
        "SELECT id, embedding, updated_at, dims, text FROM memories WHERE owner = ? "
        "AND embed_model = ? AND embedding IS NOT NULL ORDER BY id",
        [owner, model],
    ).fetchall()
    if not rows:
        return Rows([], [], [], [], 0)
    sizes: dict[int, int] = {}
    for r in rows:
        sizes[int(r[3])] = sizes.get(int(r[3]), 0) + 1
    dims = max(sizes, key=lambda d: sizes[d])
    kept = [r for r in rows if int(r[3]) == dims]
    return Rows([int(r[0]) for r in kept], [bytes(r[1]) for r in kept],
                [str(r[2]) for r in kept], [str(r[4]) for r in kept], dims)  # fmt: skip


def mark_used(store: SqlStore, ids: list[int], at: float) -> None:
    """Recalled now: `last_used_at` and `use_count` (no version bump: recall ranks by
    `updated_at`, so the cached matrix stays current)."""
    if not ids:
        return
    marks = ", ".join("?" for _ in ids)
    store.transaction(lambda conn: conn.execute(
        f"UPDATE memories SET last_used_at = ?, use_count = use_count + 1 WHERE id IN ({marks})",
        [iso(at), *ids],
    ))  # fmt: skip


def list_memories(store: SqlStore, owner: str, limit: int | None = None) -> list[Memory]:
    """Newest first."""
    sql = f"SELECT {COLUMNS} FROM memories WHERE owner = ? ORDER BY updated_at DESC, id DESC"
    params: list[object] = [owner]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_memory(r) for r in store.db.execute(sql, params).fetchall()]


def search_text(store: SqlStore, owner: str, words: str, limit: int = 50) -> list[Memory]:
    """Memories holding every word (case-insensitive), newest first."""
    terms = [w for w in normalise_words(words) if w]
    sql = f"SELECT {COLUMNS} FROM memories WHERE owner = ?"
    params: list[object] = [owner]
    for term in terms:  # `_` is a word character: escaped, as `%` and the escape itself
        sql += " AND norm LIKE ? ESCAPE '!'"
        escaped = term.replace("!", "!!").replace("%", "!%").replace("_", "!_")
        params.append(f"%{escaped}%")
    sql += " ORDER BY updated_at DESC, id DESC LIMIT ?"
    params.append(limit)
    return [_memory(r) for r in store.db.execute(sql, params).fetchall()]


def normalise_words(text: str) -> list[str]:
    from utils.memory.text import normalise

    return normalise(text).split()


def get(store: SqlStore, owner: str, memory_id: int) -> Memory | None:
    row = store.db.execute(
        f"SELECT {COLUMNS} FROM memories WHERE owner = ? AND id = ?", [owner, memory_id]
    ).fetchone()
    return _memory(row) if row else None


def forget(store: SqlStore, owner: str, memory_id: int) -> bool:
    """Erase one memory of the owner's (the person asked); False if there was none."""

    def run(conn: SqlConn) -> bool:
        cur = conn.execute("DELETE FROM memories WHERE owner = ? AND id = ?", [owner, memory_id])
        if cur.rowcount:
            bump(conn, owner)
        return cur.rowcount > 0

    return store.transaction(run)


def clear(store: SqlStore, owner: str) -> int:
    """Erase every memory of the owner's (the person asked); how many there were."""

    def run(conn: SqlConn) -> int:
        cur = conn.execute("DELETE FROM memories WHERE owner = ?", [owner])
        bump(conn, owner)
        return int(cur.rowcount)

    return store.transaction(run)


def count(store: SqlStore, owner: str | None = None) -> int:
    if owner is None:
        return int(store.db.execute("SELECT count(*) FROM memories").fetchone()[0])
    row = store.db.execute("SELECT count(*) FROM memories WHERE owner = ?", [owner]).fetchone()
    return int(row[0])
