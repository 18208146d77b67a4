"""JSON shapes of the API (sessions, messages, runs) and the request helpers the routes share."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse

if TYPE_CHECKING:
    from serve.runs import RunManager
    from utils.store import Message, RunRecord, Session, Store


def session_json(session: Session) -> dict[str, Any]:
    return {
        "id": session.id, "title": session.title, "model": session.model,
        "system": session.system, "options": session.options, "status": session.status,
        "origin": session.origin, "created_at": session.created_at,
        "updated_at": session.updated_at, "last_active_at": session.last_active_at,
    }  # fmt: skip


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id, "seq": message.seq, "role": message.role,
        "content": message.content, "status": message.status, "model": message.model,
        "prompt_tokens": message.prompt_tokens, "completion_tokens": message.completion_tokens,
        "done_reason": message.done_reason, "run_id": message.request_id,
        "created_at": message.created_at, "sources": sources_json(message.meta.get("sources")),
    }  # fmt: skip


def sources_json(sources: Any) -> list[dict[str, Any]]:
    """What a RAG reply was built from (its meta's `sources`): `{n, path, chunk, score,
    collection}` each, in the order they were numbered in the prompt; [] for any other reply."""
    if not isinstance(sources, list):
        return []
    return [{"n": s.get("n"), "path": s.get("path"), "chunk": s.get("chunk"),
             "score": s.get("score"), "collection": s.get("collection")}
            for s in sources if isinstance(s, dict)]  # fmt: skip


def run_json(run: RunRecord) -> dict[str, Any]:
    return {
        "id": run.id, "session_id": run.session_id, "message_id": run.message_id,
        "reply_id": run.reply_id, "status": run.status, "created_at": run.created_at,
        "finished_at": run.finished_at, "events": f"/v1/runs/{run.id}/events",
    }  # fmt: skip


def error(status: int, line: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The API's error: one line, in the shape OpenAI clients read."""
    body = {"error": {"message": line, "type": _TYPES.get(status, "error"), "code": status}}
    return JSONResponse(body, status_code=status, headers=headers)


_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
          429: "rate_limit_error", 503: "service_unavailable"}  # fmt: skip


def state_store(request: Request) -> Store:
    """The event loop thread's store (routes are `async`: they run on that thread)."""
    runs: RunManager = request.app.state.runs
    return runs.events.store()


def key_of(request: Request) -> str | None:
    return getattr(request.state, "key_id", None)


def owned_session(request: Request, session_id: str) -> Session | None:
    """The session if it exists and belongs to the request's key; else None (-> 404)."""
    session = state_store(request).get_session(session_id)
    if session is None or session.key_id != key_of(request):
        return None
    return session


async def json_body(request: Request) -> dict[str, Any] | JSONResponse:
    """The request's JSON object, or the 400 that says what is wrong with it."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        return error(400, "the body is not JSON")
    if not isinstance(body, dict):
        return error(400, "the body must be a JSON object")
    return body


def field(body: dict[str, Any], name: str, kind: type, *, required: bool = False) -> Any:
    """`body[name]` checked against `kind`; raises ValueError with one line."""
    value = body.get(name)
    if value is None:
        if required:
            raise ValueError(f"'{name}' is required")
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"'{name}' must be {'an object' if kind is dict else kind.__name__}")
    return value
