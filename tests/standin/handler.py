"""HTTP/1.1 request handler: routing, body parsing, request records."""

from __future__ import annotations

import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from . import catalog, generation
from .records import RequestRecord
from .scheduler import ServerStopping
from .wire import ClientGone, Exchange

if TYPE_CHECKING:
    from .server import StandIn, StandInHTTPServer

Endpoint = Callable[["StandIn", Exchange, dict[str, Any]], None]


def _gen(kind: str) -> Endpoint:
    def endpoint(s: StandIn, x: Exchange, body: dict[str, Any]) -> None:
        generation.run(s, x, body, kind)

    return endpoint


def _version(s: StandIn, x: Exchange, body: dict[str, Any]) -> None:
    x.send_json(200, {"version": s.version})


# path -> (fault endpoint name, methods, needs a JSON body, implementation)
ROUTES: dict[str, tuple[str, frozenset[str], bool, Endpoint]] = {
    "/api/chat": ("chat", frozenset({"POST"}), True, _gen("chat")),
    "/api/generate": ("generate", frozenset({"POST"}), True, _gen("generate")),
    "/api/embed": ("embed", frozenset({"POST"}), True, _gen("embed")),
    "/api/pull": ("pull", frozenset({"POST"}), True, catalog.pull),
    "/api/show": ("show", frozenset({"POST"}), True, catalog.show),
    "/api/delete": ("delete", frozenset({"DELETE"}), True, catalog.delete),
    "/api/tags": ("tags", frozenset({"GET", "HEAD"}), False, catalog.tags),
    "/api/ps": ("ps", frozenset({"GET"}), False, catalog.ps),
    "/api/version": ("version", frozenset({"GET", "HEAD"}), False, _version),
}
_OWN_FAULTS = {"chat", "generate", "embed", "pull"}


class Handler(BaseHTTPRequestHandler):
    """Routes one connection's requests to the stand-in endpoints."""

    protocol_version = "HTTP/1.1"
    server_version = "stand-in-ollama"
    server: StandInHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        standin = self.server.standin
        path = self.path.split("?", 1)[0]
        raw = self._read_body()
        record = RequestRecord(self.command, path)
        x = Exchange(self, record, self.server.stop_event)
        standin.requests.add(record)
        try:
            self._route(standin, x, path, raw)
        except (ClientGone, ConnectionError):
            record.finish("cancelled")
            self.close_connection = True
        except ServerStopping:
            record.finish("aborted")
            self.close_connection = True
        finally:
            code = record.status or 0
            record.finish("ok" if code < 400 else "error")

    def _route(self, s: StandIn, x: Exchange, path: str, raw: bytes) -> None:
        if path == "/":
            if self.command not in ("GET", "HEAD"):
                x.send_text(405, "405 method not allowed")
            else:
                x.send_text(200, "Ollama is running", head=self.command == "HEAD")
            return
        route = ROUTES.get(path)
        if route is None:
            x.send_text(404, "404 page not found")
            return
        name, methods, needs_body, endpoint = route
        if self.command not in methods:
            x.send_text(405, "405 method not allowed")
            return
        body: dict[str, Any] = {}
        if needs_body:
            parsed = self._parse(x, raw)
            if parsed is None:
                return
            body = parsed
        x.record.body = body if needs_body else None
        if name not in _OWN_FAULTS:
            fault = s.faults.take(name)
            if fault and fault.kind == "status":
                x.send_error(fault.status_code, fault.message)
                return
            if fault and fault.kind == "stall":
                x.sleep(fault.seconds)
        endpoint(s, x, body)

    def _parse(self, x: Exchange, raw: bytes) -> dict[str, Any] | None:
        if not raw.strip():
            x.send_error(400, "missing request body")
            return None
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as exc:
            x.send_error(400, f"invalid character in JSON body: {exc.msg}")
            return None
        except UnicodeDecodeError:
            x.send_error(400, "invalid character in JSON body: not UTF-8")
            return None
        if not isinstance(body, dict):
            x.send_error(400, "json: cannot unmarshal array into Go value of type api.Request")
            return None
        return body
