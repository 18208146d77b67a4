"""Behaviour of the Ollama stand-in: pacing, loading, queueing, truncation, faults."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import ollama
import pytest

from tests.standin import Fault, ModelSpec, StandIn, cosine, count_tokens, replies
from tests.standin.options import keep_alive_seconds, parse_duration
from tests.standin.tokenizer import MESSAGE_OVERHEAD

MSG = [{"role": "user", "content": "hello there"}]
M = "llama3.2:1b"


@pytest.fixture
def client(standin: StandIn) -> Iterator[ollama.Client]:
    with closing(ollama.Client(host=standin.url, timeout=httpx.Timeout(5.0))) as c:
        yield c


def chat_in_thread(s: StandIn, results: list[Any], body: dict[str, Any]) -> threading.Thread:
    """POST /api/chat from a new thread with its own connection; appends (status, text)."""

    def run() -> None:
        with httpx.Client(base_url=s.url, timeout=5.0) as c:
            try:
                r = c.post("/api/chat", json=body)
            except httpx.HTTPError as exc:
                results.append((type(exc).__name__, str(exc)))
            else:
                results.append((r.status_code, r.text))

    t = threading.Thread(target=run)
    t.start()
    return t


# --- replies and tokens -------------------------------------------------------------------


def test_reply_modes(client: ollama.Client, standin: StandIn) -> None:
    assert "stand-in" in (client.chat(M, MSG).message.content or "")
    standin.reply = replies.echo
    assert client.chat(M, MSG).message.content == "hello there"
    standin.reply = replies.fixed("Fixed.")
    assert client.chat(M, MSG).message.content == "Fixed."
    standin.reply = lambda messages: str(len(messages))
    assert client.chat(M, [*MSG, *MSG]).message.content == "2"
    standin.reply = replies.essay(7)
    text = client.chat(M, MSG).message.content or ""
    assert len(text.split()) == 7 and text == client.chat(M, MSG).message.content


def test_count_tokens() -> None:
    assert count_tokens("hello, world") == 5  # hell o , worl d
    assert count_tokens("") == 0
    assert count_tokens("a b c") == 3


def test_stop_option_cuts_reply(client: ollama.Client, standin: StandIn) -> None:
    standin.reply = replies.fixed("one two STOP three")
    r = client.chat(M, MSG, options={"stop": ["STOP"]})
    assert r.message.content == "one two " and r.done_reason == "stop"


def test_num_predict_gives_length(client: ollama.Client, standin: StandIn) -> None:
    standin.reply = replies.essay(20)
    parts = list(client.chat(M, MSG, stream=True, options={"num_predict": 5}))
    assert len(parts) == 6
    assert parts[-1].done_reason == "length" and parts[-1].eval_count == 5


# --- pacing and loading ---------------------------------------------------------------


def test_pacing(client: ollama.Client, standin: StandIn) -> None:
    standin.reply = replies.essay(6)
    standin.first_token_delay = 0.1
    standin.tokens_per_second = 50
    start = time.monotonic()
    stamps = [time.monotonic() - start for _ in client.chat(M, MSG, stream=True)]
    assert stamps[0] >= 0.1
    assert stamps[-1] - stamps[0] >= 5 * 0.02 * 0.9
    assert stamps[-1] < 1.0


def test_load_delay_and_keep_alive_expiry(client: ollama.Client, standin: StandIn) -> None:
    standin.load_delay = 0.05
    first = client.chat(M, MSG, keep_alive="100ms")
    assert first.load_duration is not None and first.load_duration >= 50_000_000
    second = client.chat(M, MSG, keep_alive="100ms")
    assert second.load_duration is None  # omitted: already loaded
    assert [m.model for m in client.ps().models] == [M]
    time.sleep(0.15)
    assert client.ps().models == []
    third = client.chat(M, MSG)
    assert third.load_duration is not None and third.load_duration >= 50_000_000


def test_keep_alive_zero_and_forever(client: ollama.Client, standin: StandIn) -> None:
    client.chat(M, MSG, keep_alive=0)
    assert client.ps().models == []
    client.chat(M, MSG, keep_alive=-1)
    (loaded,) = client.ps().models
    assert loaded.expires_at is not None and loaded.expires_at.year > 2100


def test_num_ctx_change_reloads(client: ollama.Client, standin: StandIn) -> None:
    client.chat(M, MSG)
    assert client.chat(M, MSG).load_duration is None
    assert client.chat(M, MSG, options={"num_ctx": 8192}).load_duration is not None
    assert standin.requests[-1].num_ctx == 8192


def test_model_load_delay_override(client: ollama.Client, standin: StandIn) -> None:
    standin.models["slow:latest"] = ModelSpec(load_delay=0.08)
    r = client.chat("slow", MSG)
    assert r.load_duration is not None and r.load_duration >= 80_000_000


def test_keep_alive_parsing() -> None:
    assert parse_duration("5m") == 300 and parse_duration("1h30m") == 5400
    assert parse_duration("30s") == 30 and parse_duration("500ms") == 0.5
    assert keep_alive_seconds(None, 300) == 300 and keep_alive_seconds(10, 300) == 10
    assert math.isinf(keep_alive_seconds("-1s", 300)) and math.isinf(keep_alive_seconds(-1, 0))


# --- one at a time --------------------------------------------------------------------


def test_fifo_one_at_a_time(standin: StandIn) -> None:
    standin.reply = replies.essay(3)
    standin.tokens_per_second = 40  # ~0.05 s per request
    results: list[Any] = []
    threads = []
    for i in range(4):
        body = {"model": M, "messages": [{"role": "user", "content": f"n{i}"}]}
        threads.append(chat_in_thread(standin, results, body))
        while len(standin.requests) < i + 1:  # arrival order = launch order
            time.sleep(0.002)
    for t in threads:
        t.join()
    assert [code for code, _ in results] == [200] * 4
    assert standin.max_concurrent == 1
    chats = sorted(standin.requests.to("/api/chat"), key=lambda r: r.started)
    order = [r.body["messages"][0]["content"] for r in chats]
    assert order == ["n0", "n1", "n2", "n3"]
    finished = [r.finished or 0.0 for r in chats]
    assert finished == sorted(finished)


def test_parallel_slots(standin: StandIn) -> None:
    standin.slots.num_parallel = 2
    standin.first_token_delay = 0.1
    results: list[Any] = []
    threads = [chat_in_thread(standin, results, {"model": M, "messages": MSG}) for _ in range(3)]
    for t in threads:
        t.join()
    assert standin.max_concurrent == 2


def test_503_past_max_queue(standin: StandIn) -> None:
    standin.slots.max_queue = 1
    standin.first_token_delay = 0.8
    results: list[Any] = []
    busy = chat_in_thread(standin, results, {"model": M, "messages": MSG})
    while standin.slots.active == 0:
        time.sleep(0.005)
    queued = chat_in_thread(standin, results, {"model": M, "messages": MSG})
    while standin.slots.waiting == 0:
        time.sleep(0.005)
    with httpx.Client(base_url=standin.url, timeout=5.0) as c:
        r = c.post("/api/chat", json={"model": M, "messages": MSG})
    # answered at once: the busy request is still being served, the queued one still waits
    assert busy.is_alive() and queued.is_alive()
    assert r.status_code == 503
    assert r.json() == {
        "error": "server busy, please try again.  maximum pending requests exceeded"
    }
    busy.join()
    queued.join()
    assert [code for code, _ in results] == [200, 200]


# --- truncation -------------------------------------------------------------------------


def _conversation(turns: int) -> list[dict[str, str]]:
    msgs = [{"role": "system", "content": "You are terse."}]
    for i in range(turns):
        msgs.append({"role": "user", "content": f"question number {i} about foxes"})
        msgs.append({"role": "assistant", "content": f"answer number {i} about owls"})
    msgs.append({"role": "user", "content": "final question"})
    return msgs


def _cost(messages: list[dict[str, str]]) -> int:
    return sum(count_tokens(m["content"]) + MESSAGE_OVERHEAD for m in messages)


def test_no_truncation_when_it_fits(client: ollama.Client, standin: StandIn) -> None:
    msgs = _conversation(3)
    r = client.chat(M, msgs)
    rec = standin.requests[-1]
    assert not rec.truncated and r.prompt_eval_count == _cost(msgs) == rec.prompt_eval_count


def test_truncation_keeps_system_and_last(client: ollama.Client, standin: StandIn) -> None:
    msgs = _conversation(20)
    standin.reply = replies.echo
    r = client.chat(M, msgs, options={"num_ctx": 100})
    rec = standin.requests[-1]
    assert rec.truncated and rec.prompt_tokens == _cost(msgs)
    assert rec.kept_messages[0] == 0 and rec.kept_messages[-1] == len(msgs) - 1
    kept = [msgs[i] for i in rec.kept_messages]
    assert r.prompt_eval_count == _cost(kept) <= 100
    assert _cost([msgs[0], *msgs[rec.kept_messages[1] - 1 :]]) > 100  # dropped just enough
    assert r.message.content == "final question"


def test_truncation_cuts_middle_when_last_too_long(client: ollama.Client, standin: StandIn) -> None:
    long = " ".join(["word"] * 500)
    r = client.chat(M, [{"role": "user", "content": long}], options={"num_ctx": 256})
    assert r.prompt_eval_count == 128 and standin.requests[-1].truncated


def test_default_num_ctx_is_4096(client: ollama.Client, standin: StandIn) -> None:
    long = " ".join(["word"] * 5000)
    r = client.chat(M, [{"role": "user", "content": long}])
    assert r.prompt_eval_count == 2048


# --- embeddings ----------------------------------------------------------------------


def test_embeddings(client: ollama.Client, standin: StandIn) -> None:
    texts = ["the red fox runs", "the red fox sleeps", "quantum chromodynamics lattice"]
    vecs = client.embed("nomic-embed-text", texts).embeddings
    again = client.embed("nomic-embed-text", texts).embeddings
    assert [list(v) for v in vecs] == [list(v) for v in again]
    for v in vecs:
        assert abs(math.sqrt(sum(x * x for x in v)) - 1.0) < 1e-9
    a, b, c = ([float(x) for x in v] for v in vecs)
    assert cosine(a, b) > cosine(a, c)
    standin.embedding_dimensions = 16
    assert len(client.embed("nomic-embed-text", "x").embeddings[0]) == 16


# --- pull / delete ------------------------------------------------------------------


def test_pull_installs_model(client: ollama.Client, standin: StandIn) -> None:
    standin.registry["gemma3:270m"] = ModelSpec(context_length=32768, family="gemma3")
    parts = list(client.pull("gemma3:270m", stream=True))
    assert parts[-1].status == "success"
    assert any(p.completed for p in parts) and any(p.total for p in parts)
    info = client.show("gemma3:270m").modelinfo or {}
    assert info["gemma3.context_length"] == 32768
    assert client.chat("gemma3:270m", MSG).done
    client.delete("gemma3:270m")
    assert "gemma3:270m" not in {m.model for m in client.list().models}


# --- faults and lifecycle ----------------------------------------------------------------


def test_down_then_up_same_port(standin: StandIn) -> None:
    port = standin.port
    c = ollama.Client(host=standin.url, timeout=httpx.Timeout(2.0))
    with closing(c):
        assert c.chat(M, MSG).done
        standin.go_down()
        with pytest.raises(ConnectionError):
            c.chat(M, MSG)
        standin.come_up()
        assert standin.port == port
        assert c.chat(M, MSG).done


def test_down_for_comes_back(standin: StandIn) -> None:
    standin.down_for(0.1)
    with httpx.Client(base_url=standin.url, timeout=2.0) as c:
        with pytest.raises(httpx.ConnectError):
            c.get("/")
        deadline = time.monotonic() + 2.0
        while not standin.is_up and time.monotonic() < deadline:
            time.sleep(0.01)
        assert c.get("/").status_code == 200


def test_disconnect_stops_generation(standin: StandIn) -> None:
    standin.reply = replies.essay(200)
    standin.tokens_per_second = 100
    with (
        httpx.Client(base_url=standin.url, timeout=5.0) as c,
        c.stream("POST", "/api/chat", json={"model": M, "messages": MSG}) as r,
    ):
        lines = r.iter_lines()
        assert json.loads(next(lines))["done"] is False
        next(lines)
    assert standin.requests.wait_finished(timeout=1.0)
    rec = standin.requests[-1]
    assert rec.cancelled and rec.eval_count < 50


def test_faults_are_consumed_in_order(client: ollama.Client, standin: StandIn) -> None:
    standin.script_fault("chat", Fault.status(500, "first"), count=2)
    standin.script_fault("*", Fault.status(500, "any"))
    for expected in ("first", "first", "any"):
        with pytest.raises(ollama.ResponseError) as err:
            client.chat(M, MSG)
        assert err.value.error == expected
    assert client.chat(M, MSG).done
    standin.script_fault("tags", Fault.status(500, "tags down"))
    with pytest.raises(ollama.ResponseError):
        client.list()


def test_requests_are_recorded(client: ollama.Client, standin: StandIn) -> None:
    client.chat(M, MSG, options={"temperature": 0})
    with pytest.raises(ollama.ResponseError):
        client.chat("missing", MSG)
    ok, missing = standin.requests
    # the server marks a request ended after its last byte is written: the client can be first
    assert ok.done_event.wait(2.0) and missing.done_event.wait(2.0)
    assert (ok.method, ok.path, ok.outcome, ok.status) == ("POST", "/api/chat", "ok", 200)
    assert ok.body["messages"] == MSG and ok.body["stream"] is False
    assert ok.body["options"] == {"temperature": 0}
    assert (missing.outcome, missing.status, missing.model) == ("error", 404, "missing:latest")


def test_stop_joins_threads_with_open_connections() -> None:
    s = StandIn().start()
    c = httpx.Client(base_url=s.url, timeout=5.0)
    assert c.get("/api/version").status_code == 200  # leaves a keep-alive connection open
    s.script_fault("chat", Fault.stall(30.0))
    results: list[Any] = []
    stalled = chat_in_thread(s, results, {"model": M, "messages": MSG})
    while s.slots.active == 0:
        time.sleep(0.005)
    start = time.monotonic()
    s.stop()
    assert time.monotonic() - start < 1.0
    stalled.join(2.0)
    c.close()
    assert not stalled.is_alive()
    assert results == [("RemoteProtocolError", "Server disconnected without sending a response.")]
    assert not [t for t in threading.enumerate() if t.name.startswith(f"standin-{s.port}")]


def test_env_is_isolated(isolated_env: Path) -> None:
    import os

    assert os.environ["HOME"] == str(isolated_env)
    assert "OLLAMA_HOST" not in os.environ
    assert not [k for k in os.environ if k.startswith("POCKETCHAT_")]
