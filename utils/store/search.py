"""Full-text search over message content (FTS5 table `messages_fts`, made by m002)."""

from __future__ import annotations

import sqlite3

from utils.store.models import SearchHit


def fts_query(text: str) -> str:
    """The person's words as an FTS5 query of quoted terms (all must match).

    Quoting every whitespace-separated word (and doubling any `"` inside it) means FTS syntax
    characters (`"`, `*`, `:`, `-`, `(`, `AND`, `NEAR`) are searched for as text, never parsed.
    """
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


def search(conn: sqlite3.Connection, query: str, limit: int = 20) -> list[SearchHit]:
    """Best matches first, archived sessions included."""
    match = fts_query(query)
    if not match:
        return []
    cur = conn.cursor()
    cur.row_factory = sqlite3.Row
    rows = cur.execute(
        "SELECT m.id, m.session_id, m.seq, m.role, s.title, s.status, "
        "snippet(messages_fts, 0, '[', ']', '…', 12) AS snippet "
        "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
        "JOIN sessions s ON s.id = m.session_id "
        "WHERE messages_fts MATCH ? ORDER BY messages_fts.rank, m.id LIMIT ?",
        [match, limit],
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
