"""What the stand-in remembers about each request, for test assertions."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestRecord:
    """One HTTP request and its outcome.

    ``outcome`` is ``"pending"`` until the request ends, then one of ``"ok"``,
    ``"error"`` (4xx/5xx or an error line), ``"busy"`` (503), ``"cancelled"`` (client
    went away mid-stream), ``"cut"``, ``"eof"``, ``"aborted"`` (server stopped).
    """

    method: str
    path: str
    body: Any = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    status: int | None = None
    outcome: str = "pending"
    model: str | None = None
    streamed: bool = False
    truncated: bool = False
    kept_messages: tuple[int, ...] = ()
    prompt_tokens: int = 0
    prompt_eval_count: int = 0
    eval_count: int = 0
    load_duration: int = 0
    num_ctx: int | None = None
    done_event: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def cancelled(self) -> bool:
        """True when the client closed the connection mid-stream."""
        return self.outcome == "cancelled"

    def finish(self, outcome: str, status: int | None = None) -> None:
        """Mark the request as ended (first call wins)."""
        if self.done_event.is_set():
            return
        self.outcome = outcome
        if status is not None:
            self.status = status
        self.finished = time.monotonic()
        self.done_event.set()


class RequestLog:
    """Thread-safe list of ``RequestRecord``; iterate or index like a list."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RequestRecord] = []

    def add(self, record: RequestRecord) -> RequestRecord:
        """Append ``record`` and return it."""
        with self._lock:
            self._items.append(record)
        return record

    def snapshot(self) -> list[RequestRecord]:
        """A copy of the records so far."""
        with self._lock:
            return list(self._items)

    def to(self, path: str) -> list[RequestRecord]:
        """Records whose path is ``path`` (e.g. ``"/api/chat"``)."""
        return [r for r in self.snapshot() if r.path == path]

    def wait_finished(self, timeout: float = 2.0) -> bool:
        """Wait until every request recorded so far has finished."""
        deadline = time.monotonic() + timeout
        for record in self.snapshot():
            if not record.done_event.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def clear(self) -> None:
        """Forget all records."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __getitem__(self, index: int) -> RequestRecord:
        with self._lock:
            return self._items[index]

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.snapshot())
