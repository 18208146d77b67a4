"""The runner slot queue and the loaded-model table (keep_alive, load delays)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .options import FOREVER


class ServerStopping(Exception):
    """Raised inside handlers when the server is going down."""


class Slots:
    """``num_parallel`` generation slots, granted strictly first come, first served.

    ``acquire`` returns ``False`` at once when ``max_queue`` requests already wait (the
    caller answers 503).  ``max_concurrent`` is the most slots ever held at once.
    """

    def __init__(self, num_parallel: int = 1, max_queue: int = 512) -> None:
        self.num_parallel = num_parallel
        self.max_queue = max_queue
        self.max_concurrent = 0
        self._active = 0
        self._waiting: deque[object] = deque()
        self._cond = threading.Condition()

    def acquire(self, stop: threading.Event) -> bool:
        """Wait for a slot; ``False`` if the queue is full; raise if ``stop`` is set."""
        ticket = object()
        with self._cond:
            busy = self._active >= self.num_parallel or self._waiting
            if busy and len(self._waiting) >= self.max_queue:
                return False
            self._waiting.append(ticket)
            try:
                while self._waiting[0] is not ticket or self._active >= self.num_parallel:
                    if stop.is_set():
                        raise ServerStopping
                    self._cond.wait(0.05)
            finally:
                self._waiting.remove(ticket)
                self._cond.notify_all()
            self._active += 1
            self.max_concurrent = max(self.max_concurrent, self._active)
            return True

    def release(self) -> None:
        """Give a slot back."""
        with self._cond:
            self._active -= 1
            self._cond.notify_all()

    @property
    def active(self) -> int:
        """Slots held right now."""
        with self._cond:
            return self._active

    @property
    def waiting(self) -> int:
        """Requests queued right now."""
        with self._cond:
            return len(self._waiting)


@dataclass
class Loaded:
    """A model in memory: its context window and when it expires (monotonic, inf=never)."""

    num_ctx: int
    expires: float | None  # None while a request is using it


class LoadedModels:
    """Which models are loaded; ``needs_load`` decides whether a request pays the load."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, Loaded] = {}

    def begin(self, name: str, num_ctx: int) -> bool:
        """Mark ``name`` in use with ``num_ctx``; return True if it had to be (re)loaded."""
        now = time.monotonic()
        with self._lock:
            current = self._loaded.get(name)
            fresh = (
                current is not None
                and current.num_ctx == num_ctx
                and (current.expires is None or current.expires > now)
            )
            self._loaded[name] = Loaded(num_ctx=num_ctx, expires=None)
            return not fresh

    def finish(self, name: str, keep_alive: float) -> None:
        """Start the keep_alive timer (0 unloads now, inf keeps it forever)."""
        with self._lock:
            if keep_alive <= 0:
                self._loaded.pop(name, None)
            elif name in self._loaded:
                self._loaded[name].expires = time.monotonic() + keep_alive

    def unload(self, name: str) -> None:
        """Drop ``name`` from memory."""
        with self._lock:
            self._loaded.pop(name, None)

    def current(self) -> dict[str, tuple[int, str]]:
        """``name -> (num_ctx, expires_at RFC 3339)`` for models still loaded."""
        now = time.monotonic()
        out: dict[str, tuple[int, str]] = {}
        with self._lock:
            for name, item in self._loaded.items():
                if item.expires is not None and item.expires <= now:
                    continue
                remaining = 300.0 if item.expires is None else item.expires - now
                if remaining == FOREVER:
                    when = datetime(2318, 1, 1, tzinfo=UTC)
                else:
                    when = datetime.now(UTC) + timedelta(seconds=remaining)
                out[name] = (item.num_ctx, when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        return out
