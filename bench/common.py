"""Shared pieces of the benchmarks."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypedDict

ROOT = Path(__file__).resolve().parent.parent


class Row(TypedDict):
    bench: str
    name: str
    value: float | int
    unit: str
    note: str


def row(bench: str, name: str, value: float | int, unit: str, note: str = "") -> Row:
    return Row(bench=bench, name=name, value=value, unit=unit, note=note)


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_python(args: Sequence[str], env: dict[str, str] | None = None) -> None:
    subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )


def target(value: float, limit: float, *, at_most: bool, unit: str = "", what: str = "") -> str:
    """The note of a row with a target, with its verdict said plainly:
    `target: at least 95%: met`, or `target: at most 150 ms: MISSED` when it misses."""
    met = value <= limit if at_most else value >= limit
    bound = f"{'at most' if at_most else 'at least'} {limit:g}{unit}"
    return f"{what + '; ' if what else ''}target: {bound}: {'met' if met else 'MISSED'}"
