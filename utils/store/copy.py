"""`db copy --to`: a whole history from one store into another (SQLite <-> Postgres).

Every table of the schema (m001..m011, the Postgres baseline) is copied row by row, ids kept,
parents before children, in one write transaction on the target: a copy that fails leaves the
target as it was. Each table is then counted and checksummed on both sides (the SHA-256 of
its rows' digests, sorted, so the order each database returns rows in does not matter); a
table whose count or checksum differs is reported, and the command fails. A target that holds
any row is refused unless `force`: then rows whose key the target already has are left as
they are (counted as skipped) and the checksums show the difference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from utils.store.contract import Store
from utils.store.models import StoreError
from utils.store.sql_seam import SqlConn

# Parents first. The columns SQLite has after m011 (Postgres adds only derived ones: fts,
# embedding). A migration that adds a table or column adds it here too.
TABLES: dict[str, tuple[str, ...]] = {
    "sessions": ("id", "title", "model", "system", "options", "status", "context_start_seq",
                 "context_mode", "created_at", "updated_at", "last_active_at", "origin",
                 "key_id"),
    "messages": ("id", "session_id", "seq", "role", "content", "model", "status", "pinned",
                 "prompt_tokens", "completion_tokens", "timings", "done_reason", "request_id",
                 "meta", "created_at", "updated_at"),
    "message_parts": ("message_id", "seq", "text", "created_at"),
    "leases": ("session_id", "holder", "expires_at"),
    "summaries": ("id", "session_id", "text", "covers_from_seq", "covers_to_seq", "messages",
                  "model", "created_at"),
    "token_calibration": ("model", "factor", "samples", "updated_at"),
    "token_samples": ("id", "model", "session_id", "message_id", "estimated", "actual",
                      "num_ctx", "truncated", "created_at"),
    "reply_cache": ("id", "key", "prompt_key", "model", "reply", "hits", "created_at",
                    "last_hit_at"),
    "flow_runs": ("id", "batch_id", "line", "flow_name", "flow_file", "input", "output",
                  "status", "error", "started_at", "finished_at", "duration_ms"),
    "rag_collections": ("id", "name", "embed_model", "version", "created_at", "updated_at"),
    "rag_documents": ("id", "collection_id", "path", "content_hash", "mtime", "size",
                      "ingested_at"),
    "rag_chunks": ("id", "collection_id", "document_id", "ord", "start_char", "text",
                   "content_hash"),
    "rag_embeddings": ("content_hash", "model", "dims", "vector", "created_at"),
    "events": ("id", "kind", "session_id", "request_id", "model", "value", "data",
               "created_at"),
    "api_keys": ("id", "name", "hash", "created_at", "revoked_at", "last_used_at"),
    "runs": ("id", "session_id", "message_id", "reply_id", "key_id", "status", "created_at",
             "finished_at"),
    "run_events": ("run_id", "id", "kind", "data", "created_at"),
    "experiments": ("id", "created_at", "input_file"),
    "experiment_variants": ("experiment_id", "ord", "label", "batch_id", "flow_name",
                            "flow_file", "params"),
    "flow_run_evals": ("run_id", "evaluation"),
    "memories": ("id", "owner", "text", "norm", "embedding", "embed_model", "dims",
                 "source_message_id", "source_session_id", "created_at", "updated_at",
                 "last_used_at", "use_count"),
    "memory_owners": ("owner", "version"),
    "memory_jobs": ("id", "owner", "session_id", "message_id", "model", "status", "attempts",
                    "json_retries", "yields", "facts", "error", "created_at", "updated_at"),
}  # fmt: skip


@dataclass(frozen=True)
class TableCopy:
    table: str
    source_rows: int
    target_rows: int
    copied: int
    source_sum: str
    target_sum: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum


def _value(v: Any) -> str:
    if v is None:
        return "\x00"
    if isinstance(v, bytes | bytearray | memoryview):
        return "b:" + bytes(v).hex()
    if isinstance(v, float):
        return "f:" + (str(int(v)) if v.is_integer() else repr(v))
    return "v:" + str(v)


def _rows(store: Store, table: str) -> Iterable[Any]:
    return store.db.execute(f"SELECT {', '.join(TABLES[table])} FROM {table}")


def checksum(store: Store, table: str) -> tuple[int, str]:
    """(rows, SHA-256 of the sorted row digests) of one table."""
    digests = sorted(
        hashlib.sha256("\x1f".join(_value(v) for v in row).encode()).digest()
        for row in _rows(store, table)
    )
    return len(digests), hashlib.sha256(b"".join(digests)).hexdigest()


def non_empty(store: Store) -> list[str]:
    """The tables of `store` that hold rows."""
    return [t for t in TABLES if store.db.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()]


def copy(source: Store, target: Store, *, force: bool = False) -> list[TableCopy]:
    """Copy every table, then count and checksum both sides."""
    from utils.store.postgres.pg_store import PostgresStore

    after: Callable[[SqlConn], None] | None = None
    if isinstance(target, PostgresStore):  # identity sequences move past the copied ids
        after = target.reset_identities
    taken = non_empty(target)
    if taken and not force:
        raise StoreError(
            f"{target.location} already holds history ({', '.join(taken)}); copy into a new, "
            "empty database, or pass --force to keep its rows and add the others"
        )
    copied: dict[str, int] = {}

    def write(conn: SqlConn) -> None:
        for table, columns in TABLES.items():
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            rows = [tuple(r) for r in _rows(source, table)]
            if force:
                sql += " ON CONFLICT DO NOTHING"
            before = _count(conn, table)
            if rows:
                conn.executemany(sql, rows)
            copied[table] = _count(conn, table) - before
        if after is not None:
            after(conn)

    target.transaction(write)
    report = []
    for table in TABLES:
        (n_src, s_src), (n_dst, s_dst) = checksum(source, table), checksum(target, table)
        report.append(TableCopy(table, n_src, n_dst, copied[table], s_src, s_dst))
    return report


def _count(conn: SqlConn, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
