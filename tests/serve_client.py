"""Test support for serve mode: a small HTTP/SSE client over httpx (real connections)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    data: dict[str, Any]


def parse(lines: Iterator[str]) -> Iterator[Event]:
    """SSE lines -> events (pings, which are comments, skipped)."""
    fields: dict[str, str] = {}
    for line in lines:
        if not line:
            if "data" in fields:
                yield Event(int(fields["id"]), fields.get("event", "message"),
                            json.loads(fields["data"]))  # fmt: skip
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value


def events(url: str, run_id: str, after: int | None = None, timeout: float = 60) -> list[Event]:
    """Every event of the run (after `after`) until `done`."""
    headers = {"Last-Event-ID": str(after)} if after is not None else {}
    out: list[Event] = []
    with httpx.stream("GET", f"{url}/v1/runs/{run_id}/events", headers=headers,
                      timeout=timeout) as resp:  # fmt: skip
        assert resp.status_code == 200, resp.read()
        for event in parse(resp.iter_lines()):
            out.append(event)
            if event.kind == "done":
                break
    return out


def new_session(url: str, **body: Any) -> str:
    resp = httpx.post(f"{url}/v1/sessions", json=body, timeout=10)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def ask(url: str, session_id: str, content: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/sessions/{session_id}/messages", json={"content": content},
                      timeout=10)  # fmt: skip


def wait_run(url: str, run_id: str, status: str | tuple[str, ...], timeout: float = 30) -> None:
    wanted = (status,) if isinstance(status, str) else status
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/v1/runs/{run_id}", timeout=5).json()["status"] in wanted:
            return
        time.sleep(0.02)
    raise AssertionError(f"run {run_id} never reached {wanted}")


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql, params).fetchall())
