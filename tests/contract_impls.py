"""The implementations the contract suites run against (`tests/test_store_contract.py`,
`tests/test_gate_contract.py`). A store or gate adds its name to the list and a branch to the
factory; the suites run it unchanged. `postgres`: a new database per store on the test process's
private server (tests/pg_server.py); "redis" gates use the session's private Redis
(tests/conftest.py `redis_url`)."""

from __future__ import annotations

from pathlib import Path

from utils.clock import Clock
from utils.queue import Gate
from utils.store import Store

STORES = ["sqlite", "postgres"]
GATES = ["sqlite", "redis"]


def open_store(impl: str, where: Path, clock: Clock) -> Store:
    """A fresh, migrated store whose data lives under `where` (a new directory)."""
    if impl == "sqlite":
        from utils.store import SqliteStore

        return SqliteStore.open(where / "pocketchat.db", clock)
    if impl == "postgres":  # a new database on the test process's private server
        from tests.pg_server import fresh_database
        from utils.store.postgres.pg_store import PostgresStore

        return PostgresStore.open(fresh_database(), clock)
    raise ValueError(f"unknown store implementation {impl!r}")


def open_gate(
    impl: str, where: Path, host: str, clock: Clock, *, slots: int = 1, ttl: float = 10.0,
    heartbeat: float = 1.0, poll: float = 0.05,
) -> Gate:  # fmt: skip
    """A gate for `host`, shared by every process that opens it with the same `where`."""
    if impl == "sqlite":
        from utils.queue import SqliteGate

        return SqliteGate(where / "queue.db", host, clock, slots=slots, ttl=ttl,
                          heartbeat=heartbeat, poll=poll)  # fmt: skip
    if impl == "redis":  # the session's private Redis (tests/conftest.py), a namespace per `where`
        import os

        from tests.redis_server import URL_VAR
        from utils.queue import RedisGate

        url, space = os.environ[URL_VAR], namespace_for(where)
        return RedisGate(url, host, clock, slots=slots, ttl=ttl, heartbeat=heartbeat, poll=poll,
                         namespace=space)  # fmt: skip
    raise ValueError(f"unknown gate implementation {impl!r}")


def namespace_for(where: Path) -> str:
    """The Redis key namespace of a test's directory: tests sharing one server do not meet."""
    import hashlib

    return f"test:{hashlib.sha1(str(where.resolve()).encode()).hexdigest()[:12]}:"
