"""The sessions half of `SqliteStore`: create, find, list, change, archive, restore, delete."""

from __future__ import annotations

import re
import secrets
from typing import Any

import structlog

from utils.store import leases
from utils.store.base import StoreBase
from utils.store.models import (
    ORIGINS,
    AmbiguousSession,
    Session,
    SessionNotFound,
    StoreError,
    dumps,
)
from utils.store.session_lists_sql import CONVERSATION_SQL, SessionListsMixin
from utils.store.sql_seam import SqlConn

log = structlog.get_logger()

SESSION_FIELDS = {
    "title", "model", "system", "options", "status", "context_start_seq", "context_mode",
}  # fmt: skip
_PREFIX = re.compile(r"[0-9a-f]{4,12}")


class SessionsMixin(SessionListsMixin, StoreBase):
    @staticmethod
    def _new_id() -> str:
        return secrets.token_hex(6)

    def create_session(
        self,
        model: str,
        *,
        title: str | None = None,
        system: str | None = None,
        options: dict[str, Any] | None = None,
        context_mode: str = "shared",
        origin: str | None = None,
    ) -> Session:
        if origin is not None and origin not in ORIGINS:
            raise ValueError(f"unknown session origin {origin!r} (one of {', '.join(ORIGINS)})")
        now = self._now()
        session = Session(
            id=self._new_id(),
            title=title,
            model=model,
            system=system,
            options=dict(options or {}),
            status="active",
            context_start_seq=0,
            context_mode=context_mode,
            created_at=now,
            updated_at=now,
            last_active_at=now,
            origin=origin,
        )

        def insert(conn: SqlConn) -> None:
            conn.execute(
                "INSERT INTO sessions (id, title, model, system, options, status, "
                "context_start_seq, context_mode, created_at, updated_at, last_active_at, "
                "origin) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    session.id,
                    title,
                    model,
                    system,
                    dumps(session.options),
                    "active",
                    0,
                    context_mode,
                    now,
                    now,
                    now,
                    origin,
                ],
            )

        self._write(insert)
        log.info("session_created", session_id=session.id, model=model, origin=origin)
        return session

    def get_session(self, session_id: str) -> Session | None:
        rows = self._rows("SELECT * FROM sessions WHERE id = ?", [session_id])
        return Session.from_row(rows[0]) if rows else None

    def resolve_session(self, id_or_prefix: str) -> Session:
        """The session whose id is, or starts with, `id_or_prefix` (at least 4 hex chars)."""
        key = id_or_prefix.strip().lower()
        if not _PREFIX.fullmatch(key):
            raise SessionNotFound(f"no session '{id_or_prefix}' (see `sessions list`)")
        rows = self._rows(
            "SELECT * FROM sessions WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
            [key, key + "g"],
        )
        if not rows:
            raise SessionNotFound(f"no session '{id_or_prefix}' (see `sessions list`)")
        if len(rows) > 1:
            raise AmbiguousSession(
                f"session prefix '{id_or_prefix}' matches several sessions; type more of the id"
            )
        return Session.from_row(rows[0])

    def latest_session(
        self, include_archived: bool = False, *, conversation: bool = False
    ) -> Session | None:
        """The most recently active session; with `conversation`, the person's last
        conversation (`chat` or `ask` origin, or unknown), never a batch run."""
        terms = [] if include_archived else ["status = 'active'"]
        if conversation:
            terms.append(CONVERSATION_SQL)
        where = f"WHERE {' AND '.join(terms)}" if terms else ""
        rows = self._rows(
            f"SELECT * FROM sessions {where} ORDER BY last_active_at DESC, id LIMIT 1", []
        )
        return Session.from_row(rows[0]) if rows else None

    def update_session(self, session_id: str, **fields: Any) -> Session:
        unknown = set(fields) - SESSION_FIELDS
        if unknown:
            raise ValueError(f"cannot update session field(s): {', '.join(sorted(unknown))}")
        values = {k: dumps(v) if k == "options" else v for k, v in fields.items()}
        values["updated_at"] = self._now()
        sets = ", ".join(f"{k} = :{k}" for k in values)

        def update(conn: SqlConn) -> None:
            self._require_session(conn, session_id)
            conn.execute(f"UPDATE sessions SET {sets} WHERE id = :_id",
                         {**values, "_id": session_id})  # fmt: skip

        try:
            self._write(update)
        except self.INTEGRITY_ERRORS as exc:
            raise StoreError(f"cannot update session '{session_id}': {exc}.") from exc
        session = self.get_session(session_id)
        assert session is not None
        return session

    def touch_session(self, session_id: str) -> None:
        """Mark the session active now (so it is not archived as idle)."""
        now = self._now()

        def touch(conn: SqlConn) -> None:
            self._require_session(conn, session_id)
            conn.execute("UPDATE sessions SET last_active_at = ? WHERE id = ?", [now, session_id])

        self._write(touch)

    def archive(self, session_id: str) -> None:
        """Archive one session now; refused while a live lease (an open chat) holds it."""
        now = self._now()

        def archive(conn: SqlConn) -> None:
            self._require_session(conn, session_id)
            if leases.is_leased(conn, session_id, now):
                raise StoreError(f"session '{session_id}' is open in a chat; not archived")
            conn.execute(
                "UPDATE sessions SET status = 'archived', updated_at = ? WHERE id = ?",
                [now, session_id],
            )

        self._write(archive)
        log.info("sessions_archived", count=1, session_ids=[session_id])

    def restore(self, session_id: str) -> None:
        now = self._now()

        def restore(conn: SqlConn) -> None:
            self._require_session(conn, session_id)
            conn.execute(
                "UPDATE sessions SET status = 'active', updated_at = ?, last_active_at = ? "
                "WHERE id = ?",
                [now, now, session_id],
            )

        self._write(restore)
        log.info("session_restored", session_id=session_id)

    def delete_session(self, session_id: str) -> None:
        """Delete a session and all its messages (only for an explicit, confirmed command)."""

        def delete(conn: SqlConn) -> int:
            self._require_session(conn, session_id)
            n = conn.execute("DELETE FROM messages WHERE session_id = ?", [session_id]).rowcount
            conn.execute("DELETE FROM leases WHERE session_id = ?", [session_id])
            conn.execute("DELETE FROM sessions WHERE id = ?", [session_id])
            return int(n)

        count = self._write(delete)
        log.info("session_deleted", session_id=session_id, messages=count)
