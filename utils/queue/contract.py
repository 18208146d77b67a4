"""The queue's contract: `Gate` and `Ticket` (Protocols), and the host key that names a line.

`tests/test_gate_contract.py` runs against every implementation (today `SqliteGate`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

WaitCallback = Callable[[int, float | None], None]


class GateClosed(RuntimeError):
    """The gate was closed (the process is leaving) while a ticket was still being taken."""


class TicketLost(RuntimeError):
    """A holder found its ticket gone from the queue: it no longer holds a slot."""

    line = (
        "the reply was stopped: this process lost its place in the queue while it was "
        "suspended (its ticket was cleared), so it no longer holds a slot."
    )


class Ticket(Protocol):
    def release(self) -> None:
        """Leave the queue (idempotent, thread-safe)."""
        ...

    def held(self) -> bool:
        """Whether this ticket still holds its slot. False once released, or once the queue
        no longer has it (cleared while its process was suspended): a holder that sees False
        must not start or go on with a request."""
        ...


class Gate(Protocol):
    """The queue for one Ollama host, shared by every process that opens it. On one machine
    a ticket lives exactly as long as its process: a killed waiter or holder frees the line
    at once, a suspended holder keeps its slot."""

    def acquire(self, on_wait: WaitCallback) -> Ticket:
        """Block until it is this caller's turn; raise KeyboardInterrupt through."""
        ...

    def depth(self) -> int:
        """Live tickets (waiting and holding) for this host right now."""
        ...

    def estimate(self) -> float | None:
        """Typical seconds one hold takes on this host; None before the first."""
        ...

    def close(self) -> None:
        """Release this process's tickets still in line or holding, and stop its thread."""
        ...


def host_key(url: str) -> str:
    """One queue per server: `localhost`, `http://LOCALHOST:11434/` -> `http://localhost:11434`."""
    from urllib.parse import urlsplit

    split = urlsplit(url if "://" in url else f"http://{url}")
    host = (split.hostname or "127.0.0.1").lower()
    port = split.port or (443 if split.scheme == "https" else 11434)
    return f"{split.scheme or 'http'}://{host}:{port}{split.path.rstrip('/')}"
