"""A private Postgres 16 (with pgvector) for the tests: `pgserver` (pip), no root, no service.

`server_url()` starts one server per test process on first use, in its own temp dir, listening
only on a unix socket there; `stop()` (the session fixture in conftest.py, and atexit as a
backstop) stops it and removes the dir, so nothing is left running. `fresh_database()` makes a
new, empty database on it per call, so tests are isolated from one another (also under xdist:
each worker process has its own server).
"""

from __future__ import annotations

import atexit
import secrets
import shutil
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}


def server_url() -> str:
    """The admin URL of this process's server (started on first call)."""
    with _LOCK:
        if "url" not in _STATE:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR not set
                import pgserver

                where = Path(tempfile.mkdtemp(prefix="pc-pg-"))
                server = pgserver.get_server(where / "data", cleanup_mode="stop")  # type: ignore[attr-defined]
            _STATE.update(url=server.get_uri(), server=server, dir=where)
            atexit.register(stop)
        return str(_STATE["url"])


def fresh_database() -> str:
    """The URL of a new, empty database on this process's server."""
    import psycopg

    admin = server_url()
    name = "t_" + secrets.token_hex(6)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}".encode())
    base, _, query = admin.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{quote(name)}?{query}"


def started() -> bool:
    return "url" in _STATE


def data_dir() -> Path | None:
    where = _STATE.get("dir")
    return Path(where) if where else None


def stop() -> None:
    """Stop the server and remove its dir (a no-op when none was started)."""
    with _LOCK:
        server, where = _STATE.pop("server", None), _STATE.pop("dir", None)
        _STATE.pop("url", None)
    if server is not None:
        server.cleanup()
    if where is not None:
        shutil.rmtree(where, ignore_errors=True)
