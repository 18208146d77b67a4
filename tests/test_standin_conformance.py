"""The stand-in, driven by the real ``ollama`` client and raw HTTP, behaves like Ollama.

Each test checks what ``/work/shared/ollama-protocol.md`` says real Ollama sends, and
what the ``ollama`` 0.6.3 client then returns or raises.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import httpx
import ollama
import pytest

from tests.standin import Fault, StandIn, replies

MSG = [{"role": "user", "content": "hello there"}]


@pytest.fixture
def client(standin: StandIn) -> Iterator[ollama.Client]:
    with closing(ollama.Client(host=standin.url, timeout=httpx.Timeout(5.0))) as c:
        yield c


def raw(
    s: StandIn, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP/1.1 exchange: status, headers (lower-case), body."""
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def post(s: StandIn, path: str, obj: Any) -> tuple[int, dict[str, str], bytes]:
    return raw(s, "POST", path, json.dumps(obj).encode())


def lines(data: bytes) -> list[dict[str, Any]]:
    text = data.decode()
    assert text.endswith("\n") and "\n\n" not in text
    return [json.loads(line) for line in text.splitlines()]


# --- every endpoint through the client -------------------------------------------------


def test_chat_not_streamed(client: ollama.Client) -> None:
    r = client.chat("llama3.2:1b", MSG)
    assert r.done and r.done_reason == "stop"
    assert r.message.role == "assistant" and r.message.content
    assert r.prompt_eval_count and r.eval_count and r.total_duration and r.eval_duration


def test_chat_streamed(client: ollama.Client, standin: StandIn) -> None:
    standin.reply = replies.fixed("one two three")
    parts = list(client.chat("llama3.2:1b", MSG, stream=True))
    assert [p.message.content for p in parts] == ["one ", "two ", "three", ""]
    assert [p.done for p in parts] == [False, False, False, True]
    assert parts[-1].done_reason == "stop" and parts[-1].eval_count == 3


def test_generate_streamed_and_not(client: ollama.Client, standin: StandIn) -> None:
    standin.reply = replies.echo
    r = client.generate("llama3.2:1b", "say this", system="be brief")
    assert r.response == "say this" and r.done
    parts = list(client.generate("llama3.2:1b", "a b", stream=True))
    assert "".join(p.response or "" for p in parts) == "a b" and parts[-1].done


def test_list_show_ps(client: ollama.Client) -> None:
    names = {m.model for m in client.list().models}
    assert names == {"llama3.2:1b", "qwen2.5:0.5b", "nomic-embed-text:latest"}
    show = client.show("qwen2.5:0.5b")
    assert show.modelinfo is not None and show.modelinfo["qwen2.context_length"] == 32768
    assert show.capabilities == ["completion", "tools"]
    assert client.show("nomic-embed-text").capabilities == ["embedding"]
    assert client.ps().models == []
    client.chat("qwen2.5:0.5b", MSG, options={"num_ctx": 8192})
    (loaded,) = client.ps().models
    assert loaded.model == "qwen2.5:0.5b" and loaded.context_length == 8192
    assert loaded.expires_at is not None


def test_embed(client: ollama.Client) -> None:
    r = client.embed("nomic-embed-text", ["red fox", "owl"])
    assert len(r.embeddings) == 2 and len(r.embeddings[0]) == 64
    assert r.prompt_eval_count == 3
    assert len(client.embed("nomic-embed-text", "alpha").embeddings) == 1


def test_pull_streamed_and_not(client: ollama.Client) -> None:
    statuses = [p.status for p in client.pull("smollm:135m", stream=True)]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
    assert client.pull("tinyllama", stream=False).status == "success"
    names = {m.model for m in client.list().models}
    assert {"smollm:135m", "tinyllama:latest"} <= names


def test_delete(client: ollama.Client) -> None:
    assert client.delete("qwen2.5:0.5b").status == "success"
    with pytest.raises(ollama.ResponseError) as err:
        client.delete("qwen2.5:0.5b")
    assert err.value.status_code == 404


def test_load_and_unload(client: ollama.Client) -> None:
    r = client.chat("llama3.2:1b", [], stream=False)
    assert r.done and r.done_reason == "load"
    assert [m.model for m in client.ps().models] == ["llama3.2:1b"]
    r = client.chat("llama3.2:1b", [], keep_alive=0)
    assert r.done_reason == "unload" and client.ps().models == []
    assert client.generate("llama3.2:1b", "").done_reason == "load"


# --- errors through the client ---------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_model_not_found_404(client: ollama.Client, stream: bool) -> None:
    with pytest.raises(ollama.ResponseError) as err:
        if stream:
            list(client.chat("nope", MSG, stream=True))
        else:
            client.chat("nope", MSG)
    assert err.value.status_code == 404
    assert str(err.value) == "model 'nope' not found (status code: 404)"


