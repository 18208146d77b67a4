"""The OpenAI-compatible API with the real `openai` package against a real `pocketchat serve`
(uvicorn on an ephemeral loopback port, the stand-in behind it): streamed and not, usage,
`X-Session-Id` continuing a session, and the 401 / 404 / 429 / 503 paths."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from tests.serve_proc import Server, pocketchat, serving
from tests.standin import StandIn
from tests.standin.models import default_models

MODEL = "llama3.2:1b"
CONFIG = "rate_limit:\n  turns_per_minute: 3\nserve:\n  max_queue: 1\n"


class Seen:
    """The stand-in's reply rule: remembers what the model was sent, answers from it."""

    def __init__(self) -> None:
        self.sent: list[list[dict[str, Any]]] = []
        self.lock = threading.Lock()

    def __call__(self, messages: Any) -> str:
        with self.lock:
            self.sent.append([dict(m) for m in messages])
        return f"You said: {messages[-1]['content']}. Noted, friend."


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    server = StandIn(default_models())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve") / "d"


@pytest.fixture(scope="module")
def keys(data: Path) -> dict[str, str]:
    """Made before the server starts (see the report: a key made beside a running server)."""
    made = {}
    for name in ("alice", "bob"):
        result = pocketchat(data, "keys", "create", name)
        assert result.returncode == 0, result.stderr
        made[name] = result.stdout.strip()
    return made


@pytest.fixture(scope="module")
def served(standin: StandIn, data: Path, keys: dict[str, str]) -> Iterator[Server]:
    with serving(data, standin.url, config=CONFIG) as server:
        yield server


@pytest.fixture
def seen(standin: StandIn) -> Seen:
    standin.reply = rule = Seen()
    standin.first_token_delay = 0.0
    return rule


def client(served: Server, key: str) -> OpenAI:
    return OpenAI(base_url=f"{served.url}/v1", api_key=key, max_retries=0, timeout=30)


def stored(served: Server, session_id: str) -> list[tuple[str, str, str]]:
    with sqlite3.connect(served.data / "pocketchat.db") as conn:
        rows = conn.execute(
            "SELECT role, content, status FROM messages WHERE session_id = ? ORDER BY id",
            [session_id],
        ).fetchall()
    return [(r, c, s) for r, c, s in rows]


def test_a_reply_not_streamed_with_usage(served: Server, keys: dict[str, str], seen: Seen) -> None:
    raw = client(served, keys["alice"]).chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "hello"}]
    )
    reply = raw.parse()
    assert reply.choices[0].message.content == "You said: hello. Noted, friend."
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.completion_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    session_id = raw.headers["x-session-id"]
    assert stored(served, session_id) == [
        ("user", "hello", "complete"),
        ("assistant", "You said: hello. Noted, friend.", "complete"),
    ]


def test_a_streamed_reply_in_openai_chunks(
    served: Server, keys: dict[str, str], seen: Seen
) -> None:
    stream = client(served, keys["alice"]).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "stream it"}], stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You said: stream it. Noted, friend."
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert chunks[0].choices[0].delta.role == "assistant"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
    assert len({c.id for c in chunks}) == 1


def test_x_session_id_continues_with_only_the_new_message(
    served: Server, keys: dict[str, str], seen: Seen
) -> None:
    ai = client(served, keys["alice"])
    first = ai.chat.completions.with_raw_response.create(model=MODEL, messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "my name is Ada"},
        {"role": "assistant", "content": "Hello Ada."},
        {"role": "user", "content": "one"},
    ])  # fmt: skip
    session_id = first.headers["x-session-id"]
    again = ai.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "two"}],
        extra_headers={"X-Session-Id": session_id},
    )  # fmt: skip
    assert again.headers["x-session-id"] == session_id
    assert again.parse().choices[0].message.content == "You said: two. Noted, friend."
    assert [(r, c) for r, c, _ in stored(served, session_id)] == [
        ("user", "my name is Ada"), ("assistant", "Hello Ada."),
        ("user", "one"), ("assistant", "You said: one. Noted, friend."),
        ("user", "two"), ("assistant", "You said: two. Noted, friend."),
    ]  # fmt: skip
    sent = [(m["role"], m["content"]) for m in seen.sent[-1]]
    assert sent[0] == ("system", "Be brief.")  # the session's system prompt
    assert sent[1:] == [(r, c) for r, c, _ in stored(served, session_id)][:-1]


