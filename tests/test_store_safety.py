"""Files that are not ours, corrupt files, and a nearly full disk: refuse or go read-only."""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog

from tests.clocks import FixedClock
from utils.store import sqlite_store as store_module
from utils.store.models import ReadOnlyStore, StoreError
from utils.store.sqlite_store import Store


@pytest.mark.parametrize(
    "content",
    [b"hello, this is a text file\n" * 10, b"\x00" * 4096, b"{}"],
)
def test_not_sqlite_is_refused_and_left_byte_identical(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "pocketchat.db"
    path.write_bytes(content)
    with pytest.raises(StoreError) as info:
        Store.open(path, FixedClock())
    message = str(info.value)
    assert str(path) in message and "not an SQLite database" in message and "\n" not in message
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == ["pocketchat.db"]


def test_corrupt_sqlite_is_refused_and_left_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "pocketchat.db"
    good = Store.open(path, FixedClock())
    s = good.create_session("m")
    for i in range(200):
        good.append_message(s.id, "user", f"message {i} " * 20)
    good.close()
    raw = bytearray(path.read_bytes())
    raw[100 : len(raw)] = b"\xff" * (len(raw) - 100)  # keep the header, trash the pages
    path.write_bytes(bytes(raw))
    with pytest.raises(StoreError) as info:
        Store.open(path, FixedClock())
    message = str(info.value)
    assert str(path) in message and "corrupt" in message and "\n" not in message
    assert path.read_bytes() == bytes(raw)


def test_disk_low_makes_the_store_read_only_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pocketchat.db"
    store = Store.open(path, FixedClock(), min_free_mb=100)
    s = store.create_session("m")
    kept = store.append_message(s.id, "user", "before")
    raw = path.read_bytes()
    free = {"mb": 5.0}
    monkeypatch.setattr(store_module, "free_mb", lambda _p: free["mb"])
    with structlog.testing.capture_logs() as logs:
        with pytest.raises(ReadOnlyStore, match="disk nearly full"):
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
    Store.open(path, FixedClock()).close()
    monkeypatch.setattr(store_module, "free_mb", lambda _p: 1.0)
    store = Store.open(path, FixedClock(), min_free_mb=100)
    assert not store.writable
    assert store.list_sessions() == []
    store.close()
    with pytest.raises(ReadOnlyStore, match="cannot create"):
        Store.open(tmp_path / "new" / "p.db", FixedClock(), min_free_mb=100)
    assert not (tmp_path / "new").exists()