def test_404_for_show_and_embed(client: ollama.Client) -> None:
    for call in (lambda: client.show("nope"), lambda: client.embed("nope", "x")):
        with pytest.raises(ollama.ResponseError) as err:
            call()
        assert err.value.status_code == 404


def test_embedding_model_cannot_chat_400(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as err:
        client.chat("nomic-embed-text", MSG)
    assert err.value.status_code == 400
    assert err.value.error == '"nomic-embed-text" does not support chat'


def test_bad_option_400(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as err:
        client.chat("llama3.2:1b", MSG, options={"num_ctx": "big"})
    assert err.value.status_code == 400 and "num_ctx" in err.value.error


@pytest.mark.parametrize("stream", [False, True])
def test_500_before_stream(client: ollama.Client, standin: StandIn, stream: bool) -> None:
    standin.script_fault("chat", Fault.status(500, "model requires more system memory"))
    with pytest.raises(ollama.ResponseError) as err:
        if stream:
            list(client.chat("llama3.2:1b", MSG, stream=True))
        else:
            client.chat("llama3.2:1b", MSG)
    assert err.value.status_code == 500
    assert err.value.error == "model requires more system memory"


def test_503_busy(client: ollama.Client, standin: StandIn) -> None:
    standin.script_fault("chat", Fault.status(503, "x"))  # shape check; queue test elsewhere
    with pytest.raises(ollama.ResponseError) as err:
        client.chat("llama3.2:1b", MSG)
    assert err.value.status_code == 503


def test_error_line_mid_stream(client: ollama.Client, standin: StandIn) -> None:
    standin.reply = replies.essay(10)
    standin.script_fault("chat", Fault.error_line(after=3, message="runner crashed"))
    seen: list[str] = []
    with pytest.raises(ollama.ResponseError) as err:
        for part in client.chat("llama3.2:1b", MSG, stream=True):
            seen.append(part.message.content or "")
    assert err.value.status_code == -1 and err.value.error == "runner crashed"
    assert len(seen) == 3


def test_down_server(standin: StandIn) -> None:
    standin.go_down()
    with closing(ollama.Client(host=standin.url, timeout=httpx.Timeout(2.0))) as c:
        with pytest.raises(ConnectionError) as err:
            c.chat("llama3.2:1b", MSG)
        assert "Failed to connect to Ollama" in str(err.value)
        with pytest.raises(httpx.ConnectError):
            list(c.chat("llama3.2:1b", MSG, stream=True))


def test_stall_read_timeout(standin: StandIn) -> None:
    standin.script_fault("chat", Fault.stall(2.0))
    c = ollama.Client(host=standin.url, timeout=httpx.Timeout(5.0, read=0.1))
    with closing(c), pytest.raises(httpx.ReadTimeout):
        list(c.chat("llama3.2:1b", MSG, stream=True))


def test_stall_mid_stream_read_timeout(standin: StandIn) -> None:
    standin.reply = replies.essay(5)
    standin.script_fault("chat", Fault.stall_mid(after=2, seconds=2.0))
    c = ollama.Client(host=standin.url, timeout=httpx.Timeout(5.0, read=0.1))
    seen = 0
    with closing(c), pytest.raises(httpx.ReadTimeout):
        for _ in c.chat("llama3.2:1b", MSG, stream=True):
            seen += 1
    assert seen == 2


def test_cut_mid_stream(client: ollama.Client, standin: StandIn) -> None:
    standin.reply = replies.essay(10)
    standin.script_fault("chat", Fault.cut(after=2))
    seen = 0
    with pytest.raises(httpx.RemoteProtocolError):
        for _ in client.chat("llama3.2:1b", MSG, stream=True):
            seen += 1
    assert seen == 2


def test_clean_eof_without_done(client: ollama.Client, standin: StandIn) -> None:
    standin.reply = replies.essay(10)
    standin.script_fault("chat", Fault.eof(after=4))
    parts = list(client.chat("llama3.2:1b", MSG, stream=True))
    assert len(parts) == 4 and not parts[-1].done


def test_unknown_pull(client: ollama.Client, standin: StandIn) -> None:
    standin.registry_unknown.add("no-such-model")
    statuses: list[str] = []
    with pytest.raises(ollama.ResponseError) as err:
        for p in client.pull("no-such-model", stream=True):
            statuses.append(p.status or "")
    assert statuses == ["pulling manifest"]
    assert err.value.status_code == -1
    assert err.value.error == "pull model manifest: file does not exist"


# --- raw HTTP: framing, content types, omitted fields -------------------------------------


def test_root_get_and_head(standin: StandIn) -> None:
    status, headers, body = raw(standin, "GET", "/")
    assert (status, body) == (200, b"Ollama is running")
    assert headers["content-type"].startswith("text/plain")
    status, headers, body = raw(standin, "HEAD", "/")
    assert status == 200 and body == b"" and headers["content-length"] == "17"


def test_unknown_path_and_wrong_method(standin: StandIn) -> None:
    status, headers, body = raw(standin, "GET", "/api/nothing")
    assert (status, body) == (404, b"404 page not found")
    assert headers["content-type"].startswith("text/plain")
    assert raw(standin, "GET", "/api/chat")[0] == 405
    assert raw(standin, "POST", "/api/tags", b"{}")[0] == 405


def test_version(standin: StandIn) -> None:
    status, headers, body = raw(standin, "GET", "/api/version")
    assert status == 200 and headers["content-type"] == "application/json; charset=utf-8"
    assert json.loads(body)["version"].startswith("0.")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (None, "missing request body"),
        (b"{not json", None),
        (b'{"messages": []}', "model is required"),
        (b'{"model": "llama3.2:1b", "options": {"temperature": "hot"}}', None),
        (b'{"model": "llama3.2:1b", "keep_alive": "soon"}', None),
    ],
)
def test_400_bodies(standin: StandIn, body: bytes | None, error: str | None) -> None:
    status, headers, data = raw(standin, "POST", "/api/chat", body)
    assert status == 400 and headers["content-type"] == "application/json; charset=utf-8"
    obj = json.loads(data)
    assert list(obj) == ["error"]
    if error:
        assert obj["error"] == error


