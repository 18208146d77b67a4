"""`make demo` (and `make chat`) in a real pseudo-terminal, as a person runs it.

Ctrl+C while the demo model streams stops the reply and the chat stays (make does not end with
`Error 130` or `Interrupt`); Ctrl+D leaves with status 0; the terminal is sane afterwards, even
when the chat itself is killed outright.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from pathlib import Path

import pexpect

from tests.sigint import default_sigint
from tests.standin import StandIn, replies

ROOT = Path(__file__).resolve().parent.parent
PROMPT = ">>>"


def _shell(script: str, tmp_path: Path, **extra: str) -> pexpect.spawn:
    env = {
        **os.environ,
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "TERM": "xterm",
        "HOME": str(tmp_path),  # the demo uses a throw-away data dir; nothing else of home
        **extra,
    }
    env.pop("MAKEFLAGS", None)
    env.pop("MAKELEVEL", None)
    return pexpect.spawn(
        "/bin/sh",
        ["-c", script],
        env=env,
        cwd=str(ROOT),
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 200),
        preexec_fn=default_sigint,  # Ctrl+C works however the test runner was started
    )


def _sane(stty: str) -> None:
    flags = set(stty.split())
    assert {"icanon", "echo", "isig", "icrnl", "opost"} <= flags, stty


def _descendant(pid: int, needle: str) -> int | None:
    """The pid of a process below `pid` whose command line contains `needle`."""
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split()
            for child in map(int, children):
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
                if needle.encode() in cmdline:
                    return child
                todo.append(child)
    return None


def test_make_demo_ctrl_c_stops_the_reply_and_the_demo_stays(tmp_path: Path) -> None:
    # the Makefile's own recipe, with this Python and no reinstall (-o: the stamp counts as made)
    make = f"make --no-print-directory -o .venv/.installed-runtime PY={sys.executable} demo"
    child = _shell(f"{make}; echo EXIT=$?; stty -a", tmp_path)
    child.expect_exact("DEMO")
    child.expect_exact(PROMPT)
    child.sendline("tell me how this works")
    child.expect_exact("scripted")  # the demo model is streaming (25 tokens/s)
    child.sendintr()
    child.expect_exact("marked interrupted")
    child.expect_exact(PROMPT)
    child.sendline("hello")
    child.expect_exact("I am the pocketchat demo model")
    child.expect_exact(PROMPT)
    child.sendcontrol("d")
    child.expect_exact("bye.")
    child.expect(r"EXIT=(\d+)")
    assert child.match.group(1) == "0"
    before = child.before or ""
    assert "Error" not in before and "Interrupt" not in before, before
    child.expect(pexpect.EOF)
    _sane(child.before or "")


def test_a_killed_demo_chat_leaves_a_sane_terminal(tmp_path: Path) -> None:
    child = _shell(f"{sys.executable} -m tests.demo; echo EXIT=$?; stty -a", tmp_path)
    child.expect_exact(PROMPT)  # prompt_toolkit has the terminal in raw mode now
    chat = None
    deadline = time.monotonic() + 10
    while chat is None and time.monotonic() < deadline:
        chat = _descendant(child.pid, "main.py chat")
    assert chat is not None
    os.kill(chat, signal.SIGKILL)
    child.expect(r"EXIT=(\d+)")
    assert child.match.group(1) == str(128 + signal.SIGKILL)
    child.expect(pexpect.EOF)
    _sane(child.before or "")
    assert re.search(r"\bisig\b", child.before or "")


def test_make_chat_ctrl_c_stops_the_reply_and_make_stays_quiet(
    standin: StandIn, tmp_path: Path
) -> None:
    """`make chat` runs the installed `pocketchat chat`: it takes the terminal's foreground
    (cli/foreground.py), so make never sees Ctrl+C and ends without `Interrupt`."""
    standin.reply = replies.essay(80)
    standin.tokens_per_second = 20.0
    venv = Path(sys.executable).parent.parent
    make = f"make --no-print-directory -o .venv/.installed-runtime VENV={venv} chat"
    child = _shell(f"{make}; echo EXIT=$?; stty -a", tmp_path,
                   OLLAMA_HOST=standin.url, POCKETCHAT_DATA_DIR=str(tmp_path / "d"))  # fmt: skip
    child.expect_exact(PROMPT)
    child.sendline("write at length")
    child.expect_exact("quick brown")
    child.sendintr()
    child.expect_exact("marked interrupted")
    child.expect_exact(PROMPT)
    child.sendcontrol("d")
    child.expect(r"EXIT=(\d+)")
    assert child.match.group(1) == "0"
    assert "Interrupt" not in (child.before or "")
    child.expect(pexpect.EOF)
    _sane(child.before or "")
