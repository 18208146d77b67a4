"""Run the app on uvicorn, with a SIGTERM that drains before the server stops.

The first SIGTERM (or Ctrl+C) stops taking runs (new ones get 503) and ends the waiting ones,
lets the running replies finish for `serve.drain_seconds`, then ends them `partial` (stored);
only then is uvicorn told to exit, so the event streams see their replies to the end. A second
Ctrl+C exits at once (replies in flight are still kept, marked).
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING

import structlog
import uvicorn

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from serve.runs import RunManager

log = structlog.get_logger()


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, runs: RunManager, drain_seconds: float) -> None:
        super().__init__(config)
        self.runs = runs
        self.drain_seconds = drain_seconds
        self._draining: threading.Thread | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining is None:
            log.info("serve_draining", signal=signal.Signals(sig).name, seconds=self.drain_seconds)
            self._draining = threading.Thread(target=self._drain, args=(sig,), daemon=True)
            self._draining.start()
        elif sig == signal.SIGINT:
            super().handle_exit(sig, frame)

    def _drain(self, sig: int) -> None:
        try:
            self.runs.drain(self.drain_seconds)
        finally:  # a drained server exits 0: the signal is not raised again after it
            self.should_exit = True


def serve(app: Starlette, host: str, port: int) -> None:
    """Bind, say where (one line on stderr, the real port for --port 0), serve until stopped."""
    runs: RunManager = app.state.runs
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # connections wait in the backlog until uvicorn accepts them
    bound = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=5)  # fmt: skip
    server = DrainingServer(config, runs, runs.settings.serve.drain_seconds)
    shown = f"[{host}]" if ":" in host else host
    print(f"pocketchat serve: listening on http://{shown}:{bound}", file=sys.stderr, flush=True)
    server.run(sockets=[sock])
