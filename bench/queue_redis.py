"""The queue on Redis vs on queue.db, side by side in one run, as whole processes.

- Overhead: one process takes and releases a ticket N times (nobody else in line), at two
  sizes; per cycle in microseconds (the process's own timing of the loop), the whole process's
  wall time and its peak RSS (`RUSAGE_CHILDREN` of a grandchild, read by its parent), and the
  Redis/SQLite ratio.
- Fairness and hand-offs: 4 processes contend for one slot, each taking it `CYCLES` times
  (a 5 ms hold, then back into line at once). FIFO means turns go round: Jain's index of the
  grants per process over the window where all four were still in line (1.0 = perfectly even)
  and the longest run of grants to one process; hand-offs per second over the whole run.
The Redis is a private `redis-server` on a unix socket (tests/redis_server.py); queue.db lives
in a temp dir on the same disk.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, Row, row, target

SIZES = (200, 1000)
CONTENDERS = 4
CYCLES = 40
HOLD = 0.005
FAIRNESS_TARGET = 0.95
HOST = "http://127.0.0.1:11434"

# argv: impl where n -> prints {"seconds": loop seconds}; run under MEASURE for its RSS
LOOP = """
import json, sys, time
from pathlib import Path
from tests.contract_impls import open_gate
from utils.clock import SystemClock
impl, where, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
gate = open_gate(impl, where, "http://127.0.0.1:11434", SystemClock(), heartbeat=0.5)
gate.acquire(lambda p, e: None).release()  # connected, schema or scripts in place
start = time.perf_counter()
for _ in range(n):
    gate.acquire(lambda p, e: None).release()
print(json.dumps({"seconds": time.perf_counter() - start}))
gate.close()
"""

# Runs argv as a child; prints the child's stdout, then {"rss_kb", "wall"}.
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
out = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True).stdout
wall = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(out.strip().splitlines()[-1])
print(json.dumps({"rss_kb": rss, "wall": wall}))
"""

# argv: impl where tag cycles hold log -> appends `tag granted <time>` per grant
CONTEND = """
import sys, time
from pathlib import Path
from tests.contract_impls import open_gate
from utils.clock import SystemClock
impl, where, tag, cycles, hold, log = sys.argv[1:7]
gate = open_gate(impl, Path(where), "http://127.0.0.1:11434", SystemClock(), heartbeat=0.5,
                 poll=0.005)
Path(log + "." + tag + ".ready").touch()
while not Path(log + ".go").exists():
    time.sleep(0.001)
with open(log, "a") as out:
    for _ in range(int(cycles)):
        ticket = gate.acquire(lambda p, e: None)
        out.write(f"{tag} {time.time():.6f}\\n")
        out.flush()
        time.sleep(float(hold))
        ticket.release()
gate.close()
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _loop(impl: str, where: Path, n: int) -> tuple[float, float, int]:
    """(seconds per cycle, process wall seconds, peak RSS KiB) of one process."""
    child = [sys.executable, "-c", LOOP, impl, str(where), str(n)]
    out = subprocess.run([sys.executable, "-c", MEASURE, *child], cwd=ROOT, env=_env(),
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    loop, measured = (json.loads(line) for line in out.strip().splitlines()[-2:])
    return loop["seconds"] / n, measured["wall"], int(measured["rss_kb"])


def _contend(impl: str, where: Path) -> tuple[float, int, float]:
    """(Jain's index while all contend, longest run of one process, hand-offs per second)."""
    log = where / "grants.log"
    procs = [subprocess.Popen([sys.executable, "-c", CONTEND, impl, str(where), f"p{i}",
                               str(CYCLES), str(HOLD), str(log)], cwd=ROOT, env=_env(),
                              stdout=subprocess.DEVNULL)
             for i in range(CONTENDERS)]  # fmt: skip
    deadline = time.monotonic() + 60
    while not all(Path(f"{log}.p{i}.ready").exists() for i in range(CONTENDERS)):
        if time.monotonic() > deadline:
            raise RuntimeError("contenders did not start")
        time.sleep(0.01)
    Path(f"{log}.go").touch()
    for proc in procs:
        proc.wait(timeout=120)
    lines = (ln.split() for ln in log.read_text().splitlines())
    grants = sorted((float(t), tag) for tag, t in lines)
    order = [tag for _, tag in grants]
    first_done = min(max(i for i, t in enumerate(order) if t == tag) for tag in set(order))
    window = order[: first_done + 1]  # while every process was still in line
    counts = [window.count(f"p{i}") for i in range(CONTENDERS)]
    jain = sum(counts) ** 2 / (CONTENDERS * sum(c * c for c in counts))
    longest = max(len(list(run)) for _, run in itertools.groupby(order[: first_done + 1]))
    rate = (len(order) - 1) / (grants[-1][0] - grants[0][0])
    return jain, longest, rate


def run() -> list[Row]:
    from tests.redis_server import URL_VAR, RedisServer

    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp) / "redis") as server:
        os.environ[URL_VAR] = server.url
        try:
            for n in SIZES:
                seen = {}
                for impl in ("sqlite", "redis"):
                    where = Path(tmp) / f"{impl}-{n}"
                    where.mkdir()
                    seen[impl] = _loop(impl, where, n)
                    per, wall, rss = seen[impl]
                    note = f"process wall {wall:.2f} s, peak RSS {rss / 1024:.1f} MiB"
                    rows.append(row("queue_redis", f"{impl}: acquire+release, {n} cycles",
                                    round(per * 1e6, 1), "us/cycle", note))  # fmt: skip
                ratio = seen["redis"][0] / seen["sqlite"][0]
                rows.append(row("queue_redis", f"redis/sqlite per cycle, {n} cycles",
                                round(ratio, 2), "x", "below 1 = Redis faster"))  # fmt: skip
                rows.append(row("queue_redis", f"redis-sqlite peak RSS, {n} cycles",
                                round((seen["redis"][2] - seen["sqlite"][2]) / 1024, 1), "MiB",
                                "the redis client's import and pool"))  # fmt: skip
            for impl in ("sqlite", "redis"):
                where = Path(tmp) / f"{impl}-contend"
                where.mkdir()
                jain, longest, rate = _contend(impl, where)
                what = f"{CONTENDERS} processes, 1 slot, {CYCLES} turns each"
                verdict = target(jain, FAIRNESS_TARGET, at_most=False, what=what)
                rows.append(row("queue_redis", f"{impl}: fairness (Jain's index)", round(jain, 3),
                                "", verdict))  # fmt: skip
                rows.append(row("queue_redis", f"{impl}: longest run to one process", longest,
                                "grants", "FIFO: 1 (turns go round)"))  # fmt: skip
                how = f"{HOLD * 1000:.0f} ms holds; waiters poll every 5 ms"
                rows.append(row("queue_redis", f"{impl}: hand-offs per second", round(rate, 1),
                                "/s", how))  # fmt: skip
        finally:
            os.environ.pop(URL_VAR, None)
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
