"""Turns per minute per session through Redis: several processes and serve replicas share one
limit. A sliding window per session (a sorted set of admitted turns scored by the Redis server's
time), checked and counted in one script, so two replicas cannot both admit the last turn.
The set expires a window after its newest turn (a counter, not history: nothing a person said).
A Redis that fails after start-up limits nothing (logged once as `rate_limit_unavailable`),
as a broken queue lets requests through."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import structlog

from utils.queue.rate_limit import WINDOW_SECONDS
from utils.queue.redis_tickets import NAMESPACE, describe_url

log = structlog.get_logger()

if TYPE_CHECKING:
    import redis

# KEYS: the session's set. ARGV: per_minute, window seconds, a unique member.
# Returns nil when admitted (and counted), else the seconds until one more turn is allowed.
ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
  return false
end
local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return tostring(math.max(0, tonumber(oldest[2]) + window - now))
"""


class RedisTurnLimit:
    """A `TurnLimit` in Redis (the `now` it is given is unused: the server's clock decides)."""

    def __init__(self, client: redis.Redis, url: str, namespace: str = NAMESPACE) -> None:
        self.client = client
        self.url = url
        self.namespace = namespace
        self._admit = client.register_script(ADMIT)
        self.failed = False

    def admit(self, session_id: str, per_minute: int, now: float) -> float | None:
        import redis

        if per_minute <= 0:
            return None
        key = f"{self.namespace}turns:{session_id}"
        try:
            wait = self._admit(keys=[key], args=[per_minute, WINDOW_SECONDS, uuid.uuid4().hex])
        except redis.RedisError as exc:
            if not self.failed:
                self.failed = True
                log.info("rate_limit_unavailable", url=describe_url(self.url), error=str(exc),
                         effect="turns are not limited while Redis cannot be reached")  # fmt: skip
            return None
        return None if wait is None else float(wait)

    def close(self) -> None:
        self.client.close()
