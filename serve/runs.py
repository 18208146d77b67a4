"""Runs: a turn asked over HTTP, recorded, queued fairly, worked by a thread, logged as events.

`RunManager.start` refuses (429 `RateLimited`, 503 `QueueFull`) before it stores anything; else
it commits the person's message and the run, puts the run in the fair queue (serve/dispatch.py)
and announces every waiting run's position (`queued`, again at each change). One worker thread
per Ollama slot (`queue.slots`) takes the next run and runs the same YAML turn flow as `chat`
(serve/worker.py); the run's sink (serve/run_sink.py) turns what the flow says into events.
A client's stream is only a view of the log (`follow`): the reply outlives its connection.
With `queue.url` the line, the leases and the wake-ups are shared by every replica through
Redis (serve/replicas.py): any replica may take a run another one stored, and one whose replica
died is ended by a survivor (serve/keeper.py).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import structlog

from serve.announcer import Announcer
from serve.events import EventLog, RunEvent
from serve.jobs import Job, end_unstarted, recover
from serve.keeper import Keeper
from serve.positions import queued_events
from serve.replicas import connect
from serve.retention import Sweeper
from serve.run_sink import RunSink
from utils.store import SessionNotFound

if TYPE_CHECKING:
    from app import App
    from serve.metrics import ServeMetrics
    from utils.store import Session, Store

__all__ = ["QueueFull", "RateLimited", "RunEvent", "RunManager", "StartedRun"]

log = structlog.get_logger()

ANNOUNCE_DELAY = 0.01  # seconds after a run takes the slot before the others hear they moved
UNQUEUED = "the queue is unavailable; try again shortly"


@dataclass(frozen=True)
class StartedRun:
    run_id: str
    message_id: int
    session_id: str


class RateLimited(Exception):
    """429: the session asked too often; the message was not stored."""

    def __init__(self, line: str, retry_after: float) -> None:
        super().__init__(line)
        self.retry_after = retry_after


class QueueFull(Exception):
    """503: the queue is full (or the server is draining); nothing was stored."""

    def __init__(self, line: str, retry_after: float) -> None:
        super().__init__(line)
        self.retry_after = retry_after


class RunManager:
    """One per server process (`app.state.runs`)."""

    def __init__(self, app: App, metrics: ServeMetrics | None = None) -> None:
        self.app = app
        self.settings = app.settings
        self.metrics = metrics
        self.sharing = connect(self.settings)
        self.events = EventLog(lambda: app.open_store(), self.sharing.bus)
        self.queue = self.sharing.queue
        self._lock = threading.RLock()
        self._running: dict[str, RunSink] = {}
        self._service: float | None = None  # recent seconds per run (moving average)
        self._workers: list[threading.Thread] = []
        self._announcer = Announcer(self._announce_now, ANNOUNCE_DELAY,
                                    self.events.close_thread_store)  # fmt: skip
        serve = self.settings.serve
        self._sweeper = Sweeper(self.events, serve.events_keep_seconds, serve.sweep_seconds)
        queue = self.settings.queue
        self._keeper = Keeper(self.events, self.queue, self._running_ids,
                              queue.heartbeat_seconds, queue.ticket_ttl_seconds)  # fmt: skip
        self.draining = False

    # -- life -----------------------------------------------------------------------------
    def open(
        self, loop: asyncio.AbstractEventLoop,
        worker: Callable[[RunManager, str], threading.Thread],
    ) -> None:  # fmt: skip
        """Bind the event loop, end runs a dead server left, start the workers
        (`worker(manager, name)`: serve/worker.py's `Worker`)."""
        self.events.bind_loop(loop)
        self.events.bus.start(self.events.wake_here, self._stop_here)
        if self.queue.shared:
            self._keeper.start()  # other replicas may be running the unfinished runs
        else:
            recover(self.events)
        self._announcer.start()
        self._sweeper.start()
        queue = self.settings.queue
        # one more worker than slots when the gate guards Ollama: it waits at the door with the
        # next run ready while the last one is still being saved, so the slot never idles
        slots = sum(h.slots for h in self.app.host_specs()) or queue.slots  # all hosts' slots
        for n in range(max(1, slots) + (1 if queue.enabled else 0)):
            thread = worker(self, f"run-worker-{n + 1}")
            thread.start()
            self._workers.append(thread)

    def drain(self, seconds: float) -> None:
        """SIGTERM: take no more runs, end the waiting ones (kept, interrupted), let running
        ones finish for `seconds`, then end them `partial`; wait for the workers."""
        self.draining = True
        for job in self.queue.drain():  # none when other replicas will serve them
            self._end_waiting(job, "the server is shutting down")
        with self._lock:
            at_door = [sink for sink in self._running.values() if not sink.granted]
        for sink in at_door:  # not begun: ended as the ones still waiting, at the slot's grant
            sink.stop("drain")
        deadline = time.monotonic() + seconds
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            late = list(self._running.values())
        for sink in late:
            sink.stop("drain")
        for worker in self._workers:
            worker.join(self.settings.ollama.chunk_timeout + 5)
        log.info("serve_drained", cut=len(late))

    def close(self) -> None:
        self._announcer.stop()
        self._sweeper.stop()
        self._keeper.stop()
        self.sharing.close()
        self.events.close_thread_store()

    # -- runs -----------------------------------------------------------------------------
    def start(
        self, *, session_id: str, content: str, model: str | None = None,
        options: dict[str, Any] | None = None, collection: str | None = None,
        key_id: str | None = None, user: str | None = None,
    ) -> StartedRun:  # fmt: skip
        """Check the limits, commit the person's message and the run, queue it."""
        store = self.events.store()
        try:
            if self.draining:
                raise QueueFull("the server is shutting down; try again shortly", 5.0)
            self._check_rate(store, session_id)  # the session's own limit first
            if self.waiting() >= self.settings.serve.max_queue:
                wait = max(1.0, (self._service or 5.0) / max(1, self.settings.queue.slots))
                line = f"the queue is full ({self.settings.serve.max_queue} waiting)"
                raise QueueFull(line, wait)
        except (QueueFull, RateLimited) as exc:
            if self.metrics is not None:
                self.metrics.rejected.labels("503" if isinstance(exc, QueueFull) else "429").inc()
            log.info("run_refused", session_id=session_id, reason=str(exc))
            raise
        session = store.get_session(session_id)
        if session is None:
            raise SessionNotFound(f"no session '{session_id}'")
        run_id = uuid.uuid4().hex[:16]
        message = store.append_message(session_id, "user", content, request_id=run_id,
                                       model=model or session.model)  # fmt: skip
        store.create_run(run_id, session_id, message.id, key_id)
        job = Job(run_id, session_id, message.id, content, model, options, collection, key_id,
                  time.monotonic(), user)  # fmt: skip
        with self._lock:
            try:
                self.queue.put(job)
            except Exception as exc:  # the shared line is unreachable: the message is kept
                log.error("run_queue_failed", run_id=run_id, error=type(exc).__name__)
                end_unstarted(self.events, run_id, session_id, UNQUEUED)
                raise QueueFull(UNQUEUED, 5.0) from exc
            self._announce()
        log.info("run_queued", run_id=run_id, session_id=session_id, message_id=message.id)
        return StartedRun(run_id, message.id, session_id)

    def create_session(
        self, *, model: str | None = None, system: str | None = None, title: str | None = None,
        options: dict[str, Any] | None = None, key_id: str | None = None,
    ) -> Session:  # fmt: skip
        """A new session (`origin` api) that belongs to `key_id`."""
        store = self.events.store()
        session = store.create_session(model or self.settings.model, title=title, system=system,
                                       options=options, origin="api")  # fmt: skip
        if key_id is not None:
            store.set_session_key(session.id, key_id)
        return replace(session, key_id=key_id)

    def _check_rate(self, store: Store, session_id: str) -> None:
        from utils.queue import refusal_line, retry_after
        from utils.store import iso

        limits = self.settings
        per_minute = limits.rate_limit.turns_per_minute or limits.serve.turns_per_minute
        if per_minute <= 0:
            return
        now = store.clock.now()
        shared = self.app.turn_limit()  # Redis (queue.url): one limit for every replica
        if shared is not None:
            wait = shared.admit(session_id, per_minute, now)
        else:
            times = [_epoch(t) for t in store.turns_since(session_id, iso(now - 60.0))]
            wait = retry_after(times, now, per_minute)
        if wait is not None:
            raise RateLimited(refusal_line(per_minute, wait), max(1.0, wait))

    def follow(self, run_id: str, after: int | None = None) -> AsyncIterator[RunEvent]:
        """Replay the stored events after `after` (all when None), then live until `done`."""
        return self.events.follow(run_id, after or 0)

    def cancel(self, run_id: str) -> bool:
        """End a run `interrupted` (its reply kept); False if it had already ended."""
        job = self.queue.remove(run_id)
        if job is not None:
            self._end_waiting(job, "cancelled before its turn")
            return True
        if self._stop_here(run_id):
            return True
        if not self.queue.shared:
            return False
        run = self.events.store().get_run(run_id)
        if run is None or run.status not in ("queued", "running"):
            return False
        self.events.bus.cancel(run_id)  # running on another replica
        return True

    def _stop_here(self, run_id: str) -> bool:
        with self._lock:
            sink = self._running.get(run_id)
        if sink is None:
            return False
        sink.stop("cancel")
        return True

    def _running_ids(self) -> list[str]:
        with self._lock:
            return list(self._running)

    # -- for the workers --------------------------------------------------------------------
    def next_job(self, sink_model: str) -> tuple[Job, RunSink] | None:
        """The next run for a worker (blocks); None once the queue is closed. Taken from the
        queue and put at Ollama's door in one step, so no announcement sees it in neither."""
        while True:
            if not self._ready():
                continue
            with self._lock:
                if self.queue.closed:
                    return None
                taken = self._take()
                if taken is None:
                    continue
                job, last = taken
                run_id = job.run_id
                sink = RunSink(self.events, run_id, job.model or sink_model,
                               last_position=last, on_start=self._slot_taken)  # fmt: skip
                self._running[run_id] = sink
                self._announce()
            if self.metrics is not None:
                self.metrics.wait_seconds.observe(time.monotonic() - job.queued_at)
            return job, sink

    def _ready(self) -> bool:
        try:
            return self.queue.wait_ready(0.5)
        except Exception as exc:  # the shared line is away for a moment: the worker stays
            log.warning("run_take_failed", error=type(exc).__name__)
            time.sleep(0.5)
            return False

    def _take(self) -> tuple[Job, int | None] | None:
        try:
            return self.queue.take()
        except Exception as exc:
            log.warning("run_take_failed", error=type(exc).__name__)
            return None

    def waiting(self) -> int:
        """Runs not yet begun: in the queue, or at Ollama's door with a worker."""
        with self._lock:
            return len(self.queue) + sum(1 for k in self._running.values() if not k.granted)

    def _slot_taken(self) -> None:
        self._announcer.poke()  # one fewer at Ollama's door: everyone behind moves up, soon

    def _announce_now(self) -> None:
        with self._lock:
            running = list(self._running.values())
        for sink in running:
            sink.flush()  # `started`, owed since the slot was taken
        with self._lock:
            self._announce()

    def finished(self, run_id: str, seconds: float) -> None:
        try:
            self.queue.release(run_id)  # its end is stored: no replica need end it
        except Exception as exc:  # the lease runs out by itself; the run's end is stored
            log.warning("run_release_failed", run_id=run_id, error=type(exc).__name__)
        with self._lock:
            self._running.pop(run_id, None)
            old = self._service
            self._service = seconds if old is None else 0.7 * old + 0.3 * seconds
            self._announce()  # estimates follow the service time

    def _end_waiting(self, job: Job, why: str) -> None:
        with self._lock:
            self._announce()
        end_unstarted(self.events, job.run_id, job.session_id, why)
        if self.metrics is not None:
            self.metrics.runs.labels("cancelled").inc()

    def _announce(self) -> None:
        """`queued` for each run not yet begun whose position changed (callers hold the lock)."""
        try:
            items, depth = queued_events(self.queue, self._running, self._service,
                                         self.settings.queue.slots)  # fmt: skip
            self.events.append_each(items)
            if self.metrics is not None:
                self.metrics.queue_depth.set(depth)
        except Exception as exc:  # positions are news (the shared line may be away): go on
            log.warning("run_positions_failed", error=type(exc).__name__)


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text).timestamp()
