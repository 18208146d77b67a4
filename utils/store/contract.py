"""`Store`: everything nodes, flows and commands call on the conversation store.

`SqliteStore` satisfies it (mypy checks that where the composition root puts one into `Deps`);
a second implementation (Postgres) satisfies it too and runs `tests/test_store_contract.py`.

`SqlStore` is the narrower seam the context, telemetry, queue and RAG helpers use to keep their
own tables in the store's database (`utils.context.calibration`, `summaries`, `reply_cache`,
`utils.telemetry.metrics`, `utils.queue.rate_limit`, `utils.rag.vector_index`): an sqlite-utils
`Database` to read and one write transaction. A store without SQLite ports those helpers too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from sqlite_utils import Database

    from utils.clock import Clock
    from utils.store.flow_runs_sql import FlowRun
    from utils.store.models import Message, SearchHit, Session, SessionSummary
    from utils.store.rag_models import ChunkRecord, Collection, NewDocument, StoredDocument

T = TypeVar("T")


class SqlStore(Protocol):
    """The store's database, for helpers that keep their own tables in it."""

    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def writable(self) -> bool:
        """False once a write found the disk below the floor (see `can_write`)."""
        ...

    def can_write(self) -> bool:
        """False while the disk is below the floor (writes would raise `ReadOnlyStore`)."""
        ...

    def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` in one write transaction (lock retry, disk guard)."""
        ...


class Store(SqlStore, Protocol):
    """Sessions, messages, leases, search, export, flow runs and RAG collections."""

    @property
    def path(self) -> Path: ...

    @property
    def read_only_reason(self) -> str | None: ...

    def close(self) -> None: ...
    def read_only_notice(self) -> str | None: ...
    def migrations_status(self) -> tuple[list[tuple[str, str]], list[str]]: ...
    def apply_migrations(self) -> list[str]: ...

    # sessions
    def create_session(
        self,
        model: str,
        *,
        title: str | None = None,
        system: str | None = None,
        options: dict[str, Any] | None = None,
        context_mode: str = "shared",
        origin: str | None = None,
    ) -> Session:
        """`origin`: the command that starts it (`ORIGINS`: chat, ask, flow-run, api)."""
        ...

    def get_session(self, session_id: str) -> Session | None: ...
    def resolve_session(self, id_or_prefix: str) -> Session: ...
    def latest_session(
        self, include_archived: bool = False, *, conversation: bool = False
    ) -> Session | None:
        """The most recently active session; with `conversation`, the last one of a person's
        conversation (origin chat, ask or unknown), never a batch run (`chat -c`, `ask -c`)."""
        ...

    def update_session(self, session_id: str, **fields: Any) -> Session: ...
    def touch_session(self, session_id: str) -> None: ...
    def list_sessions(
        self, *, archived: bool = False, limit: int | None = 50, origin: str | None = None,
        batch: bool = False,
    ) -> list[SessionSummary]:  # fmt: skip
        """Most recently active first; batch sessions (`BATCH_ORIGINS`) only with `batch` or
        their `origin`; `origin="unknown"`: sessions with no recorded origin; `limit=None`: all."""
        ...

    def count_sessions(
        self, *, archived: bool = False, origin: str | None = None, batch: bool = False
    ) -> int:
        """How many sessions `list_sessions` would list with no limit."""
        ...

    def archive(self, session_id: str) -> None: ...
    def restore(self, session_id: str) -> None: ...
    def delete_session(self, session_id: str) -> None: ...
    def archive_idle(self, idle_days: float, *, every: float = 0) -> list[str]: ...

    # messages
    def append_message(
        self,
        session_id: str,
        role: str,
        content: str,
        *,
        model: str | None = None,
        status: str = "complete",
        request_id: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Message: ...
    def update_message(self, message_id: int, **fields: Any) -> Message: ...
    def set_message_fields(self, message_id: int, **fields: Any) -> None: ...
    def get_message(self, message_id: int) -> Message | None: ...
    def append_part(self, message_id: int, text: str) -> None: ...
    def finish_reply(self, message_id: int, content: str, status: str) -> None: ...
    def window(self, session_id: str, limit: int) -> list[Message]: ...
    def pinned(self, session_id: str) -> list[Message]: ...
    def message_count(self, session_id: str) -> int: ...
    def messages(self, session_id: str) -> Iterator[Message]: ...

    # search, export, leases
    def search(self, query: str, limit: int = 20) -> list[SearchHit]: ...
    def export_markdown(self, session_id: str) -> str: ...
    def export_json(self, session_id: str) -> dict[str, Any]: ...
    def acquire_lease(self, session_id: str, holder: str, ttl_seconds: float) -> bool: ...
    def renew_lease(self, session_id: str, holder: str, ttl_seconds: float) -> bool: ...
    def release_lease(self, session_id: str, holder: str) -> None: ...

    # flow runs
    def record_flow_run(
        self,
        *,
        batch_id: str,
        line: int,
        flow_name: str,
        flow_file: str,
        input_text: str,
        output: dict[str, Any] | None,
        status: str,
        error: str | None,
        started_at: str,
        finished_at: str,
        duration_ms: float,
    ) -> int: ...
    def flow_runs(self, batch_id: str) -> list[FlowRun]: ...

    # RAG collections
    def rag_collections(self) -> list[Collection]: ...
    def rag_find_collection(self, name: str) -> Collection | None: ...
    def rag_collection(self, name: str) -> Collection: ...
    def rag_documents(self, collection_id: int) -> dict[str, StoredDocument]: ...
    def rag_embedded(self, hashes: Iterable[str], model: str) -> set[str]: ...
    def rag_keep_embeddings(self, model: str, vectors: Mapping[str, bytes], dims: int) -> None: ...
    def rag_save(
        self,
        name: str,
        model: str,
        documents: Sequence[NewDocument],
        vectors: Mapping[str, bytes],
        dims: int,
        removed: Sequence[str] = (),
    ) -> Collection: ...
    def rag_drop(self, name: str) -> Collection: ...
    def rag_vectors(self, collection_id: int, model: str) -> tuple[list[int], list[bytes], int]: ...
    def rag_version(self, collection_id: int) -> int | None: ...
    def rag_chunks(self, ids: Sequence[int]) -> dict[int, ChunkRecord]: ...
    def rag_text_search(self, collection_id: int, query: str, limit: int) -> list[int]: ...
