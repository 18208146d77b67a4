from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from tests.clocks import FixedClock
from tests.fixtures.make_fixtures import fixture_path
from utils.store import NewerSchema, SqliteStore
from utils.store.migrations import MIGRATIONS, apply_pending, known_names
from utils.store.sqlite_open import connect


def _snapshot(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _with_broken(extra_ok: bool = False) -> Migrations:
    """A test-only set: the real migrations, then one that writes and then fails."""
    s = Migrations(MIGRATIONS.name)
    for m in MIGRATIONS._migrations:
        s(name=m.name)(m.fn)

    @s()
    def m999_broken(db: Database) -> None:
        db.execute("CREATE TABLE half_done (x)")
        db.execute(
            "INSERT INTO sessions (id, model, created_at, updated_at, last_active_at) "
            "VALUES ('deadbeef0000', 'm', 't', 't', 't')"
        )
        raise RuntimeError("boom")

    return s


def test_fresh_open_applies_all_in_order(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "p.db", FixedClock())
    applied, pending = store.migrations_status()
    assert [name for name, _ in applied] == known_names()
    assert pending == []
    assert known_names()[0] == "m001_sessions_and_messages"
    store.close()


def test_failing_migration_leaves_database_exactly_as_before(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    store = SqliteStore.open(path, FixedClock())
    session = store.create_session("m")
    store.append_message(session.id, "user", "hello")
    store.close()
    before = _snapshot(path)
    db = connect(path, create=False)
    with pytest.raises(RuntimeError, match="boom"):
        apply_pending(db, _with_broken())
    assert not db.conn.in_transaction
    db.close()
    assert _snapshot(path) == before


def test_failing_first_migration_on_fresh_db_leaves_it_empty(tmp_path: Path) -> None:
    s = Migrations("pocketchat")

    @s()
    def m001_broken(db: Database) -> None:
        db.execute("CREATE TABLE t (x)")
        raise RuntimeError("boom")

    db = connect(tmp_path / "p.db", create=True)
    with pytest.raises(RuntimeError):
        apply_pending(db, s)
    assert db.table_names() == []  # not even _sqlite_migrations
    db.close()


def test_unknown_migration_is_refused_and_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    SqliteStore.open(path, FixedClock()).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('pocketchat', 'm050_from_the_future', 'x')"
    )
    conn.commit()
    conn.close()
    raw = path.read_bytes()
    with pytest.raises(NewerSchema) as info:
        SqliteStore.open(path, FixedClock())
    assert "m050_from_the_future" in str(info.value) and "\n" not in str(info.value)
    assert path.read_bytes() == raw
    with pytest.raises(NewerSchema):
        SqliteStore.open(path, FixedClock(), migrate=False)


def test_there_is_a_fixture_for_every_schema_version() -> None:
    for version, _name in enumerate(known_names(), start=1):
        path = fixture_path(version)
        assert path.exists(), f"run `python -m tests.fixtures.make_fixtures` ({path.name})"


def _rows(conn: sqlite3.Connection) -> dict[str, set[tuple[object, ...]]]:
    virtual = {
        n for (n, s) in conn.execute("SELECT name, sql FROM sqlite_master WHERE type='table'")
        if s and s.upper().startswith("CREATE VIRTUAL")
    }  # fmt: skip
    out = {}
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        if name in virtual or any(name.startswith(v + "_") for v in virtual):
            continue
        out[name] = set(conn.execute(f'SELECT * FROM "{name}"'))
    return out


@pytest.mark.parametrize(
    "version",
    list(range(1, len(known_names()) + 1)),
)
def test_each_fixture_upgrades_to_head_without_losing_a_row(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(fixture_path(version).read_text(encoding="utf-8"))
    before = _rows(conn)
    conn.close()
    assert sum(len(r) for r in before.values()) > 0

    store = SqliteStore.open(path, FixedClock())
    assert store.migrations_status()[1] == []
    after = _rows(store.db.conn)
    before = _folded(before)  # a crashed reply's parts are folded into it at the open
    for table, rows in before.items():
        width = len(next(iter(rows))) if rows else 0
        kept = {row[:width] for row in after[table]}
        assert rows <= kept, f"rows lost from {table} upgrading v{version}"
    hits = store.search("lighthouse", 5)
    assert {h.session_id for h in hits} == {"a1b2c3d4e5f6"}
    assert [m.seq for m in store.window("a1b2c3d4e5f6", 10)] == [3, 4, 5]
    ok = store.db.execute("PRAGMA integrity_check").fetchone()[0]
    assert ok == "ok"
    store.close()


# messages columns (m001): content, status and updated_at change when parts are folded in
_CONTENT, _STATUS, _UPDATED = 4, 6, 15


def _folded(rows: dict[str, set[tuple[object, ...]]]) -> dict[str, set[tuple[object, ...]]]:
    """What the rows become when leftover reply parts are folded into their messages."""
    parts = sorted(rows.get("message_parts", set()), key=lambda p: (p[0], p[1]))
    if not parts:
        return rows
    messages = {m[0]: list(m) for m in rows["messages"]}
    for message_id, _seq, text, created_at in parts:
        m = messages[message_id]
        m[_CONTENT] = f"{m[_CONTENT]}{text}"
        m[_STATUS] = "partial"
        m[_UPDATED] = created_at
    return {**rows, "messages": {tuple(m) for m in messages.values()}, "message_parts": set()}


def test_a_crashed_replys_parts_are_folded_once_at_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(fixture_path(7).read_text(encoding="utf-8"))
    conn.close()
    store = SqliteStore.open(path, FixedClock())
    whole = "Giraffes are tall. They eat acacia leaves."
    reply = store.window("0f0f0f0f0f0f", 10)[-1]
    assert (reply.content, reply.status) == (whole, "partial")
    assert [m.content for m in store.messages("0f0f0f0f0f0f")].count(whole) == 1
    assert [h.message_id for h in store.search("acacia", 5)] == [reply.id]
    assert store.db.execute("SELECT count(*) FROM message_parts").fetchone()[0] == 0
    store.close()
    again = SqliteStore.open(path, FixedClock())  # nothing left to fold: the text is not doubled
    assert again.window("0f0f0f0f0f0f", 10)[-1].content == whole
    again.close()


def test_m008_indexes_pinned_and_reindexes_only_changed_content(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(fixture_path(7).read_text(encoding="utf-8"))
    conn.close()
    store = SqliteStore.open(path, FixedClock())
    plan = " ".join(
        str(r[-1])
        for r in store.db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM messages WHERE session_id = ? AND pinned = 1 "
            "ORDER BY seq",
            ["a1b2c3d4e5f6"],
        )
    )
    assert "idx_messages_pinned" in plan
    [hit] = store.search("lighthouse", 5)
    before = store.db.conn.total_changes  # counts the rows triggers write too
    store.update_message(hit.message_id, status="partial", meta={"k": 1}, prompt_tokens=3)
    assert store.db.conn.total_changes - before == 1  # the row only: no FTS re-index
    assert [h.message_id for h in store.search("lighthouse", 5)] == [hit.message_id]
    store.update_message(hit.message_id, content="a beacon on the rocks")
    assert store.search("lighthouse", 5) == []
    assert [h.message_id for h in store.search("beacon", 5)] == [hit.message_id]
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()


def test_m009_marks_flow_run_sessions_as_batch_and_leaves_the_rest_unknown(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(fixture_path(8).read_text(encoding="utf-8"))
    conn.executemany(
        "INSERT INTO sessions (id, title, model, created_at, updated_at, last_active_at) "
        "VALUES (?, ?, 'm', 't', 't', 't')",
        [("ba7c4ba7c4ba", "flow run 521af0c9e1d2 line 1"),
         ("c4a7c4a70000", "flow run of the mill: a chat title")],
    )  # fmt: skip
    conn.commit()
    conn.close()
    store = SqliteStore.open(path, FixedClock())
    found = dict(store.db.execute("SELECT id, origin FROM sessions").fetchall())
    assert found == {"a1b2c3d4e5f6": None, "0f0f0f0f0f0f": None,
                     "ba7c4ba7c4ba": "flow-run", "c4a7c4a70000": None}  # fmt: skip
    assert store.latest_session(conversation=True, include_archived=True) is not None
    assert [s.id for s in store.list_sessions(origin="flow-run")] == ["ba7c4ba7c4ba"]
    store.close()


def test_m010_runs_keep_an_ordered_event_log_and_refuse_an_unknown_status(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(fixture_path(9).read_text(encoding="utf-8"))
    conn.close()
    store = SqliteStore.open(path, FixedClock())
    db = store.db
    db.execute(
        "INSERT INTO runs (id, session_id, message_id, status, created_at) "
        "VALUES ('r1', 'c4a7c4a7c4a7', 1, 'queued', 't')"
    )
    db.execute("INSERT INTO run_events VALUES ('r1', 1, 'queued', '{}', 't')")
    with pytest.raises(sqlite3.IntegrityError):  # one event per (run, id)
        db.execute("INSERT INTO run_events VALUES ('r1', 1, 'started', '{}', 't')")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO runs (id, session_id, message_id, status, created_at) "
            "VALUES ('r2', 'c4a7c4a7c4a7', 1, 'lost', 't')"
        )
    with pytest.raises(sqlite3.IntegrityError):  # a run belongs to a session that exists
        db.execute(
            "INSERT INTO runs (id, session_id, message_id, status, created_at) "
            "VALUES ('r3', 'nosuchsession', 1, 'queued', 't')"
        )
    store.close()


def test_m011_keys_have_unique_names_and_sessions_a_key_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(fixture_path(10).read_text(encoding="utf-8"))
    conn.close()
    store = SqliteStore.open(path, FixedClock())
    db = store.db
    found = dict(db.execute("SELECT id, key_id FROM sessions").fetchall())
    assert set(found.values()) == {None}  # sessions from before keys belong to no key
    db.execute("INSERT INTO api_keys (id, name, hash, created_at) VALUES ('k', 'a', 'h', 't')")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO api_keys (id, name, hash, created_at) VALUES ('j', 'a', 'h', 't')")
    plan = db.execute("EXPLAIN QUERY PLAN SELECT id FROM sessions WHERE key_id = 'k'").fetchall()
    assert "sessions_key" in str(plan)
    store.close()
