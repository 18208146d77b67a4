"""ExtractMemories: after the reply, leave a job to extract facts about the person.

Runs after PersistTurn. It makes no Ollama call (the person's next turn is never delayed by
it): it records a `pending` extraction job for the person's message (`memory_jobs`, one per
message), which `utils.memory.Extractor` runs as low-priority work through the queue — `ask`
after the reply is printed and before it exits (or leaves it pending for the next run),
`chat` in a background thread between turns, `serve` in the workers' idle time. A turn with
no new message (/retry), or that stored nothing (read-only), leaves no job. Writes
shared["memory_job"] (the job id, or None).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import structlog

from nodes.base import PocketNode, Shared
from nodes.recall_memories import memory_owner

log = structlog.get_logger()


@dataclass(frozen=True)
class JobSpec:
    owner: str
    session_id: str
    message_id: int
    model: str


class ExtractMemories(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)
    inputs: ClassVar[Mapping[str, Any]] = {"memory_owner": str | None}
    may_read: ClassVar[Mapping[str, Any]] = {
        "user_message_id": "int", "session_id": "str", "read_only": "bool", "regenerate": "bool",
        "user_message": "str", "model": "str", "session": "Session",
    }  # fmt: skip
    writes: ClassVar[Mapping[str, Any]] = {"memory_job": "int | None"}

    def prep(self, shared: Shared) -> JobSpec | None:
        message_id = shared.get("user_message_id")
        session_id = shared.get("session_id")
        if shared.get("read_only") or not isinstance(message_id, int) or not session_id:
            return None
        if shared.get("regenerate") and not shared.get("user_message"):
            return None
        model = str(shared.get("model") or getattr(shared.get("session"), "model", ""))
        return JobSpec(memory_owner(shared), str(session_id), message_id, model)

    def exec(self, prep_res: JobSpec | None) -> JobSpec | None:
        return prep_res if prep_res is not None and prep_res.model else None

    def post(self, shared: Shared, prep_res: JobSpec | None, exec_res: JobSpec | None) -> str:
        shared["memory_job"] = None
        if exec_res is None:
            return "default"
        from utils.memory import jobs_sql
        from utils.store import StoreError

        try:
            job_id = jobs_sql.enqueue(self.deps.store, exec_res.owner, exec_res.session_id,
                                      exec_res.message_id, exec_res.model,
                                      self.deps.clock.now())  # fmt: skip
        except StoreError as exc:
            log.warning("memory_job_not_stored", error=str(exc))
            return "default"
        shared["memory_job"] = job_id
        log.info("memory_job_queued", job_id=job_id, owner=exec_res.owner)
        return "default"
