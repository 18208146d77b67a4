"""The runs waiting for an Ollama slot: one line per key, served round-robin across keys.

One key's twenty waiting runs do not starve another key's one: `take` serves the keys in
turn, oldest run first within a key. `order` is the order in which the waiting runs would be
taken now, so a run's position is its place in it (1 = next). Thread-safe.
"""

from __future__ import annotations

import threading
from collections import deque


class FairQueue:
    def __init__(self) -> None:
        self._lines: dict[str | None, deque[str]] = {}
        self._ring: list[str | None] = []  # keys with waiting runs, in the order served
        self._next = 0  # index in _ring of the key served next
        self._cond = threading.Condition()
        self._closed = False

    def __len__(self) -> int:
        with self._cond:
            return sum(len(line) for line in self._lines.values())

    def put(self, run_id: str, key: str | None) -> None:
        with self._cond:
            if key not in self._lines:
                self._lines[key] = deque()
                # a key that joins waits for the ones already in the ring to be served once
                self._ring.insert(self._next, key)
                if len(self._ring) > 1:
                    self._next += 1
            self._lines[key].append(run_id)
            self._cond.notify()

    def remove(self, run_id: str) -> bool:
        with self._cond:
            for key, line in self._lines.items():
                if run_id in line:
                    line.remove(run_id)
                    if not line:
                        self._drop(key)
                    return True
            return False

    @property
    def closed(self) -> bool:
        return self._closed

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until a run waits or the queue is closed; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._closed or bool(self._ring), timeout)

    def take(self, timeout: float | None = None) -> str | None:
        """The next run (round-robin across keys); None when closed or on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._closed or bool(self._ring), timeout):
                return None
            if self._closed:
                return None
            self._next %= len(self._ring)
            key = self._ring[self._next]
            line = self._lines[key]
            run_id = line.popleft()
            if line:
                self._next += 1
            else:
                self._drop(key)
            return run_id

    def order(self) -> list[str]:
        """Waiting runs in the order `take` would return them."""
        with self._cond:
            if not self._ring:
                return []
            lines = [list(self._lines[k]) for k in self._ring]
            start = self._next % len(self._ring)
            lines = lines[start:] + lines[:start]
            out: list[str] = []
            depth = 0
            while len(out) < sum(len(line) for line in lines):
                out.extend(line[depth] for line in lines if depth < len(line))
                depth += 1
            return out

    def drain(self) -> list[str]:
        """Close the queue (every `take` returns None) and return the runs still waiting."""
        with self._cond:
            left = self.order()  # the Condition's lock is re-entrant
            self._closed = True
            self._lines.clear()
            self._ring.clear()
            self._cond.notify_all()
            return left

    def _drop(self, key: str | None) -> None:
        index = self._ring.index(key)
        del self._ring[index]
        del self._lines[key]
        if index < self._next:
            self._next -= 1
        if self._ring:
            self._next %= len(self._ring)
        else:
            self._next = 0
