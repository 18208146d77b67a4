"""The schema, built only by named, append-only migrations (`sqlite_utils.Migrations`).

Adding a migration (later issues: summaries, cache, events, flow runs, RAG documents):

1. Append a function below, named `mNNN_what_it_does` with the next number, decorated with
   `@MIGRATIONS()`. It receives the `sqlite_utils.Database` and must only add to the schema.
2. Never edit or reorder a released migration: databases in the wild recorded its name.
3. Run `python -m tests.fixtures.make_fixtures` to add `tests/fixtures/db_vNNN.sql`, and give
   the new tables sample rows in `tests/fixtures/samples.py`; `tests/test_migrations.py` then
   upgrades every older fixture to head and checks no row was lost.

`apply_pending` runs each migration and its record in one `BEGIN IMMEDIATE` transaction, so a
failing migration leaves the database exactly as it was, and two processes opening a fresh
database at once cannot both apply one.
"""

from __future__ import annotations

import sqlite3

import structlog
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

log = structlog.get_logger()

MIGRATIONS = Migrations("pocketchat")
MIGRATIONS_TABLE = Migrations.migrations_table


@MIGRATIONS()
def m001_sessions_and_messages(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            title TEXT,
            model TEXT NOT NULL,
            system TEXT,
            options TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
            context_start_seq INTEGER NOT NULL DEFAULT 0,
            context_mode TEXT NOT NULL DEFAULT 'shared'
                CHECK (context_mode IN ('shared', 'per-model')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            last_active_at TEXT NOT NULL
        );
        CREATE INDEX idx_sessions_status_last_active ON sessions (status, last_active_at);
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
            content TEXT NOT NULL,
            model TEXT,
            status TEXT NOT NULL DEFAULT 'complete'
                CHECK (status IN ('complete', 'partial', 'interrupted', 'failed')),
            pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            timings TEXT,
            done_reason TEXT,
            request_id TEXT,
            meta TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX idx_messages_session_seq ON messages (session_id, seq);
        CREATE TABLE leases (
            session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
            holder TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        """
    )


@MIGRATIONS()
def m002_messages_fts(db: Database) -> None:
    db.table("messages").enable_fts(["content"], create_triggers=True)


@MIGRATIONS()
def m004_events(db: Database) -> None:
    """Metrics as events (`utils/metrics.py`): queue waits, model loads, first tokens…"""
    db.executescript(
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            session_id TEXT,
            request_id TEXT,
            model TEXT,
            value REAL,
            data TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_events_kind_created ON events (kind, created_at);
        """
    )


def known_names() -> list[str]:
    return [m.name for m in MIGRATIONS._migrations]


def unknown_applied(conn: sqlite3.Connection) -> list[str]:
    """Migrations recorded in the database that this version does not know (read-only)."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [MIGRATIONS_TABLE]
    ).fetchone()
    if not found:
        return []
    rows = conn.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY rowid",
        [MIGRATIONS.name],
    ).fetchall()
    known = set(known_names())
    return [str(r[0]) for r in rows if r[0] not in known]


def status(db: Database) -> tuple[list[tuple[str, str]], list[str]]:
    """(applied: [(name, applied_at)], pending: [name]); reads only."""
    applied = [(m.name, m.applied_at) for m in MIGRATIONS.applied(db)]
    pending = [m.name for m in MIGRATIONS.pending(db)]
    return applied, pending


def apply_pending(db: Database, migrations: Migrations = MIGRATIONS) -> list[str]:
    """Apply pending migrations one transaction each; return the names applied."""
    done: list[str] = []
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            pending = migrations.pending(db)
            if not pending:
                db.execute("COMMIT")
                return done
            first, rest = pending[0], [m.name for m in pending[1:]]
            if not first.transactional:
                db.execute("COMMIT")
                migrations.apply(db, stop_before=rest)
            else:
                migrations.apply(db, stop_before=rest)
                db.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.execute("ROLLBACK")
            raise
        done.append(first.name)
        log.info("migration_applied", name=first.name, migration_set=migrations.name)
