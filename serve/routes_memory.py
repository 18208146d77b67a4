"""`/v1/memories`: the long-term memory of the request's person (docs/memory.md).

The person is the request's API key (no key: the server's local person), or with `?user=ID`
a user of that key (one key never reaches another key's memories or users). `GET
/v1/memories` lists (newest first; `?q=words` keeps those holding every word, `?limit=N`),
`GET /v1/memories/{id}` shows one, `DELETE /v1/memories/{id}` forgets one, `DELETE
/v1/memories?confirm=yes` forgets them all. Another person's memory is a 404, as one that
does not exist.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from serve.views import error, key_of, state_store

NOT_FOUND = "no such memory"


def owner(request: Request) -> str:
    from utils.memory import owner_for_key

    return owner_for_key(key_of(request), request.query_params.get("user") or None)


async def list_memories(request: Request) -> Response:
    from utils.memory import memories_sql

    try:
        limit = min(1000, max(1, int(request.query_params.get("limit", "100"))))
    except ValueError:
        return error(400, "'limit' must be a whole number")
    store, words = state_store(request), request.query_params.get("q")
    found = (memories_sql.search_text(store, owner(request), words, limit) if words
             else memories_sql.list_memories(store, owner(request), limit))  # fmt: skip
    return JSONResponse({"memories": [m.as_json() for m in found]})


def _id(request: Request) -> int | None:
    raw = str(request.path_params["memory_id"]).lower().removeprefix("m")
    return int(raw) if raw.isdigit() else None


async def show_memory(request: Request) -> Response:
    from utils.memory import memories_sql

    memory_id = _id(request)
    found = memories_sql.get(state_store(request), owner(request), memory_id) if memory_id else None
    if found is None:
        return error(404, NOT_FOUND)
    return JSONResponse(found.as_json())


async def forget_memory(request: Request) -> Response:
    from utils.memory import memories_sql

    memory_id = _id(request)
    if memory_id is None or not memories_sql.forget(state_store(request), owner(request),
                                                     memory_id):  # fmt: skip
        return error(404, NOT_FOUND)
    return Response(status_code=204)


async def clear_memories(request: Request) -> Response:
    from utils.memory import memories_sql

    if request.query_params.get("confirm") != "yes":
        return error(400, "this erases every memory for good: add ?confirm=yes")
    return JSONResponse({"forgotten": memories_sql.clear(state_store(request), owner(request))})


routes: list[BaseRoute] = [
    Route("/v1/memories", list_memories, methods=["GET"]),
    Route("/v1/memories", clear_memories, methods=["DELETE"]),
    Route("/v1/memories/{memory_id}", show_memory, methods=["GET"]),
    Route("/v1/memories/{memory_id}", forget_memory, methods=["DELETE"]),
]
