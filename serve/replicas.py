"""One replica or several: what `RunManager` shares, chosen by `queue.url`.

No URL: the in-process line and bus (one `serve` process per database). `redis://…`,
`rediss://…` or `unix://…`: the line of waiting runs, leases and wake-ups live in Redis, so
any number of replicas behind a load balancer share them (docs/serve.md, "Several replicas");
the events themselves are always in the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from serve.bus import Bus, LocalBus
from serve.run_queue import LocalQueue, RunQueue

if TYPE_CHECKING:
    from config.settings import Settings

SCHEMES = ("redis://", "rediss://", "unix://")


class SharingError(Exception):
    """`queue.url` is not usable; the message is one line."""


@dataclass(frozen=True)
class Sharing:
    bus: Bus
    queue: RunQueue

    def close(self) -> None:
        self.bus.close()
        self.queue.close()


def connect(settings: Settings) -> Sharing:
    url = settings.queue.url
    if not url:
        return Sharing(LocalBus(), LocalQueue())
    if not url.startswith(SCHEMES):
        scheme = url.partition(":")[0]  # never the rest: it may hold a password
        raise SharingError(f"queue.url must be redis://, rediss:// or unix://, not {scheme}:")
    import redis

    from serve.redis_bus import RedisBus
    from serve.redis_queue import RedisQueue

    client = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise SharingError(f"cannot reach Redis at queue.url ({exc})") from exc
    queue = settings.queue
    lease, poll = queue.ticket_ttl_seconds, queue.poll_seconds
    return Sharing(RedisBus(client), RedisQueue(client, lease, poll))
