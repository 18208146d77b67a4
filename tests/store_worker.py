"""A separate process writing to a store, for the concurrency and crash tests.

python -m tests.store_worker append DB SESSION N TAG BARRIER_DIR   # N appends, then exit
python -m tests.store_worker loop DB SESSION           # append forever, print each id
python -m tests.store_worker open DB - BARRIER_DIR     # open (migrating) at the same time
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from utils.clock import SystemClock
from utils.store import SqliteStore
from utils.telemetry import configure_logging


def _wait(barrier: Path, tag: str) -> None:
    """Say ready, then start together with the other workers."""
    (barrier / f"ready-{tag}").touch()
    while not (barrier / "go").exists():
        time.sleep(0.002)


def main(argv: list[str]) -> int:
    configure_logging(None, level="warning")  # logs to stderr; stdout carries ids
    mode, db, session_id = argv[0], Path(argv[1]), argv[2]
    if mode == "open":
        _wait(Path(argv[3]), str(os.getpid()))
        SqliteStore.open(db, SystemClock()).close()
        return 0
    store = SqliteStore.open(db, SystemClock())
    if mode == "append":
        count, tag, barrier = int(argv[3]), argv[4], Path(argv[5])
        _wait(barrier, tag)
        for i in range(count):
            store.append_message(session_id, "user", f"{tag} turn {i}")
            time.sleep(0.001)  # let the other writers in between
    else:
        i = 0
        while True:
            message = store.append_message(session_id, "assistant", f"reply {i} " + "x" * 2000)
            sys.stdout.write(f"{message.id}\n")
            sys.stdout.flush()
            i += 1
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
