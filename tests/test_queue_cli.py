"""`queue status`, `queue clear --stale` and `doctor` on real queue files, with real processes:
a future-dated ticket (a crash, then the clock stepped back) is reported and never blocks; a
pid reused by another process does not keep a dead ticket; a queue.db from before the process
columns keeps working; a suspended holder is shown, reported, and kept."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from main import cli
from tests.contract_impls import open_gate
from utils.clock import SystemClock
from utils.queue import SqliteGate, open_queue
from utils.queue.liveness import machine, started_mark, this_process

ROOT = Path(__file__).resolve().parent.parent
HOST = "http://127.0.0.1:11434"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _add(
    data: Path,
    *,
    state: str = "holding",
    heartbeat: float | None = None,
    pid: int | None = None,
    started: str | None = None,
    where: str | None = None,
) -> None:
    now = time.time()
    conn = open_queue(data / "queue.db")
    conn.execute(
        "INSERT INTO tickets (host, owner, state, created_at, granted_at, heartbeat_at, pid, "
        "started, machine) VALUES (?, 'test', ?, ?, ?, ?, ?, ?, ?)",
        [HOST, state, now, now if state == "holding" else None,
         now if heartbeat is None else heartbeat, pid, started, where],
    )  # fmt: skip
    conn.close()


def _run(data: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "--host", HOST, *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_future_dated_ticket_is_reported_then_never_blocks(tmp_path: Path) -> None:
    data = tmp_path / "data"
    dead = _dead_pid()  # crashed holding, its heartbeat an hour ahead of the clock (stepped back)
    _add(data, heartbeat=time.time() + 3600, pid=dead, started=started_mark(os.getpid()),
         where=machine())  # fmt: skip
    _add(data, state="waiting", heartbeat=time.time() + 3600, pid=4242, where="elsewhere")
    code, out, err = _run(data, "doctor")
    (line,) = [ln for ln in out.splitlines() if " queue " in ln]
    assert line.startswith("warn  queue")
    assert "ticket 1 (holding" in line and "60 min in the future" in line
    assert "ticket 2 (waiting, pid 4242)" in line
    code, out, err = _run(data, "queue", "status")
    assert code == 0
    assert "process gone" in out and "heartbeat in the future" in out and "elsewhere" in out
    assert "2 problem(s)" in err
    gate = SqliteGate(data / "queue.db", HOST, SystemClock(), ttl=10.0)
    began = time.monotonic()
    ticket = gate.acquire(lambda position, eta: None)
    assert time.monotonic() - began < 0.5
    ticket.release()
    gate.close()
    assert _run(data, "queue", "status")[1].strip() == "the queue is empty"
    assert _run(data, "doctor")[1].count("ok    queue") == 1


def test_a_reused_pid_does_not_keep_a_dead_ticket(tmp_path: Path) -> None:
    data = tmp_path / "data"
    me = this_process()  # this very pid, but a start time that is not this process's
    assert me.started is not None
    _add(data, pid=me.pid, started=me.started.split("/")[0] + "/1", where=me.machine)
    gate = open_gate("sqlite", data, HOST, SystemClock())
    assert gate.depth() == 0
    ticket = gate.acquire(lambda position, eta: None)
    assert ticket.held()
    ticket.release()
    gate.close()


def test_clear_stale_keeps_a_suspended_holder_and_status_shows_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen([sys.executable, "-m", "tests.gate_worker", "sqlite", str(data),
                               HOST, "holder", "1000", "1", "0.3", str(tmp_path / "log")],
                              cwd=ROOT, env=env)  # fmt: skip
    try:
        log, deadline = tmp_path / "log", time.monotonic() + 10
        while not (log.exists() and "granted" in log.read_text()):
            assert time.monotonic() < deadline, "the holder was never served"
            time.sleep(0.02)
        holder.send_signal(signal.SIGSTOP)
        _add(data, state="waiting", pid=_dead_pid(), started=None, where=machine())
        time.sleep(0.6)  # two TTLs without a heartbeat
        code, out, err = _run(data, "queue", "status")
        assert f"holding  {holder.pid}" in out and "suspended" in out
        assert "its process is suspended" in err
        code, out, err = _run(data, "queue", "clear", "--stale")
        assert code == 0
        assert "removed ticket 2 (waiting" in out and "1 stale ticket(s) removed, 1 standing" in out
        assert f"holding  {holder.pid}" in _run(data, "queue", "status")[1]
    finally:
        holder.send_signal(signal.SIGCONT)
        holder.kill()
        holder.wait()
    code, out, err = _run(data, "queue", "clear", "--stale")
    assert "1 stale ticket(s) removed, 0 standing" in out


def test_queue_commands_help_and_bad_use(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for args in (["queue", "--help"], ["queue", "status", "--help"], ["queue", "clear", "--help"]):
        code, out, _ = _run(data, *args)
        assert code == 0 and "Usage:" in out
    assert "--stale" in _run(data, "queue", "clear", "--help")[1]
    code, out, err = _run(data, "queue", "clear")
    assert code == 2 and "--stale" in err
    assert _run(data, "queue", "status")[1].strip() == "the queue is empty"
    (data / "queue.db").write_bytes(b"not a database at all" * 100)
    code, out, err = _run(data, "queue", "status")
    assert code == 1 and str(data / "queue.db") in err and "Traceback" not in err


def test_an_old_queue_file_gets_the_process_columns(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    conn = sqlite3.connect(data / "queue.db")
    conn.executescript(  # the table as it was before tickets recorded their process
        "CREATE TABLE tickets (id INTEGER PRIMARY KEY AUTOINCREMENT, host TEXT NOT NULL, "
        "owner TEXT NOT NULL, state TEXT NOT NULL, created_at REAL NOT NULL, granted_at REAL, "
        "heartbeat_at REAL NOT NULL);"
    )
    conn.execute("INSERT INTO tickets (host, owner, state, created_at, heartbeat_at) "
                 "VALUES (?, 'old', 'holding', 0, 0)", [HOST])  # fmt: skip
    conn.commit()
    conn.close()
    gate = SqliteGate(data / "queue.db", HOST, SystemClock(), ttl=1.0)
    ticket = gate.acquire(lambda position, eta: None)  # the old, expired ticket is cleared
    assert ticket.held() and gate.depth() == 1
    ticket.release()
    gate.close()
