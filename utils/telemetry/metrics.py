"""Metrics as events: one row in the `events` table per thing that happened (migration m006).

Writers call `record_event` (or `record_events` for several in one transaction). Recording a
metric never breaks a turn: a read-only or busy database only logs `event_not_recorded`.

Event kinds (value and unit; `data` keys), and who records them:

- `queue_wait`: seconds from joining the queue to being served; `ahead` = live tickets ahead
  on arrival (the queue depth seen). PersistTurn, REPL warm-up.
- `model_load`: seconds Ollama spent loading the model (`load_duration`; only loads of 0.1 s
  or more, smaller means it was loaded); `source` = `turn` or `warmup`. PersistTurn, warm-up.
- `first_token`: seconds from sending the request to the first reply text. PersistTurn.
- `tokens_per_second`: `eval_count / eval_duration`; `tokens`. PersistTurn.
- `ollama_retries`: retries a call needed (only when > 0); `attempts`, `outcome`. CallOllama.
- `rate_limited`: seconds until the session may send again; `limit`. LimitRate.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from utils.store import StoreError, iso

if TYPE_CHECKING:
    from utils.store import SqlStore

log = structlog.get_logger()

QUEUE_WAIT = "queue_wait"
MODEL_LOAD = "model_load"
FIRST_TOKEN = "first_token"
TOKENS_PER_SECOND = "tokens_per_second"
OLLAMA_RETRIES = "ollama_retries"
RATE_LIMITED = "rate_limited"
KINDS = (QUEUE_WAIT, MODEL_LOAD, FIRST_TOKEN, TOKENS_PER_SECOND, OLLAMA_RETRIES, RATE_LIMITED)

LOAD_THRESHOLD_SECONDS = 0.1  # a smaller load_duration means the model was already loaded


@dataclass(frozen=True)
class Event:
    kind: str
    value: float | None = None
    session_id: str | None = None
    request_id: str | None = None
    model: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def record_event(
    store: SqlStore,
    kind: str,
    *,
    value: float | None = None,
    session_id: str | None = None,
    request_id: str | None = None,
    model: str | None = None,
    **data: Any,
) -> None:
    """Record one event now (its own transaction)."""
    record_events(store, [Event(kind, value, session_id, request_id, model, data)])


def record_events(store: SqlStore, events: list[Event]) -> None:
    """Record several events in one transaction; never raises for a database problem."""
    if not events or not store.writable:
        return
    now = iso(store.clock.now())
    rows = [
        (e.kind, e.session_id, e.request_id, e.model, e.value,
         json.dumps(e.data, ensure_ascii=False, sort_keys=True), now)
        for e in events
    ]  # fmt: skip
    try:
        store.transaction(
            lambda c: c.executemany(
                "INSERT INTO events (kind, session_id, request_id, model, value, data, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        )
    except (StoreError, sqlite3.Error) as exc:
        log.warning("event_not_recorded", kinds=[e.kind for e in events], error=str(exc))


def turn_events(
    *,
    session_id: str | None,
    request_id: str | None,
    model: str | None,
    queue: tuple[float, int] | None,
    first_token_seconds: float | None,
    load_seconds: float | None,
    eval_count: int | None,
    eval_seconds: float | None,
) -> list[Event]:
    """The per-turn figures of one reply, as events (PersistTurn records them together)."""

    def event(kind: str, value: float, **data: Any) -> Event:
        return Event(kind, value, session_id, request_id, model, data)

    out: list[Event] = []
    if queue is not None:
        out.append(event(QUEUE_WAIT, queue[0], ahead=queue[1]))
    if load_seconds is not None and load_seconds >= LOAD_THRESHOLD_SECONDS:
        out.append(event(MODEL_LOAD, load_seconds, source="turn"))
    if first_token_seconds is not None:
        out.append(event(FIRST_TOKEN, first_token_seconds))
    if eval_count and eval_seconds:
        out.append(event(TOKENS_PER_SECOND, eval_count / eval_seconds, tokens=eval_count))
    return out
