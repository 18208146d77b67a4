"""Serve mode under load: N clients at once on a one-slot stand-in, through a real
`pocketchat serve` process, against the same replies sent serially straight to the stand-in.

Sizes 10 and 50, side by side, with 0.1 s replies (the hand-off between runs weighs most) and
with 0.5 s replies (closer to a short real answer). Throughput is measured at the stand-in on
both sides, as in
`bench/queue.py`: replies / (last reply finished - first request arrived); the target is at
least 95 % of serial. Added latency per run = the time the slot sat idle before its request
(the stand-in's start minus the later of its POST and the previous reply's end) + the time from
the stand-in's last byte to the client reading `done`: what the server adds to what the model
took. Peak RSS is the server process's high-water mark (VmHWM), read before it is stopped.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import ollama

from bench.common import Row, row, target
from tests.serve_client import new_session, parse
from tests.serve_proc import serving
from tests.standin import StandIn, replies

SIZES = (10, 50)
MODEL = "llama3.2:1b"
REPLY = " ".join(["word"] * 20)
REPLY_SECONDS = (0.1, 0.5)  # 20 tokens at 200 or 40 tokens a second
THROUGHPUT_TARGET_PCT = 95.0
CONFIG = "serve:\n  turns_per_minute: 0\n  max_queue: 200\nollama:\n  auto_pull: 'false'\n"


def _span(standin: StandIn) -> float:
    records = [r for r in standin.requests.to("/api/chat") if r.finished]
    return max(r.finished or 0.0 for r in records) - min(r.started for r in records)


def _serial(standin: StandIn, prompts: list[str]) -> float:
    client = ollama.Client(host=standin.url, timeout=httpx.Timeout(30.0))
    standin.requests.clear()
    for prompt in prompts:
        for _ in client.chat(model=MODEL, messages=[{"role": "user", "content": prompt}],
                             stream=True):  # fmt: skip
            pass
    return _span(standin)


def _client(url: str, session: str, prompt: str, gate: threading.Barrier) -> tuple[float, float]:
    """(POST sent, `done` read), monotonic."""
    gate.wait()
    sent = time.monotonic()
    resp = httpx.post(f"{url}/v1/sessions/{session}/messages", json={"content": prompt},
                      timeout=60)  # fmt: skip
    resp.raise_for_status()
    run_id = resp.json()["run_id"]
    with httpx.stream("GET", f"{url}/v1/runs/{run_id}/events", timeout=120) as events:
        for event in parse(events.iter_lines()):
            if event.kind == "done":
                if event.data["status"] != "complete":
                    raise RuntimeError(f"run {run_id} ended {event.data['status']}")
                return sent, time.monotonic()
    raise RuntimeError(f"run {run_id} ended without done")


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _one_size(standin: StandIn, clients: int, seconds: float) -> list[Row]:
    prompts = [f"client {i} asks" for i in range(clients)]
    serial = _serial(standin, prompts)
    with tempfile.TemporaryDirectory() as tmp:
        with serving(Path(tmp) / "d", standin.url, config=CONFIG) as server:
            sessions = [new_session(server.url) for _ in prompts]
            standin.requests.clear()
            gate = threading.Barrier(clients)
            with ThreadPoolExecutor(clients) as pool:
                timed = list(pool.map(lambda a: _client(server.url, a[0], a[1], gate),
                                      zip(sessions, prompts, strict=True)))  # fmt: skip
            rss = _vm_hwm_mb(server.proc.pid)
        concurrent = _span(standin)
        records = sorted((r for r in standin.requests.to("/api/chat") if r.finished),
                         key=lambda r: r.started)  # fmt: skip
        max_concurrent = standin.max_concurrent
    by_prompt = {str(r.body["messages"][-1]["content"]): r for r in records}
    added = []
    previous_end = 0.0
    for record in records:
        index = prompts.index(str(record.body["messages"][-1]["content"]))
        sent, done = timed[index]
        idle = max(0.0, record.started - max(sent, previous_end))
        added.append(idle + (done - (record.finished or record.started)))
        previous_end = record.finished or record.started
    assert len(by_prompt) == clients, "every client's request reached the stand-in once"
    percent = round(100 * serial / concurrent, 1)
    p99 = statistics.quantiles(added, n=100)[98] if len(added) > 1 else added[0]
    name = f"{clients} clients, {seconds:g} s replies"
    return [
        row("serve_load", f"{name}: throughput vs serial", percent, "%",
            target(percent, THROUGHPUT_TARGET_PCT, at_most=False, unit="%",
                   what=f"serial {serial:.2f} s, served {concurrent:.2f} s at the stand-in")),
        row("serve_load", f"{name}: added latency p50", round(statistics.median(added) * 1000, 1),
            "ms", "slot idle before the request + last byte to `done` at the client"),
        row("serve_load", f"{name}: added latency p99", round(p99 * 1000, 1), "ms", ""),
        row("serve_load", f"{name}: server peak RSS", round(rss, 1), "MB", "VmHWM of the process"),
        row("serve_load", f"{name}: stand-in max_concurrent", max_concurrent, "", "single slot"),
    ]  # fmt: skip


def run() -> list[Row]:
    os.environ.pop("OLLAMA_HOST", None)
    rows: list[Row] = []
    with StandIn() as standin:
        standin.reply = replies.fixed(REPLY)
        ollama.Client(host=standin.url).chat(model=MODEL, messages=[], keep_alive="10m")
        for seconds in REPLY_SECONDS:
            standin.tokens_per_second = len(REPLY.split()) / seconds
            for clients in SIZES:
                rows += _one_size(standin, clients, seconds)
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
