"""The shared queue: 8 concurrent `ask` processes against a single-slot stand-in.

In one run: the same 8 prompts are sent serially through `ollama.Client` (the baseline, the
stand-in's serial throughput), then as 8 real `python main.py ask` processes sharing one data
dir, started 400 ms apart (wider than the spread of interpreter start-up on 2 busy cores, so
start order is arrival order; replies take ~1.5 s, so the queue stays full). The gate's own
ticket order (from the log) is compared with the server's request order too. Throughput is
measured the same way on both sides, at the server: replies / (last reply finished - first
request arrived), so process start-up (paid before anyone queues) is not counted against the
queue; the wall time is reported as well.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import ollama

from bench.common import ROOT, Row, row, target
from tests.standin import StandIn, replies

PROCESSES = 8
STAGGER = 0.4  # wider than the spread of Python start-up on 2 busy cores
MODEL = "llama3.2:1b"
REPLY = " ".join(["word"] * 30)  # 30 tokens
TOKENS_PER_SECOND = 20.0  # about 1.5 s a reply
THROUGHPUT_TARGET_PCT = 95.0


def _span(standin: StandIn) -> float:
    records = standin.requests.to("/api/chat")
    return max(r.finished or 0.0 for r in records) - min(r.started for r in records)


def _prompt(record: object) -> str:
    body = getattr(record, "body", None) or {}
    return str(body["messages"][-1]["content"])


def _join_order(data: str) -> list[str]:
    """Prompts in the order their processes joined the queue (ticket ids, from the log)."""
    tickets: dict[str, int] = {}
    for line in (Path(data) / "pocketchat.log").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("event") == "gate_joined":
            tickets[entry["request_id"]] = int(entry["ticket"])
    conn = sqlite3.connect(Path(data) / "pocketchat.db")
    prompts = dict(conn.execute("SELECT request_id, content FROM messages WHERE role = 'user'"))
    conn.close()
    return [prompts[rid] for rid, _ in sorted(tickets.items(), key=lambda kv: kv[1])]


def _overlaps(standin: StandIn) -> int:
    """Requests that arrived before the one before them had finished."""
    records = sorted(standin.requests.to("/api/chat"), key=lambda r: r.started)
    return sum(1 for a, b in itertools.pairwise(records) if b.started < (a.finished or 0))


def throughput_row(ratio: float) -> Row:
    """Queued throughput over serial (1.0 = the same); the target is at least 95 %."""
    percent = round(100 * ratio, 1)
    return row("queue", "throughput vs serial", percent, "%",
               target(percent, THROUGHPUT_TARGET_PCT, at_most=False, unit="%"))  # fmt: skip


def run() -> list[Row]:
    prompts = [f"prompt number {i}" for i in range(PROCESSES)]
    with StandIn() as standin:
        standin.reply = replies.fixed(REPLY)
        standin.tokens_per_second = TOKENS_PER_SECOND
        client = ollama.Client(host=standin.url, timeout=httpx.Timeout(30.0))
        client.chat(model=MODEL, messages=[], keep_alive="10m")  # load once for both sides
        standin.requests.clear()
        for prompt in prompts:
            for _ in client.chat(model=MODEL, messages=[{"role": "user", "content": prompt}],
                                 stream=True):  # fmt: skip
                pass
        serial = _span(standin)
        standin.requests.clear()
        with tempfile.TemporaryDirectory() as data:
            env = {**os.environ, "PYTHONPATH": str(ROOT), "POCKETCHAT_DATA_DIR": data,
                   "HOME": data, "XDG_DATA_HOME": data}  # fmt: skip
            began = time.monotonic()
            procs = []
            for prompt in prompts:
                procs.append(subprocess.Popen(
                    [sys.executable, "main.py", "--host", standin.url, "ask", prompt],
                    cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                ))  # fmt: skip
                time.sleep(STAGGER)
            results = [p.communicate(timeout=120) for p in procs]
            wall = time.monotonic() - began
            joined = _join_order(data)
        codes = [p.returncode for p in procs]
        answered = sum(1 for code, (out, _) in zip(codes, results, strict=True)
                       if code == 0 and REPLY in out)  # fmt: skip
        timed_out = sum(1 for _, err in results if "timed out" in err.lower())
        arrivals = [_prompt(r) for r in sorted(standin.requests.to("/api/chat"),
                                               key=lambda r: r.started)]  # fmt: skip
        in_order = sum(1 for a, b in zip(arrivals, prompts, strict=False) if a == b)
        fifo = sum(1 for a, b in zip(arrivals, joined, strict=True) if a == b)
        concurrent = _span(standin)
        overlaps = _overlaps(standin)
        max_concurrent = standin.max_concurrent
    ratio = (PROCESSES / concurrent) / (PROCESSES / serial)
    return [
        row("queue", "asks answered", answered, f"of {PROCESSES}", "exit 0 with the reply"),
        row("queue", "asks timed out", timed_out, "", ""),
        row("queue", "served in start order", in_order, f"of {PROCESSES}",
            f"starts {STAGGER * 1000:.0f} ms apart vs the stand-in's request order"),
        row("queue", "served in queue order", fifo, f"of {PROCESSES}",
            "the gate's ticket order vs the stand-in's request order (FIFO)"),
        row("queue", "stand-in max_concurrent", max_concurrent, "", "single slot"),
        row("queue", "requests overlapping at the server", overlaps, "",
            "arrived before the previous one finished"),
        row("queue", "serial baseline span", round(serial, 3), "s",
            f"{PROCESSES} replies via ollama.Client, first arrival to last finish"),
        row("queue", "queued asks span", round(concurrent, 3), "s", "same measure, 8 processes"),
        throughput_row(ratio),
        row("queue", "queued asks wall time", round(wall, 3), "s", "incl. process start-up"),
    ]  # fmt: skip


if __name__ == "__main__":
    for r in run():
        print(r)
