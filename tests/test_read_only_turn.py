"""Disk nearly full: the chat keeps answering, says so once, and writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import utils.store.sqlite_store as store_module
from config.settings import Settings, with_changes
from flows.loader import load_flow
from flows.turn import run_turn
from nodes.deps import Deps
from nodes.registry import builtin_registry
from tests.flow_nodes import FakeClock
from tests.standin import StandIn
from utils.ollama import OllamaService
from utils.sink import RecordingSink
from utils.store import SqliteStore


def test_low_disk_answers_without_saving_and_says_so_once(
    tmp_path: Path, standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.build import build_flow

    settings = with_changes(Settings(), **{"rate_limit.turns_per_minute": 0})
    clock = FakeClock()
    path = tmp_path / "pocketchat.db"
    store = SqliteStore.open(path, clock, min_free_mb=100)
    llm = OllamaService(standin.url, settings.ollama, clock)
    sink = RecordingSink()
    flow = build_flow(
        load_flow("chat", builtin_registry()), Deps(settings, store, llm, sink, clock)
    )

    def turn(text: str, session_id: str | None) -> dict[str, Any]:
        shared: dict[str, Any] = {"user_message": text}
        if session_id:
            shared["session_id"] = session_id
        return run_turn(flow, shared)

    first = turn("hello", None)
    sid = first["session_id"]
    assert store.message_count(sid) == 2
    raw = path.read_bytes()

    monkeypatch.setattr(store_module, "free_mb", lambda _p: 5.0)
    replies = [turn(f"question {i}", sid) for i in range(2)]
    assert all(r["turn"]["status"] == "complete" for r in replies)
    assert "stand-in model" in sink.text
    assert sum("Disk space is low" in n for n in sink.notices) == 1  # once
    assert store.message_count(sid) == 2  # nothing new written
    assert path.read_bytes() == raw
    # the unsaved turn still carried the whole window: history + the new message
    sent = [r.body for r in standin.requests.to("/api/chat") if r.body.get("messages")]
    assert sent[-1]["messages"][-1]["content"] == "question 1"
    assert any(m["content"] == "hello" for m in sent[-1]["messages"])

    monkeypatch.setattr(store_module, "free_mb", lambda _p: 500.0)
    turn("back to normal", sid)
    assert store.message_count(sid) == 4
    llm.close()
    store.close()
