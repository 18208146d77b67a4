"""Serve mode's runs against a real `pocketchat serve` (uvicorn on an ephemeral loopback port,
the one-slot stand-in behind it): a reply outlives its client, `Last-Event-ID` gives exactly
what was missed, fifty clients at once are answered one at a time with positions that only go
down, the 429 and 503 paths store nothing, cancel keeps what was said."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.serve_client import Event, ask, events, new_session, parse, rows, wait_run
from tests.serve_proc import Server, serving
from tests.standin import StandIn, replies
from tests.standin.models import default_models

FAST = "retry:\n  backoff: 0.01\n  jitter: 0.0\nollama:\n  auto_pull: 'false'\n"
ESSAY = replies.essay_text(60)


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    server = StandIn(default_models())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def paced(standin: StandIn) -> Iterator[StandIn]:
    standin.reply = replies.essay(60)
    standin.tokens_per_second = 30  # two seconds a reply
    standin.first_token_delay = 0.0
    yield standin
    standin.tokens_per_second = None


@pytest.fixture(scope="module")
def served(standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    config = FAST + "serve:\n  turns_per_minute: 100\n  max_queue: 60\n"
    with serving(tmp_path_factory.mktemp("runs") / "d", standin.url, config=config) as server:
        yield server


CLIENT = """
import sys, httpx
with httpx.stream("GET", sys.argv[1], timeout=60) as resp:
    for line in resp.iter_lines():
        print(line, flush=True)
