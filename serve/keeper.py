"""The keeper of a replica's runs when replicas share Redis: leases and the runs of the dead.

Every `queue.heartbeat_seconds` it renews the lease (`queue.ticket_ttl_seconds`) on each run
this replica is running, and looks for runs of replicas that died: a run the store says is
queued or running, older than a lease, that is neither waiting in the shared line nor leased.
One replica wins the claim on it (serve/redis_queue.py): a run of which nothing was said yet
goes back in line (a `notice` says so); any other is ended (serve/jobs.py `end_lost`): its
reply kept `partial`, its log closed with `error` and `done`. The Ollama slot the dead
replica held is freed by the gate's own lease.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import structlog

from serve.events import EventLog
from serve.jobs import Job, end_lost
from serve.periodic import Periodic
from serve.run_queue import RunQueue

log = structlog.get_logger()

UNFINISHED = ("queued", "running")
REQUEUED = "the server that took this run stopped before it began; it waits in line again"


class Keeper(Periodic):
    failed_event = "run_keeper_failed"  # Redis away for a moment: tried again next beat

    def __init__(
        self, events: EventLog, queue: RunQueue, running: Callable[[], Sequence[str]],
        every: float, lease: float,
    ) -> None:  # fmt: skip
        super().__init__("run-keeper", events, every)
        self.queue = queue
        self.running = running
        self.lease = lease

    def tick(self) -> None:
        self.queue.renew(list(self.running()))
        self.reap()

    def reap(self) -> int:
        """End the runs whose replica died; how many."""
        store = self.events.store()
        now = store.clock.now()
        ended = 0
        for run in store.unfinished_runs():
            if now - datetime.fromisoformat(run.created_at).timestamp() < self.lease:
                continue  # perhaps stored but not yet in line
            claimed, job = self.queue.claim_dead(run.id)
            if not claimed:
                continue
            fresh = store.get_run(run.id)  # it may have ended since the list was read
            if fresh is None or fresh.status not in UNFINISHED:
                continue
            if job is not None and store.run_reply(run.session_id, run.id) is None:
                self._requeue(job)  # nothing of it was said: it waits in line again
                continue
            status = end_lost(self.events, run.id, run.session_id)
            log.warning("run_replica_lost", run_id=run.id, reply_status=status)
            ended += 1
        return ended

    def _requeue(self, job: Job) -> None:
        self.events.store().set_run_status(job.run_id, "queued")
        self.events.append(job.run_id, "notice", {"text": REQUEUED})
        self.queue.put(job)
        log.warning("run_requeued", run_id=job.run_id)
