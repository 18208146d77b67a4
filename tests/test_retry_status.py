"""While Ollama is away, the status line says so at each retry, with the wait before it.

The stand-in refuses connections (`go_down`); the real chat flow retries with the configured
backoff (a test clock: the waits are recorded, not slept). In a real terminal the same lines are
drawn on the status line while the chat waits.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect

from tests.chat_rig import ChatRig
from tests.sigint import default_sigint
from tests.standin import Fault, StandIn

ROOT = Path(__file__).resolve().parent.parent


def test_each_retry_and_its_wait_are_shown_before_the_wait(
    standin: StandIn, tmp_path: Path
) -> None:
    rig = ChatRig(tmp_path, standin, {"retry.jitter": 0.0})
    seen: list[tuple[str, float]] = []  # (the status on screen, the wait that starts now)
    sleep = rig.clock.sleep

    def sleep_noting(seconds: float) -> None:
        seen.append((rig.sink.statuses[-1], seconds))
        sleep(seconds)

    rig.clock.sleep = sleep_noting  # type: ignore[method-assign]
    standin.go_down()
    try:
        shared = rig.turn("are you there?")
    finally:
        standin.come_up()
        rig.close()
    assert shared["turn"]["status"] == "failed" and shared["attempts"] == 4
    assert seen == [
        ("Ollama unreachable; retrying (2/4) in 1 s…", 1.0),
        ("Ollama unreachable; retrying (3/4) in 2 s…", 2.0),
        ("Ollama unreachable; retrying (4/4) in 4 s…", 4.0),
    ]
    assert rig.sink.statuses[-1] == ""  # cleared for the failure line
    assert any("Cannot reach Ollama" in n for n in rig.sink.notices)


def test_a_busy_server_says_busy(standin: StandIn, tmp_path: Path) -> None:
    standin.script_fault("chat", Fault.status(503, "server busy"), count=1)
    rig = ChatRig(tmp_path, standin, {"retry.jitter": 0.0, "retry.backoff": 0.5})
    try:
        shared = rig.turn("hi")
    finally:
        rig.close()
    assert shared["turn"]["status"] == "complete" and shared["attempts"] == 2
    assert "Ollama busy; retrying (2/4) in 0.5 s…" in rig.sink.statuses
    assert not any("(3/4)" in s for s in rig.sink.statuses)


def test_the_chat_shows_the_retry_on_its_status_line(standin: StandIn, tmp_path: Path) -> None:
    """In a real terminal: the line appears while the chat waits, then the failure line."""
    config = tmp_path / "config.yaml"
    config.write_text("retry: {max_retries: 3, backoff: 0.6, jitter: 0.0}\n")
    env = {**os.environ, "OLLAMA_HOST": standin.url, "POCKETCHAT_CONFIG": str(config),
           "POCKETCHAT_DATA_DIR": str(tmp_path / "d"), "PROMPT_TOOLKIT_NO_CPR": "1",
           "TERM": "xterm"}  # fmt: skip
    child = pexpect.spawn(sys.executable, [str(ROOT / "main.py"), "chat"], env=env,
                          cwd=str(tmp_path), encoding="utf-8", timeout=15,
                          dimensions=(40, 200), preexec_fn=default_sigint)  # fmt: skip
    try:
        child.expect_exact(">>>")
        child.sendline("hello")
        child.expect_exact("You sent 1 message(s).")
        child.expect_exact(">>>")
        standin.go_down()
        child.sendline("are you there?")
        child.expect_exact("Ollama unreachable; retrying (2/3) in 0.6 s…")
        child.expect_exact("Ollama unreachable; retrying (3/3) in 1 s…")
        child.expect_exact("Cannot reach Ollama")
        child.expect_exact(">>>")
        standin.come_up()
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    finally:
        standin.come_up()
        child.close(force=True)
