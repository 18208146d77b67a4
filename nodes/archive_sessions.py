"""ArchiveSessions: mark sessions idle for longer than `idle_days` archived.

Archived sessions are kept whole, searchable and restorable; nothing is deleted by age. A
session held by a running chat (an unexpired lease) is never archived. A process looks at
most once every `EVERY_SECONDS` (the first turn always does): idleness is counted in days,
so a turn need not scan the sessions again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from nodes.base import PocketNode, Shared
from nodes.deps import Deps

EVERY_SECONDS = 600.0


class ArchiveSessions(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)
    may_read: ClassVar[Mapping[str, Any]] = {"read_only": "str | None"}
    param_settings: ClassVar[Mapping[str, str]] = {"idle_days": "archive.idle_days"}
    may_write: ClassVar[Mapping[str, Any]] = {"archived": "list[str]"}

    def __init__(self, deps: Deps, idle_days: float | None = None) -> None:
        super().__init__(deps)
        self.idle_days = idle_days

    def prep(self, shared: Shared) -> float | None:
        if shared.get("read_only"):  # nothing is written while the disk is nearly full
            return None
        return (
            self.idle_days if self.idle_days is not None else self.deps.settings.archive.idle_days
        )

    def exec(self, prep_res: float | None) -> float | None:
        return prep_res

    def post(self, shared: Shared, prep_res: Any, exec_res: float | None) -> str:
        if exec_res is None:
            return "default"
        store = self.deps.store
        shared["archived"] = store.archive_idle(exec_res, every=EVERY_SECONDS)  # it logs them
        return "default"
