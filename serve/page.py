"""The chat page: `GET /` answers `serve/static/index.html`, `/static/…` its CSS, JS and the
vendored libraries (marked, DOMPurify; see serve/static/vendor/README.md).

The page is plain HTML/CSS/JS with no build step; it talks only to the `/v1` API (sessions,
runs and their event streams, models), so it needs no key to load and asks for one only when
the API answers 401. A strict Content-Security-Policy (scripts from this origin only, no inline
script, no plugins) is a second wall behind DOMPurify against a reply that carries HTML.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {"Content-Security-Policy": POLICY, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}  # fmt: skip


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers=HEADERS)


routes: list[BaseRoute] = [
    Route("/", index, methods=["GET"]),
    Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
]
