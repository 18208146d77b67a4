"""Leases and archiving: a chat holds a lease on its session so it is never archived under it.

Functions run inside the store's write transaction (`conn` is in `BEGIN IMMEDIATE`). A lease
that has expired (its chat crashed) no longer pins the session.
"""

from __future__ import annotations

from utils.store.sql_seam import SqlConn


def acquire(conn: SqlConn, session_id: str, holder: str, now: str, until: str) -> bool:
    row = conn.execute(
        "SELECT holder, expires_at FROM leases WHERE session_id = ?", [session_id]
    ).fetchone()
    if row is not None and row[0] != holder and row[1] > now:
        return False
    conn.execute(
        "INSERT INTO leases (session_id, holder, expires_at) VALUES (?, ?, ?) "
        "ON CONFLICT (session_id) DO UPDATE SET holder = excluded.holder, "
        "expires_at = excluded.expires_at",
        [session_id, holder, until],
    )
    return True


def renew(conn: SqlConn, session_id: str, holder: str, until: str) -> bool:
    cur = conn.execute(
        "UPDATE leases SET expires_at = ? WHERE session_id = ? AND holder = ?",
        [until, session_id, holder],
    )
    return cur.rowcount > 0


def release(conn: SqlConn, session_id: str, holder: str) -> None:
    conn.execute("DELETE FROM leases WHERE session_id = ? AND holder = ?", [session_id, holder])


def is_leased(conn: SqlConn, session_id: str, now: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM leases WHERE session_id = ? AND expires_at > ?", [session_id, now]
    ).fetchone()
    return row is not None


def archive_idle(conn: SqlConn, cutoff: str, now: str) -> list[str]:
    """Archive active sessions last active before `cutoff` and not under a live lease."""
    rows = conn.execute(
        "UPDATE sessions SET status = 'archived', updated_at = ? "
        "WHERE status = 'active' AND last_active_at < ? "
        "AND id NOT IN (SELECT session_id FROM leases WHERE expires_at > ?) RETURNING id",
        [now, cutoff, now],
    ).fetchall()
    return sorted(str(r[0]) for r in rows)
