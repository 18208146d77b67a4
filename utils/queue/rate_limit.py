"""Turns per minute, per session: the decision, and the one query it needs.

A turn is a reply row (`role = 'assistant'`, whatever its status: cached answers and `/retry`
count too). A refused turn stores nothing, so it does not count against the session.
`TurnLimit` is the seam: `StoreTurnLimit` counts the store's reply rows (the default);
`RedisTurnLimit` (`redis_rate.py`, with `queue.url`) counts admitted turns in Redis, one
limit shared by every process and replica, decided atomically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from utils.store import SqlStore

WINDOW_SECONDS = 60.0


class TurnLimit(Protocol):
    def admit(self, session_id: str, per_minute: int, now: float) -> float | None:
        """None when one more turn of the session may go now (a limit that keeps its own
        count counts it); else the seconds until one may."""
        ...


class StoreTurnLimit:
    """Counts the session's reply rows in the store (nothing to record: the turn stores one)."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def admit(self, session_id: str, per_minute: int, now: float) -> float | None:
        if per_minute <= 0:
            return None
        return retry_after(recent_turn_times(self.store, session_id, per_minute), now, per_minute)


def recent_turn_times(store: SqlStore, session_id: str, limit: int) -> list[float]:
    """Epoch seconds of the session's last `limit` replies, newest first (uses the seq index)."""
    rows = store.db.conn.execute(
        "SELECT created_at FROM messages WHERE session_id = ? AND role = 'assistant' "
        "ORDER BY seq DESC LIMIT ?",
        [session_id, limit],
    ).fetchall()
    return [datetime.fromisoformat(r[0]).timestamp() for r in rows]


def retry_after(times: Sequence[float], now: float, per_minute: int) -> float | None:
    """Seconds until one more turn is allowed; None when it is allowed now (0 = no limit)."""
    if per_minute <= 0:
        return None
    recent = sorted(t for t in times if t > now - WINDOW_SECONDS)
    if len(recent) < per_minute:
        return None
    return max(0.0, recent[-per_minute] + WINDOW_SECONDS - now)


def refusal_line(per_minute: int, wait: float) -> str:
    return (
        f"rate limit: {per_minute} turns per minute for this session; "
        f"try again in {max(1, math.ceil(wait))} s"
    )
