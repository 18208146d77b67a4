"""`ask`'s extraction: after the reply is printed and before the process exits.

Its own job first, then at most one older pending job (left by an earlier run, or `running`
for 10 minutes by a run that was killed: pending again), each only while
nobody else waits in the queue and for at most `memory.ask_wait_seconds` in all; what is not
done by then stays `pending` for the next run (`chat`, `serve` or `ask`) — never lost. Ctrl+C
here leaves the job pending and exits as the reply's status says.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from app import App

log = structlog.get_logger()


def extract_before_exit(app: App, job_id: int) -> None:
    settings = app.settings.memory
    clock = app.clock
    deadline = clock.monotonic() + settings.ask_wait_seconds
    try:
        sys.stdout.flush()  # the reply is out before any extraction begins
        from app.root import STALE_JOB_SECONDS
        from utils.memory import jobs_sql

        now = clock.now()
        jobs_sql.recover(app.store(), now - STALE_JOB_SECONDS, now)  # a killed run's job
        extractor = app.extractor()
        for target in (job_id, None):
            while True:
                outcome = extractor.run_one(target)
                if outcome.status != "yielded" or clock.monotonic() >= deadline:
                    break
                clock.sleep(settings.poll_seconds)  # someone is in line: after them
            if outcome.status in ("yielded", "later") or clock.monotonic() >= deadline:
                break
    except KeyboardInterrupt:
        log.info("memory_extraction_left_pending", job_id=job_id)
    except Exception as exc:  # the reply stands; the job stays pending
        log.warning("memory_extraction_error", job_id=job_id, error=type(exc).__name__)
