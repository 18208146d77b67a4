"""Serve mode's long-term memory belongs to the request's key (or a user of that key): one
key's facts are recalled for it alone, extracted in the workers' idle time, and another key
can neither see nor erase them (a real `serve` process)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.memory_kit import facts_rule, is_extraction
from tests.serve_proc import pocketchat, serving
from tests.standin import StandIn

CONFIG = "memory:\n  enabled: true\nretry:\n  backoff: 0.01\n  jitter: 0.0\n"


def _turn(url: str, key: str, content: str, **extra: Any) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    sid = httpx.post(f"{url}/v1/sessions", json={}, headers=headers, timeout=10).json()["id"]
    run = httpx.post(f"{url}/v1/sessions/{sid}/messages", headers=headers, timeout=10,
                     json={"content": content, **extra}).json()["run_id"]  # fmt: skip
    got = httpx.get(f"{url}/v1/runs/{run}/events", headers=headers, timeout=30)
    assert '"status": "complete"' in got.text, got.text  # the whole log, to `done`


def _memories(url: str, key: str, user: str | None = None) -> list[dict[str, Any]]:
    params = {"user": user} if user else {}
    resp = httpx.get(f"{url}/v1/memories", params=params, timeout=10,
                     headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert resp.status_code == 200, resp.text
    return list(resp.json()["memories"])


def _wait_for(fn: Any, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = fn()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_each_key_has_its_own_memory(tmp_path: Path, standin: StandIn) -> None:
    standin.reply = facts_rule()
    data = tmp_path / "data"
    data.mkdir()
    alice = pocketchat(data, "keys", "create", "alice").stdout.strip()
    bob = pocketchat(data, "keys", "create", "bob").stdout.strip()
    with serving(data, standin.url, config=CONFIG) as server:
        url = server.url
        _turn(url, alice, "My name is Alice and I live in Lisbon.")
        [fact] = _wait_for(lambda: _memories(url, alice))  # extracted while the server idled
        assert fact["text"] == "My name is Alice and I live in Lisbon"
        assert _memories(url, bob) == []
        auth_b = {"Authorization": f"Bearer {bob}"}
        assert httpx.get(f"{url}/v1/memories/{fact['id']}", headers=auth_b).status_code == 404
        assert httpx.delete(f"{url}/v1/memories/{fact['id']}", headers=auth_b).status_code == 404

        _turn(url, bob, "What's my name?")
        _turn(url, alice, "What's my name?")
        turns = [r.body["messages"] for r in standin.requests.to("/api/chat")
                 if r.body.get("messages") and not is_extraction(r.body["messages"])]  # fmt: skip
        bob_prompt, alice_prompt = turns[-2], turns[-1]
        assert not any("Lisbon" in m["content"] for m in bob_prompt)
        assert "Alice and I live in Lisbon" in alice_prompt[0]["content"]

        _turn(url, alice, "My dog is Rex.", user="u1")  # a user of alice's key: apart
        _wait_for(lambda: _memories(url, alice, "u1"))
        assert [m["text"] for m in _memories(url, alice)] == [fact["text"]]
        auth_a = {"Authorization": f"Bearer {alice}"}
        refused = httpx.delete(f"{url}/v1/memories", headers=auth_a)
        assert refused.status_code == 400
        cleared = httpx.delete(f"{url}/v1/memories", params={"confirm": "yes"}, headers=auth_a)
        assert cleared.json() == {"forgotten": 1}
        assert _memories(url, alice) == [] and len(_memories(url, alice, "u1")) == 1

        done = httpx.post(f"{url}/v1/chat/completions", headers=auth_a, timeout=30, json={
            "messages": [{"role": "user", "content": "My cat is Tom."}], "user": "u2"})
        assert done.status_code == 200, done.text  # OpenAI's `user`: that user's memory
        [tom] = _wait_for(lambda: _memories(url, alice, "u2"))
        assert tom["text"] == "My cat is Tom" and _memories(url, alice) == []
