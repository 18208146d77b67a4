"""A separate process writing to a store, for the concurrency and crash tests.

    python -m tests.store_worker append DB SESSION N TAG BARRIER_DIR   # N appends, then exit
    python -m tests.store_worker loop DB SESSION           # append forever, print each id
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from utils.clock import SystemClock
from utils.logs import configure_logging
from utils.store import Store


def main(argv: list[str]) -> int:
    configure_logging(None, level="warning")  # logs to stderr; stdout carries ids
    mode, db, session_id = argv[0], Path(argv[1]), argv[2]
    store = Store.open(db, SystemClock())
    if mode == "append":
        count, tag, barrier = int(argv[3]), argv[4], Path(argv[5])
        (barrier / f"ready-{tag}").touch()
        while not (barrier / "go").exists():  # start together with the other writers
            time.sleep(0.002)
        for i in range(count):
            store.append_message(session_id, "user", f"{tag} turn {i}")
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
