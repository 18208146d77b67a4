"""LimitRate: refuse a turn when its session already had `turns_per_minute` turns in a minute.

The first node of the chat flow, so a refused turn stores nothing (the person's message is not
recorded) and never reaches Ollama; the person gets one line, e.g. "rate limit: 30 turns per
minute for this session; try again in 12 s". A new session (no `session_id` yet) is never
limited, nor a turn whose message the caller stored already (`user_message_id`: serve mode
limits before it stores). `turns_per_minute` is a param, else `rate_limit.turns_per_minute`;
0 turns it off. `exec` asks a `TurnLimit`: `Deps.turn_limit` (Redis with `queue.url`: one
count shared by every process, checked and counted at once), else the store's reply rows.

Actions: `default` (go on), `limited` (refused: `shared["turn"]` has status `refused`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import structlog

from nodes.base import PocketNode, Shared
from nodes.deps import Deps
from utils.store import StoreError

log = structlog.get_logger()


@dataclass(frozen=True)
class RateInput:
    session_id: str | None
    checked: str | None
    now: float


class LimitRate(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default", "limited")
    may_read: ClassVar[Mapping[str, Any]] = {
        "session_id": "str | None",
        "user_message_id": "int | None",
        "request_id": "str",
    }
    writes_on: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "limited": {"error": "dict[str, str]", "turn": "dict[str, Any]"}
    }
    param_settings: ClassVar[Mapping[str, str]] = {
        "turns_per_minute": "rate_limit.turns_per_minute"
    }

    def __init__(self, deps: Deps, turns_per_minute: int | None = None) -> None:
        super().__init__(deps)
        limit = turns_per_minute
        self.per_minute = deps.settings.rate_limit.turns_per_minute if limit is None else limit

    def prep(self, shared: Shared) -> RateInput:
        store, session_id = self.deps.store, shared.get("session_id")
        checked: str | None = None  # the session to count, when this turn is limited at all
        if session_id and self.per_minute > 0 and shared.get("user_message_id") is None:
            try:
                session_id = checked = store.resolve_session(session_id).id
            except StoreError:  # LoadSession says so, in its own words
                session_id = None
        return RateInput(session_id, checked, self.deps.clock.now())

    def exec(self, prep_res: RateInput) -> float | None:
        from utils.queue import StoreTurnLimit

        if prep_res.checked is None:
            return None
        limit = self.deps.turn_limit or StoreTurnLimit(self.deps.store)
        return limit.admit(prep_res.checked, self.per_minute, prep_res.now)

    def post(self, shared: Shared, prep_res: RateInput, exec_res: float | None) -> str:
        if exec_res is None:
            return "default"
        from utils.queue import refusal_line
        from utils.telemetry import RATE_LIMITED, record_event

        line = refusal_line(self.per_minute, exec_res)
        shared["error"] = {"kind": "RateLimited", "line": line}
        shared["turn"] = {"status": "refused", "text": "", "message_id": None,
                          "meta": {"error": line}, "timings": {}}  # fmt: skip
        record_event(self.deps.store, RATE_LIMITED, value=exec_res,
                     session_id=prep_res.session_id, request_id=shared.get("request_id"),
                     limit=self.per_minute)  # fmt: skip
        self.deps.sink.notice(line)
        log.info("turn_rate_limited", limit=self.per_minute, retry_after=round(exec_res, 1))
        return "limited"
