"""Loading a conversation: the SQLite window vs the seed's one-JSON-file-per-session.

`run()` builds one session of 100, 10,000 and 100,000 messages both ways, in one run, and times
loading the 40-message window (SQLite: `Store.window`; JSON: `json.load` of the whole file, then
the last 40) and appending one turn (SQLite: `append_message`; JSON: load, append, rewrite
whole). The ratio 100k/100 shows which cost grows with the history.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import structlog

from utils.clock import SystemClock
from utils.store import SqliteStore, Store, iso

SIZES = (100, 10_000, 100_000)
WINDOW = 40
NOW = iso(1_735_689_600.0)


def _message(i: int) -> dict[str, Any]:
    role = "user" if i % 2 == 0 else "assistant"
    text = f"message {i}: " + "the quick brown fox jumps over the lazy dog " * 4
    return {"seq": i + 1, "role": role, "content": text, "model": "llama3.2:1b",
            "status": "complete", "created_at": NOW}  # fmt: skip


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _sqlite_session(store: Store, n: int) -> str:
    session = store.create_session("llama3.2:1b", title=f"{n} messages")
    rows = [(session.id, m["seq"], m["role"], m["content"], m["model"], m["status"], NOW, NOW)
            for m in map(_message, range(n))]  # fmt: skip
    conn = store.db.conn
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO messages (session_id, seq, role, content, model, status, created_at, "
        "updated_at) VALUES (?,?,?,?,?,?,?,?)",
        rows,
    )
    conn.execute("COMMIT")
    return session.id


def _json_load(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        data: list[dict[str, Any]] = json.load(fh)["messages"]
    return data[-WINDOW:]


def _json_append(path: Path) -> None:
    with path.open(encoding="utf-8") as fh:
        doc = json.load(fh)
    doc["messages"].append(_message(len(doc["messages"])))
    with path.open("w", encoding="utf-8") as fh:
        json.dump(doc, fh)


def run() -> list[dict[str, Any]]:
    with structlog.testing.capture_logs():  # time the store, not log rendering
        return _run()


def _window_medians(store: Store, sids: dict[int, str], rounds: int = 200) -> dict[int, float]:
    """Window loads for every size, interleaved round by round (side by side), median ms."""
    times: dict[int, list[float]] = {n: [] for n in sids}
    for _ in range(rounds):
        for n, sid in sids.items():
            t0 = time.perf_counter()
            store.window(sid, WINDOW)
            times[n].append((time.perf_counter() - t0) * 1000)
    return {n: statistics.median(t) for n, t in times.items()}


def _run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    load: dict[tuple[str, int], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore.open(Path(tmp) / "bench.db", SystemClock())
        try:
            sids = {n: _sqlite_session(store, n) for n in SIZES}
            paths = {n: Path(tmp) / f"session-{n}.json" for n in SIZES}
            for n, path in paths.items():
                path.write_text(json.dumps({"messages": [_message(i) for i in range(n)]}))
                assert len(store.window(sids[n], WINDOW)) == min(n, WINDOW)
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # as a long-lived database is
            window = _window_medians(store, sids)
            for n in SIZES:
                repeat = 5 if n >= 100_000 else 20
                load["sqlite", n] = window[n]
                path, sid = paths[n], sids[n]
                load["json", n] = _median_ms(partial(_json_load, path), repeat)
                append_sqlite = _median_ms(partial(store.append_message, sid, "user", "hi"), repeat)
                append_json = _median_ms(partial(_json_append, path), repeat)
                size_mb = paths[n].stat().st_size / 1e6
                rows += [
                    {"name": f"store_window_load_{n}", "value": round(window[n], 3), "unit": "ms",
                     "note": f"SQLite window of {WINDOW}, {n} messages stored"},
                    {"name": f"json_file_load_{n}", "value": round(load["json", n], 3),
                     "unit": "ms",
                     "note": f"seed: json.load whole file ({size_mb:.1f} MB), last {WINDOW}"},
                    {"name": f"store_append_{n}", "value": round(append_sqlite, 3), "unit": "ms",
                     "note": "SQLite append_message (one transaction)"},
                    {"name": f"json_file_append_{n}", "value": round(append_json, 3),
                     "unit": "ms", "note": "seed: load, append, rewrite whole file"},
                ]  # fmt: skip
        finally:
            store.close()
    big, small = SIZES[-1], SIZES[0]
    for kind, label in (("sqlite", "store_window"), ("json", "json_file")):
        rows.append({
            "name": f"{label}_load_ratio_{big}_over_{small}",
            "value": round(load[kind, big] / load[kind, small], 2), "unit": "x",
            "note": "1.0 = loading costs the window, not the history",
        })  # fmt: skip
    return rows


if __name__ == "__main__":
    for row in run():
        sys.stdout.write(f"{row['name']:<44} {row['value']:>10} {row['unit']:<3} {row['note']}\n")
