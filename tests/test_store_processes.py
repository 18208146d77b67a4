"""Real processes: concurrent appends lose nothing; SIGKILL mid-write loses nothing committed."""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.clocks import FixedClock
from utils.store import SqliteStore
from utils.store.migrations import known_names

ROOT = Path(__file__).resolve().parent.parent


def _worker(*args: str, stdout: int | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store_worker", *args],
        cwd=ROOT, env=env, stdout=stdout, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _new_session(path: Path) -> str:
    store = SqliteStore.open(path, FixedClock())
    session_id = store.create_session("m").id
    store.close()
    return session_id


def _start_together(barrier: Path, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(list(barrier.glob("ready-*"))) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    (barrier / "go").touch()


def test_processes_opening_a_fresh_database_at_once_migrate_it_once(tmp_path: Path) -> None:
    path, barrier = tmp_path / "data" / "p.db", tmp_path / "barrier"
    barrier.mkdir()
    procs = [_worker("open", str(path), "-", str(barrier)) for _ in range(4)]
    _start_together(barrier, 4)
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    conn = sqlite3.connect(path)
    names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    conn.close()
    assert names == known_names()


def test_four_processes_appending_at_once_keep_seq_contiguous(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    session_id = _new_session(path)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = [
        _worker("append", str(path), session_id, "50", f"w{i}", str(barrier)) for i in range(4)
    ]
    _start_together(barrier, 4)
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        assert "locked" not in err
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT seq, content FROM messages WHERE session_id = ? ORDER BY seq", [session_id]
    ).fetchall()
    conn.close()
    assert [r[0] for r in rows] == list(range(1, 201))
    contents = [r[1] for r in rows]
    assert len(set(contents)) == 200
    switches = sum(a.split()[0] != b.split()[0] for a, b in itertools.pairwise(contents))
    assert switches > 3, "the writers did not overlap"
    for i in range(4):
        mine = [c for c in contents if c.startswith(f"w{i} ")]
        assert mine == [f"w{i} turn {n}" for n in range(50)]  # each writer's order kept


def test_sigkill_while_writing_keeps_every_committed_message(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    session_id = _new_session(path)
    proc = _worker("loop", str(path), session_id, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    reported: list[int] = []
    while len(reported) < 60:
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else "worker died"
        reported.append(int(line))
    os.kill(proc.pid, signal.SIGKILL)
    rest, _ = proc.communicate(timeout=30)
    reported += [int(x) for x in rest.split()]
    assert proc.returncode == -signal.SIGKILL

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {r[0] for r in conn.execute("SELECT id FROM messages")}
    conn.close()
    assert set(reported) <= stored
    store = SqliteStore.open(path, FixedClock())  # and it opens and appends normally afterwards
    seqs = [m.seq for m in store.messages(session_id)]
    assert seqs == list(range(1, len(seqs) + 1))
    store.append_message(session_id, "user", "after the crash")
    store.close()
