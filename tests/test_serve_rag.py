"""A message sent with a `collection` over the API runs the rag flow (as `chat --collection`
does) and its reply carries its sources; an unknown collection is refused before anything is
stored. A real `pocketchat serve` with the stand-in behind it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.rag_support import write_docs
from tests.serve_proc import serving
from tests.standin import StandIn


def _messages(url: str, sid: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(f"{url}/v1/sessions/{sid}", timeout=10).json()[
        "messages"
    ]
    return found


def test_a_message_with_a_collection_is_answered_from_it(
    standin: StandIn, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    with serving(data, standin.url) as server:
        folder = write_docs(tmp_path / "notes")
        ingest = server.pocketchat("--host", standin.url, "rag", "ingest", str(folder),
                                   "--collection", "notes")  # fmt: skip
        assert ingest.returncode == 0, ingest.stderr
        sid = httpx.post(f"{server.url}/v1/sessions", json={}, timeout=10).json()["id"]

        refused = httpx.post(f"{server.url}/v1/sessions/{sid}/messages",
                             json={"content": "hi", "collection": "nope"}, timeout=10)  # fmt: skip
        assert refused.status_code == 404 and "nope" in refused.text
        assert _messages(server.url, sid) == []  # nothing stored for a refused message

        sent = httpx.post(f"{server.url}/v1/sessions/{sid}/messages",
                          json={"content": "How is the lens polished?", "collection": "notes"},
                          timeout=10)  # fmt: skip
        assert sent.status_code == 202, sent.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            messages = _messages(server.url, sid)
            if len(messages) == 2 and messages[-1]["status"] == "complete":
                break
            time.sleep(0.1)
        reply = messages[-1]
        assert reply["role"] == "assistant" and reply["status"] == "complete", messages
        assert reply["sources"] and all(s["collection"] == "notes" for s in reply["sources"])
        assert any(s["path"].endswith("lighthouse.md") for s in reply["sources"])
        embeds = [r for r in standin.requests if r.path == "/api/embed"]
        assert embeds, "the question was embedded: the rag flow ran"
