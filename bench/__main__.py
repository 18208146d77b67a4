"""`make bench`: run every benchmark, print one markdown table, write bench/results.json.

Each benchmark module exposes `run() -> list[Row]`. Figures are measured side by side in one
run and reported as ratios or differences, never as absolute timings to compare across runs.
Run one with `python -m bench NAME` (e.g. `python -m bench startup`).
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path
from typing import cast

from bench.common import Row, row

BENCHMARKS: tuple[str, ...] = (
    "startup",
    "ask_vs_llm",
    "store_load",
    "reply_length",
    "turn_overhead",
    "queue",
    "queue_redis",
    "tokens",
    "rag_query",
    "serve_load",
    "store_backends",
    "hosts",
    "memory",
)


def main(argv: list[str]) -> int:
    wanted = argv or list(BENCHMARKS)
    rows: list[Row] = []
    for name in wanted:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError:
            print(f"(skipped {name}: not present)", file=sys.stderr)
            continue
        started = time.monotonic()
        print(f"running {name}…", file=sys.stderr, flush=True)
        try:
            found = module.run()
        except Exception as exc:  # one broken benchmark must not hide the others
            found = [row(name, "failed", 0, "", f"{type(exc).__name__}: {exc}")]
        for item in found:
            rows.append(cast(Row, {"bench": name, **item}))
        print(f"  {name} took {time.monotonic() - started:.1f} s", file=sys.stderr)
    print(render(rows))
    out = Path(__file__).with_name("results.json")
    out.write_text(
        json.dumps(
            {"python": platform.python_version(), "machine": platform.machine(), "rows": rows},
            indent=2,
        )
    )
    print(f"\nwritten: {out}", file=sys.stderr)
    return 0


def render(rows: list[Row]) -> str:
    lines = ["| benchmark | measure | value | unit | note |", "|---|---|---:|---|---|"]
    for item in rows:
        value = item["value"]
        shown = f"{value:,.3f}" if isinstance(value, float) else f"{value:,}"
        lines.append(
            f"| {item['bench']} | {item['name']} | {shown} | {item['unit']} | {item['note']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
