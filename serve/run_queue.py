"""The line of runs waiting for a worker: `RunQueue`, and `LocalQueue` for one replica.

A queue holds each waiting run's `Job`, serves keys round-robin (serve/dispatch.py's order),
remembers the last position announced to each run, and — when replicas share it
(serve/redis_queue.py) — holds a lease on every run a worker took, renewed while it runs, so
a replica that dies leaves runs another one can end (serve/keeper.py).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Protocol

from serve.dispatch import FairQueue
from serve.jobs import Job


class RunQueue(Protocol):
    shared: bool  # other replicas take from it too

    def __len__(self) -> int: ...

    @property
    def closed(self) -> bool: ...

    def put(self, job: Job) -> None: ...

    def remove(self, run_id: str) -> Job | None:
        """The waiting run taken out (cancelled); None when it is not waiting."""

    def wait_ready(self, timeout: float) -> bool:
        """Wait until a run may be waiting or the queue is closed; False on timeout."""

    def take(self) -> tuple[Job, int | None] | None:
        """The next run (round-robin across keys) and the last position it was told; None
        when none waits or the queue is closed. A shared queue leases it to this replica."""

    def order(self) -> list[str]:
        """Waiting runs in the order `take` would return them."""

    def claim_positions(self, wanted: Mapping[str, int]) -> list[tuple[str, int]]:
        """The (run, position) pairs to announce: those that changed since last told."""

    def drain(self) -> list[Job]:
        """Stop taking; the waiting runs this replica must end (none when others serve them)."""

    def renew(self, run_ids: Sequence[str]) -> None:
        """Extend this replica's lease on the runs it is running."""

    def release(self, run_id: str) -> None:
        """The run ended here (its end is stored): drop its lease."""

    def claim_dead(self, run_id: str) -> tuple[bool, Job | None]:
        """(True, the job it had been taken with, if known) once, to one replica, for a run
        neither waiting nor leased (its replica died); (False, None) otherwise."""

    def close(self) -> None: ...


class LocalQueue:
    """One replica's line, in memory (thread-safe)."""

    shared = False

    def __init__(self) -> None:
        self._fair = FairQueue()
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._told: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._fair)

    @property
    def closed(self) -> bool:
        return self._fair.closed

    def put(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.run_id] = job
        self._fair.put(job.run_id, job.key_id)

    def remove(self, run_id: str) -> Job | None:
        if not self._fair.remove(run_id):
            return None
        with self._lock:
            self._told.pop(run_id, None)
            return self._jobs.pop(run_id, None)

    def wait_ready(self, timeout: float) -> bool:
        return self._fair.wait_ready(timeout)

    def take(self) -> tuple[Job, int | None] | None:
        run_id = self._fair.take(0)
        if run_id is None:
            return None
        with self._lock:
            job = self._jobs.pop(run_id, None)
            told = self._told.pop(run_id, None)
        return None if job is None else (job, told)

    def order(self) -> list[str]:
        return self._fair.order()

    def claim_positions(self, wanted: Mapping[str, int]) -> list[tuple[str, int]]:
        changed = []
        with self._lock:
            for run_id, position in wanted.items():
                if self._told.get(run_id) != position:
                    self._told[run_id] = position
                    changed.append((run_id, position))
        return changed

    def drain(self) -> list[Job]:
        left = self._fair.drain()
        with self._lock:
            jobs = [self._jobs.pop(run_id) for run_id in left if run_id in self._jobs]
            self._told.clear()
        return jobs

    def renew(self, run_ids: Sequence[str]) -> None:
        return None

    def release(self, run_id: str) -> None:
        return None

    def claim_dead(self, run_id: str) -> tuple[bool, Job | None]:
        return False, None  # one replica: what a dead one left is ended at the next start

    def close(self) -> None:
        return None
