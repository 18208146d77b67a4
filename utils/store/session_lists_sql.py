"""Listing and counting sessions, by status and origin (`sessions list`, `/sessions`).

Batch sessions (`flow run`, `BATCH_ORIGINS`) are left out unless asked for (`batch=True`, or
`origin="flow-run"`), so a thousand-line experiment does not bury the person's conversations.
`origin="unknown"` means sessions from before origins were recorded (NULL).
"""

from __future__ import annotations

from typing import Any

from utils.store.base import StoreBase
from utils.store.models import BATCH_ORIGINS, CONVERSATION_ORIGINS, ORIGINS, SessionSummary

UNKNOWN = "unknown"  # `origin=` for sessions whose origin was never recorded (NULL)
CONVERSATION_SQL = (
    f"(origin IS NULL OR origin IN ({', '.join(repr(o) for o in CONVERSATION_ORIGINS)}))"
)
_NOT_BATCH = f"(s.origin IS NULL OR s.origin NOT IN ({', '.join(repr(o) for o in BATCH_ORIGINS)}))"


def session_filter(archived: bool, origin: str | None, batch: bool) -> tuple[str, list[Any]]:
    """(WHERE clause, parameters) for sessions of one status, one origin or all but batch."""
    terms, params = ["s.status = ?"], ["archived" if archived else "active"]
    if origin == UNKNOWN:
        terms.append("s.origin IS NULL")
    elif origin is not None:
        if origin not in ORIGINS:
            raise ValueError(f"unknown session origin {origin!r} (one of {', '.join(ORIGINS)})")
        terms.append("s.origin = ?")
        params.append(origin)
    elif not batch:
        terms.append(_NOT_BATCH)
    return " AND ".join(terms), params


class SessionListsMixin(StoreBase):
    def list_sessions(
        self,
        *,
        archived: bool = False,
        limit: int | None = 50,
        origin: str | None = None,
        batch: bool = False,
    ) -> list[SessionSummary]:
        """Sessions, most recently active first (archived ones only with `archived=True`);
        batch sessions only with `batch=True` or their `origin`; `limit=None`: all of them."""
        where, params = session_filter(archived, origin, batch)
        rows = self._rows(
            "SELECT s.id, s.title, s.model, s.status, s.origin, s.created_at, s.updated_at, "
            "s.last_active_at, (SELECT count(*) FROM messages m WHERE m.session_id = s.id) "
            f"AS n FROM sessions s WHERE {where} "
            "ORDER BY s.last_active_at DESC, s.id" + ("" if limit is None else " LIMIT ?"),
            params if limit is None else [*params, limit],
        )
        return [
            SessionSummary(
                id=r["id"],
                title=r["title"],
                model=r["model"],
                status=r["status"],
                messages=r["n"],
                created_at=r["created_at"],
                updated_at=r["updated_at"],
                last_active_at=r["last_active_at"],
                origin=r["origin"],
            )
            for r in rows
        ]

    def count_sessions(
        self, *, archived: bool = False, origin: str | None = None, batch: bool = False
    ) -> int:
        """How many sessions `list_sessions` would list with no limit."""
        where, params = session_filter(archived, origin, batch)
        rows = self._rows(f"SELECT count(*) AS n FROM sessions s WHERE {where}", params)
        return int(rows[0]["n"])
