"""The messages half of `SqliteStore`: append at the next seq, update, and read the window."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import structlog

from utils.store.base import StoreBase
from utils.store.models import Message, StoreError, dumps
from utils.store.parts_sql import MESSAGE_COLUMNS
from utils.store.sql_seam import SqlConn

log = structlog.get_logger()

MESSAGE_FIELDS = {
    "content", "status", "prompt_tokens", "completion_tokens", "timings", "done_reason",
    "meta", "pinned", "model",
}  # fmt: skip
JSON_FIELDS = {"timings", "meta"}


class MessagesMixin(StoreBase):
    # -- messages -------------------------------------------------------------------------

    def append_message(
        self,
        session_id: str,
        role: str,
        content: str,
        *,
        model: str | None = None,
        status: str = "complete",
        request_id: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Message:
        """Append one message at the session's next seq (reactivates an archived session)."""
        now = self._now()

        def insert(conn: SqlConn) -> Message:
            self._require_session(conn, session_id)
            seq = conn.execute(
                "SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE session_id = ?",
                [session_id],
            ).fetchone()[0]
            new_id = conn.execute(
                "INSERT INTO messages (session_id, seq, role, content, model, status, "
                "request_id, meta, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?) "
                "RETURNING id",
                [session_id, seq, role, content, model, status, request_id, dumps(meta),
                 now, now],
            ).fetchone()[0]  # fmt: skip
            conn.execute(
                "UPDATE sessions SET updated_at = ?, last_active_at = ?, status = 'active' "
                "WHERE id = ?",
                [now, now, session_id],
            )
            return Message(
                id=int(new_id), session_id=session_id, seq=seq, role=role,
                content=content, model=model, status=status, pinned=False,
                prompt_tokens=None, completion_tokens=None, timings={}, done_reason=None,
                request_id=request_id, meta=dict(meta or {}), created_at=now, updated_at=now,
            )  # fmt: skip

        try:
            message = self._write(insert)
        except self.INTEGRITY_ERRORS as exc:
            raise StoreError(f"cannot append the message: {exc}.") from exc
        log.debug("message_appended", session_id=session_id, seq=message.seq,
                  message_id=message.id, role=role, status=status)  # fmt: skip
        return message

    def update_message(self, message_id: int, **fields: Any) -> Message:
        """Set `fields` on the message; returns it as stored now."""
        self.set_message_fields(message_id, **fields)
        message = self.get_message(message_id)
        assert message is not None
        return message

    def set_message_fields(self, message_id: int, **fields: Any) -> None:
        """`update_message` without reading the message back (for writers that need nothing
        back, like PersistTurn's last word on a turn)."""
        unknown = set(fields) - MESSAGE_FIELDS
        if unknown:
            raise ValueError(f"cannot update message field(s): {', '.join(sorted(unknown))}")
        values = {k: dumps(v) if k in JSON_FIELDS else v for k, v in fields.items()}
        if "pinned" in values:
            values["pinned"] = int(bool(values["pinned"]))
        values["updated_at"] = self._now()
        sets = ", ".join(f"{k} = :{k}" for k in values)

        def update(conn: SqlConn) -> None:
            cur = conn.execute(
                f"UPDATE messages SET {sets} WHERE id = :_id", {**values, "_id": message_id}
            )
            if cur.rowcount == 0:
                raise StoreError(f"no message {message_id}.")

        self._write(update)

    def get_message(self, message_id: int) -> Message | None:
        rows = self._rows(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", [message_id])
        return Message.from_row(rows[0]) if rows else None

    def window(self, session_id: str, limit: int) -> list[Message]:
        """The last `limit` messages from the session's context start, oldest first."""
        rows = self._rows(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_id = :s AND seq >= coalesce("
            "(SELECT context_start_seq FROM sessions WHERE id = :s), 0) "
            "ORDER BY seq DESC LIMIT :n",
            {"s": session_id, "n": max(0, limit)},
        )
        return [Message.from_row(r) for r in reversed(rows)]

    def pinned(self, session_id: str) -> list[Message]:
        rows = self._rows(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_id = ? AND pinned = 1 "
            "ORDER BY seq",
            [session_id],
        )
        return [Message.from_row(r) for r in rows]

    def message_count(self, session_id: str) -> int:
        row = self.db.execute(
            "SELECT count(*) FROM messages WHERE session_id = ?", [session_id]
        ).fetchone()
        return int(row[0])

    def messages(self, session_id: str) -> Iterator[Message]:
        for row in self._iter_rows(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY seq",
            [session_id],
        ):
            yield Message.from_row(row)
