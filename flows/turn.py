"""Run one turn: a flow over a fresh shared store, with the turn's ids bound to every log line.

Whatever happens inside — a reply, a failure, Ctrl+C while waiting — the turn ends with its
stream closed (or, if StreamReply's reader thread is still inside a read, marked to close at
its next chunk) and its queue ticket released as soon as the stream is really closed. Ctrl+C
before the reply began records an `interrupted` reply row, an unexpected error a `failed` one,
so the person's message is never left without a reply row after it.
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
    """Run `flow` on `shared` and return it. Ctrl+C or an unexpected error is re-raised after
    the person's message got its reply row (`interrupted` or `failed`) and the stream closed."""
    shared.setdefault("request_id", new_request_id())
    bound = {"request_id": shared["request_id"]}
    if shared.get("session_id"):
        bound["session_id"] = shared["session_id"]
    with structlog.contextvars.bound_contextvars(**bound):
        try:
            flow.run(shared)
            log.info("turn_done", status=(shared.get("turn") or {}).get("status"))
        except KeyboardInterrupt:
            _record_missing_reply(shared, "interrupted", None)
            raise
        except Exception as exc:
            log.info("turn_crashed", error=type(exc).__name__, exc_info=exc)
            _record_missing_reply(shared, "failed", f"{type(exc).__name__}: {exc}")
            raise
        finally:
            if "session_id" not in bound:  # LoadSession bound it for this turn only
                structlog.contextvars.unbind_contextvars("session_id")
            _release(shared)
    return shared


def _release(shared: dict[str, Any]) -> None:
    """Close the stream (if StreamReply's reader is still reading, this only signals it to
    close at its next chunk) and give the queue ticket back once it is really closed."""
    started = shared.get("started")
    if started is None:
        return
    try:
        started.stream.close()
    finally:
        started.release()


def _record_missing_reply(shared: dict[str, Any], status: str, error: str | None) -> None:
    """The turn stopped before any reply row existed: store an empty one with `status`, so
    the person's message (or a /retry) is never left without its reply."""
    if shared.get("reply") is not None or shared.get("turn") is not None:
        return
    asked = shared.get("user_message_id") or (
        shared.get("regenerate") and shared.get("session") is not None
    )
    store = shared.get("_store")
    if store is None or not shared.get("session_id"):
        return
    try:
        last = store.window(shared["session_id"], 1)
        ours = bool(last) and last[-1].request_id == shared.get("request_id")
        if ours and last[-1].role == "assistant":  # the reply row exists: just mark it
            if last[-1].status == "partial":
                store.update_message(last[-1].id, status=status)
            return
        if not asked:  # Ctrl+C may land after the message was stored, before its id came back
            asked = ours and last[-1].role == "user"
        if not asked:
            return
        store.append_message(
            shared["session_id"],
            "assistant",
            "",
            model=shared.get("model"),
            status=status,
            request_id=shared.get("request_id"),
            meta={"error": error} if error else None,
        )
    except Exception as exc:  # the store itself may be what failed; the original error wins
        log.warning("turn_reply_row_not_saved", error=type(exc).__name__)
        return
    log.info("turn_stopped_before_reply", status=status)