def test_a_wrong_key_is_401_and_another_keys_session_is_404(
    served: Server, keys: dict[str, str], seen: Seen
) -> None:
    with pytest.raises(openai.AuthenticationError) as refused:
        client(served, "pc-not-a-key").chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}]
        )
    assert refused.value.status_code == 401
    assert refused.value.code == "invalid_api_key"
    assert len(seen.sent) == 0
    raw = client(served, keys["alice"]).chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "mine"}]
    )
    session_id = raw.headers["x-session-id"]
    with pytest.raises(openai.NotFoundError) as hidden:
        client(served, keys["bob"]).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "yours?"}],
            extra_headers={"X-Session-Id": session_id},
        )  # fmt: skip
    assert hidden.value.status_code == 404
    kept = [c for _, c, _ in stored(served, session_id)]
    assert kept == ["mine", "You said: mine. Noted, friend."]
    assert "pc-" not in served.output()  # no key in the server's output or log
    for log in served.data.rglob("*.log*"):
        text = log.read_text(errors="replace")
        assert all(key not in text for key in keys.values())


def test_too_many_turns_is_429_with_retry_after_and_not_stored(
    served: Server, keys: dict[str, str], seen: Seen
) -> None:
    ai = client(served, keys["alice"])
    first = ai.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "t1"}]
    )
    session_id = first.headers["x-session-id"]
    for n in (2, 3):
        ai.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": f"t{n}"}],
                                   extra_headers={"X-Session-Id": session_id})  # fmt: skip
    with pytest.raises(openai.RateLimitError) as limited:
        ai.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "t4"}],
                                   extra_headers={"X-Session-Id": session_id})  # fmt: skip
    assert limited.value.status_code == 429
    assert int(limited.value.response.headers["retry-after"]) >= 1
    assert "t4" not in [c for _, c, _ in stored(served, session_id)]


def test_a_full_queue_is_503_with_retry_after(
    served: Server, keys: dict[str, str], seen: Seen, standin: StandIn
) -> None:
    standin.first_token_delay = 3.0  # nothing finishes meanwhile
    auth = {"Authorization": f"Bearer {keys['bob']}"}
    with httpx.Client(base_url=served.url, headers=auth, timeout=30) as http:
        running = http.post("/v1/sessions", json={}).json()["id"]
        first = http.post(f"/v1/sessions/{running}/messages", json={"content": "slow"})
        run_ids = [first.json()["run_id"]]
        with http.stream("GET", f"/v1/runs/{run_ids[0]}/events") as events:
            for line in events.iter_lines():
                if line.strip() == "event: started":
                    break  # the slot is taken: later runs wait (max_queue: 1)
        statuses = []
        for n in range(6):  # the workers waiting at the slot, then the queue, fill up
            session = http.post("/v1/sessions", json={}).json()["id"]
            sent = http.post(f"/v1/sessions/{session}/messages", json={"content": f"w{n}"})
            statuses.append(sent.status_code)
            if sent.status_code != 202:
                break
            run_ids.append(sent.json()["run_id"])
        assert statuses[-1] == 503 and set(statuses[:-1]) == {202}, statuses
        with pytest.raises(openai.InternalServerError) as full:
            client(served, keys["bob"]).chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "one too many"}]
            )
        assert full.value.status_code == 503
        assert int(full.value.response.headers["retry-after"]) >= 1
        standin.first_token_delay = 0.0
        for run_id in run_ids:
            http.post(f"/v1/runs/{run_id}/cancel")


def test_models_lists_ollamas(served: Server, keys: dict[str, str]) -> None:
    found = {m.id for m in client(served, keys["alice"]).models.list()}
    assert MODEL in found and "qwen2.5:0.5b" in found
