"""The Redis queue's tickets: connecting, reading them (as `TicketRow`s) and removing the ones
that no longer stand, for `RedisGate`, `queue status` / `queue clear --stale` and `doctor`.

A ticket stands by the same rules as in `queue.db` (`tickets.py`): its process's life when it is
on this machine, else its heartbeat against the TTL (on the Redis server's clock).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from utils.queue.redis_lua import PEEK, REAP, Keys
from utils.queue.tickets import TicketRow, Verdict

if TYPE_CHECKING:
    import redis

NAMESPACE = "pocketchat:queue:"


class QueueUnavailable(OSError):
    """The Redis queue cannot be reached or used; the message is one line for the person."""

    def user_line(self) -> str:
        return str(self)


def describe_url(url: str) -> str:
    """The URL without a password, to name it in lines and logs."""
    from urllib.parse import urlsplit

    split = urlsplit(url)
    if split.password is None:
        return url
    netloc = split.netloc.rsplit("@", 1)[1]
    user = f"{split.username}:***@" if split.username else ":***@"
    return split._replace(netloc=user + netloc).geturl()


def unavailable(url: str, exc: BaseException) -> QueueUnavailable:
    return QueueUnavailable(
        f"the queue at {describe_url(url)} cannot be reached ({exc}); start Redis there, "
        "fix queue.url (or POCKETCHAT_QUEUE_URL), or set queue.url to null for the local queue"
    )


def connect(url: str, *, timeout: float = 5.0) -> redis.Redis:
    """A client for `redis://`, `rediss://` or `unix://` URLs (decoded strings), checked with a
    PING: an unreachable or refusing server is one `QueueUnavailable` line."""
    import redis

    try:
        client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=timeout,
                                      socket_connect_timeout=timeout)  # fmt: skip
    except ValueError as exc:
        raise QueueUnavailable(
            f"queue.url {describe_url(url)!r} is not a Redis URL ({exc}); give "
            "redis://HOST:6379/0 or unix:///path/redis.sock"
        ) from None
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        raise unavailable(url, exc) from None
    return client


def _row(raw: list[Any]) -> TicketRow:
    ticket_id, *pairs = raw
    fields = dict(zip(pairs[::2], pairs[1::2], strict=True))

    def text(name: str) -> str | None:
        return fields.get(name) or None

    def number(name: str) -> float | None:
        value = text(name)
        return float(value) if value is not None else None

    pid = text("pid")
    return TicketRow(
        id=int(ticket_id), host=fields.get("host", ""), owner=fields.get("owner", ""),
        state=fields.get("state", "waiting"), created_at=number("created_at") or 0.0,
        granted_at=number("granted_at"), heartbeat_at=number("heartbeat_at") or 0.0,
        pid=int(pid) if pid is not None else None, started=text("started"),
        machine=text("machine"),
    )  # fmt: skip


class RedisTickets:
    """The tickets of one namespace, read and reaped with one script each."""

    def __init__(self, client: redis.Redis, namespace: str = NAMESPACE) -> None:
        self.client = client
        self.namespace = namespace
        self._peek = client.register_script(PEEK)
        self._reap = client.register_script(REAP)

    def keys(self, host: str) -> Keys:
        return Keys(self.namespace, host)

    def hosts(self) -> list[str]:
        return sorted(str(h) for h in self.client.smembers(Keys(self.namespace, "").hosts))

    def read(self, host: str, before: int | None = None) -> tuple[list[TicketRow], float]:
        """(the host's tickets in line order, ahead of ticket `before` if given; server now)."""
        top = f"({before}" if before is not None else "+inf"
        now, *rows = self._peek(keys=[self.keys(host).line], args=[self.namespace, top])
        return [_row(r) for r in rows], float(now)

    def read_all(self) -> tuple[list[TicketRow], float]:
        """Every ticket, by host then line order, and the server's time."""
        out: list[TicketRow] = []
        now = float(self.client.time()[0])
        for host in self.hosts():
            rows, now = self.read(host)
            out += rows
        return out, now

    def remove_stale(
        self, host: str, rows: list[TicketRow], now: float, ttl: float
    ) -> list[tuple[TicketRow, Verdict]]:
        """Remove those of `rows` that no longer stand (unless they beat since); say which."""
        stale = [(row, v) for row in rows if not (v := row.judge(now, ttl)).stands]
        if not stale:
            return []
        args: list[str] = [self.namespace]
        for row, _ in stale:
            args += [str(row.id), repr(row.heartbeat_at) if row.heartbeat_at else ""]
        keys = self.keys(host)
        removed = {int(i) for i in self._reap(keys=[keys.line, keys.holding, keys.wake],
                                              args=args)}  # fmt: skip
        return [(row, v) for row, v in stale if row.id in removed]
