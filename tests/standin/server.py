"""``StandIn``: a threaded HTTP server that speaks Ollama's wire protocol for tests.

Start and stop::

    with StandIn(models={"llama3.2:1b": ModelSpec(context_length=131072)}) as s:
        client = ollama.Client(host=s.url, timeout=httpx.Timeout(5.0))

Script it with plain attributes (read on every request, so change them any time):

- ``reply``: a rule ``messages -> str`` (see ``replies``: ``friendly`` default, ``echo``,
  ``fixed(text)``, ``essay(n)``, or any callable).
- ``reasoning``: what a thinking model (``ModelSpec(thinking=True)``) streams in
  ``message.thinking`` before its reply (``replies.reasoning`` default).
- ``first_token_delay`` (s) and ``tokens_per_second`` (``None`` = no pacing); a token is a
  word with its following whitespace, one NDJSON chunk each. Token i is due i gaps after the
  first, so a fast rate (50,000/s) keeps its pace despite the sleep's granularity.
- ``load_delay`` (s, per model via ``ModelSpec.load_delay``), paid on the first request
  for a model, after its keep_alive expired, or when ``num_ctx`` changes; reported as
  ``load_duration``.  ``default_keep_alive`` (s, 300).
- ``default_num_ctx`` (4096), capped by the model's ``context_length``.
- ``models``: name:tag -> ``ModelSpec``; ``registry`` (specs pulls install) and
  ``registry_unknown`` (names whose pull fails); ``pull_step_delay``.
- ``slots.num_parallel`` (1) and ``slots.max_queue`` (512); ``max_concurrent``.
- ``embedding_dimensions`` (64); ``version``.
- ``script_fault(endpoint, Fault..., count)`` (see ``faults``), ``go_down()`` /
  ``come_up()`` / ``down_for(seconds)`` to refuse connections on the same port.

Every request lands in ``requests`` (a ``RequestLog`` of ``RequestRecord``).
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from .embeddings import DEFAULT_DIMENSIONS
from .faults import Fault, FaultScript
from .handler import Handler
from .models import ModelSpec, default_models, full_name
from .records import RequestLog
from .replies import ReplyRule, friendly, reasoning
from .scheduler import LoadedModels, Slots


class StandInHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks its connections so it can close them all."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], standin: StandIn) -> None:
        self.standin = standin
        self.stop_event = threading.Event()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self.accepted = 0  # connections accepted, for keep-alive assertions
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Like Go's net/http: no Nagle, or header and body writes wait for delayed ACKs.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._conns_lock:
            self._conns.add(request)
            self.accepted += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a finished process dropping its kept-alive connection) is
        routine, as for Go's net/http: say nothing. Anything else is printed as usual."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Shut down every open client connection (wakes handlers blocked on reads)."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class StandIn:
    """The Ollama stand-in; see the module docstring for how to script it."""

    def __init__(
        self,
        models: dict[str, ModelSpec] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        num_parallel: int = 1,
        max_queue: int = 512,
    ) -> None:
        source = default_models() if models is None else models
        self.models: dict[str, ModelSpec] = {full_name(n): m for n, m in source.items()}
        self.registry: dict[str, ModelSpec] = {}
        self.registry_unknown: set[str] = set()
        self.reply: ReplyRule = friendly
        self.reasoning: ReplyRule = reasoning
        self.first_token_delay = 0.0
        self.tokens_per_second: float | None = None
        self.load_delay = 0.0
        self.default_keep_alive = 300.0
        self.default_num_ctx = 4096
        self.embedding_dimensions = DEFAULT_DIMENSIONS
        self.pull_step_delay = 0.0
        self.version = "0.12.6"
        self.slots = Slots(num_parallel, max_queue)
        self.loaded = LoadedModels()
        self.faults = FaultScript()
        self.requests = RequestLog()
        self.host = host
        self.port = port
        self._server: StandInHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._timers: list[threading.Timer] = []
        self._lifecycle = threading.Lock()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self.host}:{self.port}"

    @property
    def connections_accepted(self) -> int:
        """How many TCP connections the server has accepted since it came up."""
        return self._server.accepted if self._server is not None else 0

    @property
    def max_concurrent(self) -> int:
        """Most generation requests ever served at the same time."""
        return self.slots.max_concurrent

    @property
    def is_up(self) -> bool:
        """True while the server accepts connections."""
        return self._server is not None

    def script_fault(self, endpoint: str, fault: Fault, count: int = 1) -> None:
        """Make the next ``count`` requests to ``endpoint`` fail with ``fault``."""
        self.faults.push(endpoint, fault, count)

    def start(self) -> StandIn:
        """Bind (port 0 = ephemeral, remembered for ``come_up``) and serve in a thread."""
        self.come_up()
        return self

    def come_up(self) -> None:
        """Listen again on the same port (no-op when already up)."""
        with self._lifecycle:
            if self._server is not None:
                return
            server = StandInHTTPServer((self.host, self.port), self)
            self.port = server.server_address[1]
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.02},
                name=f"standin-{self.port}",
                daemon=True,
            )
            self._server, self._thread = server, thread
            thread.start()

    def go_down(self) -> None:
        """Stop listening and drop every connection; requests in flight are aborted."""
        with self._lifecycle:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.stop_event.set()
        server.close_connections()
        server.server_close()  # joins the handler threads
        if thread is not None:
            thread.join()

    def down_for(self, seconds: float) -> None:
        """Go down now and come back up on the same port after ``seconds``."""
        self.go_down()
        timer = threading.Timer(seconds, self.come_up)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def stop(self) -> None:
        """Cancel pending ``down_for`` timers, go down, join every thread."""
        for timer in self._timers:
            timer.cancel()
            timer.join()
        self._timers.clear()
        self.go_down()

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
