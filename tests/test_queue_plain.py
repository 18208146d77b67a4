"""A wait in Ollama's queue off a terminal: plain lines on stderr, no escape codes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

from cli.sink import TerminalSink
from tests.standin import StandIn, replies

ROOT = Path(__file__).resolve().parent.parent


def _ask(env: dict[str, str], prompt: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "main.py", "ask", prompt], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def test_a_second_ask_waiting_in_line_says_so_in_plain_lines(
    tmp_path: Path, standin: StandIn
) -> None:
    standin.reply = replies.fixed(" ".join(["word"] * 50))
    standin.tokens_per_second = 20.0  # the first ask holds the only slot for ~2.5 s
    env = {**os.environ, "OLLAMA_HOST": standin.url, "POCKETCHAT_DATA_DIR": str(tmp_path)}
    first = _ask(env, "first")
    try:
        deadline = time.monotonic() + 30
        while not standin.requests.to("/api/chat"):  # the first holds the slot: it has asked
            assert first.poll() is None and time.monotonic() < deadline, "first never asked"
            time.sleep(0.02)
        second = _ask(env, "second")
        out, err = second.communicate(timeout=60)
        assert first.wait(timeout=30) == 0
    finally:
        first.kill()
        first.wait()
    assert second.returncode == 0, err
    assert out.startswith("word word")
    lines = [line for line in err.splitlines() if line.startswith("waiting for Ollama: ")]
    assert lines and lines[0].startswith("waiting for Ollama: #1 in line"), err
    assert len(lines) == 1  # one position, one line
    assert "\x1b" not in err and "\r" not in err


def test_plain_lines_wait_a_second_then_one_per_position() -> None:
    err = io.StringIO()  # not a terminal
    sink = TerminalSink(out=io.StringIO(), err=err)
    sink.waiting(3, None)
    sink.waiting(3, 9.0)
    assert err.getvalue() == ""  # a short wait says nothing
    time.sleep(1.2)  # the timer speaks once the wait passes a second
    assert err.getvalue() == "waiting for Ollama: #3 in line, about 9 s\n"
    sink.waiting(3, 8.0)  # same place, new estimate: nothing new
    sink.waiting(2, 5.0)
    sink.waiting(2, 4.0)
    sink.status("thinking…")  # granted: the wait is over
    sink.waiting(1, None)  # a new wait starts silent again
    sink.reply("hi")
    time.sleep(1.2)
    assert err.getvalue().splitlines() == [
        "waiting for Ollama: #3 in line, about 9 s",
        "waiting for Ollama: #2 in line, about 5 s",
    ]
