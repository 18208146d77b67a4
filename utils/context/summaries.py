"""Rolling summaries of the turns that left a session's context window (table `summaries`).

A summary row covers the session's messages with `covers_from_seq <= seq <= covers_to_seq`;
each new summary folds the previous one in, so the latest row is the whole memory. A summary
older than the session's `context_start_seq` (the person ran /clear) no longer applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from utils.store import FULL_CONTENT, iso

if TYPE_CHECKING:
    from utils.store import SqlConn, SqlStore

log = structlog.get_logger()


@dataclass(frozen=True)
class Summary:
    text: str
    covers_from_seq: int
    covers_to_seq: int
    model: str | None
    created_at: str


@dataclass(frozen=True)
class Turn:
    """A message to fold into the summary."""

    seq: int
    role: str
    content: str


def latest(store: SqlStore, session_id: str, context_start_seq: int = 0) -> Summary | None:
    """The session's newest summary that still applies."""
    row = store.db.execute(
        "SELECT text, covers_from_seq, covers_to_seq, model, created_at FROM summaries "
        "WHERE session_id = ? AND covers_from_seq >= ? ORDER BY covers_to_seq DESC, id DESC "
        "LIMIT 1",
        [session_id, context_start_seq],
    ).fetchone()
    return Summary(row[0], int(row[1]), int(row[2]), row[3], row[4]) if row else None


def uncovered(
    store: SqlStore, session_id: str, after_seq: int, before_seq: int, limit: int = 200
) -> list[Turn]:
    """Person and model messages with `after_seq < seq < before_seq`, oldest first.

    Empty, failed and superseded replies are left out: they carry nothing to remember.
    """
    rows = store.db.execute(
        f"SELECT seq, role, {FULL_CONTENT} AS full FROM messages WHERE session_id = ? "
        f"AND seq > ? AND seq < ? AND role IN ('user', 'assistant') AND {FULL_CONTENT} != '' "
        "AND status != 'failed' "
        "AND coalesce(CAST(json_extract(meta, '$.superseded') AS TEXT), '0') = '0' "
        "ORDER BY seq LIMIT ?",
        [session_id, after_seq, before_seq, limit],
    ).fetchall()
    return [Turn(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def save(
    store: SqlStore,
    session_id: str,
    text: str,
    covers: tuple[int, int],
    messages: int,
    model: str | None,
    at: float,
) -> None:
    """Add a summary row (raises StoreError when the store cannot write)."""

    def write(conn: SqlConn) -> None:
        conn.execute(
            "INSERT INTO summaries (session_id, text, covers_from_seq, covers_to_seq, "
            "messages, model, created_at) VALUES (?,?,?,?,?,?,?)",
            [session_id, text, covers[0], covers[1], messages, model, iso(at)],
        )

    store.transaction(write)
    log.info("summary_saved", session_id=session_id, covers_to_seq=covers[1], messages=messages)
