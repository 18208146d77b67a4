"""OpenAI-compatible routes: `POST /v1/chat/completions` and `GET /v1/models`.

A completion is a run like any other (serve/runs.py): the same queue, retries, trimming, cache
and history. Without `X-Session-Id` each request makes a new session (origin `api`): its
system messages become the session's system prompt and the earlier turns its history; with
it, the named session goes on and only the new (last, user) message is appended. The reply
carries `X-Session-Id` either way. Streamed replies are OpenAI's `chat.completion.chunk`s over
SSE (sse-starlette), ending `data: [DONE]`; the last chunk carries `usage` (and, with
`stream_options.include_usage`, a chunk with no choices carries it too, as OpenAI does).
A streamed reply answers with a status only once its run has said something (first text, or
an error), so a missing model is a 404 and a refused run a 429/503, not a broken stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from serve import openai_shapes as shapes
from serve.runs import QueueFull, RateLimited, RunEvent
from utils.ollama import OllamaError
from utils.store import Session

# an error event's kind (the exception's name) -> the HTTP status; anything else is 502
ERROR_STATUS = {"ModelNotFound": 404, "PullFailed": 404, "OllamaUnavailable": 503,
                "OllamaBusy": 503, "RateLimited": 429, "BadRequest": 400,
                "InvalidRequest": 400}  # fmt: skip

ENDED = RunEvent(0, "error", {"kind": "error", "line": "the run ended without a reply"})


def fail(
    status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:  # fmt: skip
    return JSONResponse(shapes.error_body(message, kind, code), status, headers=headers)


def run_failed(data: dict[str, Any], headers: dict[str, str]) -> JSONResponse:
    kind = str(data.get("kind") or "error")
    status = ERROR_STATUS.get(kind, 502)
    return fail(status, str(data.get("line") or kind), "api_error" if status >= 500
                else "invalid_request_error", kind, headers)  # fmt: skip


def new_session(state: Any, req: shapes.ChatRequest, key_id: str | None) -> Session:
    """A session for a request without `X-Session-Id`: its system prompt and earlier turns."""
    session: Session = state.runs.create_session(
        model=req.model, system=req.system, title=None, options=None, key_id=key_id
    )
    for role, text in req.history:
        state.store.append_message(session.id, role, text)
    return session


async def chat_completions(request: Request) -> Response:
    try:
        req = shapes.parse(await request.json())
    except (ValueError, shapes.BadChatRequest) as exc:
        line = str(exc) if isinstance(exc, shapes.BadChatRequest) else "the body is not JSON"
        return fail(400, line)
    state, key_id = request.app.state, request.state.key_id
    named = request.headers.get("x-session-id")
    if named:
        session = state.store.get_session(named)
        if session is None or session.key_id != key_id:
            return fail(404, f"no session '{named}'", code="session_not_found")
    else:
        session = new_session(state, req, key_id)
    headers = {"X-Session-Id": session.id}
    try:
        started = state.runs.start(session_id=session.id, content=req.content, model=req.model,
                                   options=req.options or None, key_id=key_id,
                                   user=req.user)  # fmt: skip
    except (RateLimited, QueueFull) as exc:
        status, code = (429, "rate_limited") if isinstance(exc, RateLimited) else (503, "busy")
        wait = {"Retry-After": str(max(1, round(exc.retry_after))), **headers}
        return fail(status, str(exc) or code, "rate_limit_error" if status == 429
                    else "api_error", code, wait)  # fmt: skip
    cid, created = f"chatcmpl-{started.run_id}", int(time.time())
    model = req.model or session.model
    events = state.runs.follow(started.run_id).__aiter__()
    first: RunEvent | None = None
    async for event in events:  # until the run says something a status can follow
        if event.kind in ("delta", "done", "error"):
            first = event
            break
    if first is None or first.kind == "error":
        return run_failed(first.data if first else {"kind": "error"}, headers)
    if not req.stream:
        text, last = await whole(first, events)
        if last.kind == "error":
            return run_failed(last.data, headers)
        return JSONResponse(shapes.completion(cid, created, model, text, last.data),
                            headers=headers)  # fmt: skip
    reply = Reply(request, started.run_id, cid, created, model, req.include_usage)
    return EventSourceResponse(reply.chunks(first, events), headers=headers,
                               ping=state.app.settings.serve.ping_seconds)  # fmt: skip


async def whole(first: RunEvent, events: AsyncIterator[RunEvent]) -> tuple[str, RunEvent]:
    """The reply's text and the event that ended it (done or error)."""
    text, event = [], first
    while event.kind not in ("done", "error"):  # delta, and notice/loading in between
        if event.kind == "delta":
            text.append(str(event.data.get("text", "")))
        event = await anext(events, ENDED)
    return "".join(text), event


