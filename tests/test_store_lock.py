"""Another process holding the database's write lock (issue 14, item 3): reading commands open
it with a plain read (no migration pending: no `BEGIN IMMEDIATE`) and answer at once; a write
that cannot get the lock within the busy timeout is one line that says why.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.clocks import FixedClock
from tests.real_runs import pocketchat, write_config
from tests.standin import StandIn
from utils.store import SqliteStore, StoreError, sqlite_open

HOLD = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


@pytest.fixture
def history(tmp_path: Path, standin: StandIn) -> Path:
    data = tmp_path / "data"
    made = pocketchat(data, "ask", "hello lighthouse", host=standin.url,
                      config=write_config(tmp_path))  # fmt: skip
    assert made.returncode == 0, made.stderr
    return data


@contextmanager
def hold_write_lock(db: Path, seconds: float) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(db), str(seconds)],
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        yield child
    finally:
        child.kill()
        child.wait()


def test_reads_answer_while_another_process_holds_the_write_lock(history: Path) -> None:
    with hold_write_lock(history / "pocketchat.db", 8.0) as child:
        for args in (["sessions", "list"], ["sessions", "search", "lighthouse"],
                     ["db", "status"], ["stats"]):  # fmt: skip
            started = time.monotonic()
            result = pocketchat(history, *args)
            took = time.monotonic() - started
            assert result.returncode == 0, (args, result.stderr)
            assert took < 4.0, (args, took)  # not the 10 s busy timeout
            assert "locked" not in result.stderr
        assert child.poll() is None  # the lock was held all along


def test_a_write_that_cannot_get_the_lock_says_so(
    history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_open, "BUSY_TIMEOUT_MS", 150)
    store = SqliteStore.open(history / "pocketchat.db", FixedClock())  # opens: a plain read
    try:
        with hold_write_lock(history / "pocketchat.db", 8.0):
            with pytest.raises(StoreError) as info:
                store.create_session("llama3.2:1b")
            line = str(info.value)
            assert "another pocketchat is writing" in line and "try again" in line
            assert str(history / "pocketchat.db") in line and "\n" not in line
        assert [s.title for s in store.list_sessions()] == ["hello lighthouse"]
    finally:
        store.close()
