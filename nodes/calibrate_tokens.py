"""CalibrateTokens: after a reply, compare the estimate with Ollama's count, and watch for cuts.

Ollama's `prompt_eval_count` is the only truth about tokens it gives. Each measured turn is
stored (`token_samples`) and, unless Ollama truncated the prompt, folded into the model's
calibration factor, so the next prompt is planned with a better estimate. If Ollama truncated
the prompt anyway (`utils.context.calibration.looks_truncated`), the reply's meta gets
`"truncated": true` and the person is told, once per session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import structlog

from nodes.base import PocketNode, Shared
from utils.context import calibration
from utils.store import StoreError

log = structlog.get_logger()

NOTICE = (
    "Ollama cut this prompt to fit its context window ({actual:,} tokens counted, "
    "window {num_ctx:,}); the reply may miss earlier context. Estimates are now recalibrated."
)


@dataclass(frozen=True)
class CalibrateInput:
    sample: calibration.Sample | None
    samples: int = 0  # the model's calibrated turns so far: how far its estimate is trusted


class CalibrateTokens(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)
    reads: ClassVar[Mapping[str, Any]] = {"model": "str"}
    may_read: ClassVar[Mapping[str, Any]] = {
        "context": "dict[str, Any]",
        "turn": "dict[str, Any]",
        "read_only": "str | None",
        "session_id": "str",
    }

    def prep(self, shared: Shared) -> CalibrateInput:
        context: dict[str, Any] = shared.get("context") or {}
        turn: dict[str, Any] = shared.get("turn") or {}
        actual = turn.get("prompt_tokens")
        if shared.get("read_only") or not isinstance(actual, int) or actual <= 0:
            return CalibrateInput(None)
        if not context.get("raw_tokens"):
            return CalibrateInput(None)
        model = shared["model"]
        return CalibrateInput(
            calibration.Sample(
                model=model,
                raw=int(context["raw_tokens"]),
                estimated=int(context["estimated_tokens"]),
                actual=actual,
                num_ctx=context.get("num_ctx"),
                session_id=shared.get("session_id"),
                message_id=turn.get("message_id"),
            ),
            samples=calibration.load(self.deps.store, model).samples,
        )

    def exec(self, prep_res: CalibrateInput) -> bool:
        sample = prep_res.sample
        if sample is None:
            return False
        return calibration.looks_truncated(
            sample.estimated,
            sample.actual,
            sample.num_ctx,
            raw=sample.raw,
            samples=prep_res.samples,
        )

    def post(self, shared: Shared, prep_res: CalibrateInput, exec_res: bool) -> str:
        sample = prep_res.sample
        if sample is None:
            return "default"
        store = self.deps.store
        said = (
            exec_res
            and sample.session_id
            and calibration.session_was_truncated(store, sample.session_id)
        )
        calibration.record(store, sample, exec_res, self.deps.clock.now())
        if not exec_res:
            return "default"
        shared.setdefault("context", {})["truncated"] = True
        log.warning("prompt_truncated_by_ollama", estimated=sample.estimated,
                    actual=sample.actual, num_ctx=sample.num_ctx)  # fmt: skip
        if sample.message_id is not None:
            self._mark(sample.message_id)
        if not said:
            self.deps.sink.notice(NOTICE.format(actual=sample.actual, num_ctx=sample.num_ctx))
        return "default"

    def _mark(self, message_id: int) -> None:
        store = self.deps.store
        message = store.get_message(message_id)
        if message is None:
            return
        try:
            store.update_message(message_id, meta={**message.meta, "truncated": True})
        except StoreError as exc:
            log.warning("truncation_not_marked", error=str(exc))
