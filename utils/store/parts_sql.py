"""The reply-parts half of `Store`: a streaming reply's text, kept linear in its length.

While a reply streams, each save appends only the new text as one row of `message_parts` (one
small transaction); the message row itself (created with the first piece, status `partial`)
is left alone. Like every commit of the store (`synchronous = NORMAL`, WAL), a part survives the
process being killed at once and costs no fsync. When the reply ends, `finish_reply`
writes the full text into the message once (so the FTS triggers index it once) and removes
its parts, in one transaction.

A process killed mid-reply leaves parts behind. They are never lost and never seen twice:
- readers (`MESSAGE_COLUMNS`) show a message as its content followed by its parts, in order;
- `fold_parts` appends them to the content (status `partial`) and removes them, in one
  transaction: `Store.open` runs it, and `Store.search` before it queries the FTS index.
Folding a reply that another process is still streaming is harmless: that process later
writes the whole text it holds, and anything it appends after the fold is folded after it.
"""

from __future__ import annotations

import structlog

from utils.store.base import StoreBase
from utils.store.models import StoreError
from utils.store.sql_seam import SqlConn

log = structlog.get_logger()

# The message as readers see it: its content, then any parts not folded in yet (in order).
FULL_CONTENT = (
    "messages.content || coalesce((SELECT group_concat(text, '') FROM (SELECT text FROM "
    "message_parts WHERE message_parts.message_id = messages.id ORDER BY seq) AS parts), '')"
)
MESSAGE_COLUMNS = (
    "messages.id, messages.session_id, messages.seq, messages.role, "
    f"{FULL_CONTENT} AS content, messages.model, messages.status, messages.pinned, "
    "messages.prompt_tokens, messages.completion_tokens, messages.timings, "
    "messages.done_reason, messages.request_id, messages.meta, messages.created_at, "
    "messages.updated_at"
)


class PartsMixin(StoreBase):
    def append_part(self, message_id: int, text: str) -> None:
        """Add `text` after the message's saved text: one small transaction."""
        if not text:
            return
        now = self._now()

        def insert(conn: SqlConn) -> None:
            conn.execute(
                "INSERT INTO message_parts (message_id, seq, text, created_at) VALUES (?, "
                "(SELECT coalesce(max(seq), 0) + 1 FROM message_parts WHERE message_id = ?), "
                "?, ?)",
                [message_id, message_id, text, now],
            )

        try:
            self._write(insert)
        except self.INTEGRITY_ERRORS as exc:  # the message is gone (its session deleted)
            raise StoreError(f"cannot save the reply: no message {message_id}.") from exc

    def finish_reply(self, message_id: int, content: str, status: str) -> None:
        """The reply's whole text and status, written once; its parts removed."""
        now = self._now()

        def finish(conn: SqlConn) -> None:
            cur = conn.execute(
                "UPDATE messages SET content = ?, status = ?, updated_at = ? WHERE id = ?",
                [content, status, now, message_id],
            )
            if cur.rowcount == 0:
                raise StoreError(f"no message {message_id}.")
            conn.execute("DELETE FROM message_parts WHERE message_id = ?", [message_id])

        self._write(finish)

    def fold_parts(self) -> int:
        """Fold every message's leftover parts into it (status `partial`); how many."""
        if self.db.execute("SELECT 1 FROM message_parts LIMIT 1").fetchone() is None:
            return 0  # the usual case: one index probe, no write

        def fold(conn: SqlConn) -> list[int]:
            ids = [int(r[0]) for r in conn.execute("SELECT DISTINCT message_id FROM message_parts")]
            conn.executemany(
                f"UPDATE messages SET content = {FULL_CONTENT}, status = 'partial', "
                "updated_at = (SELECT max(created_at) FROM message_parts "
                "WHERE message_parts.message_id = messages.id) WHERE id = ?",
                [[i] for i in ids],
            )
            conn.execute("DELETE FROM message_parts")
            return ids

        ids = self._write(fold)
        if ids:
            log.info("reply_parts_folded", messages=len(ids), message_ids=ids)
        return len(ids)
