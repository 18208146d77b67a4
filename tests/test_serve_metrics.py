"""`/metrics` on a real `pocketchat serve`: scraped before and after a few runs, the figures
moved; a client that leaves a stream early is counted (and its reply still stored whole); no
label names a person; `/metrics` stays open when keys exist while `/v1` does not."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.serve_proc import Server, serving
from tests.standin import StandIn, replies

CONFIG = "rate_limit:\n  turns_per_minute: 2\n"
ALLOWED_LABELS = {"status", "host", "le"}


def scrape(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{server.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    figures = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            assert set(sample.labels) <= ALLOWED_LABELS, sample
            figures[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return figures


def value(figures: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float:  # fmt: skip
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


def ask(http: httpx.Client, text: str, session: str | None = None) -> httpx.Response:
    headers = {"X-Session-Id": session} if session else {}
    return http.post("/v1/chat/completions", headers=headers, json={
        "model": "llama3.2:1b", "messages": [{"role": "user", "content": text}]})  # fmt: skip


def test_metrics_move_with_runs(standin: StandIn, tmp_path: Path) -> None:
    standin.load_delay = 0.3  # the first run loads the model
    with serving(tmp_path / "d", standin.url, config=CONFIG) as server, httpx.Client(
        base_url=server.url, timeout=30
    ) as http:
        before = scrape(server)
        for name in ("pocketchat_serve_queue_depth", "pocketchat_serve_cache_hits_total",
                     "pocketchat_serve_context_truncations_total",
                     "pocketchat_serve_session_resurrections_total",
                     "pocketchat_serve_stream_rejoins_total"):  # fmt: skip
            assert (name, ()) in before, name
        first = ask(http, "one")
        assert first.status_code == 200, first.text
        session = first.headers["x-session-id"]
        assert ask(http, "two", session).status_code == 200
        assert ask(http, "three").status_code == 200
        refused = ask(http, "too soon", session)
        assert refused.status_code == 429
        after = scrape(server)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("pocketchat_serve_wait_seconds_count") == 3
    assert moved("pocketchat_serve_first_token_seconds_count") == 3
    assert moved("pocketchat_serve_tokens_per_second_count") == 3
    assert moved("pocketchat_serve_tokens_per_second_sum") > 0
    assert moved("pocketchat_serve_model_load_seconds_count") >= 1
    assert moved("pocketchat_serve_model_load_seconds_sum") >= 0.3
    assert moved("pocketchat_serve_rejected_total", status="429") == 1
    assert moved("pocketchat_serve_runs_total", status="complete") == 3
    assert value(after, "pocketchat_serve_queue_depth") == 0
    hosts = [labels for (name, labels) in after if name == "pocketchat_serve_in_flight"]
    assert hosts and all(value(after, "pocketchat_serve_in_flight", **dict(h)) == 0
                         for h in hosts)  # fmt: skip


def test_a_stream_left_early_is_counted_and_its_reply_kept(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.reply = replies.essay(60)
    standin.tokens_per_second = 40.0
    with serving(tmp_path / "d", standin.url) as server:
        before = scrape(server)
        body = {"model": "llama3.2:1b", "stream": True,
                "messages": [{"role": "user", "content": "go on"}]}  # fmt: skip
        with httpx.Client(base_url=server.url, timeout=30) as http, http.stream(
            "POST", "/v1/chat/completions", json=body
        ) as stream:
            session = stream.headers["x-session-id"]
            for line in stream.iter_lines():
                if '"content": "' in line and '"content": ""' not in line:
                    break  # one piece of text, then the client goes away
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with sqlite3.connect(server.data / "pocketchat.db") as conn:
                row = conn.execute("SELECT content, status FROM messages WHERE session_id = ? "
                                   "AND role = 'assistant'", [session]).fetchone()  # fmt: skip
            if row and row[1] == "complete":
                break
            time.sleep(0.1)
        assert row is not None and row[1] == "complete"
        assert row[0] == replies.essay_text(60)
        after = scrape(server)
    name = "pocketchat_serve_stream_disconnects_total"
    assert value(after, name) - value(before, name) == 1


def test_metrics_stay_open_when_keys_exist(standin: StandIn, tmp_path: Path) -> None:
    with serving(tmp_path / "d", standin.url) as server:
        assert httpx.get(f"{server.url}/v1/models").status_code == 200  # no keys: open
        assert server.pocketchat("keys", "create", "ops").returncode == 0
        refused = httpx.get(f"{server.url}/v1/models")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_api_key"
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert httpx.get(f"{server.url}/metrics").status_code == 200
        assert httpx.get(f"{server.url}/healthz").status_code == 200
