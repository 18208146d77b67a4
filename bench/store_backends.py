"""A chat turn's time with its history in Postgres (and its queue in Redis) against the same
turn on SQLite with the file queue.

In one run, on one stand-in (no pacing, a short fixed reply): three apps — a SQLite file and
queue.db; a private Postgres 16 (tests/pg_server.py, unix socket) and queue.db; Postgres and a
private Redis (tests/redis_server.py, unix socket) for the queue — each with a session of 200
stored messages; 20 turns through `TurnRunner` over flows/chat.yaml on each, interleaved
(SQLite, Postgres, Postgres + Redis, SQLite, …) so all see the same machine. Reported, as
medians: the turn on each and the differences (what a networked store adds to a turn: a round
trip per statement and a pooled connection per read; over TCP to another machine add its round
trip per statement).
Not bounded: the issue asks for the figure.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import structlog

from app import App
from bench.common import Row, row
from cli.turns import TurnRunner
from config.settings import load_settings
from tests import pg_server
from tests.redis_server import RedisServer
from tests.standin import StandIn, replies
from utils.sink import RecordingSink
from utils.store import iso

TURNS = 20
STORED = 200
MODEL = "llama3.2:1b"


def _fill(app: App) -> str:
    store = app.store()
    sid = store.create_session(MODEL, title="bench").id
    now = iso(time.time() - 3600)
    rows = [(sid, i + 1, "user" if i % 2 == 0 else "assistant",
             f"message {i}: the quick brown fox jumps over the lazy dog", MODEL, now, now)
            for i in range(STORED)]  # fmt: skip
    store.transaction(lambda conn: conn.executemany(
        "INSERT INTO messages (session_id, seq, role, content, model, status, created_at, "
        "updated_at) VALUES (?,?,?,?,?,'complete',?,?)", rows))  # fmt: skip
    return sid


def run() -> list[Row]:
    times: dict[str, list[float]] = {"sqlite": [], "postgres": [], "postgres+redis": []}
    with structlog.testing.capture_logs(), StandIn() as standin, \
            tempfile.TemporaryDirectory() as d, RedisServer(Path(d) / "redis") as redis:
        standin.reply = replies.fixed("A short reply of a few words.")
        try:
            apps: dict[str, tuple[App, TurnRunner, str]] = {}
            for name, url, queue in (("sqlite", None, None),
                                     ("postgres", pg_server.fresh_database(), None),
                                     ("postgres+redis", pg_server.fresh_database(), redis.url)):
                flat = {"data_dir": str(Path(d) / name), "host": standin.url, "store.url": url,
                        "queue.url": queue, "rate_limit.turns_per_minute": 0,
                        "ollama.auto_pull": "false"}  # fmt: skip
                app = App(settings=load_settings(env={}, overrides=flat))
                apps[name] = (app, TurnRunner(app, RecordingSink()), _fill(app))
            for i in range(TURNS + 2):  # the first two of each warm up
                for name, (_, runner, sid) in apps.items():
                    start = time.perf_counter()
                    shared = runner.turn(session_id=sid, user_message=f"question {i}")
                    took = (time.perf_counter() - start) * 1000
                    assert shared["turn"]["status"] == "complete", shared["turn"]
                    if i >= 2:
                        times[name].append(took)
            for app, _, _ in apps.values():
                app.close()
        finally:
            pg_server.stop()
    lite, pg = statistics.median(times["sqlite"]), statistics.median(times["postgres"])
    both = statistics.median(times["postgres+redis"])
    return [
        row("store_backends", "chat turn, SQLite store", round(lite, 3), "ms",
            f"median of {TURNS} turns, {STORED} stored messages"),
        row("store_backends", "chat turn, Postgres store", round(pg, 3), "ms",
            "same turns, interleaved; private Postgres 16 on a unix socket"),
        row("store_backends", "Postgres minus SQLite", round(pg - lite, 3), "ms",
            f"ratio {pg / lite:.2f}x; measured, not bounded (the issue asks for the figure)"),
        row("store_backends", "chat turn, Postgres store + Redis queue", round(both, 3), "ms",
            "same turns, interleaved; private Redis on a unix socket"),
        row("store_backends", "Postgres + Redis minus SQLite + queue.db", round(both - lite, 3),
            "ms", f"ratio {both / lite:.2f}x; measured, not bounded"),
    ]  # fmt: skip
