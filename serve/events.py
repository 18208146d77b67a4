"""A run's event log: appended by whichever thread has news, followed by the HTTP streams.

Every thread writes through its own store connection (SQLite connections stay in the thread
that opened them). After an append, the followers waiting on the event loop are woken with
`loop.call_soon_threadsafe`, and the other replicas through the bus (serve/bus.py); a follower
re-reads the log from its last id, so a slow client never slows the worker, a client that
falls behind catches up from the store, and a run executing on another replica streams live.

A log that was swept (serve/retention.py: only its `error`/`done` kept) replays from what is
stored: `started {replayed: true}`, one `delta` with the reply's stored text (none when empty),
then the kept `error` and `done`, numbered on from the log's last id N (N+1, N+2, …): ids only
increase, and a Last-Event-ID from before the sweep gets the whole replay.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from serve.bus import Bus, LocalBus
from utils.store import Store

TERMINAL = "done"  # the last event of every run


@dataclass(frozen=True)
class RunEvent:
    """One event of a run's append-only log."""

    id: int  # increasing within the run, from 1
    kind: str  # queued | loading | started | delta | notice | done | error
    data: dict[str, Any]


class EventLog:
    def __init__(self, open_store: Callable[[], Store], bus: Bus | None = None) -> None:
        self._open_store = open_store
        self.bus: Bus = bus or LocalBus()
        self._local = threading.local()
        self._stores: list[Store] = []
        self._stores_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: dict[str, set[asyncio.Event]] = {}

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def store(self) -> Store:
        """This thread's store."""
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = self._open_store()
            self._local.store = store
            with self._stores_lock:
                self._stores.append(store)
        return store

    def append(self, run_id: str, kind: str, data: dict[str, Any]) -> int:
        (event_id,) = self.store().append_run_events(run_id, [(kind, data)])
        self._wake([run_id])
        return event_id

    def append_each(self, items: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Events of several runs (run_id, kind, data) in one commit."""
        if not items:
            return
        store = self.store()

        def write(_conn: object) -> None:
            for run_id, kind, data in items:
                store.append_run_events(run_id, [(kind, data)])

        store.transaction(write)
        self._wake([run_id for run_id, _kind, _data in items])

    def _wake(self, run_ids: Sequence[str]) -> None:
        self.wake_here(run_ids)
        self.bus.announce(sorted(set(run_ids)))

    def wake_here(self, run_ids: Sequence[str]) -> None:
        """Wake this process's followers of `run_ids` (from any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody follows
            loop.call_soon_threadsafe(self._notify, tuple(set(run_ids)))

    def _notify(self, run_ids: tuple[str, ...]) -> None:
        for run_id in run_ids:
            for waiter in self._waiters.get(run_id, ()):
                waiter.set()

    async def follow(self, run_id: str, after: int = 0) -> AsyncIterator[RunEvent]:
        """The run's events after `after` from the store, then live until `done`."""
        swept = replay(self.store(), run_id)
        if swept is not None:
            for event in swept:
                if event.id > after:
                    yield event
            return
        if after > 0:  # already past the `done`: nothing will come
            tail = self.store().run_events(run_id, after - 1, 1)
            if tail and tail[0].id == after and tail[0].kind == TERMINAL:
                return
        waiter = asyncio.Event()
        self._waiters.setdefault(run_id, set()).add(waiter)
        try:
            while True:
                waiter.clear()  # cleared before reading: an append after the read wakes us
                events = self.store().run_events(run_id, after)
                for stored in events:
                    after = stored.id
                    yield RunEvent(stored.id, stored.kind, stored.data)
                    if stored.kind == TERMINAL:
                        return
                if not events:
                    await self._wait(waiter)
        finally:
            waiters = self._waiters.get(run_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[run_id]

    async def _wait(self, waiter: asyncio.Event) -> None:
        recheck = self.bus.recheck_seconds
        if recheck is None:
            await waiter.wait()
            return
        with contextlib.suppress(TimeoutError):  # a wake-up lost between replicas
            await asyncio.wait_for(waiter.wait(), recheck)

    def adopt(self, store: Store) -> None:
        """Use `store` (opened by this thread, closed by its owner) for this thread."""
        self._local.store = store

    def forget_thread_store(self) -> None:
        self._local.store = None

    def close_thread_store(self) -> None:
        """Close this thread's store (a thread's last call)."""
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            return
        self._local.store = None
        with self._stores_lock:
            if store in self._stores:
                self._stores.remove(store)
                store.close()


def replay(store: Store, run_id: str) -> list[RunEvent] | None:
    """The whole replay of a run whose log was swept; None when its log is whole (a log
    starts at id 1; a swept one keeps only its end)."""
    first = store.run_events(run_id, 0, 1)
    if not first or first[0].id == 1:
        return None
    kept = store.run_events(run_id, 0)
    run = store.get_run(run_id)
    reply = store.get_message(run.reply_id) if run and run.reply_id is not None else None
    items: list[tuple[str, dict[str, Any]]] = [("started", {"replayed": True})]
    if reply is not None and reply.content:
        items.append(("delta", {"text": reply.content}))
    items += [(event.kind, event.data) for event in kept]
    last = kept[-1].id
    return [RunEvent(last + n, kind, data) for n, (kind, data) in enumerate(items, 1)]