def test_streaming_framing(standin: StandIn) -> None:
    standin.reply = replies.fixed("a b")
    status, headers, data = post(standin, "/api/chat", {"model": "llama3.2", "messages": MSG})
    assert status == 404  # llama3.2 means llama3.2:latest, which is not installed
    status, headers, data = post(standin, "/api/chat", {"model": "llama3.2:1b", "messages": MSG})
    assert status == 200
    assert headers["content-type"] == "application/x-ndjson"
    assert headers["transfer-encoding"] == "chunked" and "content-length" not in headers
    chunks = lines(data)
    first, final = chunks[0], chunks[-1]
    assert set(first) == {"model", "created_at", "message", "done"}
    assert first["message"] == {"role": "assistant", "content": "a "}
    assert first["created_at"].endswith("Z") and "T" in first["created_at"]
    assert final["done"] is True and final["message"]["content"] == ""
    assert "load_duration" in final  # first request loads the model
    assert all(isinstance(final[k], int) for k in ("total_duration", "eval_duration"))
    assert "thinking" not in final["message"] and "tool_calls" not in final["message"]


def test_non_streamed_content_type_and_omitted_load(standin: StandIn) -> None:
    req = {"model": "llama3.2:1b", "messages": MSG, "stream": False, "tools": []}
    post(standin, "/api/chat", req)
    _status, headers, data = post(standin, "/api/chat", req)
    assert headers["content-type"] == "application/json; charset=utf-8"
    obj = json.loads(data)
    assert obj["done"] is True and "load_duration" not in obj  # already loaded


def test_load_returns_single_object_even_when_streaming(standin: StandIn) -> None:
    _status, headers, data = post(standin, "/api/chat", {"model": "llama3.2:1b", "messages": []})
    assert headers["content-type"] == "application/json; charset=utf-8"
    obj = json.loads(data)
    assert obj["done_reason"] == "load" and obj["message"]["content"] == ""


def test_pull_progress_lines(standin: StandIn) -> None:
    _status, headers, data = post(standin, "/api/pull", {"model": "smollm"})
    assert headers["content-type"] == "application/x-ndjson"
    objs = lines(data)
    pulling = [o for o in objs if o["status"].startswith("pulling ") and "digest" in o]
    assert pulling and all(o["digest"].startswith("sha256:") for o in pulling)
    assert all(len(o["status"]) == len("pulling ") + 12 for o in pulling)
    assert any("completed" not in o for o in pulling)
    assert all(o.get("completed", 1) > 0 for o in pulling)
    assert [o["status"] for o in objs[-3:]] == [
        "verifying sha256 digest",
        "writing manifest",
        "success",
    ]


def test_delete_empty_200(standin: StandIn) -> None:
    status, _, data = raw(standin, "DELETE", "/api/delete", b'{"model": "qwen2.5:0.5b"}')
    assert (status, data) == (200, b"")


def test_keep_alive_connection_reused(standin: StandIn) -> None:
    with httpx.Client(base_url=standin.url, timeout=5) as c:
        for _ in range(3):
            assert c.get("/api/version").status_code == 200
    assert [r.outcome for r in standin.requests] == ["ok"] * 3
