"""Where each run not yet begun stands, as `queued` events to append (only the changes).

The runs at Ollama's door (taken by a worker, the slot not yet theirs) come first, in the order
they were taken, then the line's order (`RunQueue.order`). A run at the door whose place the
machine-wide gate reports (`gate_spoke`) is left to it; the others are told a place only when
it is lower than the last. The line remembers what it told its runs (`claim_positions`: with
replicas, the first replica to see a change tells it). `eta_s` comes from the moving average
of recent runs' service time, per Ollama slot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from serve.run_queue import RunQueue
from serve.run_sink import RunSink

Item = tuple[str, str, dict[str, Any]]  # (run_id, kind, data)


def queued_events(
    queue: RunQueue, running: Mapping[str, RunSink], service: float | None, slots: int
) -> tuple[list[Item], int]:
    """(the `queued` events to append, runs waiting in all)."""
    order = queue.order()
    per_run = (service or 0.0) / max(1, slots)
    busy = 1 if running else 0
    items: list[Item] = []

    def place(run_id: str, position: int) -> None:
        eta = round(per_run * (position - 1 + busy), 1) if service else None
        data = {"position": position, "ahead": position - 1, "eta_s": eta}
        items.append((run_id, "queued", data))

    at_door = 0
    for run_id, sink in running.items():
        if sink.granted:
            continue
        at_door += 1
        last = sink.last_position
        if not sink.gate_spoke and (last is None or at_door < last):  # only ever down
            sink.last_position = at_door
            place(run_id, at_door)
    wanted = {run_id: index + 1 + at_door for index, run_id in enumerate(order)}
    for run_id, position in queue.claim_positions(wanted):
        place(run_id, position)
    return items, len(order) + at_door
