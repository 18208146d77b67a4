"""Per-turn overhead of the whole chat flow over calling `ollama.Client.chat` directly.

In one run, on one stand-in (no pacing, a short fixed reply): a session of 1,000 stored
messages; 30 turns through `TurnRunner` over flows/chat.yaml (rate limit, load, trim, cache,
queue ticket, call, stream, persist with its metric events, archive) interleaved with 30
direct streamed `ollama.Client.chat` calls sending the same 40-message window. Reported: the
medians and their difference in milliseconds.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import httpx
import ollama
import structlog

from app import App
from bench.common import Row, row
from cli.turns import TurnRunner
from config.settings import load_settings
from tests.standin import StandIn, replies
from utils.sink import RecordingSink
from utils.store import iso

TURNS = 30
STORED = 1000
MODEL = "llama3.2:1b"


def _fill(app: App) -> str:
    store = app.store()
    sid = store.create_session(MODEL, title="bench").id
    now = iso(time.time() - 3600)
    rows = [(sid, i + 1, "user" if i % 2 == 0 else "assistant",
             f"message {i}: the quick brown fox jumps over the lazy dog", MODEL, now, now)
            for i in range(STORED)]  # fmt: skip
    conn = store.db.conn
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO messages (session_id, seq, role, content, model, status, created_at, "
        "updated_at) VALUES (?,?,?,?,?,'complete',?,?)",
        rows,
    )
    conn.execute("COMMIT")
    return sid


def run() -> list[Row]:
    with structlog.testing.capture_logs(), StandIn() as standin, tempfile.TemporaryDirectory() as d:
        standin.reply = replies.fixed("A short reply of a few words.")
        flat = {"data_dir": str(Path(d) / "data"), "host": standin.url,
                "rate_limit.turns_per_minute": 0, "ollama.auto_pull": "false"}  # fmt: skip
        app = App(settings=load_settings(env={}, overrides=flat))
        sid = _fill(app)
        runner = TurnRunner(app, RecordingSink())
        client = ollama.Client(host=standin.url, timeout=httpx.Timeout(30.0))
        flow_ms: list[float] = []
        direct_ms: list[float] = []
        for i in range(TURNS + 2):  # the first two of each warm up
            start = time.perf_counter()
            shared = runner.turn(session_id=sid, user_message=f"question {i}")
            took = (time.perf_counter() - start) * 1000
            assert shared["turn"]["status"] == "complete", shared["turn"]
            window = [{"role": m.role, "content": m.content}
                      for m in app.store().window(sid, 40)]  # fmt: skip
            start = time.perf_counter()
            for _ in client.chat(model=MODEL, messages=window, stream=True):
                pass
            direct = (time.perf_counter() - start) * 1000
            if i >= 2:
                flow_ms.append(took)
                direct_ms.append(direct)
        app.close()
    flow, direct = statistics.median(flow_ms), statistics.median(direct_ms)
    return [
        row("turn_overhead", "chat flow turn", round(flow, 3), "ms",
            f"median of {TURNS}, session of {STORED} messages"),
        row("turn_overhead", "direct ollama.Client.chat", round(direct, 3), "ms",
            f"median of {TURNS}, same window, interleaved"),
        row("turn_overhead", "flow overhead per turn", round(flow - direct, 3), "ms",
            "flow minus direct"),
    ]  # fmt: skip


if __name__ == "__main__":
    for r in run():
        print(r)
