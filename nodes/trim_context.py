"""TrimContext: build the prompt that fits the model's window, and say what was left out.

Ollama never reports an overflow: it silently drops the oldest messages. So the prompt is cut
here, visibly. The window in effect is the session's `num_ctx`, else the model's trained
length (`/api/show`, asked in exec, once per process) capped by `context.default_num_ctx`;
CallOllama and SummarizeHistory send it as `num_ctx`, so the server's own default (2048 on
old servers, `OLLAMA_CONTEXT_LENGTH`) never applies. The budget is that minus a reserve for
the reply (`num_predict`, else `context.reply_reserve`, at most half the window). Kept, in
this order of priority: the system prompt and the person's new message, the rolling summary, pinned
messages, system notes (model switches), then the most recent messages that fit. A message is
never split, except one that alone exceeds the budget: its middle is cut with a visible marker
and the person is told. Messages the summary covers are not sent again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import structlog

from nodes.base import PocketNode, Shared
from utils.context import (
    MESSAGE_OVERHEAD,
    PROMPT_OVERHEAD,
    Calibration,
    calibration,
    cut_text,
    estimate_message,
    estimate_text,
    summaries,
)

if TYPE_CHECKING:
    from utils.store import Message, Session

log = structlog.get_logger()

PromptMessage = dict[str, str]
SUMMARY_PREFIX = "Summary of the earlier conversation:\n"
DROPPED_NOTE = "(Earlier messages of this conversation are left out here to fit the window.)"
MIN_ROOM = 64  # raw tokens the person's message keeps even beside a huge system prompt


@dataclass(frozen=True)
class TrimInput:
    session: Session
    history: list[Message]
    pinned: list[Message]
    summary: str | None
    summary_covers_to: int
    num_ctx: int  # 0 = not set by the session: exec asks the model's (once per process)
    reserve: int
    calibration: Calibration


@dataclass(frozen=True)
class TrimResult:
    prompt: list[PromptMessage]
    num_ctx: int
    budget: int
    estimated: int  # calibrated estimate of the prompt's tokens (no safety margin)
    raw: int  # the uncalibrated heuristic, for calibration after the turn
    dropped: int  # loaded messages, not covered by the summary, left out
    first_kept_seq: int | None  # the oldest person/model message sent
    cut: bool


class TrimContext(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)
    reads: ClassVar[Mapping[str, Any]] = {"session": "Session"}
    may_read: ClassVar[Mapping[str, Any]] = {
        "history": "list[Message]",
        "pinned": "list[Message]",
        "summary": "str | None",
        "summary_covers_to": "int",
    }
    writes: ClassVar[Mapping[str, Any]] = {
        "prompt": "list[dict[str, Any]]",
        "summary": "str | None",
        "summary_covers_to": "int",
        "context": "dict[str, Any]",
    }

    def prep(self, shared: Shared) -> TrimInput:
        session: Session = shared["session"]
        settings = self.deps.settings.context
        options = session.options or {}
        num_ctx = options.get("num_ctx")
        if not isinstance(num_ctx, int) or num_ctx <= 0:
            num_ctx = 0  # the model's: asked in exec
        predict = options.get("num_predict")
        reserve = predict if isinstance(predict, int) and predict > 0 else settings.reply_reserve
        if "summary" in shared:
            text, covers_to = shared["summary"], int(shared.get("summary_covers_to") or 0)
        else:
            found = (
                summaries.latest(self.deps.store, session.id, session.context_start_seq)
                if session.context_mode != "per-model"  # one summary would mix the threads
                else None
            )
            text, covers_to = (found.text, found.covers_to_seq) if found else (None, 0)
        return TrimInput(
            session=session,
            history=shared.get("history", []),
            pinned=shared.get("pinned", []),
            summary=text,
            summary_covers_to=covers_to,
            num_ctx=num_ctx,
            reserve=reserve,
            calibration=calibration.load(self.deps.store, session.model),
        )

    def exec(self, prep_res: TrimInput) -> TrimResult:
        cap = self.deps.settings.context.default_num_ctx
        num_ctx = self.deps.llm.window(prep_res.session.model, cap, prep_res.num_ctx)
        reserve = min(prep_res.reserve, num_ctx // 2)
        return fit(replace(prep_res, num_ctx=num_ctx, reserve=reserve))

    def post(self, shared: Shared, prep_res: TrimInput, exec_res: TrimResult) -> str:
        shared["prompt"] = exec_res.prompt
        shared["summary"] = prep_res.summary
        shared["summary_covers_to"] = prep_res.summary_covers_to
        shared["context"] = {
            "num_ctx": exec_res.num_ctx,
            "budget": exec_res.budget,
            "estimated_tokens": exec_res.estimated,
            "raw_tokens": exec_res.raw,
            "dropped": exec_res.dropped,
            "first_kept_seq": exec_res.first_kept_seq,
            "summary_covers_to": prep_res.summary_covers_to,
            "cut": exec_res.cut,
        }
        if exec_res.cut:
            self.deps.sink.notice(
                "Your message is longer than the room the context window leaves for it "
                f"({exec_res.budget:,} of {exec_res.num_ctx:,} tokens, after the reply "
                "reserve); it was cut to fit, marked in the text sent."
            )
        if exec_res.dropped:
            log.info("context_trimmed", dropped=exec_res.dropped, budget=exec_res.budget)
        return "default"


def fit(data: TrimInput) -> TrimResult:
    """The prompt for `data`, within `num_ctx - reserve` by the calibrated, padded estimate.

    Works in raw (uncalibrated) tokens against a budget divided by the safe factor, so every
    message is estimated once.
    """
    budget = max(16, data.num_ctx - data.reserve)
    room = max(8, math.floor(budget / data.calibration.safe_factor) - PROMPT_OVERHEAD)
    covered = data.summary_covers_to
    history = [m for m in data.history if m.content or m.role == "user"]
    latest = history.pop() if history and history[-1].role == "user" else None
    pinned = [*data.pinned, *(m for m in history if m.pinned)]
    pinned.sort(key=lambda m: m.seq)
    body = [m for m in history if not m.pinned and (m.seq > covered or m.role == "system")]

    system = [_msg("system", data.session.system)] if data.session.system else []
    used = sum(map(estimate_message, system))
    tail: list[PromptMessage] = []
    cut = False
    if latest is not None:
        message = _as_prompt(latest)
        cost = estimate_message(message)
        if used + cost > room:
            if room - used < MIN_ROOM and system:
                system = [_cut(system[0], room // 2)]
                used = estimate_message(system[0])
            message = _cut(message, room - used, cost)
            cost = estimate_message(message)
            cut = True
        tail, used = [message], used + cost

    head: list[PromptMessage] = []
    if data.summary:
        message = _msg("system", SUMMARY_PREFIX + data.summary)
        cost = estimate_message(message)
        if used + cost > room and room - used > MIN_ROOM // 2:
            message = _cut(message, room - used)
            cost = estimate_message(message)
        if used + cost <= room:
            head.append(message)
            used += cost
    for pin in pinned:
        cost = estimate_message(_as_prompt(pin))
        if used + cost <= room:
            head.append(_as_prompt(pin))
            used += cost

    costs = {m.seq: estimate_message(_as_prompt(m)) for m in body}
    note_cost = estimate_text(DROPPED_NOTE) + MESSAGE_OVERHEAD
    older = bool(history) and history[0].seq > max(covered + 1, data.session.context_start_seq, 1)
    used += note_cost if older else 0
    kept: set[int] = set()
    if used + sum(costs.values()) <= room:
        kept = set(costs)
    else:
        used += 0 if older else note_cost
        notes = [m for m in reversed(body) if m.role == "system"]
        turns = [m for m in reversed(body) if m.role != "system"]
        for m in notes:
            if used + costs[m.seq] <= room:
                kept.add(m.seq)
                used += costs[m.seq]
        for m in turns:
            if used + costs[m.seq] > room:
                break
            kept.add(m.seq)
            used += costs[m.seq]
    dropped = len(body) - len(kept)
    note = [_msg("system", DROPPED_NOTE)] if dropped or older else []
    prompt = system + head + note + [_as_prompt(m) for m in body if m.seq in kept] + tail
    kept_turns = [m.seq for m in body if m.seq in kept and m.role != "system"]
    first_kept = min(kept_turns) if kept_turns else (latest.seq if latest else None)
    kept_cost = sum(costs[m.seq] for m in body if m.seq in kept)  # each message estimated once
    raw = sum(map(estimate_message, system + head + note + tail)) + kept_cost + PROMPT_OVERHEAD
    return TrimResult(
        prompt=prompt,
        num_ctx=data.num_ctx,
        budget=budget,
        estimated=data.calibration.estimate(raw),
        raw=raw,
        dropped=dropped,
        first_kept_seq=first_kept,
        cut=cut,
    )


def _msg(role: str, content: str) -> PromptMessage:
    return {"role": role, "content": content}


def _as_prompt(message: Message) -> PromptMessage:
    return {"role": message.role, "content": message.content}


def _cut(message: PromptMessage, room: int, known: int | None = None) -> PromptMessage:
    """One oversized message cut in the middle to cost at most `room` raw tokens."""
    known_text = None if known is None else known - MESSAGE_OVERHEAD
    text = cut_text(message["content"], max(1, room - MESSAGE_OVERHEAD), known_text)
    return {**message, "content": text}


def describe(result: dict[str, Any]) -> str:
    """'1,234 of 4,096 tokens' for /show."""
    return f"{result['estimated_tokens']:,} of {result['num_ctx']:,} tokens"
