"""Start-up cost: `python main.py --help` over a bare `python -c pass`, interleaved runs."""

from __future__ import annotations

import os
import statistics
import tempfile
import time

from bench.common import Row, row, run_python

RUNS = 15


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HOME": home, "XDG_DATA_HOME": home}
        bare: list[float] = []
        app: list[float] = []
        sessions: list[float] = []
        run_python(["main.py", "--help"], env)  # warm the bytecode cache
        for _ in range(RUNS):
            for sample, args in (
                (bare, ["-c", "pass"]),
                (app, ["main.py", "--help"]),
                (sessions, ["main.py", "sessions", "--help"]),
            ):
                start = time.perf_counter()
                run_python(args, env)
                sample.append(time.perf_counter() - start)
    base = statistics.median(bare)
    return [
        row("startup", "python -c pass", base * 1000, "ms", f"median of {RUNS}"),
        row(
            "startup",
            "--help over bare python",
            (statistics.median(app) - base) * 1000,
            "ms",
            "target: at most 150 ms",
        ),
        row(
            "startup",
            "sessions --help over bare python",
            (statistics.median(sessions) - base) * 1000,
            "ms",
            "",
        ),
    ]
