"""Scripted faults: what goes wrong on the next request(s) to an endpoint.

Script a fault with ``StandIn.script_fault(endpoint, fault, count=1)``; ``endpoint`` is
``"chat"``, ``"generate"``, ``"embed"``, ``"pull"``, ``"show"``, ``"tags"``, ``"ps"``,
``"delete"``, ``"version"`` or ``"*"`` (any).  Each matching request consumes one fault,
first scripted first used.  Kinds (build them with the constructors)::

    Fault.status(500, "model requires more system memory ...")  # error before any byte
    Fault.error_line(after=3, message="boom")  # {"error"} line after 3 chunks, no done
    Fault.cut(after=3)         # close the socket mid chunked body (RemoteProtocolError)
    Fault.eof(after=3)         # end the body cleanly after 3 chunks, no done chunk
    Fault.stall(seconds=1.0)   # wait before the first byte (client read timeout)
    Fault.stall_mid(after=2, seconds=1.0)  # wait after 2 chunks

For non-streamed requests ``error_line`` answers 500, ``cut`` closes the connection
without a response, ``stall_mid`` stalls before the response and ``eof`` is ignored.
Refusing connections is not a per-request fault: use ``StandIn.go_down()`` /
``StandIn.come_up()`` (same port) or ``StandIn.down_for(seconds)``.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["status", "error_line", "cut", "eof", "stall", "stall_mid"]


@dataclass(frozen=True)
class Fault:
    """One scripted fault; see the module docstring."""

    kind: FaultKind
    after: int = 0
    seconds: float = 0.0
    status_code: int = 500
    message: str = "stand-in scripted failure"

    @classmethod
    def status(cls, status_code: int = 500, message: str = "stand-in scripted failure") -> Fault:
        """Answer ``status_code`` with ``{"error": message}`` before any stream starts."""
        return cls("status", status_code=status_code, message=message)

    @classmethod
    def error_line(cls, after: int = 0, message: str = "stand-in scripted failure") -> Fault:
        """Send ``{"error": message}`` after ``after`` chunks and end the stream."""
        return cls("error_line", after=after, message=message)

    @classmethod
    def cut(cls, after: int = 0) -> Fault:
        """Close the connection abruptly after ``after`` chunks."""
        return cls("cut", after=after)

    @classmethod
    def eof(cls, after: int = 0) -> Fault:
        """Terminate the chunked body cleanly after ``after`` chunks, without ``done``."""
        return cls("eof", after=after)

    @classmethod
    def stall(cls, seconds: float) -> Fault:
        """Wait ``seconds`` before sending anything."""
        return cls("stall", seconds=seconds)

    @classmethod
    def stall_mid(cls, after: int, seconds: float) -> Fault:
        """Wait ``seconds`` after ``after`` chunks, then continue."""
        return cls("stall_mid", after=after, seconds=seconds)


class FaultScript:
    """Thread-safe FIFO of ``(endpoint, fault)`` pairs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[tuple[str, Fault]] = deque()

    def push(self, endpoint: str, fault: Fault, count: int = 1) -> None:
        """Script ``fault`` for the next ``count`` requests to ``endpoint``."""
        with self._lock:
            self._queue.extend((endpoint, fault) for _ in range(count))

    def take(self, endpoint: str) -> Fault | None:
        """Remove and return the first fault scripted for ``endpoint`` (or ``"*"``)."""
        with self._lock:
            for item in self._queue:
                if item[0] in (endpoint, "*"):
                    self._queue.remove(item)
                    return item[1]
        return None

    def clear(self) -> None:
        """Forget every scripted fault."""
        with self._lock:
            self._queue.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)
