"""SummarizeHistory: fold the turns that left the context window into a rolling summary.

Runs after the turn is stored. When person/model messages older than the oldest one sent
(`shared["context"]["first_kept_seq"]`) are not yet covered by the session's summary, the
model rewrites the summary with them in its own non-streamed call (through the request queue
when there is one), and the new summary is stored with the range of messages it covers.
TrimContext sends it, as a system message, instead of those messages. The call never fails
the turn: a failure (blank text included) is logged and the same messages are tried again
after the next turn.
Off with `context.summary: false`, and skipped when the turn could not reach Ollama.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import structlog

from nodes.base import PocketNode, Shared
from utils.context import (
    PROMPT_OVERHEAD,
    calibration,
    cut_text,
    estimate_message,
    estimate_text,
    summaries,
)
from utils.store import StoreError

log = structlog.get_logger()

INSTRUCTIONS = (
    "You keep the memory of a conversation between a person (user) and an assistant. "
    "Rewrite the summary so far to include the new messages. Keep every fact about the "
    "person (name, preferences, plans), decisions and open questions; drop small talk. "
    "Write at most {words} words of plain sentences, with no preamble."
)
REQUEST = "Summary so far:\n{summary}\n\nNew messages:\n{lines}\n\nWrite the updated summary."
FIRST_NOTICE = "(Older turns no longer fit the context window; they are kept as a summary.)"


@dataclass(frozen=True)
class SummaryInput:
    session_id: str
    model: str
    previous: summaries.Summary | None
    turns: list[summaries.Turn]
    num_ctx: int
    options: dict[str, Any]
    safe_factor: float


@dataclass(frozen=True)
class SummaryOutput:
    text: str
    covers: tuple[int, int]
    messages: int


class SummarizeHistory(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)
    reads: ClassVar[Mapping[str, Any]] = {"session": "Session"}
    may_read: ClassVar[Mapping[str, Any]] = {
        "context": "dict[str, Any]",
        "error": "dict[str, str]",
        "read_only": "str | None",
    }
    may_write: ClassVar[Mapping[str, Any]] = {"summary": "str", "summary_covers_to": "int"}

    def prep(self, shared: Shared) -> SummaryInput | None:
        settings = self.deps.settings.context
        context: dict[str, Any] = shared.get("context") or {}
        first_kept = context.get("first_kept_seq")
        if not settings.summary or shared.get("error") or shared.get("read_only"):
            return None
        if not isinstance(first_kept, int):
            return None
        session = shared["session"]
        if session.context_mode == "per-model":  # each model keeps its own thread, unsummarised
            return None
        store = self.deps.store
        previous = summaries.latest(store, session.id, session.context_start_seq)
        after = max(previous.covers_to_seq if previous else 0, session.context_start_seq - 1)
        turns = summaries.uncovered(store, session.id, after, first_kept)
        if len(turns) < max(1, settings.summary_batch):  # one call per batch, not per turn
            return None
        num_ctx = int(context.get("num_ctx") or self.deps.settings.context.default_num_ctx)
        options: dict[str, Any] = {
            "num_predict": min(settings.summary_max_tokens, max(16, num_ctx // 4)),
            "temperature": 0,
            "num_ctx": num_ctx,  # the turn's window: no model reload
        }
        return SummaryInput(
            session_id=session.id,
            model=session.model,
            previous=previous,
            turns=turns,
            num_ctx=num_ctx,
            options=options,
            safe_factor=calibration.load(store, session.model).safe_factor,
        )

    def exec(self, prep_res: SummaryInput | None) -> SummaryOutput | None:
        if prep_res is None:
            return None
        messages, folded = build_request(prep_res)
        if not folded:
            return None
        try:
            text = self._ask(prep_res.model, messages, prep_res.options)
        except Exception as exc:  # a summary never fails the turn
            log.warning("summary_failed", error=type(exc).__name__, detail=str(exc)[:200])
            return None
        if not text.strip():  # e.g. a thinking model that spent num_predict reasoning
            log.warning("summary_empty", model=prep_res.model, messages=len(folded))
            return None  # coverage unchanged: the same messages are tried again later
        previous = prep_res.previous
        start = previous.covers_from_seq if previous else folded[0].seq
        return SummaryOutput(text.strip(), (start, folded[-1].seq), len(folded))

    def post(
        self, shared: Shared, prep_res: SummaryInput | None, exec_res: SummaryOutput | None
    ) -> str:
        if prep_res is None or exec_res is None:
            return "default"
        try:
            summaries.save(self.deps.store, prep_res.session_id, exec_res.text, exec_res.covers,
                           exec_res.messages, prep_res.model, self.deps.clock.now())  # fmt: skip
        except StoreError as exc:
            log.warning("summary_not_saved", error=str(exc))
            return "default"
        shared["summary"] = exec_res.text
        shared["summary_covers_to"] = exec_res.covers[1]
        if prep_res.previous is None:
            self.deps.sink.notice(FIRST_NOTICE)
        return "default"

    def _ask(self, model: str, messages: list[dict[str, str]], options: dict[str, Any]) -> str:
        gate = self.deps.gate
        ticket = gate.acquire(lambda position, eta: None) if gate is not None else None
        self.deps.sink.status("summarising older turns…")
        try:
            result = self.deps.llm.chat(
                model, messages, options=options, keep_alive=self.deps.settings.ollama.keep_alive
            )
        finally:
            self.deps.sink.status("")
            if ticket is not None:
                ticket.release()
        return result.text


def build_request(
    data: SummaryInput,
) -> tuple[list[dict[str, str]], list[summaries.Turn]]:
    """The summary call's messages, folding as many of the oldest turns as fit its window."""
    words = max(20, int(data.options["num_predict"] * 0.6))
    system = {"role": "system", "content": INSTRUCTIONS.format(words=words)}
    previous = data.previous.text if data.previous and data.previous.text else "(none yet)"
    room = math.floor((data.num_ctx - data.options["num_predict"]) / data.safe_factor)
    room -= estimate_message(system) + PROMPT_OVERHEAD
    room -= estimate_message({"content": REQUEST.format(summary=previous, lines="")})
    lines: list[str] = []
    folded: list[summaries.Turn] = []
    for turn in data.turns:
        line = f"{turn.role}: {turn.content}"
        cost = estimate_text(line) + 1
        if cost > room:
            if folded or room < 16:
                break
            line, cost = cut_text(line, room - 1), room
        lines.append(line)
        folded.append(turn)
        room -= cost
    request = {"role": "user", "content": REQUEST.format(summary=previous, lines="\n".join(lines))}
    return [system, request], folded
