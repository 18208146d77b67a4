"""Per-turn overhead and time to first token of the chat flow over `ollama.Client.chat` direct.

In one run, on one stand-in (no pacing, a short fixed reply): a session of 1,000 stored
messages; 30 turns through `TurnRunner` over flows/chat.yaml (rate limit, load, trim, cache,
queue ticket, call, stream, persist with its metric events, calibrate, cache, summarise,
archive) interleaved with 30 direct streamed `ollama.Client.chat` calls sending the same
40-message window. Reported, as medians: the whole turn against the whole direct call (target:
at most 5 ms more), and the first reply piece reaching the turn's sink against the direct
client's first chunk (target: at most 2 ms more). StreamReply shows the first piece at once and
coalesces only the later ones, so no hold is part of the figure.
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
from bench.common import Row, row, target
from cli.turns import TurnRunner
from config.settings import load_settings
from tests.standin import StandIn, replies
from utils.sink import RecordingSink
from utils.store import iso

TURNS = 30
STORED = 1000
MODEL = "llama3.2:1b"
OVERHEAD_TARGET_MS = 5.0
FIRST_TOKEN_TARGET_MS = 2.0


class FirstPieceSink(RecordingSink):
    """A recording sink that notes when the first reply piece of a turn arrived."""

    first_at: float | None = None

    def reply(self, piece: str) -> None:
        if self.first_at is None:
            self.first_at = time.perf_counter()
        super().reply(piece)


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


def _direct(client: ollama.Client, window: list[dict[str, str]]) -> tuple[float, float]:
    """(ms to the first chunk, ms to the end) of one direct streamed call."""
    start = time.perf_counter()
    first: float | None = None
    for _ in client.chat(model=MODEL, messages=window, stream=True):
        if first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    assert first is not None
    return (first - start) * 1000, (end - start) * 1000


def run() -> list[Row]:
    with structlog.testing.capture_logs(), StandIn() as standin, tempfile.TemporaryDirectory() as d:
        standin.reply = replies.fixed("A short reply of a few words.")
        flat = {"data_dir": str(Path(d) / "data"), "host": standin.url,
                "rate_limit.turns_per_minute": 0, "ollama.auto_pull": "false"}  # fmt: skip
        app = App(settings=load_settings(env={}, overrides=flat))
        sid = _fill(app)
        sink = FirstPieceSink()
        runner = TurnRunner(app, sink)
        client = ollama.Client(host=standin.url, timeout=httpx.Timeout(30.0))
        flow_ms: list[float] = []
        flow_first_ms: list[float] = []
        direct_ms: list[float] = []
        direct_first_ms: list[float] = []
        for i in range(TURNS + 2):  # the first two of each warm up
            sink.first_at = None
            start = time.perf_counter()
            shared = runner.turn(session_id=sid, user_message=f"question {i}")
            took = (time.perf_counter() - start) * 1000
            assert shared["turn"]["status"] == "complete", shared["turn"]
            assert sink.first_at is not None
            first = (sink.first_at - start) * 1000
            window = [{"role": m.role, "content": m.content}
                      for m in app.store().window(sid, 40)]  # fmt: skip
            direct_first, direct = _direct(client, window)
            if i >= 2:
                flow_ms.append(took)
                flow_first_ms.append(first)
                direct_ms.append(direct)
                direct_first_ms.append(direct_first)
        app.close()
    return _rows(flow_ms, direct_ms, flow_first_ms, direct_first_ms)


def _rows(flow_ms: list[float], direct_ms: list[float], flow_first_ms: list[float],
          direct_first_ms: list[float]) -> list[Row]:  # fmt: skip
    flow, direct = statistics.median(flow_ms), statistics.median(direct_ms)
    first, direct_first = statistics.median(flow_first_ms), statistics.median(direct_first_ms)
    overhead, added = flow - direct, first - direct_first
    return [
        row("turn_overhead", "chat flow turn", round(flow, 3), "ms",
            f"median of {TURNS}, session of {STORED} messages"),
        row("turn_overhead", "direct ollama.Client.chat", round(direct, 3), "ms",
            f"median of {TURNS}, same window, interleaved"),
        row("turn_overhead", "flow overhead per turn", round(overhead, 3), "ms",
            target(overhead, OVERHEAD_TARGET_MS, at_most=True, unit=" ms",
                   what="flow minus direct")),
        row("turn_overhead", "flow: first reply piece at the sink", round(first, 3), "ms",
            f"median of {TURNS}, from the turn's start"),
        row("turn_overhead", "direct: first chunk", round(direct_first, 3), "ms",
            f"median of {TURNS}, from the call"),
        row("turn_overhead", "time to first token added", round(added, 3), "ms",
            target(added, FIRST_TOKEN_TARGET_MS, at_most=True, unit=" ms",
                   what="flow's first piece minus direct's first chunk")),
    ]  # fmt: skip


if __name__ == "__main__":
    for r in run():
        print(r)
