"""Export, leases and archiving: the same on every store (over `leases.py` and the mixins).

A store without a disk floor (Postgres) answers `_check_disk` with True.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import structlog

from utils.clock import Clock
from utils.store import export, leases
from utils.store.base import StoreBase
from utils.store.models import Message, Session, iso

log = structlog.get_logger()


class LeasesMixin(StoreBase):
    _clock: Clock
    _archived_at: float | None

    def _check_disk(self) -> bool:
        raise NotImplementedError

    def resolve_session(self, id_or_prefix: str) -> Session:
        raise NotImplementedError

    def messages(self, session_id: str) -> Iterator[Message]:
        raise NotImplementedError

    def export_markdown(self, session_id: str) -> str:
        session = self.resolve_session(session_id)
        return export.to_markdown(session, self.messages(session.id))

    def export_json(self, session_id: str) -> dict[str, Any]:
        session = self.resolve_session(session_id)
        return export.to_json(session, self.messages(session.id))

    # -- leases, archive ------------------------------------------------------------------

    def acquire_lease(self, session_id: str, holder: str, ttl_seconds: float) -> bool:
        """Take (or take over an expired) lease; False if another holder's is live."""
        if not self._check_disk():
            return True
        now, until = self._now(), iso(self._clock.now() + ttl_seconds)
        return self._write(lambda c: leases.acquire(c, session_id, holder, now, until))

    def renew_lease(self, session_id: str, holder: str, ttl_seconds: float) -> bool:
        if not self._check_disk():
            return True
        until = iso(self._clock.now() + ttl_seconds)
        return self._write(lambda c: leases.renew(c, session_id, holder, until))

    def release_lease(self, session_id: str, holder: str) -> None:
        if self._check_disk():
            self._write(lambda c: leases.release(c, session_id, holder))

    def archive_idle(self, idle_days: float, *, every: float = 0) -> list[str]:
        """Archive sessions idle for more than `idle_days` and not leased; return their ids.
        With `every` (seconds), skip it (return []) if this store did it less than that ago."""
        moment = self._clock.now()
        if every > 0 and self._archived_at is not None and moment - self._archived_at < every:
            return []
        self._archived_at = moment
        now = self._now()
        cutoff = iso(self._clock.now() - idle_days * 86400)
        ids = self._write(lambda c: leases.archive_idle(c, cutoff, now))
        if ids:
            log.info("sessions_archived", count=len(ids), session_ids=ids, idle_days=idle_days)
        return ids
