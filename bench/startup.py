"""Start-up cost: `python main.py --help` over a bare `python -c pass`, interleaved runs."""

from __future__ import annotations

import os
import statistics
import tempfile
import time

from bench.common import Row, row, run_python, target

RUNS = 15
HELP_TARGET_MS = 150.0


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
    return startup_rows(statistics.median(bare), statistics.median(app),
                        statistics.median(sessions))  # fmt: skip


def startup_rows(bare: float, app: float, sessions: float) -> list[Row]:
    """The rows from the medians (seconds): start-up over a bare interpreter, in ms."""
    over = (app - bare) * 1000
    return [
        row("startup", "python -c pass", bare * 1000, "ms", f"median of {RUNS}"),
        row("startup", "--help over bare python", over, "ms",
            target(over, HELP_TARGET_MS, at_most=True, unit=" ms")),
        row("startup", "sessions --help over bare python", (sessions - bare) * 1000, "ms", ""),
    ]  # fmt: skip
