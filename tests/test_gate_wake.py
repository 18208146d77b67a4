"""A release wakes the waiters of the same queue file in this process at once (serve mode's
worker at Ollama's door), while a waiter in another process still sees it at its next poll."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from utils.clock import SystemClock
from utils.queue import SqliteGate

HOST = "http://127.0.0.1:11434"
SLOW_POLL = 3.0  # a waiter that only polled would wait this long


def test_a_release_in_this_process_lets_the_waiter_in_at_once(tmp_path: Path) -> None:
    path = tmp_path / "queue.db"
    holder_gate = SqliteGate(path, HOST, SystemClock(), poll=SLOW_POLL)
    waiter_gate = SqliteGate(path, HOST, SystemClock(), poll=SLOW_POLL)
    try:
        held = holder_gate.acquire(lambda position, eta: None)
        waiting = threading.Event()
        granted: list[float] = []

        def wait_in_line() -> None:
            ticket = waiter_gate.acquire(lambda position, eta: waiting.set())
            granted.append(time.monotonic())
            ticket.release()

        waiter = threading.Thread(target=wait_in_line)
        waiter.start()
        assert waiting.wait(5), "the second caller never waited"
        time.sleep(0.05)  # it is napping now
        released = time.monotonic()
        held.release()
        waiter.join(5)
        assert granted, "the waiter was never let in"
        assert granted[0] - released < SLOW_POLL / 3, granted[0] - released
    finally:
        holder_gate.close()
        waiter_gate.close()
