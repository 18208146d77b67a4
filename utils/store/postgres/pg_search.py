"""Full-text search on Postgres: the generated `fts` tsvector columns and their GIN indexes.

Same contract as FTS5's (utils/store/search.py): every word of the person's text must match
(each word as a phrase of its tokens, so FTS syntax is only text), best first; a snippet with
the matched words in `[...]`. Chunks (RAG): any word matches, best first.
"""

from __future__ import annotations

from typing import Any

from utils.store.models import SearchHit
from utils.store.sql_seam import SqlConn

HEADLINE = "StartSel=[, StopSel=], MaxWords=12, MinWords=4, MaxFragments=1, FragmentDelimiter=…"


def _terms(words: list[str], joiner: str) -> tuple[str, list[Any]]:
    """A tsquery of each word as a phrase, joined by `&&` or `||` (empty words dropped)."""
    sql = f" {joiner} ".join("phraseto_tsquery('simple', ?)" for _ in words)
    return f"({sql})", list(words)


def search(conn: SqlConn, query: str, limit: int = 20) -> list[SearchHit]:
    """Best matches first, archived sessions included."""
    words = [w for w in query.split() if any(ch.isalnum() for ch in w)]
    if not words:
        return []
    tsq, params = _terms(words, "&&")
    rows = conn.execute(
        "SELECT m.id, m.session_id, m.seq, m.role, s.title, s.status, "
        f"ts_headline('simple', m.content, t.q, '{HEADLINE}') AS snippet "
        f"FROM messages m JOIN sessions s ON s.id = m.session_id, (SELECT {tsq} AS q) AS t "
        "WHERE m.fts @@ t.q ORDER BY ts_rank(m.fts, t.q) DESC, m.id LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [
        SearchHit(
            session_id=r["session_id"],
            session_title=r["title"],
            session_status=r["status"],
            message_id=r["id"],
            seq=r["seq"],
            role=r["role"],
            snippet=r["snippet"],
        )
        for r in rows
    ]


def chunk_search(conn: SqlConn, collection_id: int, query: str, limit: int) -> list[int]:
    """Chunk ids matching any word of `query`, best first."""
    words = [w for w in query.split() if any(ch.isalnum() for ch in w)]
    if not words:
        return []
    tsq, params = _terms(words, "||")
    rows = conn.execute(
        f"SELECT k.id FROM rag_chunks k, (SELECT {tsq} AS q) AS t "
        "WHERE k.fts @@ t.q AND k.collection_id = ? "
        "ORDER BY ts_rank(k.fts, t.q) DESC, k.id LIMIT ?",
        [*params, collection_id, limit],
    ).fetchall()
    return [int(r[0]) for r in rows]
