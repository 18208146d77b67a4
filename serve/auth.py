"""API keys at the door: sets `request.state.key_id` on every request."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send


class KeyAuth:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["key_id"] = None
        await self.app(scope, receive, send)


def middleware() -> Middleware:
    return Middleware(KeyAuth)
