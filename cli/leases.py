"""A chat's hold on its session: a lease renewed by a heartbeat thread.

While held, the session is never archived. The heartbeat uses its own database connection;
if the chat crashes, the lease simply expires.
"""

from __future__ import annotations

import os
import threading
import uuid
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from app import App

log = structlog.get_logger()


class LeaseKeeper:
    def __init__(self, app: App) -> None:
        self.app = app
        self.holder = f"chat-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.session_id: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, session_id: str) -> None:
        self.release()
        ttl = self.app.settings.archive.lease_seconds
        if not self.app.store().acquire_lease(session_id, self.holder, ttl):
            log.warning("session_lease_held_elsewhere", session_id=session_id)
        self.session_id = session_id
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, args=(session_id, ttl, self._stop), name="lease", daemon=True
        )
        self._thread.start()

    def release(self) -> None:
        if self.session_id is None:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.app.store().release_lease(self.session_id, self.holder)
        self.session_id = None

    def _beat(self, session_id: str, ttl: float, stop: threading.Event) -> None:
        """Renew every ttl/3 on its own connection; a failed beat is logged and retried."""
        from utils.store import Store

        store: Store | None = None
        try:
            while not stop.wait(ttl / 3):
                try:
                    if store is None:
                        store = self.app.open_store(migrate=False, min_free_mb=0)
                    if not store.renew_lease(session_id, self.holder, ttl):
                        log.warning("session_lease_lost", session_id=session_id)
                        store.acquire_lease(session_id, self.holder, ttl)
                except Exception as exc:  # the next beat tries again; the lease may lapse
                    log.warning("session_lease_heartbeat_failed", error=str(exc))
        finally:
            if store is not None:
                store.close()
