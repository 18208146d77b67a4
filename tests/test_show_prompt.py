"""See what was sent: `ask --show-prompt`, `flow run --keep prompt` and `/prompt` in chat show
the exact messages and options of the last request — the ones the stand-in received — each
message with its estimated tokens (utils/context's estimator)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pexpect
from click.testing import CliRunner, Result

from main import cli
from tests.standin import StandIn
from tests.test_repl_pty import PROMPT, say, spawn
from utils.context import PROMPT_OVERHEAD, estimate_message

FAST = "retry:\n  backoff: 0.01\nollama:\n  auto_pull: 'false'\n"


def run(standin: StandIn, tmp_path: Path, *args: str) -> Result:
    config = tmp_path / "fast.yaml"
    config.write_text(FAST)
    base = ["--config", str(config), "--host", standin.url, "--data-dir", str(tmp_path / "d")]
    return CliRunner().invoke(cli, [*base, *args])


def sent(standin: StandIn) -> dict[str, Any]:
    body = standin.requests.to("/api/chat")[-1].body
    assert isinstance(body, dict)
    return body


def test_ask_json_show_prompt_is_the_request_the_server_got(
    standin: StandIn, tmp_path: Path
) -> None:
    result = run(standin, tmp_path, "ask", "--json", "--show-prompt", "--system", "Be brief.",
                 "-o", "temperature", "0", "hello")  # fmt: skip
    assert result.exit_code == 0, result.output
    request = json.loads(result.stdout)["request"]
    body = sent(standin)
    assert [{"role": m["role"], "content": m["content"]} for m in request["messages"]] == body[
        "messages"
    ]
    assert request["options"] == body["options"] and request["options"]["temperature"] == 0
    assert request["model"] == body["model"] == "llama3.2:1b"
    assert [m["tokens"] for m in request["messages"]] == [
        estimate_message(m) for m in body["messages"]
    ]
    total = sum(m["tokens"] for m in request["messages"]) + PROMPT_OVERHEAD
    assert request["estimated_tokens"] == total


def test_ask_show_prompt_prints_each_message_on_stderr(standin: StandIn, tmp_path: Path) -> None:
    result = run(standin, tmp_path, "ask", "--show-prompt", "--system", "Be brief.", "hello")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Hello!")
    system, user = sent(standin)["messages"]
    lines = result.stderr.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("request to ")))
    assert lines[start:] == [
        "request to llama3.2:1b (keep_alive 30m)",
        f"options: {json.dumps(sent(standin)['options'])}",
        f"[1] system  ~{estimate_message(system)} tokens",
        "    Be brief.",
        f"[2] user  ~{estimate_message(user)} tokens",
        "    hello",
        f"2 messages, ~{estimate_message(system) + estimate_message(user) + PROMPT_OVERHEAD} "
        "tokens in all (estimated)",
    ]


def test_flow_run_keep_prompt_records_the_request(standin: StandIn, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"user_message": "hello"}) + "\n")
    result = run(standin, tmp_path, "flow", "run", "chat", "--input", str(questions),
                 "--keep", "prompt")  # fmt: skip
    assert result.exit_code == 0, result.output
    row = json.loads(next(x for x in result.stdout.splitlines() if x.startswith("{")))
    kept = row["outputs"]["prompt"]
    assert [m["content"] for m in kept["messages"]] == ["hello"]
    assert kept["messages"][0]["tokens"] == estimate_message({"role": "user", "content": "hello"})
    assert kept["options"] == sent(standin)["options"]


def test_slash_prompt_in_chat_shows_the_last_request(standin: StandIn, tmp_path: Path) -> None:
    child = spawn(standin, tmp_path / "data")
    say(child, "/prompt")
    child.expect_exact("No turn yet in this chat")
    child.expect_exact(PROMPT)
    say(child, "hello there")
    child.expect_exact("You sent 1 message(s).")
    child.expect_exact(PROMPT)
    say(child, "/prompt")
    tokens = estimate_message({"role": "user", "content": "hello there"})
    child.expect_exact("request to llama3.2:1b")
    child.expect_exact(f"[1] user  ~{tokens} tokens")
    child.expect_exact("    hello there")
    child.expect_exact("1 message, ~")
    child.expect_exact(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
