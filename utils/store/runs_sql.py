"""The runs half of `SqliteStore` (made by m010): serve mode's runs and their event logs.

A run's events are appended with the next id inside one write transaction, so ids increase
from 1 within a run whichever thread or process appends. Sessions made over HTTP belong to the
key that made them (`sessions.key_id`, m011).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from utils.store.base import StoreBase
from utils.store.sql_seam import SqlConn

RUN_STATUSES = ("queued", "running", "done", "failed", "cancelled")
RUN_ENDED = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class RunRecord:
    id: str
    session_id: str
    message_id: int
    reply_id: int | None
    key_id: str | None
    status: str  # queued | running | done | failed | cancelled
    created_at: str
    finished_at: str | None


@dataclass(frozen=True)
class StoredEvent:
    id: int
    kind: str
    data: dict[str, Any]
    created_at: str


def _run(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"], session_id=row["session_id"], message_id=row["message_id"],
        reply_id=row["reply_id"], key_id=row["key_id"], status=row["status"],
        created_at=row["created_at"], finished_at=row["finished_at"],
    )  # fmt: skip


class RunsMixin(StoreBase):
    def create_run(
        self, run_id: str, session_id: str, message_id: int, key_id: str | None
    ) -> RunRecord:
        now = self._now()

        def insert(conn: SqlConn) -> None:
            conn.execute(
                "INSERT INTO runs (id, session_id, message_id, key_id, status, created_at) "
                "VALUES (?,?,?,?,'queued',?)",
                [run_id, session_id, message_id, key_id, now],
            )

        self._write(insert)
        return RunRecord(run_id, session_id, message_id, None, key_id, "queued", now, None)

    def get_run(self, run_id: str) -> RunRecord | None:
        rows = self._rows("SELECT * FROM runs WHERE id = ?", [run_id])
        return _run(rows[0]) if rows else None

    def set_run_status(self, run_id: str, status: str, *, reply_id: int | None = None) -> None:
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        ended = self._now() if status in RUN_ENDED else None

        def update(conn: SqlConn) -> None:
            conn.execute(
                "UPDATE runs SET status = ?, reply_id = COALESCE(?, reply_id), "
                "finished_at = COALESCE(?, finished_at) WHERE id = ?",
                [status, reply_id, ended, run_id],
            )

        self._write(update)

    def unfinished_runs(self) -> list[RunRecord]:
        """Runs left queued or running (a server that died): the next server ends them."""
        rows = self._rows(
            "SELECT * FROM runs WHERE status IN ('queued', 'running') ORDER BY created_at", []
        )
        return [_run(r) for r in rows]

    def append_run_events(
        self, run_id: str, events: Sequence[tuple[str, dict[str, Any]]]
    ) -> list[int]:
        """Append events (kind, data) to a run's log, in order; return their ids."""
        now = self._now()

        def append(conn: SqlConn) -> list[int]:
            row = conn.execute(
                "SELECT COALESCE(MAX(id), 0) FROM run_events WHERE run_id = ?", [run_id]
            ).fetchone()
            first = int(row[0]) + 1
            conn.executemany(
                "INSERT INTO run_events (run_id, id, kind, data, created_at) VALUES (?,?,?,?,?)",
                [(run_id, first + i, kind, json.dumps(data, ensure_ascii=False), now)
                 for i, (kind, data) in enumerate(events)],
            )  # fmt: skip
            return list(range(first, first + len(events)))

        return self._write(append)

    def run_events(self, run_id: str, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        rows = self._rows(
            "SELECT id, kind, data, created_at FROM run_events WHERE run_id = ? AND id > ? "
            "ORDER BY id LIMIT ?",
            [run_id, after, limit],
        )
        return [StoredEvent(r["id"], r["kind"], json.loads(r["data"]), r["created_at"])
                for r in rows]  # fmt: skip

    def expire_run_events(self, before: str) -> int:
        """The event logs of runs that ended before `before` (ISO): all but their end (`error`,
        `done`, with their ids) removed; the runs, messages and sessions stay. Returns the
        number of events removed."""

        def expire(conn: SqlConn) -> int:
            cur = conn.execute(
                "DELETE FROM run_events WHERE kind NOT IN ('error', 'done') AND run_id IN "
                "(SELECT id FROM runs WHERE status IN ('done', 'failed', 'cancelled') "
                "AND finished_at < ?)",
                [before],
            )
            return int(cur.rowcount or 0)

        return self._write(expire)

    def set_session_key(self, session_id: str, key_id: str | None) -> None:
        def update(conn: SqlConn) -> None:
            conn.execute("UPDATE sessions SET key_id = ? WHERE id = ?", [key_id, session_id])

        self._write(update)

    def session_key(self, session_id: str) -> tuple[bool, str | None]:
        """(the session exists, the key it belongs to)."""
        rows = self._rows("SELECT key_id FROM sessions WHERE id = ?", [session_id])
        return (True, rows[0]["key_id"]) if rows else (False, None)

    def key_session_ids(
        self, key_id: str | None, *, archived: bool, limit: int, offset: int
    ) -> list[str]:
        """Ids of the sessions that belong to `key_id` (None: to no key, which includes the
        terminal's), most recently active first."""
        status = "archived" if archived else "active"
        rows = self._rows(
            "SELECT id FROM sessions WHERE key_id IS ? AND status = ? "
            "ORDER BY last_active_at DESC, id LIMIT ? OFFSET ?",
            [key_id, status, limit, offset],
        )
        return [r["id"] for r in rows]

    def turns_since(self, session_id: str, since: str) -> list[str]:
        """Creation times of the session's person messages since `since` (ISO), newest first."""
        rows = self._rows(
            "SELECT created_at FROM messages WHERE session_id = ? AND role = 'user' "
            "AND created_at > ? ORDER BY seq DESC",
            [session_id, since],
        )
        return [r["created_at"] for r in rows]

    def run_reply(self, session_id: str, request_id: str) -> tuple[int, str] | None:
        """(id, status) of the reply a run made (its messages carry the run's id)."""
        rows = self._rows(
            "SELECT id, status FROM messages WHERE session_id = ? AND request_id = ? "
            "AND role = 'assistant' ORDER BY seq DESC LIMIT 1",
            [session_id, request_id],
        )
        return (int(rows[0]["id"]), str(rows[0]["status"])) if rows else None