"""


def test_a_killed_client_gets_exactly_the_missing_events_and_the_reply_is_whole(
    served: Server, paced: StandIn
) -> None:
    session = new_session(served.url)
    run_id = ask(served.url, session, "tell me about tides").json()["run_id"]
    client = subprocess.Popen(
        [sys.executable, "-c", CLIENT, f"{served.url}/v1/runs/{run_id}/events"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert client.stdout is not None
    seen: list[str] = []
    deltas = 0
    for line in client.stdout:
        seen.append(line.rstrip("\n"))
        deltas += line.startswith("event: delta")
        if deltas == 2 and line.strip() == "":
            break
    client.kill()  # mid-reply: the stand-in is still sending
    client.wait(10)
    last_seen = max(int(line[4:]) for line in seen if line.startswith("id: "))
    wait_run(served.url, run_id, "done")

    stored = rows(served.data / "pocketchat.db",
                  "SELECT content, status FROM messages WHERE request_id = ? AND role = ?",
                  run_id, "assistant")  # fmt: skip
    assert stored == [(ESSAY, "complete")]
    everything = events(served.url, run_id)
    rest = events(served.url, run_id, after=last_seen)
    assert [e.id for e in everything] == list(range(1, len(everything) + 1))
    assert rest == [e for e in everything if e.id > last_seen]
    assert "".join(e.data["text"] for e in everything if e.kind == "delta") == ESSAY
    assert rest[-1].kind == "done" and rest[-1].data["status"] == "complete"
    assert rest[-1].data["message_id"] is not None


def test_fifty_clients_at_once_are_all_answered_one_at_a_time(
    served: Server, standin: StandIn
) -> None:
    standin.reply = replies.fixed("Short and sweet. Next please.")
    standin.tokens_per_second = 400
    before = standin.max_concurrent
    assert before <= 1
    sessions = [new_session(served.url) for _ in range(50)]
    gate = threading.Barrier(50)

    def client(session: str) -> tuple[str, list[Event]]:
        gate.wait()
        resp = ask(served.url, session, f"hello from {session}")
        assert resp.status_code == 202, resp.text
        return session, events(served.url, resp.json()["run_id"])

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(client, sessions))
    assert standin.max_concurrent == 1  # never two at once at Ollama
    waited = 0
    for _session, got in results:
        done = got[-1]
        assert done.kind == "done" and done.data["status"] == "complete"
        text = "".join(e.data["text"] for e in got if e.kind == "delta")
        assert text == "Short and sweet. Next please."
        positions = [e.data["position"] for e in got if e.kind == "queued"]
        assert positions, "every run is told its place"
        assert positions == sorted(positions, reverse=True), positions  # only ever down
        assert len(set(positions)) == len(positions)  # sent again only when it changed
        assert [e.kind for e in got].index("started") > [e.kind for e in got].index("queued")
        waited += positions[0] > 1
        assert [e.data["ahead"] for e in got if e.kind == "queued"] == [p - 1 for p in positions]
    assert waited >= 25  # they really queued
    marks = ",".join("?" * len(sessions))
    replies_stored = rows(served.data / "pocketchat.db",
                          "SELECT COUNT(*) FROM messages WHERE role = 'assistant' AND status = "
                          f"'complete' AND session_id IN ({marks})", *sessions)  # fmt: skip
    assert replies_stored == [(50,)]


def test_cancel_ends_a_reply_interrupted_and_keeps_it(served: Server, paced: StandIn) -> None:
    session = new_session(served.url)
    run_id = ask(served.url, session, "go on").json()["run_id"]
    got: list[Event] = []
    with httpx.stream("GET", f"{served.url}/v1/runs/{run_id}/events", timeout=30) as resp:
        for event in parse(resp.iter_lines()):
            got.append(event)
            if event.kind == "delta" and sum(e.kind == "delta" for e in got) == 1:
                answer = httpx.post(f"{served.url}/v1/runs/{run_id}/cancel", timeout=5)
                assert answer.json() == {"run_id": run_id, "cancelled": True}
            if event.kind == "done":
                break
    assert got[-1].data["status"] == "interrupted"
    text = "".join(e.data["text"] for e in got if e.kind == "delta")
    stored = rows(served.data / "pocketchat.db",
                  "SELECT content, status FROM messages WHERE id = ?", got[-1].data["message_id"])
    assert stored == [(text, "interrupted")]
    assert 0 < len(text) < len(ESSAY)
    assert httpx.get(f"{served.url}/v1/runs/{run_id}").json()["status"] == "cancelled"
    again = httpx.post(f"{served.url}/v1/runs/{run_id}/cancel", timeout=5)
    assert again.json()["cancelled"] is False


def test_sessions_are_made_listed_shown_archived_and_restored(served: Server) -> None:
    url = served.url
    session = new_session(url, title="Tides", system="Be brief.", options={"temperature": 0.2})
    shown = httpx.get(f"{url}/v1/sessions/{session}").json()
    assert shown["title"] == "Tides" and shown["system"] == "Be brief."
    assert shown["options"] == {"temperature": 0.2} and shown["messages"] == []
    listed = httpx.get(f"{url}/v1/sessions", params={"limit": 2}).json()
    assert len(listed["sessions"]) == 2 and listed["next_offset"] == 2
    renamed = httpx.patch(f"{url}/v1/sessions/{session}", json={"title": " Tides  and moons "})
    assert renamed.json()["title"] == "Tides and moons"
    assert httpx.delete(f"{url}/v1/sessions/{session}").json()["status"] == "archived"
    archived = httpx.get(f"{url}/v1/sessions", params={"archived": "true", "limit": 200}).json()
    assert session in [s["id"] for s in archived["sessions"]]
    assert rows(served.data / "pocketchat.db", "SELECT status FROM sessions WHERE id = ?",
                session) == [("archived",)]  # fmt: skip
    assert httpx.post(f"{url}/v1/sessions/{session}/restore").json()["status"] == "active"
    assert httpx.get(f"{url}/v1/sessions/nosuchsession").status_code == 404
    assert httpx.get(f"{url}/v1/runs/nosuchrun/events").status_code == 404
    bad = httpx.post(f"{url}/v1/sessions/{session}/messages", json={"content": 3})
    assert bad.status_code == 400 and "'content' must be str" in bad.json()["error"]["message"]
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{url}/readyz").json() == {"status": "ready"}


def test_the_429_and_503_paths_store_nothing(
    standin: StandIn, tmp_path_factory: pytest.TempPathFactory
) -> None:
    config = FAST + "serve:\n  turns_per_minute: 2\n  max_queue: 1\n"
    standin.reply = replies.essay(30)
    standin.tokens_per_second = 30
    try:
        with serving(tmp_path_factory.mktemp("limits") / "d", standin.url,
                     config=config) as server:  # fmt: skip
            url, db = server.url, server.data / "pocketchat.db"
            one, two, three = (new_session(url) for _ in range(3))
            first = ask(url, one, "first").json()["run_id"]
            wait_run(url, first, "running")
            second = ask(url, two, "second")  # waits: the queue holds one
            assert second.status_code == 202
            full = ask(url, three, "third")
            assert full.status_code == 503 and int(full.headers["retry-after"]) >= 1
            assert "queue is full" in full.json()["error"]["message"]
            assert rows(db, "SELECT COUNT(*) FROM messages WHERE session_id = ?", three) == [(0,)]

            wait_run(url, second.json()["run_id"], "done")
            assert ask(url, one, "again").status_code == 202
            limited = ask(url, one, "and again")
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
            assert "rate limit: 2 turns per minute" in limited.json()["error"]["message"]
            contents = rows(db, "SELECT content FROM messages WHERE session_id = ? AND role = "
                            "'user' ORDER BY seq", one)  # fmt: skip
            assert contents == [("first",), ("again",)]
            scraped = httpx.get(f"{url}/metrics").text
            assert 'pocketchat_serve_rejected_total{status="429"} 1.0' in scraped
            assert 'pocketchat_serve_rejected_total{status="503"} 1.0' in scraped
    finally:
        standin.tokens_per_second = None


@pytest.mark.parametrize("drain", [30.0, 0.3])
def test_sigterm_mid_reply_loses_nothing(
    standin: StandIn, tmp_path_factory: pytest.TempPathFactory, drain: float
) -> None:
    config = FAST + f"serve:\n  drain_seconds: {drain}\n"
    standin.reply = replies.essay(60)
    standin.tokens_per_second = 30
    try:
        with serving(tmp_path_factory.mktemp("drain") / "d", standin.url,
                     config=config) as server:  # fmt: skip
            url, db = server.url, server.data / "pocketchat.db"
            running = ask(url, new_session(url), "a long one").json()["run_id"]
            waiting = ask(url, new_session(url), "behind it").json()["run_id"]
            got: list[Event] = []
            with httpx.stream("GET", f"{url}/v1/runs/{running}/events", timeout=30) as resp:
                for event in parse(resp.iter_lines()):
                    got.append(event)
                    if event.kind == "delta" and len(got) == 3:
                        server.proc.send_signal(signal.SIGTERM)
                    if event.kind == "done":
                        break
            assert server.proc.wait(30) == 0
            status = got[-1].data["status"]
            stored = rows(db, "SELECT content, status FROM messages WHERE request_id = ? AND "
                          "role = 'assistant'", running)  # fmt: skip
            text = "".join(e.data["text"] for e in got if e.kind == "delta")
            if drain > 5:
                assert status == "complete" and stored == [(ESSAY, "complete")]
            else:
                assert status == "partial" and stored == [(text, "partial")]
                assert 0 < len(text) < len(ESSAY)
            # the one still waiting is ended, kept: the person's message and an empty reply
            assert rows(db, "SELECT role, status FROM messages WHERE request_id = ? ORDER BY seq",
                        waiting) == [("user", "complete"), ("assistant", "interrupted")]
            assert rows(db, "SELECT status FROM runs WHERE id IN (?, ?) ORDER BY id = ?",
                        running, waiting, waiting) == [("done",), ("cancelled",)]
    finally:
        standin.tokens_per_second = None
