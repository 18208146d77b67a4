"""The `memory_jobs` table (migration m013): one extraction per person's message.

A job is `pending` from the turn that made it until an extractor claims it (`running`), then
`done` (with the number of facts kept) or `failed` (with the error, after the retry): never
dropped. A job given back because a turn was waiting, or left `running` by a process that
died, is `pending` again (`release`, `recover`). Portable SQL, as in `memories_sql.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from utils.store import iso

if TYPE_CHECKING:
    from utils.store import SqlConn, SqlStore

STATUSES = ("pending", "running", "done", "failed")


@dataclass(frozen=True)
class Job:
    id: int
    owner: str
    session_id: str
    message_id: int
    model: str
    attempts: int


def enqueue(
    store: SqlStore, owner: str, session_id: str, message_id: int, model: str, at: float
) -> int | None:
    """A pending job for the message (one per message: a /retry's turn adds none)."""

    def run(conn: SqlConn) -> int | None:
        cur = conn.execute(
            "INSERT INTO memory_jobs (owner, session_id, message_id, model, status, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (message_id) DO NOTHING "
            "RETURNING id",
            [owner, session_id, message_id, model, iso(at), iso(at)],
        )
        row = cur.fetchone()
        return int(row[0]) if row else None

    return store.transaction(run)


def claim(store: SqlStore, at: float, job_id: int | None = None) -> Job | None:
    """Take the oldest pending job (or `job_id` if still pending): `running`, one attempt more."""

    def run(conn: SqlConn) -> Job | None:
        if job_id is None:
            row = conn.execute(
                "SELECT id FROM memory_jobs WHERE status = 'pending' ORDER BY id LIMIT 1"
            ).fetchone()
        else:
            row = conn.execute(
                "SELECT id FROM memory_jobs WHERE status = 'pending' AND id = ?", [job_id]
            ).fetchone()
        if row is None:
            return None
        conn.execute(
            "UPDATE memory_jobs SET status = 'running', attempts = attempts + 1, updated_at = ? "
            "WHERE id = ?",
            [iso(at), row[0]],
        )
        found = conn.execute(
            "SELECT id, owner, session_id, message_id, model, attempts FROM memory_jobs "
            "WHERE id = ?",
            [row[0]],
        ).fetchone()
        return Job(int(found[0]), str(found[1]), str(found[2]), int(found[3]), str(found[4]),
                   int(found[5]))  # fmt: skip

    return store.transaction(run)


def finish(store: SqlStore, job_id: int, facts: int, json_retries: int, at: float) -> None:
    store.transaction(lambda conn: conn.execute(
        "UPDATE memory_jobs SET status = 'done', facts = ?, json_retries = json_retries + ?, "
        "error = NULL, updated_at = ? WHERE id = ?",
        [facts, json_retries, iso(at), job_id],
    ))  # fmt: skip


def fail(store: SqlStore, job_id: int, error: str, json_retries: int, at: float) -> None:
    store.transaction(lambda conn: conn.execute(
        "UPDATE memory_jobs SET status = 'failed', error = ?, "
        "json_retries = json_retries + ?, updated_at = ? WHERE id = ?",
        [error[:500], json_retries, iso(at), job_id],
    ))  # fmt: skip


def release(store: SqlStore, job_id: int, at: float, *, yielded: bool) -> None:
    """Back to `pending`: given back to a waiting turn (`yielded`, the attempt not counted),
    or Ollama could not be reached (the attempt counted; tried again later)."""
    undo = 1 if yielded else 0
    store.transaction(lambda conn: conn.execute(
        "UPDATE memory_jobs SET status = 'pending', attempts = attempts - ?, "
        "yields = yields + ?, updated_at = ? WHERE id = ?",
        [undo, undo, iso(at), job_id],
    ))  # fmt: skip


def recover(store: SqlStore, before: float, at: float) -> int:
    """Jobs left `running` since before `before` (their process died): pending again."""

    def run(conn: SqlConn) -> int:
        cur = conn.execute(
            "UPDATE memory_jobs SET status = 'pending', updated_at = ? "
            "WHERE status = 'running' AND updated_at < ?",
            [iso(at), iso(before)],
        )
        return int(cur.rowcount)

    return store.transaction(run)


def status_of(store: SqlStore, job_id: int) -> str | None:
    row = store.db.execute("SELECT status FROM memory_jobs WHERE id = ?", [job_id]).fetchone()
    return str(row[0]) if row else None


def pending_count(store: SqlStore) -> int:
    row = store.db.execute(
        "SELECT count(*) FROM memory_jobs WHERE status IN ('pending', 'running')"
    ).fetchone()
    return int(row[0])


def counts(store: SqlStore, since: str | None = None) -> dict[str, int]:
    """Jobs by status (updated since `since`), JSON retries, yields, facts kept, memories."""
    where, params = ("WHERE updated_at >= ?", [since]) if since else ("", [])
    rows = store.db.execute(
        f"SELECT status, count(*), coalesce(sum(json_retries), 0), coalesce(sum(yields), 0), "
        f"coalesce(sum(facts), 0) FROM memory_jobs {where} GROUP BY status",
        params,
    ).fetchall()
    out = {s: 0 for s in STATUSES}
    out.update(json_retries=0, yields=0, facts=0)
    for status, n, retries, yields, facts in rows:
        out[str(status)] = int(n)
        out["json_retries"] += int(retries)
        out["yields"] += int(yields)
        out["facts"] += int(facts)
    out["memories"] = int(store.db.execute("SELECT count(*) FROM memories").fetchone()[0])
    return out
