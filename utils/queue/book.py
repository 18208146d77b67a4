"""The queue's tickets as `queue status`, `queue clear --stale` and `doctor` see them, whichever
queue is in use: `queue.db` (`SqliteBook`) or Redis (`RedisBook`), behind `TicketBook`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from utils.queue.tickets import TicketRow, Verdict, open_queue, read_tickets, remove_stale

if TYPE_CHECKING:
    from utils.clock import Clock
    from utils.queue.redis_tickets import RedisTickets

Removed = list[tuple[TicketRow, Verdict]]
T = TypeVar("T")


class TicketBook(Protocol):
    where: str  # the queue's file or URL, for lines

    def read(self) -> tuple[list[TicketRow], float]:
        """Every ticket (by host, in line order) and the queue's clock now."""
        ...

    def clear_stale(self, ttl: float) -> tuple[Removed, int]:
        """Remove the tickets that no longer stand: (the removed, how many stand)."""
        ...

    def close(self) -> None: ...


class SqliteBook:
    def __init__(self, path: Path, clock: Clock) -> None:
        self.where = str(path)
        self.clock = clock
        self.conn = open_queue(path)

    def read(self) -> tuple[list[TicketRow], float]:
        return read_tickets(self.conn), self.clock.now()

    def clear_stale(self, ttl: float) -> tuple[Removed, int]:
        from utils.store import immediate

        with immediate(self.conn):
            removed = remove_stale(self.conn, self.clock.now(), ttl)
            left = int(self.conn.execute("SELECT count(*) FROM tickets").fetchone()[0])
        return removed, left

    def close(self) -> None:
        self.conn.close()


class RedisBook:
    def __init__(self, tickets: RedisTickets, where: str) -> None:
        self.where = where
        self.tickets = tickets

    def read(self) -> tuple[list[TicketRow], float]:
        return self._guard(self.tickets.read_all)

    def clear_stale(self, ttl: float) -> tuple[Removed, int]:
        def clear() -> tuple[Removed, int]:
            removed: Removed = []
            left = 0
            for host in self.tickets.hosts():
                rows, now = self.tickets.read(host)
                gone = self.tickets.remove_stale(host, rows, now, ttl)
                removed += gone
                left += len(rows) - len(gone)
            return removed, left

        return self._guard(clear)

    def close(self) -> None:
        self.tickets.client.close()

    def _guard(self, fn: Callable[[], T]) -> T:
        import redis

        from utils.queue.redis_tickets import unavailable

        try:
            return fn()
        except redis.RedisError as exc:
            raise unavailable(self.where, exc) from None


def open_book(url: str | None, path: Path, clock: Clock) -> TicketBook | None:
    """The tickets of the queue in use; None when it is `queue.db` and there is none yet.
    Raises `QueueUnavailable` (Redis) or `sqlite3.Error`/`OSError` (the file)."""
    if url:
        from utils.queue.redis_tickets import RedisTickets, connect, describe_url

        return RedisBook(RedisTickets(connect(url)), describe_url(url))
    if not path.exists():
        return None
    return SqliteBook(path, clock)
