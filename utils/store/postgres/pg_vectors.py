"""RAG vectors in pgvector: nearest chunks found by Postgres, with an HNSW index per dimension.

Embeddings stay `bytea` (normalised float32, as on SQLite: `db copy` and the in-process search
read them); with pgvector (migration p002) each row also gets `embedding vector`, filled in the
transaction that stored it. One partial HNSW index per dimension count (`vector_cosine_ops`
over `embedding::vector(dims)`, `WHERE dims = …`) is made when a dimension is first seen: one
table serves models of any size. `nearest` asks the index for candidates and keeps the
collection's; when that leaves fewer than `k` (other collections crowd the candidates) it
answers exactly, without the index.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from utils.store.sql_seam import SqlConn, SqlDb

CANDIDATES = 10  # index candidates asked for per wanted chunk


def enabled(db: SqlDb) -> bool:
    """True when `rag_embeddings.embedding` exists (the server had pgvector at migration)."""
    row = db.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = 'rag_embeddings' AND column_name = 'embedding'"
    ).fetchone()
    return row is not None


def literal(values: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(v)) for v in values) + "]"


def fill(conn: SqlConn) -> int:
    """Give every row without one its `embedding` (and its dimension an index); how many."""
    rows = conn.execute(
        "SELECT content_hash, model, dims, vector FROM rag_embeddings WHERE embedding IS NULL"
    ).fetchall()
    if not rows:
        return 0
    conn.executemany(
        "UPDATE rag_embeddings SET embedding = CAST(? AS vector) "
        "WHERE content_hash = ? AND model = ?",
        [(literal(array("f", bytes(r[3]))), r[0], r[1]) for r in rows],
    )
    for dims in sorted({int(r[2]) for r in rows}):
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS rag_embeddings_hnsw_{dims} ON rag_embeddings "
            f"USING hnsw ((embedding::vector({dims})) vector_cosine_ops) WHERE dims = {dims}"
        )
    return len(rows)


def widen_search(conn: SqlConn, k: int) -> None:
    """Let the index return every candidate asked for (pgvector stops at `hnsw.ef_search`,
    40 by default), for this transaction only."""
    wanted = min(1000, max(40, k * CANDIDATES))
    conn.execute("SELECT set_config('hnsw.ef_search', ?, true)", [str(wanted)])


def nearest(
    conn: SqlConn, collection_id: int, model: str, query: Sequence[float], k: int
) -> list[tuple[int, float]]:
    """(chunk id, cosine) of the `k` chunks nearest `query`, best first (ties: lower id)."""
    if k <= 0:
        return []
    dims = len(query)
    norm = sum(v * v for v in query) ** 0.5 or 1.0
    q = literal([v / norm for v in query])
    vec = f"embedding::vector({dims})"
    stored = conn.execute(
        "SELECT dims FROM rag_embeddings e JOIN rag_chunks k ON k.content_hash = e.content_hash "
        "WHERE k.collection_id = ? AND e.model = ? LIMIT 1",
        [collection_id, model],
    ).fetchone()
    if stored is None:
        return []
    if int(stored[0]) != dims:
        raise ValueError(f"the query vector has {dims} dimensions, the collection {stored[0]}")
    rows = conn.execute(
        f"WITH near AS (SELECT content_hash, 1 - ({vec} <=> CAST(? AS vector({dims}))) AS cos "
        f"FROM rag_embeddings WHERE model = ? AND dims = {dims} "
        f"ORDER BY {vec} <=> CAST(? AS vector({dims})) LIMIT ?) "
        "SELECT k.id, n.cos FROM near n JOIN rag_chunks k ON k.content_hash = n.content_hash "
        "WHERE k.collection_id = ? ORDER BY n.cos DESC, k.id LIMIT ?",
        [q, model, q, k * CANDIDATES, collection_id, k],
    ).fetchall()
    if len(rows) < k:
        rows = conn.execute(
            f"SELECT k.id, 1 - (e.{vec} <=> CAST(? AS vector({dims}))) AS cos "
            "FROM rag_chunks k JOIN rag_embeddings e ON e.content_hash = k.content_hash "
            f"AND e.model = ? AND e.dims = {dims} WHERE k.collection_id = ? "
            "ORDER BY cos DESC, k.id LIMIT ?",
            [q, model, collection_id, k],
        ).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]
