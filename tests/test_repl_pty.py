"""The chat REPL in a real pseudo-terminal, and `ask` stopped by a real SIGINT.

A person holds a conversation, switches model, cancels a reply with Ctrl+C and stays, exports
the session, leaves with Ctrl+D, and comes back with -c. The stand-in runs in this process.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pexpect

from tests.sigint import default_sigint
from tests.standin import StandIn, replies
from tests.turn_kit import rows, wait_for

ROOT = Path(__file__).resolve().parent.parent
PROMPT = ">>>"  # prompt_toolkit draws the space as a cursor move


def spawn(standin: StandIn, data: Path, *args: str) -> pexpect.spawn:
    env = {
        **os.environ,
        "OLLAMA_HOST": standin.url,
        "POCKETCHAT_DATA_DIR": str(data),
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "TERM": "xterm",
    }
    child = pexpect.spawn(
        sys.executable,
        [str(ROOT / "main.py"), "chat", *args],
        env=env,
        cwd=str(data.parent),
        encoding="utf-8",
        timeout=10,
        dimensions=(40, 200),
        preexec_fn=default_sigint,  # Ctrl+C works however the test runner was started
    )
    child.expect_exact(PROMPT)
    return child


def say(child: pexpect.spawn, line: str) -> None:
    child.sendline(line)


def test_a_conversation_switch_export_leave_and_come_back(standin: StandIn, tmp_path: Path) -> None:
    data = tmp_path / "data"
    child = spawn(standin, data)
    say(child, "hello there")
    child.expect_exact("You sent 1 message(s).")
    child.expect_exact(PROMPT)
    say(child, "")  # an empty message is ignored
    child.expect_exact(PROMPT)
    say(child, "/hepl")
    child.expect_exact("Did you mean /help?")
    say(child, "/model qwen2.5:0.5b")
    child.expect_exact("Switched from llama3.2:1b to qwen2.5:0.5b")
    say(child, '"""')
    say(child, "line one")
    say(child, 'line two"""')
    child.expect_exact("You sent 4 message(s).")  # user, reply, switch note, this one
    say(child, "/show")
    child.expect_exact("messages: 5")
    say(child, "/export md")
    child.expect_exact("Exported to ")
    child.expect_exact(PROMPT)
    child.sendcontrol("d")
    child.expect_exact("bye.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    (exported,) = tmp_path.glob("pocketchat-*.md")
    assert "line one\nline two" in exported.read_text()
    assert [r["model"] for r in rows(data)][-1] == "qwen2.5:0.5b"

    again = spawn(standin, data, "-c")
    assert "continuing session" in (again.before or "")
    say(again, "/history 2")
    again.expect_exact("line two")
    say(again, "/bye")
    again.expect(pexpect.EOF)


def test_a_bracketed_paste_of_several_lines_is_one_message(
    standin: StandIn, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    child = spawn(standin, data)
    child.send("\x1b[200~first pasted line\nsecond pasted line\x1b[201~")  # the terminal's paste
    child.send("\r")
    child.expect_exact("You sent 1 message(s).")
    child.expect_exact(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    users = [r["content"] for r in rows(data) if r["role"] == "user"]
    assert users == ["first pasted line\nsecond pasted line"]


def test_ctrl_c_stops_a_reply_and_stays_in_the_chat(standin: StandIn, tmp_path: Path) -> None:
    data = tmp_path / "data"
    standin.reply = replies.essay(80)
    standin.tokens_per_second = 20.0
    child = spawn(standin, data)
    say(child, "write at length")
    child.expect_exact("quick brown")
    child.sendintr()
    child.expect_exact("marked interrupted")
    child.expect_exact(PROMPT)
    assert wait_for(lambda: standin.requests.to("/api/chat")[-1].outcome == "cancelled")
    standin.reply = replies.fixed("Short answer.")
    standin.tokens_per_second = None
    say(child, "/retry")
    child.expect_exact("Short answer.")
    child.expect_exact(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    statuses = [(r["role"], r["status"]) for r in rows(data)]
    assert statuses == [
        ("user", "complete"),
        ("assistant", "interrupted"),
        ("assistant", "complete"),
    ]


def test_sigint_to_ask_keeps_the_partial_reply_interrupted(
    standin: StandIn, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    standin.reply = replies.essay(100)
    standin.tokens_per_second = 25.0
    env = {**os.environ, "OLLAMA_HOST": standin.url, "POCKETCHAT_DATA_DIR": str(data)}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "ask", "write"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    try:
        assert wait_for(lambda: _replying(data), timeout=8)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "marked interrupted" in err
    reply = rows(data)[-1]
    assert reply["status"] == "interrupted" and reply["content"] and reply["content"] in out
    assert wait_for(lambda: standin.requests.to("/api/chat")[-1].outcome == "cancelled")


def _replying(data: Path) -> bool:
    try:
        return any(r["role"] == "assistant" for r in rows(data))
    except sqlite3.Error:  # not created or migrated yet
        return False


def test_the_warm_up_loads_the_window_the_first_turn_uses(standin: StandIn, tmp_path: Path) -> None:
    standin.load_delay = 0.3  # paid again if the first turn asked for another window
    standin.default_num_ctx = 2048  # an older server's default: not what the turns plan with
    child = spawn(standin, tmp_path / "data")
    wait_for(lambda: any(not r.body.get("messages") for r in standin.requests.to("/api/chat")))
    standin.requests.wait_finished()
    say(child, "hello")
    child.expect_exact("You sent 1 message(s).")
    child.expect_exact(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    chats = standin.requests.to("/api/chat")
    warm, turn = chats[0], next(r for r in chats if r.body.get("messages"))
    assert warm.num_ctx == turn.num_ctx
    assert not turn.load_duration  # the model was already loaded with that window
