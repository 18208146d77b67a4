"""The conversation store: `pocketchat.db`, its schema and every SQL statement over it.

`Store` is the contract nodes, flows and commands use (`SqlStore` the narrower seam for helpers
that keep their own tables); `SqliteStore` implements it over SQLite (WAL, named migrations,
read-only below the disk floor). Also the records it hands out and its errors. `SqliteStore`,
`FlowRun` and `set_wal` load lazily, so `StoreError` costs no `sqlite_utils` import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from utils.lazy import lazy_exports

if TYPE_CHECKING:
    from utils.store.contract import SqlStore, Store
    from utils.store.experiments_sql import Experiment, Variant
    from utils.store.flow_runs_sql import FlowRun
    from utils.store.keys_sql import ApiKey, KeyNotFound
    from utils.store.models import (
        BATCH_ORIGINS,
        CONVERSATION_ORIGINS,
        ORIGINS,
        AmbiguousSession,
        Message,
        NewerSchema,
        ReadOnlyStore,
        SearchHit,
        Session,
        SessionNotFound,
        SessionSummary,
        StoreError,
        iso,
    )
    from utils.store.parts_sql import FULL_CONTENT
    from utils.store.postgres.pg_store import PostgresStore
    from utils.store.rag_models import (
        ChunkRecord,
        Collection,
        CollectionNotFound,
        NewChunk,
        NewDocument,
        StoredDocument,
    )
    from utils.store.runs_sql import RunRecord, StoredEvent
    from utils.store.sql_seam import SqlConn, SqlCursor, SqlDb
    from utils.store.sqlite_open import set_wal
    from utils.store.sqlite_store import SqliteStore
    from utils.store.transactions import immediate

__all__ = [
    "BATCH_ORIGINS",
    "CONVERSATION_ORIGINS",
    "FULL_CONTENT",
    "ORIGINS",
    "AmbiguousSession",
    "ApiKey",
    "ChunkRecord",
    "Collection",
    "CollectionNotFound",
    "Experiment",
    "FlowRun",
    "KeyNotFound",
    "Message",
    "NewChunk",
    "NewDocument",
    "NewerSchema",
    "PostgresStore",
    "ReadOnlyStore",
    "RunRecord",
    "SearchHit",
    "Session",
    "SessionNotFound",
    "SessionSummary",
    "SqlConn",
    "SqlCursor",
    "SqlDb",
    "SqlStore",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoredDocument",
    "StoredEvent",
    "Variant",
    "immediate",
    "iso",
    "set_wal",
]  # fmt: skip

__getattr__ = lazy_exports(
    __name__,
    {
        "SqlConn": "sql_seam",
        "SqlCursor": "sql_seam",
        "SqlDb": "sql_seam",
        "SqlStore": "contract",
        "PostgresStore": "postgres.pg_store",
        "Store": "contract",
        "FlowRun": "flow_runs_sql",
        "Experiment": "experiments_sql",
        "Variant": "experiments_sql",
        "RunRecord": "runs_sql",
        "StoredEvent": "runs_sql",
        "ApiKey": "keys_sql",
        "KeyNotFound": "keys_sql",
        "FULL_CONTENT": "parts_sql",
        "AmbiguousSession": "models",
        "BATCH_ORIGINS": "models",
        "CONVERSATION_ORIGINS": "models",
        "ORIGINS": "models",
        "Message": "models",
        "NewerSchema": "models",
        "ReadOnlyStore": "models",
        "SearchHit": "models",
        "Session": "models",
        "SessionNotFound": "models",
        "SessionSummary": "models",
        "StoreError": "models",
        "iso": "models",
        "ChunkRecord": "rag_models",
        "Collection": "rag_models",
        "CollectionNotFound": "rag_models",
        "NewChunk": "rag_models",
        "NewDocument": "rag_models",
        "StoredDocument": "rag_models",
        "immediate": "transactions",
        "set_wal": "sqlite_open",
        "SqliteStore": "sqlite_store",
    },
)
