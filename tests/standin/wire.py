"""Writing Ollama-shaped HTTP responses: JSON bodies, text pages, chunked NDJSON streams."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from .faults import Fault
from .records import RequestRecord
from .scheduler import ServerStopping

JSON_TYPE = "application/json; charset=utf-8"
NDJSON_TYPE = "application/x-ndjson"
_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class ClientGone(Exception):
    """The client closed the connection while we were writing."""


class StreamEnded(Exception):
    """A scripted fault ended the stream; ``outcome`` says how."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


def dumps(obj: Any) -> bytes:
    """Compact JSON like Go's encoder (non-ASCII kept as UTF-8)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def omit_empty(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop zero / empty values (Go ``omitempty``)."""
    return {k: v for k, v in obj.items() if v not in (0, "", None, [], {}) or v is False}


class Exchange:
    """One request/response: the handler, its record and the server's stop event."""

    def __init__(
        self, handler: BaseHTTPRequestHandler, record: RequestRecord, stop: threading.Event
    ) -> None:
        self.handler = handler
        self.record = record
        self.stop = stop

    def sleep(self, seconds: float) -> None:
        """Sleep, but raise ``ServerStopping`` as soon as the server stops."""
        if seconds > 0 and self.stop.wait(seconds):
            raise ServerStopping

    def _write(self, data: bytes) -> None:
        try:
            self.handler.wfile.write(data)
        except _GONE as exc:
            self.handler.close_connection = True
            raise ClientGone from exc

    def send_bytes(self, status: int, body: bytes, content_type: str, head: bool = False) -> None:
        """A complete response with ``Content-Length``."""
        self.record.status = status
        try:
            self.handler.send_response(status)
            self.handler.send_header("Content-Type", content_type)
            self.handler.send_header("Content-Length", str(len(body)))
            self.handler.end_headers()
        except _GONE as exc:
            raise ClientGone from exc
        if not head:
            self._write(body)

    def send_json(self, status: int, obj: Any) -> None:
        """A non-streamed JSON response."""
        self.send_bytes(status, dumps(obj), JSON_TYPE)

    def send_error(self, status: int, message: str) -> None:
        """``{"error": message}`` with ``status``; records the outcome."""
        self.send_json(status, {"error": message})
        self.record.finish("busy" if status == 503 else "error", status)

    def send_text(self, status: int, text: str, head: bool = False) -> None:
        """A ``text/plain`` page (Go's 404/405 pages, ``Ollama is running``)."""
        self.send_bytes(status, text.encode(), "text/plain; charset=utf-8", head)

    def cut(self) -> None:
        """Close the socket abruptly (mid-body if a response was started)."""
        self.handler.close_connection = True
        with contextlib.suppress(OSError):
            self.handler.connection.shutdown(socket.SHUT_RDWR)


class NDJSONStream:
    """A chunked NDJSON response started lazily on the first line, with a scripted fault.

    The fault fires before line number ``fault.after`` (0 = before the first line) or
    before the final line, whichever comes first; ``StreamEnded`` is then raised unless
    the fault is a mid-stream stall.
    """

    def __init__(self, exchange: Exchange, fault: Fault | None) -> None:
        self.x = exchange
        self.fault = fault if fault and fault.kind != "status" and fault.kind != "stall" else None
        self.sent = 0
        self.started = False

    def _start(self) -> None:
        if self.started:
            return
        self.started = True
        h = self.x.handler
        self.x.record.status = 200
        self.x.record.streamed = True
        try:
            h.send_response(200)
            h.send_header("Content-Type", NDJSON_TYPE)
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
        except _GONE as exc:
            raise ClientGone from exc

    def _chunk(self, data: bytes) -> None:
        self.x._write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _fire(self) -> None:
        fault, self.fault = self.fault, None
        assert fault is not None
        if fault.kind == "stall_mid":
            self.x.sleep(fault.seconds)
            return
        self._start()
        if fault.kind == "error_line":
            self._chunk(dumps({"error": fault.message}) + b"\n")
            self.end()
            raise StreamEnded("error")
        if fault.kind == "eof":
            self.end()
            raise StreamEnded("eof")
        self.x.cut()
        raise StreamEnded("cut")

    def send(self, obj: dict[str, Any], final: bool = False) -> None:
        """Write one line (``final`` marks the done line, before which faults fire)."""
        if self.fault and (self.sent >= self.fault.after or final):
            self._fire()
        self._start()
        self._chunk(dumps(obj) + b"\n")
        self.sent += 1

    def end(self) -> None:
        """Write the terminating zero-length chunk."""
        self._start()
        self.x._write(b"0\r\n\r\n")
