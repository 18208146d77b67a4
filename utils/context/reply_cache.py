"""The reply cache (table `reply_cache`, migration m003).

An entry is keyed by the model, the options sent and the exact prompt messages (`key`), and
also filed under the model and messages alone (`prompt_key`), so that when Ollama is down a
reply to the same prompt can be shown whatever the options were. Entries older than the TTL
are not served as normal hits (but still serve the fallback); past `max_entries` the oldest
are evicted on every store.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from utils.store import StoreError, iso

if TYPE_CHECKING:
    from utils.store import SqlConn, SqlStore

log = structlog.get_logger()


@dataclass(frozen=True)
class CacheKeys:
    key: str  # model + options + messages
    prompt_key: str  # model + messages


@dataclass(frozen=True)
class CachedReply:
    reply: str
    created_at: str
    hits: int

    def fresh(self, since: float) -> bool:
        """Created at or after `since` (epoch seconds)?"""
        return self.created_at >= iso(since)


def _digest(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def request_options(session_options: Mapping[str, Any]) -> dict[str, Any]:
    """The options Ollama receives (the session's, minus pocketchat's own like `cache`)."""
    from utils.ollama import CHECKS

    return {k: v for k, v in session_options.items() if k in CHECKS}


def keys(
    model: str, options: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
) -> CacheKeys:
    plain = [{"role": m.get("role"), "content": m.get("content")} for m in messages]
    return CacheKeys(
        key=_digest({"model": model, "options": dict(options), "messages": plain}),
        prompt_key=_digest({"model": model, "messages": plain}),
    )


def deterministic(options: Mapping[str, Any]) -> bool:
    """Would Ollama give the same reply again? Temperature 0 or a fixed seed."""
    temperature = options.get("temperature")
    seed = options.get("seed")
    zero = isinstance(temperature, int | float) and not isinstance(temperature, bool)
    zero = zero and float(temperature) == 0.0  # type: ignore[arg-type]
    fixed_seed = isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0
    return zero or fixed_seed


def lookup(store: SqlStore, key: str) -> CachedReply | None:
    """The entry for `key`, whatever its age (`CachedReply.fresh` tells)."""
    row = store.db.execute(
        "SELECT reply, created_at, hits FROM reply_cache WHERE key = ?", [key]
    ).fetchone()
    return CachedReply(row[0], row[1], int(row[2])) if row else None


def lookup_any(store: SqlStore, prompt_key: str) -> CachedReply | None:
    """The newest entry for these messages, whatever its options or age (the fallback)."""
    row = store.db.execute(
        "SELECT reply, created_at, hits FROM reply_cache WHERE prompt_key = ? "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        [prompt_key],
    ).fetchone()
    return CachedReply(row[0], row[1], int(row[2])) if row else None


def note_hit(store: SqlStore, prompt_key: str, key: str | None, at: float) -> None:
    """Count a hit (best effort)."""
    where, value = ("key = ?", key) if key else ("prompt_key = ?", prompt_key)
    try:
        store.transaction(
            lambda c: c.execute(
                f"UPDATE reply_cache SET hits = hits + 1, last_hit_at = ? WHERE {where}",
                [iso(at), value],
            )
        )
    except StoreError as exc:
        log.warning("cache_hit_not_counted", error=str(exc))


def put(
    store: SqlStore, keys_: CacheKeys, model: str, reply: str, at: float, max_entries: int
) -> int:
    """Store (or refresh) an entry, then evict the oldest past `max_entries`; return evicted."""
    now = iso(at)

    def write(conn: SqlConn) -> int:
        conn.execute(
            "INSERT INTO reply_cache (key, prompt_key, model, reply, created_at) "
            "VALUES (?,?,?,?,?) ON CONFLICT (key) DO UPDATE SET reply = excluded.reply, "
            "created_at = excluded.created_at",
            [keys_.key, keys_.prompt_key, model, reply, now],
        )
        cur = conn.execute(
            "DELETE FROM reply_cache WHERE id NOT IN (SELECT id FROM reply_cache "
            "ORDER BY created_at DESC, id DESC LIMIT ?)",
            [max(0, max_entries)],
        )
        return int(cur.rowcount)

    try:
        evicted = store.transaction(write)
    except StoreError as exc:
        log.warning("cache_not_saved", error=str(exc))
        return 0
    log.info("reply_cached", model=model, evicted=evicted)
    return evicted


def size(store: SqlStore) -> int:
    return int(store.db.execute("SELECT count(*) FROM reply_cache").fetchone()[0])
