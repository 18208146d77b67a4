"""A run's job (what a worker needs to run it), and how a run that never reached the flow ends:
cancelled while waiting, the server stopping, or left behind by a server that died."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from serve.events import EventLog

log = structlog.get_logger()


@dataclass(frozen=True)
class Job:
    run_id: str
    session_id: str
    message_id: int
    content: str
    model: str | None
    options: dict[str, Any] | None
    collection: str | None
    key_id: str | None
    queued_at: float
    user: str | None = None  # an explicit user id: whose long-term memory (docs/memory.md)


def end_unstarted(events: EventLog, run_id: str, session_id: str, why: str) -> None:
    """A run that never reached the flow (cancelled, or the server stopping): the person's
    message gets an empty `interrupted` reply, kept, and the run its `done`."""
    store = events.store()
    reply = store.append_message(session_id, "assistant", "", status="interrupted",
                                 request_id=run_id, meta={"error": why})  # fmt: skip
    events.append(run_id, "notice", {"text": why})
    store.set_run_status(run_id, "cancelled", reply_id=reply.id)
    events.append(run_id, "done", {"status": "interrupted", "message_id": reply.id,
                                   "prompt_tokens": None, "completion_tokens": None,
                                   "timings": {}})  # fmt: skip


def recover(events: EventLog) -> None:
    """Runs left queued or running by a server that died: ended from what the store holds."""
    store = events.store()
    for run in store.unfinished_runs():
        found = store.run_reply(run.session_id, run.id)
        if found is None:
            end_unstarted(events, run.id, run.session_id, "the server stopped before its turn")
            continue
        reply_id, status = found
        store.set_run_status(run.id, "done", reply_id=reply_id)
        events.append(run.id, "done", {"status": status, "message_id": reply_id,
                                       "prompt_tokens": None, "completion_tokens": None,
                                       "timings": {}})  # fmt: skip
        log.info("run_recovered", run_id=run.id, status=status)


LOST = "the server answering this run stopped; what it said is kept"


def end_lost(events: EventLog, run_id: str, session_id: str) -> str:
    """A run whose replica died mid-way (its lease ran out): the reply so far is kept,
    `partial` (its parts were saved as it streamed), the run `failed`, and its log ends with
    `error` and `done` so the streams following it end. Returns the reply's status."""
    store = events.store()
    found = store.run_reply(session_id, run_id)
    if found is None:
        end_unstarted(events, run_id, session_id, LOST)
        return "interrupted"
    reply_id, status = found
    if status == "complete":  # the reply was stored whole; only its `done` was missing
        store.set_run_status(run_id, "done", reply_id=reply_id)
    else:
        if status != "interrupted":
            store.update_message(reply_id, status="partial")
            status = "partial"
        events.append(run_id, "error", {"kind": "ReplicaLost", "line": LOST})
        store.set_run_status(run_id, "failed", reply_id=reply_id)
    events.append(run_id, "done", {"status": status, "message_id": reply_id,
                                   "prompt_tokens": None, "completion_tokens": None,
                                   "timings": {}})  # fmt: skip
    log.info("run_lost_ended", run_id=run_id, status=status)
    return status
