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

from utils.store.sqlite_lib import Database, Migrations

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
def m003_context_memory(db: Database) -> None:
    """Rolling summaries, per-model token calibration with its samples, the reply cache."""
    db.executescript(
        """
        CREATE TABLE summaries (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            covers_from_seq INTEGER NOT NULL,
            covers_to_seq INTEGER NOT NULL,
            messages INTEGER NOT NULL DEFAULT 0,
            model TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_summaries_session ON summaries (session_id, covers_to_seq);
        CREATE TABLE token_calibration (
            model TEXT PRIMARY KEY,
            factor REAL NOT NULL DEFAULT 1.0,
            samples INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE token_samples (
            id INTEGER PRIMARY KEY,
            model TEXT NOT NULL,
            session_id TEXT,
            message_id INTEGER,
            estimated INTEGER NOT NULL,
            actual INTEGER NOT NULL,
            num_ctx INTEGER,
            truncated INTEGER NOT NULL DEFAULT 0 CHECK (truncated IN (0, 1)),
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_token_samples_model ON token_samples (model, id);
        CREATE INDEX idx_token_samples_created ON token_samples (created_at);
        CREATE TABLE reply_cache (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            prompt_key TEXT NOT NULL,
            model TEXT NOT NULL,
            reply TEXT NOT NULL,
            hits INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            last_hit_at TEXT
        );
        CREATE INDEX idx_reply_cache_prompt ON reply_cache (prompt_key, created_at);
        CREATE INDEX idx_reply_cache_created ON reply_cache (created_at);
        """
    )


@MIGRATIONS()
def m004_flow_runs(db: Database) -> None:
    """One row per input line of `flow run` (a batch shares `batch_id`)."""
    db.executescript(
        """
        CREATE TABLE flow_runs (
            id INTEGER PRIMARY KEY,
            batch_id TEXT NOT NULL,
            line INTEGER NOT NULL,
            flow_name TEXT NOT NULL,
            flow_file TEXT NOT NULL,
            input TEXT NOT NULL,
            output TEXT,
            status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
            error TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            duration_ms REAL NOT NULL
        );
        CREATE INDEX idx_flow_runs_batch ON flow_runs (batch_id, line);
        """
    )


@MIGRATIONS()
def m005_rag(db: Database) -> None:
    """RAG collections, their documents and chunks, and embeddings keyed by content and model."""
    db.executescript(
        """
        CREATE TABLE rag_collections (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            embed_model TEXT,
            version INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE rag_documents (
            id INTEGER PRIMARY KEY,
            collection_id INTEGER NOT NULL REFERENCES rag_collections (id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            mtime REAL NOT NULL,
            size INTEGER NOT NULL,
            ingested_at TEXT NOT NULL,
            UNIQUE (collection_id, path)
        );
        CREATE TABLE rag_chunks (
            id INTEGER PRIMARY KEY,
            collection_id INTEGER NOT NULL REFERENCES rag_collections (id) ON DELETE CASCADE,
            document_id INTEGER NOT NULL REFERENCES rag_documents (id) ON DELETE CASCADE,
            ord INTEGER NOT NULL,
            start_char INTEGER NOT NULL,
            text TEXT NOT NULL,
            content_hash TEXT NOT NULL
        );
        CREATE INDEX idx_rag_chunks_collection ON rag_chunks (collection_id, id);
        CREATE INDEX idx_rag_chunks_document ON rag_chunks (document_id, ord);
        CREATE INDEX idx_rag_chunks_hash ON rag_chunks (content_hash);
        CREATE TABLE rag_embeddings (
            content_hash TEXT NOT NULL,
            model TEXT NOT NULL,
            dims INTEGER NOT NULL,
            vector BLOB NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (content_hash, model)
        );
        """
    )
    db.table("rag_chunks").enable_fts(["text"], create_triggers=True)


@MIGRATIONS()
def m006_events(db: Database) -> None:
    """Metrics as events (`utils/telemetry/metrics.py`): queue waits, model loads, first tokens…"""
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


@MIGRATIONS()
def m007_message_parts(db: Database) -> None:
    """A streaming reply's text, appended a sentence at a time (`utils/store/parts_sql.py`) and
    folded into its message once, when the reply ends (or at the next open after a crash)."""
    db.executescript(
        """
        CREATE TABLE message_parts (
            message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (message_id, seq)
        );
        """
    )


