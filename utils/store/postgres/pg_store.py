"""Conversations in Postgres (`store.url: postgresql://…`): the same `Store` as SQLite's.

The mixins (sessions, messages, parts, runs, keys, RAG, leases) run unchanged over `PgDb`
(pg_db.py: a psycopg pool, SQLite-style SQL translated); what differs is here: opening (one
clear line when the server cannot be reached), transactions (one advisory write lock, so
writers follow one another as on SQLite), full-text search (tsvector, pg_search.py), the
migrations (pg_migrations.py) and pgvector (pg_vectors.py). There is no disk floor: the
server's disk is the server's; the store is always writable while the server is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import psycopg_pool
import structlog

from utils.clock import Clock
from utils.store.experiments_sql import ExperimentsMixin
from utils.store.flow_runs_sql import FlowRunsMixin
from utils.store.keys_sql import KeysMixin
from utils.store.leases_ops import LeasesMixin
from utils.store.messages_sql import MessagesMixin
from utils.store.models import NewerSchema, SearchHit, StoreError, iso
from utils.store.parts_sql import PartsMixin
from utils.store.postgres import pg_migrations, pg_search, pg_vectors
from utils.store.postgres.pg_db import PgDb
from utils.store.postgres.pg_schema import IDENTITY_TABLES
from utils.store.rag_models import Collection, NewDocument
from utils.store.rag_sql import RagMixin
from utils.store.runs_sql import RunsMixin
from utils.store.sessions_sql import SessionsMixin
from utils.store.sql_seam import SqlConn

log = structlog.get_logger()
T = TypeVar("T")


def redact(url: str) -> str:
    """The URL without its password (for messages and `db status`)."""
    url = re.sub(r"(://[^:/@?]*):[^@/?]*@", r"\1:***@", url)
    return re.sub(r"(password=)[^&\s]*", r"\1***", url)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class PostgresStore(
    SessionsMixin, MessagesMixin, PartsMixin, FlowRunsMixin, RagMixin, KeysMixin, RunsMixin,
    ExperimentsMixin, LeasesMixin,
):
    db: PgDb
    INTEGRITY_ERRORS = (psycopg.IntegrityError,)

    def __init__(self, db: PgDb, url: str, clock: Clock, *, vectors: bool = True) -> None:
        self.db = db
        self.location = redact(url)
        self._clock = clock
        self._vectors_wanted = vectors
        self._has_vectors: bool | None = None  # known after the migrations ran
        self._archived_at: float | None = None
        self.writable = True
        self.read_only_reason: str | None = None

    @classmethod
    def open(
        cls, url: str, clock: Clock, *, migrate: bool = True, vectors: bool = True,
        pool_size: int = 8,
    ) -> PostgresStore:  # fmt: skip
        """Connect (one clear line if the server cannot be reached) and bring the schema to
        head. `vectors=False` never uses pgvector (the in-process search, as on SQLite)."""
        where = redact(url)
        if not url.startswith(("postgresql://", "postgres://")):
            raise StoreError(f"store.url {where!r} is not a Postgres URL (postgresql://user@host/db)")
        try:
            psycopg.connect(url, connect_timeout=10).close()  # a bad URL fails here, at once
            db = PgDb(url, max_size=pool_size)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise StoreError(f"cannot connect to Postgres at {where}: {first_line(exc)}") from exc
        store = cls(db, url, clock, vectors=vectors)
        try:
            newer = pg_migrations.unknown_applied(db)
            if newer:
                raise NewerSchema(
                    f"{where}: written by a newer pocketchat (migrations {', '.join(newer)}); "
                    "left untouched. Upgrade pocketchat."
                )
            if migrate:
                store.apply_migrations()
                store.fold_parts()  # a reply cut off by a crash becomes whole (`partial`)
        except BaseException:
            store.close()
            raise
        return store

    @property
    def path(self) -> Path:
        """No file: the server's address (without password), for caches keyed by store."""
        return Path(self.location)

    def close(self) -> None:
        self.db.close()

    # -- plumbing -------------------------------------------------------------------------

    def _now(self) -> str:
        return iso(self._clock.now())

    def _check_disk(self) -> bool:
        return True

    def can_write(self) -> bool:
        return True

    def read_only_notice(self) -> str | None:
        return None

    @property
    def clock(self) -> Clock:
        return self._clock

    def transaction(self, fn: Callable[[SqlConn], T]) -> T:
        """Run `fn` in one write transaction (under the store's write lock); store writes
        made inside it join it, as on SQLite."""
        return self._write(fn)

    def _write(self, fn: Callable[[SqlConn], T]) -> T:
        conn = self.db.conn
        if conn.in_transaction:
            return fn(conn)
        try:
            with self.db.transaction() as bound:
                return fn(bound)
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            raise StoreError(f"Postgres at {self.location}: {first_line(exc)}") from exc

    def _rows(self, sql: str, params: list[Any] | dict[str, Any]) -> list[Any]:
        return self.db.execute(sql, params).fetchall()

    def _iter_rows(self, sql: str, params: list[Any] | dict[str, Any]) -> Iterator[Any]:
        yield from self._rows(sql, params)

    # -- search ---------------------------------------------------------------------------

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        self.fold_parts()  # the tsvector sees folded text only
        return pg_search.search(self.db.conn, query, limit)

    def rag_text_search(self, collection_id: int, query: str, limit: int) -> list[int]:
        """Chunk ids matching any word of `query` (tsvector, best ts_rank first)."""
        return pg_search.chunk_search(self.db.conn, collection_id, query, limit)

    # -- RAG vectors (pgvector when the database has it) ----------------------------------

    @property
    def has_vectors(self) -> bool:
        """True when nearest-neighbour search runs in Postgres (pgvector, HNSW)."""
        if self._has_vectors is None:
            self._has_vectors = self._vectors_wanted and pg_vectors.enabled(self.db)
        return self._has_vectors

    def rag_keep_embeddings(self, model: str, vectors: Mapping[str, bytes], dims: int) -> None:
        def keep(conn: SqlConn) -> None:
            super(PostgresStore, self).rag_keep_embeddings(model, vectors, dims)
            self._fill_vectors(conn)

        self._write(keep)

    def rag_save(
        self, name: str, model: str, documents: Sequence[NewDocument],
        vectors: Mapping[str, bytes], dims: int, removed: Sequence[str] = (),
    ) -> Collection:  # fmt: skip
        def save(conn: SqlConn) -> Collection:
            saved = super(PostgresStore, self).rag_save(
                name, model, documents, vectors, dims, removed
            )
            self._fill_vectors(conn)
            return saved

        return self._write(save)

    def vector_search_note(self) -> str:
        """How RAG's dense search runs on this database (for `doctor`)."""
        if not self._vectors_wanted:
            return "store.vectors is off; using numpy exact search"
        if self.has_vectors:
            return "pgvector in Postgres (an HNSW index per dimension count)"
        if "p002_pgvector" in self.migrations_status()[1] and pg_migrations.vector_available(
            self.db.conn
        ):
            return "pgvector is available; used once the migrations run"
        return "the server has no pgvector; using numpy exact search"

    def _fill_vectors(self, conn: SqlConn) -> None:
        if self.has_vectors:
            pg_vectors.fill(conn)

    def rag_nearest(
        self, collection_id: int, model: str, query: Sequence[float], k: int
    ) -> list[tuple[int, float]] | None:
        """(chunk id, cosine) of the `k` nearest chunks, best first, by the HNSW index; None
        when this database has no pgvector (the caller searches in process)."""
        if not self.has_vectors:
            return None
        with self.db.transaction(lock=False) as conn:  # a read: for SET LOCAL only
            pg_vectors.widen_search(conn, k)
            return pg_vectors.nearest(conn, collection_id, model, query, k)

    def reset_identities(self, conn: SqlConn) -> None:
        """Move each identity past the ids written explicitly (`db copy`)."""
        for table in IDENTITY_TABLES:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            )

    # -- migrations -----------------------------------------------------------------------

    def migrations_status(self) -> tuple[list[tuple[str, str]], list[str]]:
        return pg_migrations.status(self.db)

    def apply_migrations(self) -> list[str]:
        self._has_vectors = None
        try:
            return pg_migrations.apply_pending(self.db, vectors=self._vectors_wanted)
        except psycopg.Error as exc:
            raise StoreError(f"Postgres at {self.location}: migration failed: "
                             f"{first_line(exc)}") from exc  # fmt: skip
