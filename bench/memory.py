"""Long-term memory: what recall adds to a turn, and whether extraction delays the next one.

Recall, in one run on one stand-in (768-dimension embeddings, as nomic-embed-text; a short
fixed reply): for 100, 1,000 and 10,000 stored memories of the person, 20 turns through
flows/chat_memory.yaml (recall: an embedding request through the queue, the cached matrix's
version check, one matrix-vector product, the memory message; and the extraction job left
after the reply) interleaved with 20 turns through flows/chat.yaml on the same data. Reported
as medians: the memory turn minus the plain turn (target: at most 10 ms at 10,000), recall's
own search on the cached matrix (no request), and the first recall, which decodes the matrix.

Extraction: the next turn's time (the plain chat flow) while an extraction is streaming a long
JSON reply (paced at 50 tokens/s), against the same turn with nothing running, 5 of each;
the extraction gives the slot back at its next chunk. Target: at most 100 ms more. The row
after it says how long the extraction alone takes, i.e. what a turn would wait behind it.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import structlog

from app import App
from bench.common import Row, row, target
from cli.turns import TurnRunner
from config.settings import load_settings
from tests.memory_kit import facts_rule, is_extraction
from tests.standin import StandIn, replies
from utils.sink import RecordingSink
from utils.store import iso

SIZES = (100, 1_000, 10_000)
TURNS = 20
DIMS = 768
RECALL_TARGET_MS = 10.0
DELAY_TARGET_MS = 100.0
MANY = [f"I like the number {i} a lot" for i in range(40)]


def _app(standin: StandIn, data: Path, memory: bool) -> App:
    flat = {"data_dir": str(data), "host": standin.url, "rate_limit.turns_per_minute": 0,
            "ollama.auto_pull": "false", "memory.enabled": memory}  # fmt: skip
    return App(settings=load_settings(env={}, overrides=flat))


def _fill(app: App, n: int) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((n, DIMS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    now = iso(time.time() - 86400)
    rows = [("local", f"Fact {i} about the person.", f"fact {i} about the person",
             vectors[i].tobytes(), "nomic-embed-text", DIMS, now, now)
            for i in range(n)]  # fmt: skip
    conn = app.store().db.conn
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO memories (owner, text, norm, embedding, embed_model, dims, created_at, "
        "updated_at) VALUES (?,?,?,?,?,?,?,?)",
        rows,
    )
    conn.execute("INSERT INTO memory_owners (owner, version) VALUES ('local', 1)")
    conn.execute("COMMIT")


def _turn_ms(runner: TurnRunner, sid: str | None, text: str) -> tuple[float, str]:
    start = time.perf_counter()
    shared = runner.turn(session_id=sid, user_message=text)
    took = (time.perf_counter() - start) * 1000
    assert shared["turn"]["status"] == "complete", shared["turn"]
    return took, str(shared["session_id"])


def recall_rows(standin: StandIn, root: Path) -> list[Row]:
    out: list[Row] = []
    for n in SIZES:
        data = root / f"recall{n}"
        plain_app, memory_app = _app(standin, data, False), _app(standin, data, True)
        _fill(memory_app, n)
        plain, memory = TurnRunner(plain_app, RecordingSink()), TurnRunner(memory_app,
                                                                            RecordingSink())
        first, sid_m = _turn_ms(memory, None, "What is my name?")  # decodes the matrix
        _, sid_p = _turn_ms(plain, None, "What is my name?")
        with_ms, without_ms = [], []
        for i in range(TURNS + 2):
            took_m, _ = _turn_ms(memory, sid_m, f"question {i} about me")
            took_p, _ = _turn_ms(plain, sid_p, f"question {i} about me")
            if i >= 2:
                with_ms.append(took_m)
                without_ms.append(took_p)
        added = statistics.median(with_ms) - statistics.median(without_ms)
        search = _search_ms(memory_app)
        note = f"median of {TURNS}, chat_memory minus chat, {DIMS} dimensions"
        if n == SIZES[-1]:
            note = target(added, RECALL_TARGET_MS, at_most=True, unit=" ms", what=note)
        out.append(row("memory", f"recall added per turn, {n:,} memories", round(added, 3), "ms",
                       note))  # fmt: skip
        out.append(row("memory", f"recall's search alone, {n:,} memories", round(search, 3),
                       "ms", "median of 50: version check, rank, memory message; no request"))
        out.append(row("memory", f"first turn with recall, {n:,} memories", round(first, 3),
                       "ms", "includes decoding the matrix once"))  # fmt: skip
        plain_app.close()
        memory_app.close()
    return out


def _search_ms(app: App) -> float:
    """What recall computes besides its embedding request, on the cached matrix."""
    from nodes.recall_memories import build
    from utils.memory import index

    store = app.store()
    query = list(np.random.default_rng(3).standard_normal(DIMS))
    prompt = [{"role": "user", "content": "What is my name?"}]
    times = []
    for _ in range(50):
        start = time.perf_counter()
        m = index.matrix(store, str(store.path), "local", "nomic-embed-text")
        hits = index.top_k(m, query, 5, time.time(), index.Ranking())
        build(prompt, [{"id": i, "text": m.text(i)} for i, _, _ in hits], 3584)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _extraction_in_flight(standin: StandIn, data: Path, job: int) -> threading.Thread:
    def extract() -> None:
        app = _app(standin, data, True)
        try:
            app.extractor().run_one(job)
        finally:
            app.close()

    thread = threading.Thread(target=extract)
    thread.start()
    deadline = time.monotonic() + 10
    while not any(is_extraction(q.body.get("messages") or []) and q.outcome == "pending"
                  and q.eval_count > 1 for q in standin.requests.to("/api/chat")):  # fmt: skip
        if time.monotonic() > deadline:
            raise RuntimeError("the extraction never started streaming")
        time.sleep(0.005)
    return thread


def delay_rows(standin: StandIn, root: Path) -> list[Row]:
    data = root / "delay"
    memory_app = _app(standin, data, True)
    memory = TurnRunner(memory_app, RecordingSink())
    plain = TurnRunner(_app(standin, data, False), RecordingSink())
    _, sid = _turn_ms(plain, None, "hello")
    busy_ms, idle_ms, whole_ms = [], [], []
    for i in range(5):
        standin.tokens_per_second = None
        job = memory.turn(user_message=f"I like numbers, take {i}.")["memory_job"]
        standin.tokens_per_second = 50  # the extraction's reply streams; the turn's is short
        thread = _extraction_in_flight(standin, data, job)
        busy_ms.append(_turn_ms(plain, sid, f"next turn {i}")[0])
        thread.join(30)
        idle_ms.append(_turn_ms(plain, sid, f"idle turn {i}")[0])
        start = time.perf_counter()
        memory_app.extractor().run_one(job)  # the same job, let run to its end
        whole_ms.append((time.perf_counter() - start) * 1000)
    standin.tokens_per_second = None
    memory_app.close()
    plain.app.close()
    added = statistics.median(busy_ms) - statistics.median(idle_ms)
    return [
        row("memory", "next turn, extraction streaming", round(statistics.median(busy_ms), 3),
            "ms", "median of 5, replies paced at 50 tokens/s"),
        row("memory", "next turn, nothing running", round(statistics.median(idle_ms), 3), "ms",
            "median of 5, same pacing"),
        row("memory", "next turn delayed by extraction", round(added, 3), "ms",
            target(added, DELAY_TARGET_MS, at_most=True, unit=" ms",
                   what="extraction gives its slot back at its next chunk")),
        row("memory", "one extraction run to its end", round(statistics.median(whole_ms), 3),
            "ms", "what a turn would wait behind it without giving way"),
    ]  # fmt: skip


def run() -> list[Row]:
    with structlog.testing.capture_logs(), StandIn() as standin, tempfile.TemporaryDirectory() as d:
        standin.embedding_dimensions = DIMS
        standin.reply = facts_rule(facts=lambda text: list(MANY),
                                   chat=replies.fixed("A short reply."))  # fmt: skip
        return [*recall_rows(standin, Path(d)), *delay_rows(standin, Path(d))]


if __name__ == "__main__":
    for r in run():
        print(r)
