"""The figures `stats` shows: from the `events` table and from the messages themselves.

Rates computed from messages cover all history, not only turns since events were recorded:

- cache hit rate: replies whose meta has `cached` / all replies;
- streaming disconnect rate: replies with status `partial` (the stream broke) / all replies;
- interrupted rate: replies with status `interrupted` (a person stopped it, Ctrl+C) / all
  replies — counted apart: stopping a reply is not a dropped stream;
- context truncation rate: `utils.context.calibration.truncation_rate(store, since)` when that
  module is present (branch `context`); else replies whose meta says `truncated: true` / all
  replies;
- context trimmed rate: replies whose prompt left messages out (meta `context.dropped` > 0 or
  `context.cut`) / all replies;
- session resurrection rate: person messages sent after the session was idle more than a day /
  all person messages.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from utils.context import estimate_error_by_model
from utils.telemetry import metrics

if TYPE_CHECKING:
    from utils.store import SqlStore

RESURRECTION_IDLE_DAYS = 1.0


def collect(store: SqlStore, since: str) -> dict[str, Any]:
    """Every figure since the ISO time `since`, as a plain JSON-ready dict."""
    conn = store.db.conn
    values = _event_values(store, since)
    waits = [v for v, _ in values.get(metrics.QUEUE_WAIT, [])]
    depths = [int(d.get("ahead", 0)) for _, d in values.get(metrics.QUEUE_WAIT, [])]
    retries = [v for v, _ in values.get(metrics.OLLAMA_RETRIES, [])]
    replies = _count(conn, "role = 'assistant'", since)
    person = _count(conn, "role = 'user'", since)
    return {
        "since": since,
        "replies": replies,
        "queue": {
            "requests": len(waits),
            "waited": sum(1 for d in depths if d > 0),
            "wait_seconds": _summary(waits),
            "depth_mean": round(statistics.fmean(depths), 3) if depths else None,
            "depth_max": max(depths) if depths else None,
        },
        "model_load_seconds": _summary([v for v, _ in values.get(metrics.MODEL_LOAD, [])]),
        "first_token_seconds": _summary([v for v, _ in values.get(metrics.FIRST_TOKEN, [])]),
        "tokens_per_second": _summary([v for v, _ in values.get(metrics.TOKENS_PER_SECOND, [])]),
        "retries": {"calls_retried": len(retries), "retries": int(sum(retries))},
        "rate_limited": len(values.get(metrics.RATE_LIMITED, [])),
        "token_estimate_error_pct": estimate_error_by_model(store),
        "rates": {
            "cache_hit": _ratio(_count(conn, CACHED, since), replies),
            "streaming_disconnect": _ratio(_count(conn, DISCONNECTED, since), replies),
            "interrupted": _ratio(_count(conn, INTERRUPTED, since), replies),
            "context_truncation": truncation_rate(store, since, replies),
            "context_trimmed": _ratio(_count(conn, TRIMMED, since), replies),
            "session_resurrection": _ratio(_resurrected(conn, since), person),
        },
    }


# JSON values compared as text (SQLite renders true as 1), so Postgres runs the same SQL.
CACHED = (
    "role = 'assistant' AND "
    "coalesce(CAST(json_extract(meta, '$.cached') AS TEXT), '') NOT IN ('0', '')"
)
DISCONNECTED = "role = 'assistant' AND status = 'partial'"
INTERRUPTED = "role = 'assistant' AND status = 'interrupted'"
TRIMMED = (
    "role = 'assistant' AND (CAST(json_extract(meta, '$.context.dropped') AS REAL) > 0 "
    "OR coalesce(CAST(json_extract(meta, '$.context.cut') AS TEXT), '0') NOT IN ('0', ''))"
)
TRUNCATED = "role = 'assistant' AND CAST(json_extract(meta, '$.truncated') AS TEXT) = '1'"


def truncation_rate(store: SqlStore, since: str, replies: int | None = None) -> float | None:
    """Replies Ollama truncated anyway (meta `truncated`, set by CalibrateTokens) / replies."""
    total = replies if replies is not None else _count(store.db.conn, "role = 'assistant'", since)
    return _ratio(_count(store.db.conn, TRUNCATED, since), total)


def _event_values(store: SqlStore, since: str) -> dict[str, list[tuple[float, dict[str, Any]]]]:
    out: dict[str, list[tuple[float, dict[str, Any]]]] = {}
    rows = store.db.conn.execute(
        f"SELECT kind, value, data FROM events WHERE kind IN ({','.join('?' * len(metrics.KINDS))})"
        " AND created_at >= ? ORDER BY id",
        [*metrics.KINDS, since],
    )
    for kind, value, data in rows:
        if value is not None:
            out.setdefault(kind, []).append((float(value), json.loads(data or "{}")))
    return out


def _count(conn: Any, where: str, since: str) -> int:
    row = conn.execute(
        f"SELECT count(*) FROM messages WHERE {where} AND created_at >= ?", [since]
    ).fetchone()
    return int(row[0])


def _resurrected(conn: Any, since: str) -> int:
    """Person messages whose previous message in the session is more than a day older."""
    row = conn.execute(
        "SELECT count(*) FROM messages m WHERE m.role = 'user' AND m.created_at >= ? AND "
        "julianday(m.created_at) - julianday((SELECT p.created_at FROM messages p "
        "WHERE p.session_id = m.session_id AND p.seq < m.seq ORDER BY p.seq DESC LIMIT 1)) > ?",
        [since, RESURRECTION_IDLE_DAYS],
    ).fetchone()
    return int(row[0])


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _summary(values: Sequence[float]) -> dict[str, Any]:
    """count, mean, p50, p95, max (None when there are no values)."""
    if not values:
        return {"count": 0, "mean": None, "p50": None, "p95": None, "max": None}
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "mean": round(statistics.fmean(ordered), 4),
        "p50": round(_quantile(ordered, 0.5), 4),
        "p95": round(_quantile(ordered, 0.95), 4),
        "max": round(ordered[-1], 4),
    }


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank quantile of sorted values."""
    index = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[index]
