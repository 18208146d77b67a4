"""The queue, the rate limit and the metrics inside real turns against the stand-in."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from app import App
from cli.turns import TurnRunner
from config.settings import load_settings
from tests.standin import Fault, StandIn
from utils.clock import SystemClock
from utils.sink import RecordingSink


class NoWaitClock(SystemClock):
    def sleep(self, seconds: float) -> None:
        pass


def make_app(tmp: Path, standin: StandIn, **overrides: Any) -> App:
    flat = {"data_dir": str(tmp / "data"), "host": standin.url, "retry.backoff": 0.0,
            "retry.jitter": 0.0, "ollama.auto_pull": "false", **overrides}  # fmt: skip
    return App(settings=load_settings(env={}, overrides=flat))


def events(app: App) -> list[tuple[str, float, str]]:
    conn = sqlite3.connect(app.settings.db_path)
    try:
        return list(conn.execute("SELECT kind, value, data FROM events ORDER BY id"))
    finally:
        conn.close()


def test_a_turn_records_its_figures_and_frees_its_slot(tmp_path: Path, standin: StandIn) -> None:
    standin.load_delay = 0.15
    app = make_app(tmp_path, standin)
    runner = TurnRunner(app, RecordingSink())
    shared = runner.turn(user_message="hello")
    assert shared["turn"]["status"] == "complete"
    gate = app.gate()
    assert gate is not None and gate.depth() == 0
    kinds = [k for k, _, _ in events(app)]
    assert kinds == ["queue_wait", "model_load", "first_token", "tokens_per_second"]
    load = next(v for k, v, _ in events(app) if k == "model_load")
    assert 0.15 <= load < 1.0
    runner.turn(session_id=shared["session_id"], user_message="again")  # loaded: no load event
    assert [k for k, _, _ in events(app)].count("model_load") == 1
    assert gate.estimate() is not None
    app.close()


def test_a_failed_call_releases_its_ticket_and_records_retries(
    tmp_path: Path, standin: StandIn
) -> None:
    app = make_app(tmp_path, standin)
    app._clock = NoWaitClock()  # the flow's retry block waits 1, 2, 4 s otherwise
    standin.script_fault("chat", Fault.status(503, "busy"), count=5)
    shared = TurnRunner(app, RecordingSink()).turn(user_message="hello")
    assert shared["turn"]["status"] == "failed"
    gate = app.gate()
    assert gate is not None and gate.depth() == 0
    retries = [(v, d) for k, v, d in events(app) if k == "ollama_retries"]
    assert len(retries) == 1 and retries[0][0] == 3.0, retries
    assert '"attempts": 4' in retries[0][1] and "OllamaBusy" in retries[0][1]
    app.close()


def test_waiting_turn_shows_its_position(tmp_path: Path, standin: StandIn) -> None:
    app = make_app(tmp_path, standin, **{"queue.ticket_ttl_seconds": 5.0})
    other = make_app(tmp_path, standin)  # another "process" on the same queue.db
    held = other.gate()
    assert held is not None
    ticket = held.acquire(lambda p, e: None)
    sink = RecordingSink()
    runner = TurnRunner(app, sink)  # built first: only the turn itself races the timer
    timer = threading.Timer(0.6, ticket.release)
    timer.start()
    shared = runner.turn(user_message="hello")
    timer.join()
    assert shared["turn"]["status"] == "complete"
    assert "#1 in line…" in sink.statuses
    wait = next(v for k, v, _ in events(app) if k == "queue_wait")
    assert wait >= 0.3  # the turn reached the queue well within the timer's 0.6 s
    app.close()
    other.close()


def test_rate_limit_refuses_before_storing(tmp_path: Path, standin: StandIn) -> None:
    app = make_app(tmp_path, standin, **{"rate_limit.turns_per_minute": 2})
    sink = RecordingSink()
    runner = TurnRunner(app, sink)
    sid = runner.turn(user_message="one")["session_id"]
    runner.turn(session_id=sid, user_message="two")
    store = app.store()
    before = store.message_count(sid)
    chats = len(standin.requests.to("/api/chat"))
    shared = runner.turn(session_id=sid, user_message="three")
    assert shared["turn"]["status"] == "refused"
    assert store.message_count(sid) == before
    assert len(standin.requests.to("/api/chat")) == chats
    line = sink.notices[-1]
    assert line.startswith("rate limit: 2 turns per minute for this session; try again in ")
    assert [k for k, _, _ in events(app)].count("rate_limited") == 1
    other = runner.turn(user_message="a new session is not limited")
    assert other["turn"]["status"] == "complete"
    app.close()


def test_rate_limit_zero_is_off(tmp_path: Path, standin: StandIn) -> None:
    app = make_app(tmp_path, standin, **{"rate_limit.turns_per_minute": 0})
    runner = TurnRunner(app, RecordingSink())
    sid = runner.turn(user_message="one")["session_id"]
    for text in ("two", "three"):
        assert runner.turn(session_id=sid, user_message=text)["turn"]["status"] == "complete"
    app.close()


@pytest.mark.parametrize("as_json", [False, True])
def test_ask_exits_1_with_one_line_when_limited(
    tmp_path: Path, standin: StandIn, as_json: bool
) -> None:
    from main import cli

    data = str(tmp_path / "data")
    base = ["--host", standin.url, "--data-dir", data]
    env = {"POCKETCHAT_CONFIG": str(tmp_path / "c.yaml")}
    (tmp_path / "c.yaml").write_text("rate_limit: {turns_per_minute: 1}\n")
    first = CliRunner().invoke(cli, [*base, "ask", "hello"], env=env)
    assert first.exit_code == 0, first.output
    extra = ["--json"] if as_json else []
    second = CliRunner().invoke(cli, [*base, "ask", "-c", *extra, "again"], env=env)
    assert second.exit_code == 1
    assert "rate limit: 1 turns per minute for this session; try again in" in second.output
