"""Leaving `chat` while its warm-up still loads the model, in a real pseudo-terminal: every way
out (Ctrl+D, /bye, Ctrl+C on a message waiting for the load, then leaving) gives the warm-up's
queue ticket back, so the next `ask` is served at once and no log line reaches the terminal."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

from tests.sigint import default_sigint
from tests.standin import StandIn

ROOT = Path(__file__).resolve().parent.parent
PROMPT = ">>>"
LOAD = 2.0  # the stand-in's model load, paid by the chat's warm-up


def _env(standin: StandIn, data: Path) -> dict[str, str]:
    return {**os.environ, "OLLAMA_HOST": standin.url, "POCKETCHAT_DATA_DIR": str(data),
            "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"}  # fmt: skip


def _tickets(data: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(data / "queue.db")
    try:
        return list(conn.execute("SELECT id, state FROM tickets"))
    finally:
        conn.close()


@pytest.mark.parametrize("way", ["ctrl-d", "/bye", "ctrl-c-then-bye"])
def test_leaving_chat_while_the_model_loads_frees_the_queue(
    standin: StandIn, tmp_path: Path, way: str
) -> None:
    data = tmp_path / "data"
    standin.load_delay = LOAD
    child = pexpect.spawn(sys.executable, [str(ROOT / "main.py"), "chat"], env=_env(standin, data),
                          cwd=str(tmp_path), encoding="utf-8", timeout=10, dimensions=(40, 200),
                          preexec_fn=default_sigint)  # fmt: skip
    child.expect_exact(PROMPT)
    assert _wait_for(lambda: standin.requests.to("/api/chat"))  # the warm-up is loading
    assert [state for _, state in _tickets(data)] == ["holding"]
    if way == "ctrl-d":
        child.sendcontrol("d")
    elif way == "/bye":
        child.sendline("/bye")
    else:  # a message waits for the load; Ctrl+C stops the wait; then leave
        child.sendline("hello")
        child.expect_exact("loading model")
        child.sendintr()
        child.expect_exact("stopped while the model was loading")
        child.expect_exact(PROMPT)
        child.sendline("/bye")
    child.expect_exact("bye.")
    child.expect(pexpect.EOF)
    child.close()
    transcript = child.before or ""
    assert child.exitstatus == 0
    assert _tickets(data) == [], "the warm-up's ticket outlived the chat"
    began = time.monotonic()
    ask = subprocess.run([sys.executable, "main.py", "ask", "are you there?"], cwd=ROOT,
                         env=_env(standin, data), capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    took = time.monotonic() - began
    assert ask.returncode == 0, ask.stderr
    assert took < LOAD + 4.0, f"ask waited {took:.1f} s behind a ticket nobody held"
    for text in (ask.stderr, transcript):
        assert "[warning" not in text and "gate_" not in text, text


def _wait_for(predicate: Callable[[], object], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
