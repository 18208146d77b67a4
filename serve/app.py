"""`create_app`: the Starlette app of `pocketchat serve`, around one `RunManager`.

Routes: health (no key), sessions and runs (serve/routes_*.py), the OpenAI-compatible ones,
`/metrics`. Middleware, outermost first: CORS (only when `serve.cors_origins` lists origins, so
a browser's preflight gets its answer before auth), request ids bound to every log line, keys
(`serve.auth`). State: `app` (the composition root), `runs`, `store` (the event loop thread's
store: routes are `async` and use it on that thread), `metrics`, `probe` (an Ollama client for
`/readyz`), `model_caps` (what each model can do, kept a minute). Start-up binds the loop and
starts the workers; shutdown drains (a SIGTERM has drained already, see serve/server.py).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serve import (
    auth,
    health,
    metrics,
    openai_routes,
    page,
    routes_memory,
    routes_runs,
    routes_sessions,
)
from serve.model_caps import ModelCapabilities
from serve.runs import RunManager
from serve.worker import Worker

if TYPE_CHECKING:
    from app import App

log = structlog.get_logger()


class RequestIds:
    """Every request's log lines carry its id (and `X-Request-Id` answers it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        started = time.monotonic()
        status = [0]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                ms = round((time.monotonic() - started) * 1000, 1)
                log.info("request_done", method=scope.get("method"), path=scope.get("path"),
                         status=status[0], ms=ms)  # fmt: skip


def create_app(root: App) -> Starlette:
    serve_metrics = metrics.ServeMetrics()
    pool = root.host_pool()
    if pool is not None:  # several Ollama hosts: pocketchat_host_* per host at each scrape
        from utils.hosts import HostCollector

        serve_metrics.registry.register(HostCollector(pool.status))
    runs = RunManager(root, serve_metrics)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.store = runs.events.store()  # opened on the event loop's thread
        runs.open(asyncio.get_running_loop(), Worker)
        log.info("serve_started", workers=len(runs._workers))
        # long-term memory: extraction jobs run in the workers' idle time (docs/memory.md)
        extraction = (root.memory_background(lambda: runs.waiting() > 0, idle_seconds=1.0)
                      if root.settings.memory.enabled else None)  # fmt: skip
        try:
            yield
        finally:
            if extraction is not None:
                await asyncio.to_thread(extraction.stop)
            if not runs.draining:
                await asyncio.to_thread(runs.drain, 0.0)
            app.state.probe.close()
            runs.close()
            log.info("serve_stopped")

    stack: list[Middleware] = []
    origins = root.settings.serve.cors_origins
    if origins:
        from starlette.middleware.cors import CORSMiddleware

        stack.append(Middleware(CORSMiddleware, allow_origins=list(origins),
                                allow_methods=["*"], allow_headers=["*"]))  # fmt: skip
    stack += [Middleware(RequestIds), auth.middleware()]
    app = Starlette(
        routes=[*health.routes, *routes_sessions.routes, *routes_runs.routes,
                *routes_memory.routes, *openai_routes.routes, *metrics.routes, *page.routes],
        middleware=stack,
        lifespan=lifespan,
    )  # fmt: skip
    app.state.app = root
    app.state.runs = runs
    app.state.metrics = serve_metrics
    app.state.probe = root.sibling().llm()
    app.state.model_caps = ModelCapabilities()
    return app