@MIGRATIONS()
def m008_lighter_turn_writes(db: Database) -> None:
    """What every turn paid for: `pinned()` had no index (it scanned the session's messages),
    and the FTS update trigger (m002) re-indexed a message's whole text on any UPDATE (status,
    token counts, meta...). A partial index now covers the pinned messages, and the trigger
    fires only when `content` changes (search results are the same)."""
    db.execute("CREATE INDEX idx_messages_pinned ON messages (session_id, seq) WHERE pinned = 1")
    db.execute('DROP TRIGGER "messages_au"')
    db.execute(
        'CREATE TRIGGER "messages_au" AFTER UPDATE OF "content" ON "messages" BEGIN\n'
        '  INSERT INTO "messages_fts" ("messages_fts", rowid, "content") '
        "VALUES('delete', old.rowid, old.\"content\");\n"
        '  INSERT INTO "messages_fts" (rowid, "content") VALUES (new.rowid, new."content");\n'
        "END"
    )


@MIGRATIONS()
def m009_session_origin(db: Database) -> None:
    """Where a session came from (`chat`, `ask`, `flow-run`, later `api`), set by the command
    that starts it: `chat -c` continues a conversation, never a batch run, and `sessions list`
    hides batch runs. Older rows: a `flow run` title (`flow run <batch> line <n>`) means
    `flow-run`; the rest stay NULL (unknown, treated as a conversation)."""
    db.execute("ALTER TABLE sessions ADD COLUMN origin TEXT")
    db.execute(
        "UPDATE sessions SET origin = 'flow-run' WHERE title GLOB 'flow run [0-9a-f]* line [0-9]*'"
    )


@MIGRATIONS()
def m010_runs(db: Database) -> None:
    """Serve mode (`serve/`): a turn asked over HTTP is a run, a record and not a connection.
    `runs` holds its state; `run_events` its append-only event log (ids increase from 1 within
    a run), which a client replays from `Last-Event-ID` and then follows live."""
    db.executescript(
        """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions (id),
            message_id INTEGER NOT NULL,
            reply_id INTEGER,
            key_id TEXT,
            status TEXT NOT NULL
                CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
            created_at TEXT NOT NULL,
            finished_at TEXT
        );
        CREATE INDEX idx_runs_session ON runs (session_id, created_at);
        CREATE INDEX idx_runs_status ON runs (status);
        CREATE TABLE run_events (
            run_id TEXT NOT NULL REFERENCES runs (id),
            id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (run_id, id)
        );
        """
    )


@MIGRATIONS()
def m011_api_keys(db: Database) -> None:
    """Serve mode's keys (`keys create NAME`): stored hashed, revoked never deleted; a session
    made through a key belongs to it (`sessions.key_id`)."""
    db.executescript(
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT,
            last_used_at TEXT
        );
        ALTER TABLE sessions ADD COLUMN key_id TEXT;
        CREATE INDEX sessions_key ON sessions (key_id);
        """
    )


@MIGRATIONS()
def m012_experiments(db: Database) -> None:
    """`flow run` experiments: one row per experiment, one per variant (a flow and its grid
    params, run as one batch of `flow_runs`), and each run's evaluation as JSON."""
    db.executescript(
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
            run_id INTEGER PRIMARY KEY REFERENCES flow_runs(id),
            evaluation TEXT NOT NULL
        );
        """
    )


@MIGRATIONS()
def m013_memories(db: Database) -> None:
    """Long-term memory (issue 20, `utils/memory/`): facts about a person (`owner`), kept across
    conversations with their embedding, their source message and when they were last used;
    `memory_owners.version` changes with every write to an owner's memories (recall's matrix
    cache checks it); `memory_jobs` are the extraction jobs, pending until done or failed
    (never dropped). Plain, portable SQL: the Postgres store ports these tables."""
    db.executescript(
        """
        CREATE TABLE memories (
            id INTEGER PRIMARY KEY,
            owner TEXT NOT NULL,
            text TEXT NOT NULL,
            norm TEXT NOT NULL,
            embedding BLOB,
            embed_model TEXT,
            dims INTEGER,
            source_message_id INTEGER,
            source_session_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            last_used_at TEXT,
            use_count INTEGER NOT NULL DEFAULT 0,
            UNIQUE (owner, norm)
        );
        CREATE INDEX idx_memories_owner ON memories (owner, updated_at);
        CREATE TABLE memory_owners (
            owner TEXT PRIMARY KEY,
            version INTEGER NOT NULL
        );
        CREATE TABLE memory_jobs (
            id INTEGER PRIMARY KEY,
            owner TEXT NOT NULL,
            session_id TEXT NOT NULL,
            message_id INTEGER NOT NULL,
            model TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            json_retries INTEGER NOT NULL DEFAULT 0,
            yields INTEGER NOT NULL DEFAULT 0,
            facts INTEGER,
            error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (message_id)
        );
        CREATE INDEX idx_memory_jobs_status ON memory_jobs (status, id);
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
        try:
            db.execute("BEGIN IMMEDIATE")  # inside: an interrupt as it returns still rolls back
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
