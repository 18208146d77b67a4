"""A 200-, 20,000- and 100,000-word reply: whole `ask` processes against a fast stream.

The stand-in runs in its own process, streaming an essay (in sentences) at 50,000 words a
second; the prompt (`write N words`) is the only change between sizes. For each size:

- `ask`: a real `python main.py ask` child, run from a tiny wrapper process so that the
  wrapper's `getrusage(RUSAGE_CHILDREN).ru_maxrss` is that child's peak RSS alone; wall time
  covers start-up, the stream shown (to a file) and the reply stored.
- the stream alone: the same reply read by a direct `ollama.Client.chat` in a child process,
  timed from the request to the last chunk.

Each is run twice, taking turns; times are the faster of the two, peak RSS the higher.
Start-up is the 200-word `ask` minus its stream. Targets (issue 12): a long reply's wall time
within 1.5x (its stream + start-up), and the 100,000-word peak RSS within 8 MB of the 200-word.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, Row, row, target

SIZES = (200, 20_000, 100_000)
WORDS_PER_SECOND = 50_000
MODEL = "llama3.2:1b"
TIME_TARGET, RSS_TARGET_MB = 1.5, 8.0
REPEAT = 2  # the fastest of two: the machine may be shared

# Runs argv[1:] as a child; prints its wall time and peak RSS (KiB on Linux) as JSON.
WRAPPER = """
import json, resource, subprocess, sys, time
out = open(sys.argv[1], "w")
began = time.perf_counter()
done = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - began
if done.returncode:
    sys.exit(done.stderr[-500:])
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "maxrss_kb": peak}))
"""

# The stream alone: the same request with the ollama client, nothing else.
DIRECT = """
import sys, time, ollama
client = ollama.Client(host=sys.argv[1])
began = time.perf_counter()
chars = 0
for chunk in client.chat(model=sys.argv[2], messages=[{"role": "user", "content": sys.argv[3]}],
                         stream=True):
    chars += len(chunk.message.content or "")
print(time.perf_counter() - began, chars)
"""


def run() -> list[Row]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.standin", "--port", str(port), "--reply-mode", "essay",
         "--tps", str(WORDS_PER_SECOND), "--load-delay", "0"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    host = f"http://127.0.0.1:{port}"
    try:
        _wait_listening(port)
        _stream_alone(host, 200)  # the model is loaded and the server warm before timing
        with tempfile.TemporaryDirectory(prefix="pocketchat-bench-") as tmp:
            found = {n: _measure(host, Path(tmp), n) for n in SIZES}
    finally:
        server.terminate()
        server.wait(timeout=10)
    return _rows(found)


def _rows(found: dict[int, tuple[tuple[float, float], float]]) -> list[Row]:
    name = "reply_length"
    rows: list[Row] = []
    small_wall, small_stream = found[SIZES[0]][0][0], found[SIZES[0]][1]
    startup = max(0.0, small_wall - small_stream)
    for n in SIZES:
        (wall, _), stream = found[n]
        rows.append(row(name, f"ask wall, {n:,} words", round(wall, 3), "s"))
        rows.append(row(name, f"stream alone, {n:,} words", round(stream, 3), "s",
                        f"direct ollama.Client.chat, stand-in at {WORDS_PER_SECOND:,} words/s"))
    rows.append(row(name, "start-up (200-word ask minus its stream)", round(startup, 3), "s"))
    for n in SIZES[1:]:
        (wall, _), stream = found[n]
        ratio = wall / (stream + startup)
        rows.append(row(name, f"wall / (stream + start-up), {n:,} words", round(ratio, 3), "x",
                        target(ratio, TIME_TARGET, at_most=True, unit="x")))  # fmt: skip
    for n in SIZES:
        rows.append(row(name, f"ask peak RSS, {n:,} words", round(found[n][0][1], 1), "MB",
                        "whole process, getrusage of the child"))  # fmt: skip
    diff = found[SIZES[-1]][0][1] - found[SIZES[0]][0][1]
    rows.append(row(name, f"peak RSS {SIZES[-1]:,} minus {SIZES[0]:,} words", round(diff, 1),
                    "MB", target(diff, RSS_TARGET_MB, at_most=True, unit=" MB")))  # fmt: skip
    return rows


def _measure(host: str, tmp: Path, words: int) -> tuple[tuple[float, float], float]:
    """((fastest ask wall, its highest peak RSS), fastest stream alone) over REPEAT tries,
    `ask` and the stream alone taking turns, so both see the same machine."""
    walls, peaks, streams = [], [], []
    for attempt in range(REPEAT):
        wall, peak = _ask(host, tmp / f"try-{attempt}", words)
        walls.append(wall)
        peaks.append(peak)
        streams.append(_stream_alone(host, words))
    return (min(walls), max(peaks)), min(streams)


def _ask(host: str, tmp: Path, words: int) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one `ask` process in a fresh data dir."""
    tmp.mkdir(exist_ok=True)
    data = tmp / f"data-{words}"
    env = {**os.environ, "OLLAMA_HOST": host, "POCKETCHAT_DATA_DIR": str(data),
           "HOME": str(tmp), "POCKETCHAT_MODEL": MODEL}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(tmp / f"shown-{words}.txt"), sys.executable,
         str(ROOT / "main.py"), "ask", f"write {words} words"],
        cwd=tmp, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    got = json.loads(done.stdout)
    shown = (tmp / f"shown-{words}.txt").read_text(encoding="utf-8")
    if len(shown.split()) != words:
        raise RuntimeError(f"the {words}-word reply showed {len(shown.split())} words")
    return float(got["wall"]), float(got["maxrss_kb"]) / 1024


def _stream_alone(host: str, words: int) -> float:
    done = subprocess.run(
        [sys.executable, "-c", DIRECT, host, MODEL, f"write {words} words"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds, _chars = done.stdout.split()
    return float(seconds)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the stand-in did not start on port {port}")
