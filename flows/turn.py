"""Run one turn: a flow over a fresh shared store, with the turn's ids bound to every log line.

Whatever happens inside — a reply, a failure, Ctrl+C while waiting — the turn ends with its
stream closed and its queue ticket released. Ctrl+C before the reply began records an
`interrupted` reply row, so the person's message is never left without one.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from pocketflow import Flow

log = structlog.get_logger()


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def run_turn(flow: Flow[Any, Any], shared: dict[str, Any]) -> dict[str, Any]:
    """Run `flow` on `shared` and return it; re-raises KeyboardInterrupt after cleaning up."""
    shared.setdefault("request_id", new_request_id())
    bound = {"request_id": shared["request_id"]}
    if shared.get("session_id"):
        bound["session_id"] = shared["session_id"]
    with structlog.contextvars.bound_contextvars(**bound):
        try:
            flow.run(shared)
            log.info("turn_done", status=(shared.get("turn") or {}).get("status"))
        except KeyboardInterrupt:
            _record_interruption(flow, shared)
            raise
        finally:
            if "session_id" not in bound:  # LoadSession bound it for this turn only
                structlog.contextvars.unbind_contextvars("session_id")
            started = shared.get("started")
            if started is not None:
                started.stream.close()
                if started.ticket is not None:
                    started.ticket.release()
    return shared


def _record_interruption(flow: Flow[Any, Any], shared: dict[str, Any]) -> None:
    """Ctrl+C before any reply row existed: store an empty `interrupted` reply."""
    if shared.get("reply") is not None or shared.get("turn") is not None:
        return
    if not shared.get("user_message_id"):
        return
    store = getattr(getattr(flow, "deps", None), "store", None) or shared.get("_store")
    if store is None:
        return
    store.append_message(
        shared["session_id"],
        "assistant",
        "",
        model=shared.get("model"),
        status="interrupted",
        request_id=shared.get("request_id"),
    )
    log.info("turn_interrupted_before_reply")
