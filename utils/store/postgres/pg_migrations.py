"""The Postgres schema's own named, append-only migrations, recorded like SQLite's.

`pocketchat_migrations` holds (migration_set, name, applied_at), as sqlite-utils'
`_sqlite_migrations` does for SQLite. `p001_baseline` makes what SQLite has after m001..m011
(utils/store/postgres/pg_schema.py); `p002_pgvector` adds `rag_embeddings.embedding vector`
when the server has the pgvector extension (and `vectors` is not turned off), else nothing.
A later SQLite migration gets its Postgres twin appended here (m012 -> `p003_experiments`):
never edit or reorder a released one. Each migration and its record are one transaction under
the store's write lock, so two processes opening a fresh database cannot both apply one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import structlog

from utils.store.postgres.pg_db import PgConn, PgDb
from utils.store.postgres.pg_schema import BASELINE, COMPAT

log = structlog.get_logger()

TABLE = "pocketchat_migrations"
MIGRATION_SET = "pocketchat"


@dataclass(frozen=True)
class PgMigration:
    name: str
    apply: Callable[[PgConn, bool], None]  # (connection in the transaction, vectors wanted)


def _baseline(conn: PgConn, vectors: bool) -> None:
    conn.script(COMPAT + BASELINE)


def _pgvector(conn: PgConn, vectors: bool) -> None:
    if not vectors or not vector_available(conn):
        return
    conn.script("CREATE EXTENSION IF NOT EXISTS vector")
    conn.script(
        "ALTER TABLE rag_embeddings ADD COLUMN embedding vector;"
        "CREATE INDEX rag_embeddings_unfilled ON rag_embeddings (content_hash) "
        "WHERE embedding IS NULL"
    )


def _experiments(conn: PgConn, vectors: bool) -> None:
    """SQLite's m012: `flow run` experiments, their variants and each run's evaluation."""
    conn.script(
        """
        CREATE TABLE experiments (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            input_file TEXT NOT NULL
        );
        CREATE TABLE experiment_variants (
            experiment_id TEXT NOT NULL REFERENCES experiments(id),
            ord INTEGER NOT NULL,
            label TEXT NOT NULL,
            batch_id TEXT NOT NULL,
            flow_name TEXT NOT NULL,
            flow_file TEXT NOT NULL,
            params TEXT NOT NULL,
            PRIMARY KEY (experiment_id, ord)
        );
        CREATE INDEX idx_experiment_variants_batch ON experiment_variants (batch_id);
        CREATE TABLE flow_run_evals (
            run_id BIGINT PRIMARY KEY REFERENCES flow_runs(id),
            evaluation TEXT NOT NULL
        );
        """
    )


MIGRATIONS = (
    PgMigration("p001_baseline", _baseline),
    PgMigration("p002_pgvector", _pgvector),
    PgMigration("p003_experiments", _experiments),
)


def vector_available(conn: PgConn) -> bool:
    """True when the server can give this database pgvector (installed or installable)."""
    row = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"
    ).fetchone()
    return row is not None


def known_names() -> list[str]:
    return [m.name for m in MIGRATIONS]


def _applied(db: PgDb) -> list[tuple[str, str]]:
    found = db.execute("SELECT to_regclass(?)", [TABLE]).fetchone()
    if found is None or found[0] is None:
        return []
    rows = db.execute(
        f"SELECT name, applied_at FROM {TABLE} WHERE migration_set = ? ORDER BY applied_at, name",
        [MIGRATION_SET],
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def status(db: PgDb) -> tuple[list[tuple[str, str]], list[str]]:
    """(applied: [(name, applied_at)], pending: [name]); reads only."""
    applied = _applied(db)
    done = {name for name, _ in applied}
    return applied, [name for name in known_names() if name not in done]


def unknown_applied(db: PgDb) -> list[str]:
    """Migrations recorded in the database that this version does not know."""
    known = set(known_names())
    return [name for name, _ in _applied(db) if name not in known]


def apply_pending(db: PgDb, *, vectors: bool = True) -> list[str]:
    """Apply pending migrations, one transaction each; return the names applied."""
    done: list[str] = []
    while True:
        with db.transaction() as conn:
            conn.script(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (migration_set TEXT NOT NULL, "
                "name TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (migration_set, name))"
            )
            applied = {name for name, _ in _applied(db)}
            pending = [m for m in MIGRATIONS if m.name not in applied]
            if not pending:
                return done
            first = pending[0]
            try:
                first.apply(conn, vectors)
            except psycopg.Error as exc:
                log.error("migration_failed", name=first.name, error=str(exc))
                raise
            conn.execute(
                f"INSERT INTO {TABLE} (migration_set, name, applied_at) VALUES (?, ?, ?)",
                [MIGRATION_SET, first.name, datetime.now(UTC).isoformat()],
            )
        done.append(first.name)
        log.info("migration_applied", name=first.name, migration_set=MIGRATION_SET)
