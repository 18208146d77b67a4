"""`/healthz` (the process is up) and `/readyz` (the database is writable and Ollama answers;
else 503 with the reason). Neither needs a key."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from serve.runs import RunManager
from serve.views import state_store


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    runs: RunManager = request.app.state.runs
    if runs.draining:
        return JSONResponse({"status": "draining", "reason": "shutting down"}, status_code=503)
    store = state_store(request)
    if not store.can_write():
        reason = f"the database is read-only: {store.read_only_reason}"
        return JSONResponse({"status": "unready", "reason": reason}, status_code=503)
    reason = await asyncio.to_thread(_ollama_problem, request)
    if reason:
        return JSONResponse({"status": "unready", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ready"})


def _ollama_problem(request: Request) -> str:
    from utils.ollama import OllamaError

    llm = request.app.state.probe
    try:
        llm.version()
    except OllamaError as exc:
        return exc.user_line(llm.host)
    except Exception as exc:
        return f"Ollama: {type(exc).__name__}: {exc}"
    return ""


routes: list[BaseRoute] = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
]
