"""The queue between real `ask` processes and the stand-in: a suspended holder never lets two
requests through one slot; a killed one frees the line at once; a holder whose ticket is
cleared while it is suspended stops its reply instead of going on without a slot."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.standin import StandIn, replies

ROOT = Path(__file__).resolve().parent.parent
QUEUE = "queue: {ticket_ttl_seconds: 0.5, heartbeat_seconds: 0.1, poll_seconds: 0.02}\n"


@pytest.fixture
def roomy() -> Iterator[StandIn]:  # room for two at the server: only pocketchat's queue keeps one
    server = StandIn(num_parallel=2)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _env(tmp: Path, standin: StandIn) -> dict[str, str]:
    (tmp / "c.yaml").write_text(QUEUE)
    return {**os.environ, "OLLAMA_HOST": standin.url, "POCKETCHAT_DATA_DIR": str(tmp / "data"),
            "POCKETCHAT_CONFIG": str(tmp / "c.yaml")}  # fmt: skip


def _ask(env: dict[str, str], prompt: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "main.py", "ask", prompt], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def _wait_until(predicate: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _holder_streaming(env: dict[str, str], standin: StandIn) -> subprocess.Popen[str]:
    holder = _ask(env, "first")
    _wait_until(lambda: standin.requests.to("/api/chat"), what="the first request")
    return holder


def _tickets(tmp: Path) -> list[tuple[int, int]]:
    conn = sqlite3.connect(tmp / "data" / "queue.db")
    try:
        return list(conn.execute("SELECT id, pid FROM tickets ORDER BY id"))
    finally:
        conn.close()


def test_a_suspended_holder_never_shares_its_slot(tmp_path: Path, roomy: StandIn) -> None:
    roomy.reply = replies.fixed(" ".join(["word"] * 40))
    roomy.tokens_per_second = 20.0  # about 2 s of reply
    env = _env(tmp_path, roomy)
    holder = _holder_streaming(env, roomy)
    holder.send_signal(signal.SIGSTOP)  # Ctrl+Z mid-reply, for six TTLs
    try:
        waiter = _ask(env, "second")
        _wait_until(lambda: len(_tickets(tmp_path)) == 2, what="the waiter in line")
        time.sleep(3.0)  # six TTLs with the waiter in line (its start-up time not counted)
        assert len(roomy.requests.to("/api/chat")) == 1, "the waiter was let through"
        assert len(_tickets(tmp_path)) == 2
    finally:
        holder.send_signal(signal.SIGCONT)
    out, err = waiter.communicate(timeout=30)
    assert holder.wait(timeout=30) == 0
    assert waiter.returncode == 0, err
    assert out.startswith("word word")
    assert roomy.max_concurrent == 1
    assert "[warning]" not in err and "gate_" not in err
    assert _tickets(tmp_path) == []


@pytest.mark.parametrize("who", ["holder", "waiter"])
def test_a_killed_ask_frees_the_line_within_a_second(
    tmp_path: Path, standin: StandIn, who: str
) -> None:
    standin.reply = replies.fixed(" ".join(["word"] * 60))
    standin.tokens_per_second = 10.0  # the holder holds for about 6 s
    env = _env(tmp_path, standin)
    (tmp_path / "c.yaml").write_text("queue: {poll_seconds: 0.02}\n")  # the default 10 s TTL
    holder = _holder_streaming(env, standin)
    waiter = _ask(env, "second")
    _wait_until(lambda: len(_tickets(tmp_path)) == 2, what="the waiter in line")
    third = _ask(env, "third")
    _wait_until(lambda: len(_tickets(tmp_path)) == 3, what="the third in line")
    killed = holder if who == "holder" else waiter
    killed.kill()
    killed.wait()
    if who == "waiter":
        assert holder.wait(timeout=30) == 0  # the line is free once the holder is done
    free = time.monotonic()
    _wait_until(lambda: len(standin.requests.to("/api/chat")) == 2, what="the next request")
    assert time.monotonic() - free < 1.0, "a dead ticket held up the line"
    out, err = third.communicate(timeout=60)
    assert third.returncode == 0, err
    assert out.startswith("word word")
    for proc in (holder, waiter):
        proc.wait(timeout=30)
    assert "[warning]" not in err
    assert standin.max_concurrent == 1


def test_a_holder_whose_ticket_was_cleared_stops_its_reply(tmp_path: Path, roomy: StandIn) -> None:
    roomy.reply = replies.fixed(" ".join(f"w{i}" for i in range(200)))
    roomy.tokens_per_second = 40.0  # about 5 s of reply
    env = _env(tmp_path, roomy)
    holder = _holder_streaming(env, roomy)
    time.sleep(0.5)
    holder.send_signal(signal.SIGSTOP)
    try:
        (ticket,) = _tickets(tmp_path)
        conn = sqlite3.connect(tmp_path / "data" / "queue.db")  # as another machine's expiry
        conn.execute("DELETE FROM tickets WHERE id = ?", [ticket[0]])
        conn.commit()
        conn.close()
    finally:
        holder.send_signal(signal.SIGCONT)
    out, err = holder.communicate(timeout=30)
    assert "lost its place in the queue" in err, err
    assert "w199" not in out  # it did not go on to the end without a slot
    _wait_until(lambda: roomy.requests.to("/api/chat")[-1].outcome == "cancelled", 5, "cancel")
