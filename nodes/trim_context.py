"""TrimContext: build the prompt that fits the model's window, and say what was left out.

Ollama never reports an overflow: it silently drops the oldest messages. So the prompt is cut
here, visibly. Kept, in order: every system message (the session's system prompt, the rolling
summary, model-switch notes), pinned messages, then the most recent messages that fit; a
message is never split, except one that alone exceeds the whole budget, which is cut with a
visible marker (and the person is told).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import structlog

from nodes.base import PocketNode, Shared
from utils import tokens

if TYPE_CHECKING:
    from utils.store_models import Message, Session

log = structlog.get_logger()

PromptMessage = dict[str, str]
SUMMARY_PREFIX = "Summary of the earlier conversation:\n"
DROPPED_NOTE = "({n} earlier messages are left out of this prompt.)"
NOTE_COST = 16  # tokens kept free for the note above
CUT_MARKER = "\n[… {n} characters cut here to fit the context window …]\n"


@dataclass(frozen=True)
class TrimInput:
    session: Session
    history: list[Message]
    pinned: list[Message]
    summary: str | None
    num_ctx: int
    reserve: int
    factor: float


@dataclass(frozen=True)
class TrimResult:
    prompt: list[PromptMessage]
    num_ctx: int
    budget: int
    estimated: int
    dropped: int
    cut: bool


class TrimContext(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)

    def prep(self, shared: Shared) -> TrimInput:
        session: Session = shared["session"]
        settings = self.deps.settings.context
        options = session.options or {}
        num_ctx = options.get("num_ctx")
        if not isinstance(num_ctx, int):
            num_ctx = min(self._model_context(session.model), settings.default_num_ctx)
        predict = options.get("num_predict")
        reserve = predict if isinstance(predict, int) and predict > 0 else settings.reply_reserve
        reserve = min(reserve, num_ctx // 2)
        return TrimInput(
            session=session,
            history=shared.get("history", []),
            pinned=shared.get("pinned", []),
            summary=shared.get("summary"),
            num_ctx=num_ctx,
            reserve=reserve,
            factor=self._factor(session.model),
        )

    def exec(self, prep_res: TrimInput) -> TrimResult:
        return fit(prep_res)

    def post(self, shared: Shared, prep_res: TrimInput, exec_res: TrimResult) -> str:
        shared["prompt"] = exec_res.prompt
        shared["context"] = {
            "num_ctx": exec_res.num_ctx,
            "budget": exec_res.budget,
            "estimated_tokens": exec_res.estimated,
            "dropped": exec_res.dropped,
            "cut": exec_res.cut,
        }
        if exec_res.cut:
            self.deps.sink.notice(
                "Your message is longer than the model's context window; "
                "it was cut to fit (marked in the text sent)."
            )
        if exec_res.dropped:
            log.info("context_trimmed", dropped=exec_res.dropped, budget=exec_res.budget)
        return "default"

    def _model_context(self, model: str) -> int:
        try:
            length = self.deps.llm.context_length(model)
        except Exception:  # the model may be missing: CallOllama reports that properly
            length = None
        return length or self.deps.settings.context.default_num_ctx

    def _factor(self, model: str) -> float:
        calibration = getattr(self.deps.store, "calibration", None)
        return float(calibration(model).factor) if callable(calibration) else 1.0


def fit(data: TrimInput) -> TrimResult:
    """The newest messages that fit `num_ctx - reserve`, with every system message kept."""
    budget = max(16, data.num_ctx - data.reserve)
    factor = data.factor

    def cost(messages: list[PromptMessage]) -> int:
        return tokens.estimate_messages(messages, factor)

    head: list[PromptMessage] = []
    if data.session.system:
        head.append({"role": "system", "content": data.session.system})
    if data.summary:
        head.append({"role": "system", "content": SUMMARY_PREFIX + data.summary})
    head.extend(_as_prompt(m) for m in data.pinned)
    body = [_as_prompt(m) for m in data.history]
    latest = body.pop() if body and body[-1]["role"] == "user" else None
    keep = {i for i, m in enumerate(body) if m["role"] == "system"}
    fixed = head + [body[i] for i in sorted(keep)]
    cut = False
    if latest is not None and cost([*fixed, latest]) > budget:
        latest = _cut_to_fit(latest, budget - cost(fixed), factor)
        cut = True
    tail = [latest] if latest is not None else []
    used = cost(fixed + tail)
    older = [i for i in range(len(body) - 1, -1, -1) if i not in keep]
    for index in older:
        extra = math.ceil(tokens.estimate_message(body[index]) * factor)
        if used + extra + (NOTE_COST if index != older[-1] else 0) > budget:
            break
        keep.add(index)
        used += extra
    dropped = len(body) - len(keep)
    note = [{"role": "system", "content": DROPPED_NOTE.format(n=dropped)}] if dropped else []
    prompt = head + note + [body[i] for i in sorted(keep)] + tail
    return TrimResult(prompt, data.num_ctx, budget, cost(prompt), dropped, cut)


def _as_prompt(message: Message) -> PromptMessage:
    return {"role": message.role, "content": message.content}


def _cut_to_fit(message: PromptMessage, room: int, factor: float) -> PromptMessage:
    """Cut the middle out of one oversized message, leaving a visible marker."""
    text = message["content"]
    keep_tokens = max(8, room - tokens.MESSAGE_OVERHEAD - tokens.PROMPT_OVERHEAD - 24)
    chars = len(text)
    while chars > 0:
        half = chars // 2
        candidate = text[:half] + CUT_MARKER.format(n=len(text) - 2 * half) + text[-half:]
        if tokens.estimate_text(candidate) * factor <= keep_tokens:
            return {**message, "content": candidate}
        chars = int(chars * 0.8)
    return {**message, "content": CUT_MARKER.format(n=len(text)).strip()}


def describe(result: dict[str, Any]) -> str:
    """'1,234 of 4,096 tokens' for /show."""
    return f"{result['estimated_tokens']:,} of {result['num_ctx']:,} tokens"
