"""`/v1/runs/{run_id}`: a run's state, its event stream, and cancel.

`GET …/events` is `text/event-stream` (sse-starlette): every event of the run from its first,
or with `Last-Event-ID` (or `?after=N`) exactly those after it, then live until `done`; pings
keep proxies from closing a quiet stream. The stream is only a view of the stored log: a client
that leaves does not stop the reply (`serve.on_disconnect: continue`), and a reconnect joins it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import structlog
from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from serve.events import TERMINAL
from serve.runs import RunManager
from serve.views import error, key_of, run_json, state_store

log = structlog.get_logger()

NOT_FOUND = "no such run"


def _owned(request: Request) -> str | None:
    run = state_store(request).get_run(request.path_params["run_id"])
    if run is None or run.key_id != key_of(request):
        return None
    return run.id


async def show_run(request: Request) -> Response:
    run = state_store(request).get_run(request.path_params["run_id"])
    if run is None or run.key_id != key_of(request):
        return error(404, NOT_FOUND)
    return JSONResponse(run_json(run))


async def run_events(request: Request) -> Response:
    run_id = _owned(request)
    if run_id is None:
        return error(404, NOT_FOUND)
    raw = request.headers.get("last-event-id") or request.query_params.get("after")
    try:
        after = int(raw) if raw else None
    except ValueError:
        return error(400, "Last-Event-ID must be an event id (a whole number)")
    runs: RunManager = request.app.state.runs
    if after is not None and runs.metrics is not None:
        runs.metrics.stream_rejoins.inc()
    settings = runs.settings.serve
    events = _stream(runs, run_id, after, settings.on_disconnect)
    return EventSourceResponse(events, ping=max(1, int(settings.ping_seconds)))


async def _stream(
    runs: RunManager, run_id: str, after: int | None, on_disconnect: str
) -> AsyncIterator[dict[str, str]]:
    ended = False
    try:
        async for event in runs.follow(run_id, after):
            yield {"id": str(event.id), "event": event.kind,
                   "data": json.dumps(event.data, ensure_ascii=False)}  # fmt: skip
            if event.kind == TERMINAL:
                ended = True
    finally:
        if not ended:  # the client left (or the server is stopping) before the end
            if runs.metrics is not None:
                runs.metrics.stream_disconnects.inc()
            log.info("run_stream_left", run_id=run_id, on_disconnect=on_disconnect)
            if on_disconnect == "cancel" and not runs.draining:
                runs.cancel(run_id)


async def cancel_run(request: Request) -> Response:
    run_id = _owned(request)
    if run_id is None:
        return error(404, NOT_FOUND)
    runs: RunManager = request.app.state.runs
    stopping = runs.cancel(run_id)
    return JSONResponse({"run_id": run_id, "cancelled": stopping})


routes: list[BaseRoute] = [
    Route("/v1/runs/{run_id}", show_run, methods=["GET"]),
    Route("/v1/runs/{run_id}/events", run_events, methods=["GET"]),
    Route("/v1/runs/{run_id}/cancel", cancel_run, methods=["POST"]),
]
