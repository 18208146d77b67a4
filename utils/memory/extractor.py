"""`Extractor`: runs extraction jobs as low-priority work that never delays a person's turn.

A job takes the queue's slot only when nobody is in line (`Gate.depth() == 0` and the caller's
`busy()` is false), and gives it back as soon as someone joins: between two streamed chunks it
checks the line, and if a turn is waiting it closes its request (Ollama stops generating),
releases the ticket and puts the job back to `pending`, to try again when the line is empty.
The call asks for Ollama's JSON `format` with the schema `{"facts": [...]}`; a reply that is
not that JSON is asked for once more, then the job is `failed` with the error (logged and
counted in `stats`, never dropped). The facts are embedded with `memory.embed_model` in the
same hold of the slot (the size is whatever the model returns) and kept (`remember.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from utils.memory import jobs_sql, remember
from utils.memory.text import FACTS_SCHEMA, BrokenFacts, extraction_messages, parse_facts

if TYPE_CHECKING:
    from config.settings import MemorySettings
    from utils.clock import Clock
    from utils.ollama import OllamaService
    from utils.queue import Gate, Ticket
    from utils.store import Store

log = structlog.get_logger()

MAX_ATTEMPTS = 3  # Ollama unreachable this many times: the job is failed (kept, counted)


class Yielded(Exception):
    """A turn is waiting: the slot was given back."""


@dataclass(frozen=True)
class Outcome:
    status: str  # done, failed, yielded, later (Ollama unreachable), none (no job)
    job_id: int | None = None
    facts: int = 0


class Extractor:
    def __init__(
        self, store: Store, llm: OllamaService, gate: Gate | None, settings: MemorySettings,
        clock: Clock, busy: Callable[[], bool] = lambda: False,
    ) -> None:  # fmt: skip
        self.store, self.llm, self.gate = store, llm, gate
        self.settings, self.clock, self.busy = settings, clock, busy
        self.scope = str(store.path)
        self._ticket: Ticket | None = None  # the slot this extraction holds (one thread each)

    def waiting(self, holding: bool) -> bool:
        """Someone other than this extraction is in line (or the caller has a turn coming)."""
        if self.busy():
            return True
        depth = self.gate.depth() if self.gate is not None else 0
        return depth > (1 if holding else 0)

    def run_one(self, job_id: int | None = None) -> Outcome:
        """Claim the next pending job (or `job_id`) and run it, unless a turn is waiting."""
        if self.waiting(holding=False):
            return Outcome("yielded")
        job = jobs_sql.claim(self.store, self.clock.now(), job_id)
        if job is None:
            return Outcome("none")
        from utils.ollama import OllamaError

        retries = 0
        try:
            user, reply = self._exchange(job)
            facts = None
            for attempt in (0, 1):
                raw = self._ask(job, user, reply, retry=attempt > 0)
                try:
                    facts = parse_facts(raw, self.settings.max_facts)
                    break
                except BrokenFacts as exc:
                    log.warning("memory_json_broken", job_id=job.id, attempt=attempt + 1,
                                error=str(exc), reply=raw[:200])  # fmt: skip
                    if attempt == 1:
                        jobs_sql.fail(self.store, job.id, f"broken JSON twice: {exc}", 1,
                                      self.clock.now())  # fmt: skip
                        log.warning("memory_extraction_failed", job_id=job.id, error=str(exc))
                        return Outcome("failed", job.id)
                    retries = 1
            kept = self._keep(job, facts or [])
        except Yielded:
            jobs_sql.release(self.store, job.id, self.clock.now(), yielded=True)
            log.info("memory_extraction_yielded", job_id=job.id)
            return Outcome("yielded", job.id)
        except OllamaError as exc:
            if job.attempts >= MAX_ATTEMPTS or not exc.transient:
                jobs_sql.fail(self.store, job.id, f"{type(exc).__name__}: {exc.detail}", retries,
                              self.clock.now())  # fmt: skip
                log.warning("memory_extraction_failed", job_id=job.id, error=type(exc).__name__)
                return Outcome("failed", job.id)
            jobs_sql.release(self.store, job.id, self.clock.now(), yielded=False)
            log.info("memory_extraction_later", job_id=job.id, error=type(exc).__name__)
            return Outcome("later", job.id)
        except BaseException:
            jobs_sql.release(self.store, job.id, self.clock.now(), yielded=True)
            raise
        finally:
            self._give_back()
        jobs_sql.finish(self.store, job.id, kept, retries, self.clock.now())
        log.info("memory_extracted", job_id=job.id, facts=kept, json_retries=retries)
        return Outcome("done", job.id, kept)

    def _exchange(self, job: jobs_sql.Job) -> tuple[str, str]:
        """The person's message and the reply that followed it."""
        row = self.store.db.execute(
            "SELECT content, seq FROM messages WHERE id = ?", [job.message_id]
        ).fetchone()
        if row is None:
            return "", ""
        reply = self.store.db.execute(
            "SELECT content FROM messages WHERE session_id = ? AND seq > ? AND role = "
            "'assistant' ORDER BY seq LIMIT 1",
            [job.session_id, row[1]],
        ).fetchone()
        return str(row[0]), str(reply[0]) if reply else ""

    def _ask(self, job: jobs_sql.Job, user: str, reply: str, *, retry: bool) -> str:
        """One extraction call, holding the slot only while nobody else waits."""
        self._ticket = self._take_slot()
        model = self.settings.extract_model or job.model
        stream = self.llm.chat_stream(
            model, extraction_messages(user, reply, retry),
            options={"temperature": 0, "num_predict": 512},
            keep_alive=self.llm.settings.keep_alive, format=FACTS_SCHEMA,
        )  # fmt: skip
        pieces: list[str] = []
        try:
            for piece in stream:
                pieces.append(piece)
                if self.waiting(holding=self._ticket is not None):
                    raise Yielded
        except BaseException:
            stream.close()
            self._give_back()
            raise
        stream.close()
        return "".join(pieces)

    def _keep(self, job: jobs_sql.Job, facts: list[str]) -> int:
        try:
            if not facts:
                return 0
            model = self.settings.embed_model
            vectors = self.llm.embed(model, facts)  # the slot is still ours
        finally:
            self._give_back()
        kept = remember.keep_facts(
            self.store, self.scope, job.owner, facts, vectors, model,
            (job.message_id, job.session_id), self.clock.now(), self.settings.dedup_similarity,
        )  # fmt: skip
        return len(kept.added) + len(kept.updated)

    def _take_slot(self) -> Ticket | None:
        if self.gate is None:
            return None
        ticket = self._ticket
        if ticket is not None and ticket.held():
            return ticket  # the retry keeps the slot it has
        ticket = self.gate.acquire(_quiet)
        if self.waiting(holding=True):  # someone joined while it was granted
            ticket.release()
            raise Yielded
        return ticket

    def _give_back(self) -> None:
        ticket, self._ticket = self._ticket, None
        if ticket is not None:
            ticket.release()


def _quiet(position: int, eta: Any) -> None:
    """A waiting extraction shows nothing."""
