"""The worker threads: each takes the next run and runs the YAML turn flow on it.

A worker owns its own `App` (store connection, Ollama client, queue gate): SQLite connections
and the flow's `Deps` stay in one thread. The flow is built once per worker with a sink that
points at the current run's `RunSink`. A run ends with `done {status, message_id,
prompt_tokens, completion_tokens, timings}` (after `error {kind, line}` when it failed), written
after the reply row is committed; runs a dead server left are ended at the next start from
what the store holds (`serve/jobs.py` `recover`).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import structlog

from serve.events import EventLog

if TYPE_CHECKING:
    from pocketflow import Flow

    from serve.jobs import Job
    from serve.run_sink import RunSink
    from serve.runs import RunManager
    from utils.sink import Sink

log = structlog.get_logger()


class _CurrentSink:
    """The flow's sink: forwards to the run the worker is on."""

    def __init__(self) -> None:
        self.target: Sink | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)


RAG_FLOW = "rag"  # what a message with a `collection` runs, as `chat --collection` does


class Worker(threading.Thread):
    def __init__(self, manager: RunManager, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.manager = manager

    def run(self) -> None:
        from flows.loader import build_flow, load_flow, resolve_flow

        manager = self.manager
        app = manager.app.sibling()
        try:
            settings = app.settings
            current = _CurrentSink()
            deps = app.deps(current)
            manager.events.adopt(deps.store)
            flows: dict[str, Flow[Any, Any]] = {}

            def flow_for(name: str) -> Flow[Any, Any]:
                """The turn flow by name, built once per worker (`rag` for a collection)."""
                if name not in flows:
                    found = resolve_flow(name, search_path=app.flow_search_path())
                    spec = load_flow(found, app.registry(),
                                     extra_imports=settings.imports)  # fmt: skip
                    flows[name] = build_flow(spec, deps, settings.retry)
                return flows[name]

            flow_for(settings.turn_flow)  # a broken flow stops the worker before it takes a run
            while (claimed := manager.next_job(settings.model)) is not None:
                job, sink = claimed
                run_id = job.run_id
                current.target = sink
                started = time.monotonic()
                try:
                    flow = flow_for(RAG_FLOW if job.collection else settings.turn_flow)
                    self._run(flow, job, sink, app.host_display)
                finally:
                    current.target = None
                    manager.finished(run_id, time.monotonic() - started)
        except Exception as exc:  # a worker must say why it stopped
            log.error("run_worker_crashed", error=type(exc).__name__, exc_info=exc)
        finally:
            manager.events.forget_thread_store()
            app.close()

    def _run(self, flow: Flow[Any, Any], job: Job, sink: RunSink, host: str) -> None:
        from flows.turn import run_turn

        events, metrics = self.manager.events, self.manager.metrics
        store = events.store()
        store.set_run_status(job.run_id, "running")
        shared: dict[str, Any] = {
            "session_id": job.session_id, "user_message": job.content,
            "user_message_id": job.message_id, "request_id": job.run_id, "origin": "api",
            "model": job.model, "options": job.options, "collection": job.collection,
            "_store": store,
            "memory_owner": _memory_owner(job),
        }  # fmt: skip
        shared = {k: v for k, v in shared.items() if v is not None}
        error: dict[str, str] | None = None
        if metrics is not None:
            metrics.in_flight.labels(host).inc()
        try:
            with structlog.contextvars.bound_contextvars(
                run_id=job.run_id, session_id=job.session_id, key_id=job.key_id
            ):
                run_turn(flow, shared)
        except KeyboardInterrupt:  # stopped before the reply began: kept as interrupted
            pass
        except Exception as exc:
            error = {"kind": type(exc).__name__, "line": f"internal error: {exc}"}
        finally:
            if metrics is not None:
                metrics.in_flight.labels(host).dec()
        turn = shared.get("turn") or {}
        if error is None and turn.get("status") == "failed":
            error = shared.get("error") or {"kind": "failed", "line": "the turn failed"}
        if shared.get("error", {}).get("kind") == "RateLimited":
            error = shared["error"]
        sink.flush()  # `started` before the run's last events
        stopped = sink.stop_reason
        if stopped == "drain" and sink.granted:
            stopped = "cut"  # the drain's deadline cut a reply in flight: kept, partial
        _finish(events, job.run_id, job.session_id, stopped, turn, error)
        if metrics is not None:
            _observe(metrics, turn, shared)


def _memory_owner(job: Job) -> str:
    """Whose long-term memory the run recalls and extracts: the key's, or its user's."""
    from utils.memory import owner_for_key

    return owner_for_key(job.key_id, job.user)


def _finish(
    events: EventLog, run_id: str, session_id: str, stopped: str | None,
    turn: dict[str, Any], error: dict[str, str] | None,
) -> None:  # fmt: skip
    store = events.store()
    found = store.run_reply(session_id, run_id)
    reply_id, status = found if found else (None, "failed")
    if stopped == "cut" and reply_id is not None and status == "interrupted":
        store.update_message(reply_id, status="partial")  # cut by the drain's deadline
        status = "partial"
    if error is not None:
        events.append(run_id, "error", {"kind": error.get("kind", "error"),
                                        "line": error.get("line", "")})  # fmt: skip
    done = {
        "status": status, "message_id": reply_id,
        "prompt_tokens": turn.get("prompt_tokens"),
        "completion_tokens": turn.get("completion_tokens"),
        "timings": turn.get("timings") or {}, "done_reason": turn.get("done_reason"),
    }  # fmt: skip
    run_status = "failed" if error else "done"
    if stopped in ("cancel", "drain"):  # stopped by a person, or by the drain before it began
        run_status = "cancelled"
    store.set_run_status(run_id, run_status, reply_id=reply_id)
    events.append(run_id, "done", done)
    log.info("run_done", run_id=run_id, status=status, run_status=run_status)


def _observe(metrics: Any, turn: dict[str, Any], shared: dict[str, Any]) -> None:
    timings = turn.get("timings") or {}
    first = timings.get("first_token_seconds")
    if first:
        metrics.first_token_seconds.observe(first)
    load = timings.get("load_seconds") or timings.get("load_duration")
    if isinstance(load, int | float) and load > 0:
        metrics.load_seconds.observe(load)
    tokens, stream = turn.get("completion_tokens"), timings.get("stream_seconds")
    if tokens and stream:
        metrics.tokens_per_second.observe(tokens / stream)
    if shared.get("cache_hit") is not None:
        metrics.cache_hits.inc()
    context = shared.get("context") or {}
    if context.get("dropped") or context.get("cut"):
        metrics.truncations.inc()
    metrics.runs.labels(turn.get("status") or "failed").inc()
