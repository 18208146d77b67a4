"""The queue: who may call Ollama now, and how often a session may ask.

`Gate`/`Ticket` are the contract (FIFO per Ollama host, positions while waiting; a ticket lives
as long as its process); `SqliteGate` implements it machine-wide over `<data_dir>/queue.db`,
whose tickets `queue status` / `queue clear --stale` and `doctor` read through `tickets.py`;
`RedisGate` implements it across machines over one Redis (`queue.url`, `redis_tickets.py`).
Also turns per minute per session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from utils.lazy import lazy_exports

if TYPE_CHECKING:
    from utils.queue.book import TicketBook, open_book
    from utils.queue.contract import (
        Gate,
        GateClosed,
        Ticket,
        TicketLost,
        WaitCallback,
        host_key,
    )
    from utils.queue.fallback import FreeTicket, Unqueued
    from utils.queue.gate import SqliteGate, SqliteTicket
    from utils.queue.rate_limit import (
        WINDOW_SECONDS,
        StoreTurnLimit,
        TurnLimit,
        recent_turn_times,
        refusal_line,
        retry_after,
    )
    from utils.queue.redis_gate import RedisGate
    from utils.queue.redis_rate import RedisTurnLimit
    from utils.queue.redis_ticket import RedisTicket
    from utils.queue.redis_tickets import QueueUnavailable, RedisTickets, connect, describe_url
    from utils.queue.tickets import TicketRow, Verdict, open_queue, read_tickets, remove_stale

__all__ = [
    "WINDOW_SECONDS",
    "FreeTicket",
    "Gate",
    "GateClosed",
    "QueueUnavailable",
    "RedisGate",
    "RedisTicket",
    "RedisTickets",
    "RedisTurnLimit",
    "SqliteGate",
    "SqliteTicket",
    "StoreTurnLimit",
    "Ticket",
    "TicketBook",
    "TicketLost",
    "TicketRow",
    "TurnLimit",
    "Unqueued",
    "Verdict",
    "WaitCallback",
    "connect",
    "describe_url",
    "host_key",
    "open_book",
    "open_queue",
    "read_tickets",
    "recent_turn_times",
    "refusal_line",
    "remove_stale",
    "retry_after",
]  # fmt: skip

__getattr__ = lazy_exports(
    __name__,
    {
        "TicketBook": "book",
        "open_book": "book",
        "FreeTicket": "fallback",
        "Unqueued": "fallback",
        "Gate": "contract",
        "GateClosed": "contract",
        "Ticket": "contract",
        "TicketLost": "contract",
        "WaitCallback": "contract",
        "host_key": "contract",
        "SqliteGate": "gate",
        "SqliteTicket": "gate",
        "RedisGate": "redis_gate",
        "RedisTicket": "redis_ticket",
        "QueueUnavailable": "redis_tickets",
        "RedisTickets": "redis_tickets",
        "connect": "redis_tickets",
        "describe_url": "redis_tickets",
        "TicketRow": "tickets",
        "Verdict": "tickets",
        "read_tickets": "tickets",
        "remove_stale": "tickets",
        "open_queue": "tickets",
        "WINDOW_SECONDS": "rate_limit",
        "TurnLimit": "rate_limit",
        "StoreTurnLimit": "rate_limit",
        "RedisTurnLimit": "redis_rate",
        "recent_turn_times": "rate_limit",
        "refusal_line": "rate_limit",
        "retry_after": "rate_limit",
    },
)
