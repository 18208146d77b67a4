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
