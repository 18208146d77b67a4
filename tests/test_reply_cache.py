"""FAQ answers, the reply cache (hit, miss, TTL, size cap), the fallback when Ollama is down."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import pytest

from nodes.check_cache import CheckCache
from tests.chat_rig import ChatRig
from tests.standin import StandIn
from utils.context import reply_cache
from utils.store import SqliteStore

SYSTEM = "You are terse."
DETERMINISTIC = {"temperature": 0}


@pytest.fixture
def rig(tmp_path: Path, standin: StandIn) -> Iterator[ChatRig]:
    standin.reply = lambda messages: f"About {messages[-1]['content']}: it depends."
    r = ChatRig(tmp_path, standin, {"cache.ttl_seconds": 3600.0, "cache.max_entries": 3})
    yield r
    r.close()


def ask(rig: ChatRig, text: str, **inputs: Any) -> dict[str, Any]:
    """A turn in a new session with the same system prompt (so the prompts are equal)."""
    rig.session_id = None
    return rig.turn(text, system=SYSTEM, **inputs)


def chats(standin: StandIn) -> int:
    return len(standin.requests.to("/api/chat"))


def stored_reply(rig: ChatRig, shared: dict[str, Any]) -> Any:
    message = rig.store.get_message(shared["turn"]["message_id"])
    assert message is not None
    return message


def test_faq_answers_after_normalising(tmp_path: Path, standin: StandIn) -> None:
    faq = {"What are your opening hours?": "Nine to five, Monday to Friday."}
    rig = ChatRig(tmp_path, standin, {"cache.faq": faq})
    try:
        shared = rig.turn("  what ARE your opening-hours??", system=SYSTEM)
        assert chats(standin) == 0
        assert rig.sink.notices == ["(cached answer)"]
        assert rig.sink.text == "Nine to five, Monday to Friday."
        message = stored_reply(rig, shared)
        assert message.content == "Nine to five, Monday to Friday."
        assert message.meta["cached"] == "faq" and message.status == "complete"
    finally:
        rig.close()


def test_deterministic_reply_is_cached_and_hit(rig: ChatRig, standin: StandIn) -> None:
    first = ask(rig, "tides", options=DETERMINISTIC)
    second = ask(rig, "tides", options=DETERMINISTIC)
    assert chats(standin) == 1
    assert "(cached reply)" in rig.sink.notices
    message = stored_reply(rig, second)
    assert message.content == stored_reply(rig, first).content == "About tides: it depends."
    assert message.meta["cached"] == "reply"
    assert rig.store.db.execute("SELECT hits FROM reply_cache").fetchone()[0] == 1
    ask(rig, "tides", options={"seed": 42})  # other options: another key
    ask(rig, "tides", options={"seed": 42})  # a fixed seed is deterministic too
    assert chats(standin) == 2


def test_misses_non_deterministic_cache_off_and_other_prompts(
    rig: ChatRig, standin: StandIn
) -> None:
    ask(rig, "tides")
    ask(rig, "tides")  # the model's default temperature: never served from the cache
    assert chats(standin) == 2
    ask(rig, "moon", options=DETERMINISTIC)
    ask(rig, "moon", options={**DETERMINISTIC, "cache": False})  # /set cache off
    ask(rig, "moon phases", options=DETERMINISTIC)
    assert chats(standin) == 5
    assert not any("cached" in n for n in rig.sink.notices)


def test_ttl_and_size_cap(rig: ChatRig, standin: StandIn) -> None:
    ask(rig, "tides", options=DETERMINISTIC)
    rig.clock.advance(3601)
    ask(rig, "tides", options=DETERMINISTIC)  # expired: asked again, and refreshed
    ask(rig, "tides", options=DETERMINISTIC)
    assert chats(standin) == 2
    for topic in ("moon", "sun", "stars"):
        rig.clock.advance(1)
        ask(rig, topic, options=DETERMINISTIC)
    assert reply_cache.size(rig.store) == 3  # max_entries: the oldest (tides) evicted
    ask(rig, "tides", options=DETERMINISTIC)
    assert chats(standin) == 6


def test_ollama_down_shows_a_cached_reply_labelled(rig: ChatRig, standin: StandIn) -> None:
    ask(rig, "tides", options={"temperature": 0.8})  # not deterministic, still kept
    rig.clock.advance(10 * 3600)  # and long expired
    standin.go_down()
    shared = ask(rig, "tides", options={"temperature": 0.8})
    assert rig.sink.notices[-1] == "(cached — Ollama unavailable)"
    assert rig.sink.pieces[-1] == "About tides: it depends."
    message = stored_reply(rig, shared)
    assert message.meta["cached"] == "fallback" and message.meta["error"]
    assert message.status == "complete"


def test_ollama_down_without_a_cached_reply_says_so(rig: ChatRig, standin: StandIn) -> None:
    standin.go_down()
    shared = ask(rig, "tides")
    message = stored_reply(rig, shared)
    assert message.status == "failed" and message.content == ""
    assert message.meta["error"] == rig.sink.notices[-1]
    assert "cached" not in message.meta
    assert shared["cache"] == {"mode": "fallback", "source": "fallback", "hit": False}


@pytest.mark.parametrize("mode", ["check", "fallback"])
def test_check_cache_reads_in_prep_and_exec_only_decides(
    rig: ChatRig, tmp_path: Path, mode: Literal["check", "fallback"]
) -> None:
    first = ask(rig, "tides", options=DETERMINISTIC)
    shared = {"session": first["session"], "prompt": first["prompt"], "user_message": "tides"}
    prep_res = CheckCache(rig.deps, mode=mode).prep(shared)
    closed = SqliteStore.open(tmp_path / "closed.db", rig.clock)
    closed.close()  # any read in exec would fail
    verdict = CheckCache(replace(rig.deps, store=closed), mode=mode).exec(prep_res)
    assert verdict.text == "About tides: it depends."
    assert verdict.source == ("reply" if mode == "check" else "fallback")
    rig.clock.advance(3601)  # past the TTL: prep still reads the entry, exec says it is stale
    stale = CheckCache(rig.deps, mode=mode).prep(shared)
    assert stale.found is not None
    assert (CheckCache(rig.deps, mode=mode).exec(stale).text is None) is (mode == "check")
