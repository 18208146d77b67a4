"""API keys at the door: every request gets `request.state.key_id` (str, or None).

While any live key exists (`keys create NAME`), every `/v1` request needs
`Authorization: Bearer KEY`; a missing, unknown or revoked key gets 401 with an OpenAI-shaped
JSON error (`{"error": {"message", "type", "code"}}`), so OpenAI client libraries show it as
an authentication error. With no live key, `/v1` is open and `key_id` is None (`serve` refuses
a non-loopback `--host` then). `/healthz`, `/readyz`, `/metrics` and `/docs` are always open:
they carry no person's data (`/metrics` has no per-person labels), and a Prometheus scraper
or load balancer should not need a key.

The key is checked against the store on every request (a read: revoking one works at once,
from another process too). The secret itself is never logged or kept: the request's log lines
carry `key_id` (bound with structlog's contextvars), never the `Authorization` header.
"""

from __future__ import annotations

import json

import structlog
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from serve.openai_shapes import error_body

log = structlog.get_logger()

PROTECTED = "/v1"


class KeyAuth:
    """Pure ASGI middleware (it does not buffer streamed responses)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["key_id"] = None
        path: str = scope.get("path", "")
        if path == PROTECTED or path.startswith(PROTECTED + "/"):
            store = scope["app"].state.store
            if store.has_keys():
                key_id = store.key_for_secret(bearer(scope))
                if key_id is None:
                    log.info("request_unauthorized", path=path)
                    await unauthorized(send)
                    return
                state["key_id"] = key_id
        with structlog.contextvars.bound_contextvars(key_id=state["key_id"]):
            await self.app(scope, receive, send)


def bearer(scope: Scope) -> str:
    """The token of `Authorization: Bearer TOKEN`; "" when there is none."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""


async def unauthorized(send: Send) -> None:
    body = json.dumps(error_body(
        "a valid API key is required: send `Authorization: Bearer KEY` (see `pocketchat keys`)",
        "invalid_request_error", "invalid_api_key",
    )).encode()  # fmt: skip
    await send({
        "type": "http.response.start", "status": 401,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="pocketchat"')],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})


def middleware() -> Middleware:
    return Middleware(KeyAuth)
