"""Sessions know where they came from: after a chat and a `flow run` batch, `chat -c` and
`ask -c` continue the chat (not the newer batch line), and `sessions list` hides the batch
sessions with a line saying so (and says when more exist than it shows). A person at a real
terminal for `chat`, the command line for the rest; the stand-in runs in this process."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import pexpect
from click.testing import CliRunner, Result

from main import cli
from tests.sigint import default_sigint
from tests.standin import StandIn

ROOT = Path(__file__).resolve().parent.parent
PROMPT = ">>>"
FAST = "retry:\n  backoff: 0.01\n  jitter: 0.0\nollama:\n  auto_pull: 'false'\n"


def pocketchat(standin: StandIn, data: Path, *args: str) -> Result:
    config = data.parent / "fast.yaml"
    config.write_text(FAST)
    base = ["--config", str(config), "--host", standin.url, "--data-dir", str(data)]
    return CliRunner().invoke(cli, [*base, *args])


def chat(standin: StandIn, data: Path, *args: str) -> pexpect.spawn:
    env = {**os.environ, "OLLAMA_HOST": standin.url, "POCKETCHAT_DATA_DIR": str(data),
           "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"}  # fmt: skip
    child = pexpect.spawn(sys.executable, [str(ROOT / "main.py"), "chat", *args], env=env,
                          cwd=str(data.parent), encoding="utf-8", timeout=15,
                          dimensions=(40, 200), preexec_fn=default_sigint)  # fmt: skip
    return child


def origins(data: Path) -> dict[str, str | None]:
    conn = sqlite3.connect(data / "pocketchat.db")
    try:
        return dict(conn.execute("SELECT id, origin FROM sessions"))
    finally:
        conn.close()


def test_c_continues_the_chat_not_the_newer_batch_run(standin: StandIn, tmp_path: Path) -> None:
    data = tmp_path / "data"
    child = chat(standin, data)
    child.expect_exact(PROMPT)
    child.sendline("hello from a person")
    child.expect_exact("You sent 1 message(s).")
    child.expect_exact(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    [chat_id] = origins(data)

    lines = tmp_path / "in.jsonl"
    lines.write_text('{"user_message": "batch one"}\n{"user_message": "batch two"}\n')
    ran = pocketchat(standin, data, "flow", "run", "chat", "--input", str(lines),
                     "--out", str(tmp_path / "out.jsonl"))  # fmt: skip
    assert ran.exit_code == 0, ran.output
    assert sorted(v or "" for v in origins(data).values()) == ["chat", "flow-run", "flow-run"]

    asked = pocketchat(standin, data, "ask", "--json", "-c", "and again")
    assert asked.exit_code == 0, asked.output
    assert json.loads(asked.stdout)["session_id"] == chat_id  # the chat, not "flow run … line 2"

    again = chat(standin, data, "-c")
    again.expect_exact(f"continuing session {chat_id}")
    again.expect_exact(PROMPT)
    again.sendeof()
    again.expect(pexpect.EOF)
    again.close()


def test_ask_c_after_only_asks_and_batches(standin: StandIn, tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = json.loads(pocketchat(standin, data, "ask", "--json", "first question").stdout)
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"user_message": "batch"}\n')
    assert pocketchat(standin, data, "flow", "run", "chat", "--input", str(lines),
                      "--out", str(tmp_path / "o.jsonl")).exit_code == 0  # fmt: skip
    second = json.loads(pocketchat(standin, data, "ask", "--json", "-c", "follow up").stdout)
    assert second["session_id"] == first["session_id"]
    assert origins(data)[first["session_id"]] == "ask"


def test_sessions_list_hides_batch_runs_and_says_what_it_left_out(
    standin: StandIn, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    asked = json.loads(pocketchat(standin, data, "ask", "--json", "a question of mine").stdout)
    lines = tmp_path / "in.jsonl"
    lines.write_text("".join(f'{{"user_message": "q{n}"}}\n' for n in range(3)))
    assert pocketchat(standin, data, "flow", "run", "chat", "--input", str(lines),
                      "--out", str(tmp_path / "o.jsonl")).exit_code == 0  # fmt: skip

    listed = pocketchat(standin, data, "sessions", "list")
    assert listed.exit_code == 0, listed.output
    header, row = listed.stdout.splitlines()
    assert header.split()[:5] == ["ID", "LAST", "ACTIVE", "MSGS", "ORIGIN"]
    assert row.startswith(asked["session_id"]) and " ask " in row and "flow run" not in row
    assert "3 batch session(s) from `flow run` hidden; --all or --origin flow-run shows them" in (
        listed.stderr
    )

    every = pocketchat(standin, data, "sessions", "list", "--all")
    assert len(every.stdout.splitlines()) == 1 + 4 and every.stdout.count(" flow-run ") == 3
    assert "hidden" not in every.stderr and "shown" not in every.stderr

    batch = pocketchat(standin, data, "sessions", "list", "--origin", "flow-run", "--limit", "2")
    assert [" flow-run " in r for r in batch.stdout.splitlines()[1:]] == [True, True]
    assert "2 of 3 shown; --limit N or --all" in batch.stderr

    as_json = pocketchat(standin, data, "sessions", "list", "--json")
    assert [s["origin"] for s in json.loads(as_json.stdout)] == ["ask"]
    bad = pocketchat(standin, data, "sessions", "list", "--origin", "cron")
    assert bad.exit_code == 2 and "Traceback" not in bad.output
