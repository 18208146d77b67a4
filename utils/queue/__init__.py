"""The queue: who may call Ollama now, and how often a session may ask.

`Gate`/`Ticket` are the contract (FIFO per Ollama host, positions while waiting); `SqliteGate`
implements it machine-wide over `<data_dir>/queue.db`. Also turns per minute per session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from utils.lazy import lazy_exports

if TYPE_CHECKING:
    from utils.queue.fallback import FreeTicket, Unqueued
    from utils.queue.gate import Gate, SqliteGate, SqliteTicket, Ticket, WaitCallback, host_key
    from utils.queue.rate_limit import WINDOW_SECONDS, recent_turn_times, refusal_line, retry_after

__all__ = [
    "WINDOW_SECONDS",
    "FreeTicket",
    "Gate",
    "SqliteGate",
    "SqliteTicket",
    "Ticket",
    "Unqueued",
    "WaitCallback",
    "host_key",
    "recent_turn_times",
    "refusal_line",
    "retry_after",
]  # fmt: skip

__getattr__ = lazy_exports(
    __name__,
    {
        "FreeTicket": "fallback",
        "Unqueued": "fallback",
        "Gate": "gate",
        "SqliteGate": "gate",
        "SqliteTicket": "gate",
        "Ticket": "gate",
        "WaitCallback": "gate",
        "host_key": "gate",
        "WINDOW_SECONDS": "rate_limit",
        "recent_turn_times": "rate_limit",
        "refusal_line": "rate_limit",
        "retry_after": "rate_limit",
    },
)
