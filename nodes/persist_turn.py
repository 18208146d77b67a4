"""PersistTurn: finish the turn's record, whatever path it took.

- A streamed reply: its row already holds the text and status (StreamReply saved it); here the
  final figures are added — token counts, durations, `done_reason` — and a `length` stop is
  told to the person.
- A cached answer: stored as a reply row labelled `cached` in its meta.
- A reply cut off mid-stream (`partial`): one notice, the error line and, when the caller set
  `shared["retry_hint"]`, how to try again there (chat: `/retry`; ask: run it again).
- A failure: a `failed` reply row with empty content and the error line in its meta, so two
  person messages never follow each other without a reply row between them. Fallback text is
  never stored as a model reply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import structlog

from nodes.base import PocketNode, Shared

if TYPE_CHECKING:
    from nodes.stream_reply import ReplyOutcome

log = structlog.get_logger()


@dataclass(frozen=True)
class PersistInput:
    session_id: str
    model: str
    request_id: str | None
    reply: ReplyOutcome | None
    cached: dict[str, Any] | None
    error: dict[str, str] | None
    context: dict[str, Any]
    attempts: int
    sources: list[dict[str, Any]] | None = None  # RAG: what the reply was built from
    queue: tuple[float, int] | None = None
    retry_hint: str | None = None  # the front door's words for trying again, if any


def partial_notice(error: str | None, hint: str | None) -> str:
    """One sentence: what cut the reply off (the error line says the partial reply is kept),
    then how to try again in the words of whoever runs the turn (`shared["retry_hint"]`)."""
    line = error or "The reply broke off; the partial reply is kept."
    return f"{line.rstrip('.')} — {hint}" if hint else line


class PersistTurn(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)
    reads: ClassVar[Mapping[str, Any]] = {"session_id": "str", "model": "str"}
    may_read: ClassVar[Mapping[str, Any]] = {
        "request_id": "str",
        "reply": "ReplyOutcome",
        "cache_hit": "dict[str, str]",
        "error": "dict[str, str]",
        "context": "dict[str, Any]",
        "attempts": "int",
        "sources": "list[dict[str, Any]]",
        "started": "Started",
        "retry_hint": "str",
    }
    writes: ClassVar[Mapping[str, Any]] = {"turn": "dict[str, Any]"}

    def prep(self, shared: Shared) -> PersistInput:
        return PersistInput(
            session_id=shared["session_id"],
            model=shared["model"],
            request_id=shared.get("request_id"),
            reply=shared.get("reply"),
            cached=shared.get("cache_hit"),
            error=shared.get("error"),
            context=shared.get("context", {}),
            attempts=int(shared.get("attempts", 1)),
            sources=shared.get("sources"),
            queue=getattr(shared.get("started"), "queue", None),
            retry_hint=shared.get("retry_hint"),
        )

    def exec(self, prep_res: PersistInput) -> dict[str, Any]:
        """The row's final fields and the turn's summary, computed from what happened."""
        reply, cached, error = prep_res.reply, prep_res.cached, prep_res.error
        meta: dict[str, Any] = {"context": prep_res.context, "attempts": prep_res.attempts}
        if prep_res.sources is not None:
            meta["sources"] = prep_res.sources
        if reply is not None:
            final = reply.final
            timings = {
                "first_token_seconds": reply.first_token_seconds,
                "stream_seconds": reply.stream_seconds,
            }
            if final is not None:
                timings.update(final.durations())
            if reply.error_line:
                meta["error"] = reply.error_line
            if reply.thinking_chars:
                meta["thinking_chars"] = reply.thinking_chars  # its length only, never its text
            return {
                "status": reply.status,
                "text": reply.text,
                "message_id": reply.message_id,
                "prompt_tokens": final.prompt_eval_count if final else None,
                "completion_tokens": final.eval_count if final else None,
                "done_reason": final.done_reason if final else None,
                "timings": timings,
                "meta": meta,
            }
        if cached is not None:
            meta["cached"] = cached.get("source", "cache")
            if error:  # the fallback: Ollama was unreachable, an older reply was shown
                meta["error"] = error["line"]
            return {
                "status": "complete",
                "text": cached["text"],
                "message_id": None,
                "meta": meta,
                "timings": {},
            }
        line = error["line"] if error else "the turn ended without a reply"
        meta["error"] = line
        return {"status": "failed", "text": "", "message_id": None, "meta": meta, "timings": {}}

    def post(self, shared: Shared, prep_res: PersistInput, exec_res: dict[str, Any]) -> str:
        store = self.deps.store
        fields: dict[str, Any] = {
            k: exec_res[k]
            for k in ("prompt_tokens", "completion_tokens", "done_reason", "timings", "meta")
            if k in exec_res
        }
        message_id: int | None = None
        if store.can_write():  # else read-only mode: LoadSession told the person once
            # the reply's row, the session's activity and the turn's metrics: one commit
            message_id = store.transaction(
                lambda _conn: self._save_turn(prep_res, exec_res, fields)
            )
        sink = self.deps.sink
        if exec_res["status"] == "failed":
            sink.notice(exec_res["meta"]["error"])
        elif exec_res["status"] == "partial":
            sink.notice(partial_notice(exec_res["meta"].get("error"), prep_res.retry_hint))
        elif exec_res["status"] == "interrupted":
            sink.notice("(stopped; the partial reply is kept, marked interrupted)")
        if exec_res.get("done_reason") == "length":
            sink.notice("The reply hit its length limit (num_predict or the context window).")
        shared["turn"] = {**exec_res, "message_id": message_id}
        log.info("turn_persisted", status=exec_res["status"], message_id=message_id)
        return "default"

    def _save_turn(self, data: PersistInput, result: dict[str, Any], fields: dict[str, Any]) -> int:
        """Inside one transaction: the reply row finished (or made), the session touched, the
        metric events recorded; returns the row's id."""
        store = self.deps.store
        message_id = result["message_id"]
        if message_id is None:
            message = store.append_message(
                data.session_id,
                "assistant",
                result["text"],
                model=data.model,
                status=result["status"],
                request_id=data.request_id,
                meta=result["meta"],
            )
            message_id = message.id
            extra = {k: v for k, v in fields.items() if k not in ("meta",)}
            if extra:
                store.set_message_fields(message_id, **extra)
        else:
            store.set_message_fields(message_id, status=result["status"], **fields)
        store.touch_session(data.session_id)
        self._record_metrics(data)
        return int(message_id)

    def _record_metrics(self, data: PersistInput) -> None:
        """The turn's figures as events (utils/telemetry/metrics.py), in one transaction."""
        from utils.telemetry import record_events, turn_events

        reply = data.reply
        final = reply.final if reply is not None else None
        record_events(
            self.deps.store,
            turn_events(
                session_id=data.session_id,
                request_id=data.request_id,
                model=data.model,
                queue=data.queue,
                first_token_seconds=reply.first_token_seconds if reply else None,
                load_seconds=final.load_seconds if final and final.load_duration else None,
                eval_count=final.eval_count if final else None,
                eval_seconds=(final.eval_duration or 0) / 1e9 if final else None,
            ),
        )
