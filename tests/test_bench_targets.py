"""`make bench` says plainly when a row misses its target: every row with a target gets its
note from `bench.common.target`, which ends in `met` or `MISSED`."""

from __future__ import annotations

import ast
from pathlib import Path

from bench.common import target
from bench.queue import throughput_row
from bench.startup import startup_rows

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_the_queue_throughput_row_says_missed_under_95_percent() -> None:
    assert throughput_row(0.945)["note"] == "target: at least 95%: MISSED"
    assert throughput_row(0.951)["note"] == "target: at least 95%: met"


def test_the_startup_row_says_missed_over_150_ms() -> None:
    missed = startup_rows(0.020, 0.200, 0.210)[1]
    assert (missed["name"], missed["note"]) == (
        "--help over bare python",
        "target: at most 150 ms: MISSED",
    )
    assert startup_rows(0.020, 0.120, 0.130)[1]["note"].endswith(": met")


def test_target_names_what_it_compares() -> None:
    assert target(6.2, 5, at_most=True, unit=" ms", what="flow minus direct") == (
        "flow minus direct; target: at most 5 ms: MISSED"
    )


def test_no_benchmark_writes_a_target_note_by_hand() -> None:
    """A note that mentions a target as literal text could miss without saying so."""
    by_hand = []
    for path in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "row"):
                continue
            note = node.args[4] if len(node.args) > 4 else None
            for part in ast.walk(note) if note is not None else ():
                if isinstance(part, ast.Constant) and "target" in str(part.value).lower():
                    by_hand.append(f"{path.name}:{node.lineno}")
    assert by_hand == []
    used = [p.name for p in BENCH.glob("*.py") if "target(" in p.read_text(encoding="utf-8")]
    assert {"queue.py", "startup.py", "ask_vs_llm.py", "reply_length.py",
            "turn_overhead.py"} <= set(used)  # fmt: skip
