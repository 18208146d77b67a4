"""The seam for the shared request queue (one request at a time per Ollama host).

`CallOllama` takes a ticket before it sends a request and the turn releases it when the reply
has ended. Waiting callers hear their position through `on_wait(position, eta_seconds)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

WaitCallback = Callable[[int, float | None], None]


class Ticket(Protocol):
    def release(self) -> None: ...


class Gate(Protocol):
    def acquire(self, on_wait: WaitCallback) -> Ticket:
        """Block until it is this caller's turn; raise KeyboardInterrupt through."""
        ...
