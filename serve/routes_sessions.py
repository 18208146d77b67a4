"""`/v1/sessions`: make, list, show, rename, archive and restore sessions; post a message (a
run).

A session belongs to the key that made it: another key gets 404, as for a session that does
not exist. `DELETE` archives (never deletes). `POST …/messages` answers 202 `{run_id,
message_id}` once the person's message and the run are committed; the reply follows on
`GET /v1/runs/{run_id}/events`. `GET /v1/sessions?q=words` lists the sessions whose messages
hold every word (the store's full-text search), best match first, each with a `match` snippet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from serve.runs import QueueFull, RateLimited, RunManager
from serve.views import (
    error,
    field,
    json_body,
    key_of,
    message_json,
    owned_session,
    session_json,
    state_store,
)

if TYPE_CHECKING:
    from utils.store import Store

log = structlog.get_logger()

MAX_PAGE = 200
SEARCH_HITS = 1000  # messages `?q=` reads, best first (sessions are made of them)
NOT_FOUND = "no such session"


async def create_session(request: Request) -> Response:
    body = await json_body(request)
    if isinstance(body, Response):
        return body
    try:
        model, system = field(body, "model", str), field(body, "system", str)
        title, options = field(body, "title", str), _options(body)
    except ValueError as exc:
        return error(400, str(exc))
    runs: RunManager = request.app.state.runs
    session = runs.create_session(model=model, system=system, title=title, options=options,
                                  key_id=key_of(request))  # fmt: skip
    return JSONResponse(session_json(session), status_code=201)


async def list_sessions(request: Request) -> Response:
    try:
        limit = min(MAX_PAGE, max(1, int(request.query_params.get("limit", "50"))))
        offset = max(0, int(request.query_params.get("offset", "0")))
    except ValueError:
        return error(400, "limit and offset must be whole numbers")
    archived = request.query_params.get("archived", "false").lower() in ("1", "true", "yes")
    store, query = state_store(request), request.query_params.get("q", "").strip()
    snippets: dict[str, str] = {}
    if query:
        snippets = _matching(store, query, key_of(request), archived)
        ids = list(snippets)[offset : offset + limit + 1]
    else:
        ids = store.key_session_ids(key_of(request), archived=archived, limit=limit + 1,
                                    offset=offset)  # fmt: skip
    sessions = [s for s in (store.get_session(i) for i in ids[:limit]) if s is not None]
    more = len(ids) > limit
    shown = [session_json(s) | ({"match": snippets[s.id]} if query else {}) for s in sessions]
    return JSONResponse({
        "sessions": shown, "limit": limit, "offset": offset,
        "next_offset": offset + limit if more else None,
    })  # fmt: skip


def _matching(store: Store, query: str, key_id: str | None, archived: bool) -> dict[str, str]:
    """`?q=`: the key's sessions whose messages match (full-text, every word), best match
    first, each with its best message's snippet (the match in [brackets])."""
    found: dict[str, str] = {}
    status = "archived" if archived else "active"
    for hit in store.search(query, limit=SEARCH_HITS):
        if hit.session_id in found or hit.session_status != status:
            continue
        session = store.get_session(hit.session_id)
        if session is not None and session.key_id == key_id:
            found[hit.session_id] = hit.snippet
    return found


async def show_session(request: Request) -> Response:
    session = owned_session(request, request.path_params["session_id"])
    if session is None:
        return error(404, NOT_FOUND)
    try:
        limit = min(10_000, max(1, int(request.query_params.get("messages", "1000"))))
    except ValueError:
        return error(400, "messages must be a whole number")
    messages = state_store(request).window(session.id, limit)
    return JSONResponse({**session_json(session), "messages": [message_json(m) for m in messages]})


async def rename_session(request: Request) -> Response:
    """`PATCH {title}`: a new title (the only field that changes this way)."""
    session = owned_session(request, request.path_params["session_id"])
    if session is None:
        return error(404, NOT_FOUND)
    body = await json_body(request)
    if isinstance(body, Response):
        return body
    try:
        title = field(body, "title", str, required=True)
    except ValueError as exc:
        return error(400, str(exc))
    title = " ".join(title.split())[:200]
    if not title:
        return error(400, "'title' is empty")
    return JSONResponse(session_json(state_store(request).update_session(session.id, title=title)))


async def archive_session(request: Request) -> Response:
    session = owned_session(request, request.path_params["session_id"])
    if session is None:
        return error(404, NOT_FOUND)
    state_store(request).archive(session.id)
    return JSONResponse({"id": session.id, "status": "archived"})


async def restore_session(request: Request) -> Response:
    session = owned_session(request, request.path_params["session_id"])
    if session is None:
        return error(404, NOT_FOUND)
    state_store(request).restore(session.id)
    return JSONResponse({"id": session.id, "status": "active"})


async def post_message(request: Request) -> Response:
    session = owned_session(request, request.path_params["session_id"])
    if session is None:
        return error(404, NOT_FOUND)
    body = await json_body(request)
    if isinstance(body, Response):
        return body
    try:
        content = field(body, "content", str, required=True)
        model, collection = field(body, "model", str), field(body, "collection", str)
        options, user = _options(body), field(body, "user", str)
    except ValueError as exc:
        return error(400, str(exc))
    if not content.strip():
        return error(400, "'content' is empty")
    if collection is not None and state_store(request).rag_find_collection(collection) is None:
        return error(404, f"no collection '{collection}' (`pocketchat rag list` shows them)")
    runs: RunManager = request.app.state.runs
    try:
        started = runs.start(session_id=session.id, content=content, model=model,
                             options=options, collection=collection,
                             key_id=key_of(request), user=user or None)  # fmt: skip
    except RateLimited as exc:
        return error(429, str(exc), {"Retry-After": _seconds(exc.retry_after)})
    except QueueFull as exc:
        return error(503, str(exc), {"Retry-After": _seconds(exc.retry_after)})
    if session.status == "archived" and runs.metrics is not None:  # the message revives it
        runs.metrics.resurrections.inc()
    return JSONResponse(
        {"run_id": started.run_id, "message_id": started.message_id,
         "session_id": started.session_id, "events": f"/v1/runs/{started.run_id}/events"},
        status_code=202,
    )  # fmt: skip


def _options(body: dict[str, Any]) -> dict[str, Any] | None:
    from utils.ollama import OptionError, validate_options

    options = field(body, "options", dict)
    if not options:
        return None
    try:
        return validate_options(options)
    except OptionError as exc:
        raise ValueError(str(exc)) from exc


def _seconds(value: float) -> str:
    return str(max(1, int(value + 0.999)))


routes: list[BaseRoute] = [
    Route("/v1/sessions", create_session, methods=["POST"]),
    Route("/v1/sessions", list_sessions, methods=["GET"]),
    Route("/v1/sessions/{session_id}", show_session, methods=["GET"]),
    Route("/v1/sessions/{session_id}", rename_session, methods=["PATCH"]),
    Route("/v1/sessions/{session_id}", archive_session, methods=["DELETE"]),
    Route("/v1/sessions/{session_id}/restore", restore_session, methods=["POST"]),
    Route("/v1/sessions/{session_id}/messages", post_message, methods=["POST"]),
]
