"""SQLite-only facts of `SqliteStore` (the shared ones are in test_store_contract.py): a private
WAL file, the window's index, id prefixes that collide; files that are not ours, corrupt files,
and a nearly full disk: refuse or go read-only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import structlog

from tests.clocks import FixedClock
from utils.store import AmbiguousSession, ReadOnlyStore, SessionNotFound, SqliteStore, StoreError
from utils.store import sqlite_store as store_module


@pytest.mark.parametrize(
    "content",
    [b"hello, this is a text file\n" * 10, b"\x00" * 4096, b"{}"],
)
def test_not_sqlite_is_refused_and_left_byte_identical(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "pocketchat.db"
    path.write_bytes(content)
    with pytest.raises(StoreError) as info:
        SqliteStore.open(path, FixedClock())
    message = str(info.value)
    assert str(path) in message and "not an SQLite database" in message and "\n" not in message
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == ["pocketchat.db"]


def test_corrupt_sqlite_is_refused_and_left_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "pocketchat.db"
    good = SqliteStore.open(path, FixedClock())
    s = good.create_session("m")
    for i in range(200):
        good.append_message(s.id, "user", f"message {i} " * 20)
    good.close()
    raw = bytearray(path.read_bytes())
    raw[100 : len(raw)] = b"\xff" * (len(raw) - 100)  # keep the header, trash the pages
    path.write_bytes(bytes(raw))
    with pytest.raises(StoreError) as info:
        SqliteStore.open(path, FixedClock())
    message = str(info.value)
    assert str(path) in message and "corrupt" in message and "\n" not in message
    assert path.read_bytes() == bytes(raw)


def test_disk_low_makes_the_store_read_only_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pocketchat.db"
    store = SqliteStore.open(path, FixedClock(), min_free_mb=100)
    s = store.create_session("m")
    kept = store.append_message(s.id, "user", "before")
    raw = path.read_bytes()
    free = {"mb": 5.0}
    monkeypatch.setattr(store_module, "free_mb", lambda _p: free["mb"])
    with structlog.testing.capture_logs() as logs:
        with pytest.raises(ReadOnlyStore, match="disk space is low"):
            store.append_message(s.id, "user", "lost?")
        with pytest.raises(ReadOnlyStore):
            store.create_session("m")
        with pytest.raises(ReadOnlyStore):
            store.update_message(kept.id, content="x")
        assert store.acquire_lease(s.id, "chat", 60)  # a no-op that lets the chat go on
        assert store.writable is False and store.read_only_reason
        assert [m.content for m in store.window(s.id, 10)] == ["before"]  # reads still work
        assert store.search("before")
    assert [e["event"] for e in logs if e["event"] == "disk_low"] == ["disk_low"]
    assert path.read_bytes() == raw
    free["mb"] = 500.0
    store.append_message(s.id, "user", "after")
    assert store.writable and store.message_count(s.id) == 2
    store.close()


def test_disk_low_at_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "pocketchat.db"
    SqliteStore.open(path, FixedClock()).close()
    monkeypatch.setattr(store_module, "free_mb", lambda _p: 1.0)
    store = SqliteStore.open(path, FixedClock(), min_free_mb=100)
    assert not store.writable
    assert store.list_sessions() == []
    store.close()
    with pytest.raises(ReadOnlyStore, match="cannot create"):
        SqliteStore.open(tmp_path / "new" / "p.db", FixedClock(), min_free_mb=100)
    assert not (tmp_path / "new").exists()


def test_new_database_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "data" / "pocketchat.db", FixedClock())
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000
    plan = store.db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM messages WHERE session_id = 'x' AND seq >= 0 "
        "ORDER BY seq DESC LIMIT 40"
    ).fetchall()
    assert "idx_messages_session_seq" in " ".join(str(r) for r in plan)
    store.close()


def test_an_ambiguous_prefix_is_refused(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "pocketchat.db", FixedClock())
    store._new_id = lambda: "abcd00000001"  # type: ignore[method-assign]
    a = store.create_session("m")
    store._new_id = lambda: "abcd00000002"  # type: ignore[method-assign]
    store.create_session("m")
    assert store.resolve_session("ABCD00000001") == a
    with pytest.raises(AmbiguousSession):
        store.resolve_session("abcd")
    with pytest.raises(SessionNotFound):
        store.resolve_session("ffff")
    store.close()
