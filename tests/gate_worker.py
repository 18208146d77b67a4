"""A separate process in the shared queue, for the gate tests.

    python -m tests.gate_worker IMPL WHERE HOST TAG HOLD_SECONDS SLOTS TTL LOG

Appends `TAG joined|wait N|granted|released|cancelled TIME` lines to LOG; holds the slot for
HOLD_SECONDS (a large value = until killed; `@PATH` = until PATH exists). Exit 3 when the
wait was cancelled by SIGINT.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tests.contract_impls import open_gate
from utils.clock import SystemClock


def main(argv: list[str]) -> int:
    impl, where, host, tag, hold, slots, ttl, log = argv
    out = Path(log)

    def note(what: str) -> None:
        with out.open("a") as fh:
            fh.write(f"{tag} {what} {time.time():.6f}\n")

    gate = open_gate(impl, Path(where), host, SystemClock(), slots=int(slots), ttl=float(ttl),
                     heartbeat=float(ttl) / 5, poll=0.02)  # fmt: skip
    note("joined")
    try:
        ticket = gate.acquire(lambda position, eta: note(f"wait-{position}"))
    except KeyboardInterrupt:
        note("cancelled")
        return 3
    note("granted")
    if hold.startswith("@"):  # hold until that file exists
        while not Path(hold[1:]).exists():
            time.sleep(0.01)
    else:
        time.sleep(float(hold))
    ticket.release()
    note("released")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
