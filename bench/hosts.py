"""Several Ollama hosts: N concurrent `ask` processes on three one-slot stand-ins vs one, the
spread of requests over the hosts, and fairness across two API keys in serve mode.

- Throughput, in one run: the same N asks (real `python main.py ask` processes, started at
  once, each reply ~2 s) against one host (`ollama.hosts` with one entry) and against three
  (three entries, one slot each). Throughput is measured at the stand-ins as in
  bench/queue.py: replies / (last reply finished - first request arrived), so interpreter
  start-up is not counted; the target is at least 2.8x (3 would be perfect).
- Spread: requests per host in the three-host run, and each stand-in's most concurrent requests
  (the stand-ins would take four at once: only pocketchat keeps each at its one slot).
- Fairness: a `serve` process over the three hosts with two API keys; key A posts 12 runs at
  once, then key B posts 3. Serve's per-key round-robin hands the next free slot to the keys in
  turn, so B's runs do not wait behind A's twelve: their mean wait (POST to first reply text) is
  compared with A's.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.common import ROOT, Row, row, target
from tests.serve_client import parse
from tests.standin import StandIn, replies

ASKS = 12
REPLY = " ".join(["word"] * 40)  # 2 s at 20 tokens a second
TOKENS_PER_SECOND = 20.0
RATIO_TARGET = 2.8
A_RUNS, B_RUNS = 12, 3


def _config(tmp: Path, servers: list[StandIn], extra: str = "") -> Path:
    entries = "".join(f"    - {{url: '{s.url}', slots: 1}}\n" for s in servers)
    path = tmp / "hosts.yaml"
    path.write_text(f"ollama:\n  auto_pull: 'false'\n  hosts:\n{entries}{extra}")
    return path


def _env(tmp: Path, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POCKETCHAT_", "OLLAMA_"))}
    return {**env, "PYTHONPATH": str(ROOT), "POCKETCHAT_DATA_DIR": str(tmp / "data"),
            "POCKETCHAT_CONFIG": str(config), "HOME": str(tmp)}  # fmt: skip


def _span(servers: list[StandIn]) -> float:
    records = [r for s in servers for r in s.requests.to("/api/chat")]
    return max(r.finished or 0.0 for r in records) - min(r.started for r in records)


def _asks(servers: list[StandIn]) -> tuple[float, int]:
    """(span at the stand-ins, asks answered) for ASKS processes started at once."""
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(Path(tmp), _config(Path(tmp), servers))
        procs = [subprocess.Popen([sys.executable, "main.py", "ask", f"question {n}"], cwd=ROOT,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for n in range(ASKS)]  # fmt: skip
        answered = sum(1 for p in procs if p.communicate(timeout=300)[0].strip() == REPLY)
    return _span(servers), answered


def _serve(tmp: Path, config: Path) -> tuple[subprocess.Popen[str], str, dict[str, str]]:
    env = _env(tmp, config)
    keys = {}
    for name in ("a", "b"):
        made = subprocess.run([sys.executable, "main.py", "keys", "create", name], cwd=ROOT,
                              env=env, capture_output=True, text=True, check=True)  # fmt: skip
        keys[name] = made.stdout.strip()
    log = (tmp / "serve.out").open("w")
    proc = subprocess.Popen([sys.executable, "main.py", "serve", "--port", "0"], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"http://127\.0\.0\.1:(\d+)", (tmp / "serve.out").read_text())
        if found:
            url = f"http://127.0.0.1:{found.group(1)}"
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return proc, url, keys
            except httpx.TransportError:
                pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"serve did not come up: {(tmp / 'serve.out').read_text()}")


def _run(url: str, key: str, waits: list[float]) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    session = httpx.post(f"{url}/v1/sessions", json={}, headers=auth, timeout=10).json()["id"]
    sent = time.monotonic()
    resp = httpx.post(f"{url}/v1/sessions/{session}/messages", json={"content": "hello"},
                      headers=auth, timeout=30)  # fmt: skip
    run_id = resp.json()["run_id"]
    with httpx.stream("GET", f"{url}/v1/runs/{run_id}/events", headers=auth,
                      timeout=300) as events:  # fmt: skip
        for event in parse(events.iter_lines()):
            if event.kind in ("delta", "done"):
                waits.append(time.monotonic() - sent)
                return


def _fairness(servers: list[StandIn]) -> tuple[float, float]:
    """Mean seconds from POST to the first reply text: key A (12 at once), key B (3 after)."""
    with tempfile.TemporaryDirectory() as tmp:
        extra = "serve:\n  turns_per_minute: 0\n"
        proc, url, keys = _serve(Path(tmp), _config(Path(tmp), servers, extra))
        try:
            a_waits: list[float] = []
            b_waits: list[float] = []
            threads = [threading.Thread(target=_run, args=(url, keys["a"], a_waits))
                       for _ in range(A_RUNS)]  # fmt: skip
            for thread in threads:
                thread.start()
            time.sleep(0.5)  # A's twelve are in line first
            late = [threading.Thread(target=_run, args=(url, keys["b"], b_waits))
                    for _ in range(B_RUNS)]  # fmt: skip
            for thread in late:
                thread.start()
            for thread in threads + late:
                thread.join(timeout=300)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    return statistics.mean(a_waits), statistics.mean(b_waits)


def _servers(n: int) -> list[StandIn]:
    servers = [StandIn(num_parallel=4).start() for _ in range(n)]
    for server in servers:
        server.reply = replies.fixed(REPLY)
        server.tokens_per_second = TOKENS_PER_SECOND
    return servers


def ratio_row(ratio: float) -> Row:
    return row("hosts", "throughput, 3 one-slot hosts vs 1", round(ratio, 2), "x",
               target(round(ratio, 2), RATIO_TARGET, at_most=False, unit="x",
                      what=f"{ASKS} concurrent asks, ~2 s replies"))  # fmt: skip


def run() -> list[Row]:
    servers = _servers(3)
    try:
        one_span, one_answered = _asks(servers[:1])
        for server in servers:
            server.requests.clear()
        three_span, three_answered = _asks(servers)
        spread = [len(s.requests.to("/api/chat")) for s in servers]
        most = [s.max_concurrent for s in servers]
        for server in servers:
            server.requests.clear()
        a_wait, b_wait = _fairness(servers)
        fair_spread = [len(s.requests.to("/api/chat")) for s in servers]
    finally:
        for server in servers:
            server.stop()
    ratio = (ASKS / three_span) / (ASKS / one_span)
    return [
        row("hosts", "asks answered, one host", one_answered, f"of {ASKS}", ""),
        row("hosts", "asks answered, three hosts", three_answered, f"of {ASKS}", ""),
        row("hosts", "span, one host", round(one_span, 2), "s", "first request to last reply"),
        row("hosts", "span, three hosts", round(three_span, 2), "s", "same measure"),
        ratio_row(ratio),
        *[row("hosts", f"requests at host {n + 1} of 3", count, f"of {ASKS}",
              f"asks spread; even would be {ASKS // 3} each") for n, count in enumerate(spread)],
        row("hosts", "most concurrent at a host", max(most), "", "one slot each"),
        row("hosts", "serve: key B mean wait / key A mean wait", round(b_wait / a_wait, 2), "x",
            f"A {A_RUNS} runs at once ({a_wait:.2f} s), then B {B_RUNS} ({b_wait:.2f} s); "
            "round-robin per key"),
        row("hosts", "serve: fewest runs at one host", min(fair_spread), f"of {A_RUNS + B_RUNS}",
            f"most {max(fair_spread)}; even would be {(A_RUNS + B_RUNS) // 3} each"),
    ]  # fmt: skip


if __name__ == "__main__":
    for r in run():
        print(r)
