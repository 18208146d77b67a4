"""API keys: made once and shown once, stored hashed, revoked but kept; `keys` on the command
line as a person meets it (a real process, a real database file)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from utils.clock import SystemClock
from utils.store import KeyNotFound, SqliteStore, StoreError

ROOT = Path(__file__).resolve().parent.parent


def pocketchat(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data), *args],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=dict(os.environ),
    )  # fmt: skip


def test_a_key_is_stored_hashed_and_found_by_its_secret(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "pocketchat.db", SystemClock())
    assert not store.has_keys()
    key_id, secret = store.create_key("alice")
    other_id, other = store.create_key("bob")
    assert secret.startswith("pc-") and len(secret) >= 40 and secret != other
    assert store.has_keys()
    assert store.key_for_secret(secret) == key_id
    assert store.key_for_secret(other) == other_id
    assert store.key_for_secret(secret + "x") is None
    assert store.key_for_secret("") is None
    store.close()
    raw = (tmp_path / "pocketchat.db").read_bytes()
    wal = tmp_path / "pocketchat.db-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    assert secret.encode() not in raw and secret[3:].encode() not in raw
    hashes = sqlite3.connect(tmp_path / "pocketchat.db").execute("SELECT hash FROM api_keys")
    assert all(len(h) == 64 and h != secret for (h,) in hashes)


def test_revoked_keys_stop_working_and_stay_listed(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "pocketchat.db", SystemClock())
    _, secret = store.create_key("alice")
    store.key_for_secret(secret)
    revoked = store.revoke_key("alice")
    assert revoked.revoked_at is not None
    assert store.key_for_secret(secret) is None
    assert not store.has_keys()
    listed = store.list_keys()
    assert [(k.name, k.revoked_at is not None) for k in listed] == [("alice", True)]
    assert listed[0].last_used_at is not None  # it was used once before
    assert store.revoke_key("alice").revoked_at == revoked.revoked_at  # again: unchanged
    with pytest.raises(KeyNotFound):
        store.revoke_key("nobody")
    with pytest.raises(StoreError, match="exists"):
        store.create_key("alice")  # a revoked key's name stays taken
    with pytest.raises(StoreError, match="bad key name"):
        store.create_key("two words")
    store.close()


def test_keys_commands_print_the_key_alone_once(tmp_path: Path) -> None:
    data = tmp_path / "d"
    made = pocketchat(data, "keys", "create", "ci-bot")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert made.stdout == secret + "\n" and secret.startswith("pc-")
    assert "not shown again" in made.stderr and secret not in made.stderr
    again = pocketchat(data, "keys", "create", "ci-bot")
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr.strip() == "Error: a key named 'ci-bot' exists (see `keys list`)"

    listed = pocketchat(data, "keys", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["NAME", "ID", "STATE", "CREATED", "LAST", "USED"]
    assert lines[1].split()[0] == "ci-bot" and lines[1].split()[2] == "live"
    assert secret not in listed.stdout

    revoked = pocketchat(data, "keys", "revoke", "ci-bot")
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert pocketchat(data, "keys", "list").stdout.splitlines()[1].split()[2] == "revoked"
    missing = pocketchat(data, "keys", "revoke", "nobody")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "Error: no key named 'nobody' (see `keys list`)"
    for log in data.rglob("*.log*"):
        assert secret not in log.read_text(errors="replace")


def test_keys_list_with_none_says_so(tmp_path: Path) -> None:
    result = pocketchat(tmp_path / "d", "keys", "list")
    assert result.returncode == 0
    assert result.stdout.startswith("no keys")


def test_a_second_store_in_one_process_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    """A server opens one store per thread. Reading the file's header again would drop the
    process's POSIX locks; a `keys create` beside it would then delete the WAL the server still
    writes to, and the server's later commits would vanish."""
    path = tmp_path / "d" / "pocketchat.db"
    first = SqliteStore.open(path, SystemClock())
    second = SqliteStore.open(path, SystemClock())
    assert pocketchat(tmp_path / "d", "keys", "create", "beside").returncode == 0
    session = second.create_session("llama3.2:1b")
    first.append_message(session.id, "user", "still here")
    with sqlite3.connect(path) as other:  # another reader sees the server's commits
        count = other.execute("SELECT count(*) FROM messages WHERE session_id = ?",
                              [session.id]).fetchone()[0]  # fmt: skip
    assert count == 1
    first.close()
    second.close()