class Reply:
    """One streamed completion: run events in, OpenAI chunks out."""

    def __init__(self, request: Request, run_id: str, cid: str, created: int, model: str,
                 include_usage: bool) -> None:  # fmt: skip
        self.state, self.run_id = request.app.state, run_id
        self.cid, self.created, self.model, self.include_usage = cid, created, model, include_usage

    def _data(
        self, delta: dict[str, Any], finish: str | None = None,
        usage: dict[str, int] | None = None, *, choices: bool = True,
    ) -> dict[str, str]:  # fmt: skip
        body = shapes.chunk(self.cid, self.created, self.model, delta, finish, usage,
                            choices=choices)  # fmt: skip
        return {"data": json.dumps(body, ensure_ascii=False)}

    async def chunks(self, first: RunEvent, events: AsyncIterator[RunEvent]) -> AsyncIterator[
            dict[str, str]]:  # fmt: skip
        ended = False
        try:
            yield self._data({"role": "assistant", "content": ""})
            event: RunEvent | None = first
            while event is not None:
                if event.kind == "delta":
                    yield self._data({"content": str(event.data.get("text", ""))})
                elif event.kind == "done":
                    usage = shapes.usage(event.data)
                    yield self._data({}, shapes.finish_reason(event.data), usage)
                    if self.include_usage:
                        yield self._data({}, usage=usage, choices=False)
                    break
                elif event.kind == "error":
                    kind = str(event.data.get("kind") or "error")
                    body = shapes.error_body(str(event.data.get("line") or kind), "api_error", kind)
                    yield {"data": json.dumps(body, ensure_ascii=False)}
                    break
                event = await anext(events, None)
            ended = True
            yield {"data": "[DONE]"}
        finally:
            if not ended:  # the client left before the end; the run goes on unless told
                self.state.metrics.stream_disconnects.inc()
                if self.state.app.settings.serve.on_disconnect == "cancel":
                    self.state.runs.cancel(self.run_id)


async def models(request: Request) -> Response:
    """Ollama's models (`/api/tags`), as OpenAI's model list, each with pocketchat's extension
    `capabilities` (from `/api/show`, kept a minute: serve/model_caps.py) when Ollama says."""
    llm = request.app.state.app.llm()
    try:
        found = await run_in_threadpool(llm.list_models)
    except OllamaError as exc:
        return fail(503, exc.user_line(llm.host), "api_error", "ollama_unavailable")
    caps = await run_in_threadpool(request.app.state.model_caps.of, llm, [m.name for m in found])
    data = []
    for m in found:
        created = int(m.modified_at.timestamp()) if m.modified_at else 0
        item: dict[str, Any] = {"id": m.name, "object": "model", "owned_by": "ollama",
                                "created": created}  # fmt: skip
        if caps.get(m.name) is not None:
            item["capabilities"] = list(caps[m.name] or ())
        data.append(item)
    return JSONResponse({"object": "list", "data": data})


routes: list[BaseRoute] = [
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    Route("/v1/models", models, methods=["GET"]),
]
