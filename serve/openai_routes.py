"""OpenAI-compatible routes: `POST /v1/chat/completions`, `GET /v1/models` (filled in below)."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
