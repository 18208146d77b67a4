"""Chat commands that used to accept nonsense or could not be undone, typed at a real terminal:
/model refuses an embedding model and an empty name, /system can be cleared, /unpin undoes
/pin and /show lists pins, and Ctrl+D inside a \"\"\" block sends what was typed."""

from __future__ import annotations

from pathlib import Path

import pexpect

from tests.standin import StandIn
from tests.test_repl_pty import PROMPT, say, spawn
from tests.turn_kit import rows


def _sessions(data: Path) -> list[tuple[str, str | None]]:
    import sqlite3

    conn = sqlite3.connect(data / "pocketchat.db")
    try:
        return [(r[0], r[1]) for r in conn.execute("SELECT model, system FROM sessions")]
    finally:
        conn.close()


def test_model_refuses_embedding_models_and_empty_names(standin: StandIn, tmp_path: Path) -> None:
    data = tmp_path / "data"
    child = spawn(standin, data)
    say(child, "/model")
    child.expect_exact("nomic-embed-text:latest (embedding only: cannot chat)")
    child.expect_exact(PROMPT)
    say(child, "/model nomic-embed-text")
    child.expect_exact("nomic-embed-text is an embedding model: it cannot chat")
    child.expect_exact("staying with llama3.2:1b")
    child.expect_exact(PROMPT)
    say(child, '/model ""')
    child.expect_exact("/model takes one model name")
    child.expect_exact(PROMPT)
    say(child, "/model ' '")
    child.expect_exact("/model takes one model name")
    child.expect_exact(PROMPT)
    say(child, "hello")
    child.expect_exact("You sent 1 message(s).")
    child.expect_exact(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    assert "Switched" not in (child.before or "")
    assert {r["model"] for r in rows(data)} == {"llama3.2:1b"}
    assert _sessions(data) == [("llama3.2:1b", None)]


def test_system_is_set_shown_and_cleared(standin: StandIn, tmp_path: Path) -> None:
    data = tmp_path / "data"
    child = spawn(standin, data)
    say(child, '/system "Be brief."')
    child.expect_exact("System prompt set.")
    say(child, "hello")
    child.expect_exact("You sent 2 message(s).")  # the system prompt and this
    child.expect_exact(PROMPT)
    assert _sessions(data) == [("llama3.2:1b", "Be brief.")]
    say(child, "/system")
    child.expect_exact("Be brief.")
    say(child, "/system --clear")
    child.expect_exact("System prompt cleared.")
    child.expect_exact(PROMPT)
    assert _sessions(data) == [("llama3.2:1b", None)]
    say(child, "/system")
    child.expect_exact("(no system prompt)")
    say(child, "/system Be kind.")
    child.expect_exact("System prompt set.")
    say(child, '/system ""')  # not the text "": no system prompt
    child.expect_exact("System prompt cleared.")
    child.expect_exact(PROMPT)
    assert _sessions(data) == [("llama3.2:1b", None)]
    child.sendcontrol("d")
    child.expect(pexpect.EOF)


def test_pins_are_listed_and_can_be_let_go(standin: StandIn, tmp_path: Path) -> None:
    data = tmp_path / "data"
    child = spawn(standin, data)
    say(child, "/unpin")
    child.expect_exact("Nothing is pinned.")
    say(child, "remember the rotation policy")
    child.expect_exact("You sent 1 message(s).")
    say(child, "/pin")
    child.expect_exact("Pinned: Hello! I am the stand-in model.")
    say(child, "/show")
    child.expect_exact("pinned:   1 (/unpin N lets one go)")
    child.expect_exact("1. assistant: Hello! I am the stand-in model. You sent 1 message(s).")
    child.expect_exact(PROMPT)
    say(child, "/unpin 2")
    child.expect_exact("/unpin takes a number from 1 to 1")
    say(child, "/unpin")
    child.expect_exact("Unpinned: Hello! I am the stand-in model.")
    say(child, "/show")
    child.expect_exact("pinned:   none")
    child.expect_exact(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    import sqlite3

    conn = sqlite3.connect(data / "pocketchat.db")
    assert conn.execute("SELECT count(*) FROM messages WHERE pinned = 1").fetchone() == (0,)
    conn.close()


def test_ctrl_d_inside_a_block_sends_what_was_typed(standin: StandIn, tmp_path: Path) -> None:
    data = tmp_path / "data"
    child = spawn(standin, data)
    say(child, '"""')
    say(child, "first line")
    say(child, "second line")
    child.expect_exact("...")
    child.sendcontrol("d")
    child.expect_exact("Ctrl+D ended the")
    child.expect_exact("You sent 1 message(s).")
    child.expect_exact(PROMPT)
    child.sendcontrol("d")
    child.expect_exact("bye.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    users = [r["content"] for r in rows(data) if r["role"] == "user"]
    assert users == ["first line\nsecond line"]
