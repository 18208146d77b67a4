"""`ask` through click's CliRunner: answers, --json, sessions, stdin, bad input, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from main import cli
from tests.standin import Fault, StandIn, replies
from tests.turn_kit import rows

FAST_CONFIG = "retry:\n  backoff: 0.01\n  jitter: 0.0\nollama:\n  auto_pull: 'false'\n"


def ask(
    standin: StandIn | None, data: Path, *args: str, stdin: bytes | str | None = None
) -> Result:
    config = data.parent / "fast.yaml"
    config.write_text(FAST_CONFIG)
    host = standin.url if standin else "http://127.0.0.1:9"
    base = ["--config", str(config), "--host", host, "--data-dir", str(data), "ask"]
    return CliRunner().invoke(cli, [*base, *args], input=stdin)


def test_ask_prints_the_reply_and_exits_0(standin: StandIn, tmp_path: Path) -> None:
    result = ask(standin, tmp_path / "d", "hello")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Hello! I am the stand-in model. You sent 1 message(s)."


def test_ask_json_has_reply_session_model_tokens_status_timings(
    standin: StandIn, tmp_path: Path
) -> None:
    result = ask(standin, tmp_path / "d", "--json", "hello")
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["reply"].startswith("Hello!") and out["status"] == "complete"
    assert out["model"] == "llama3.2:1b" and len(out["session_id"]) == 12
    assert out["prompt_tokens"] > 0 and out["completion_tokens"] > 0
    assert out["timings"]["stream_seconds"] > 0 and out["done_reason"] == "stop"


def test_c_and_s_continue_a_session(standin: StandIn, tmp_path: Path) -> None:
    data = tmp_path / "d"
    first = json.loads(ask(standin, data, "--json", "one").stdout)
    second = json.loads(ask(standin, data, "--json", "-c", "two").stdout)
    third = json.loads(ask(standin, data, "--json", "-s", first["session_id"][:6], "three").stdout)
    assert first["session_id"] == second["session_id"] == third["session_id"]
    assert third["reply"].endswith("You sent 5 message(s).")
    assert ask(standin, data, "-c", "-s", "abcd", "x").exit_code == 2


def test_prompt_from_stdin_with_dash_or_a_pipe(standin: StandIn, tmp_path: Path) -> None:
    standin.reply = replies.echo
    assert ask(standin, tmp_path / "d", "-", stdin="piped text\n").stdout == "piped text\n"
    assert ask(standin, tmp_path / "d", stdin="no dash\n").stdout == "no dash\n"


def test_an_empty_prompt_is_refused_with_exit_2(standin: StandIn, tmp_path: Path) -> None:
    result = ask(standin, tmp_path / "d", "   ")
    assert result.exit_code == 2 and "empty" in result.stderr
    assert ask(standin, tmp_path / "d", "-", stdin="\n\n").exit_code == 2
    assert standin.requests.to("/api/chat") == []


def test_a_bad_option_is_one_line_and_exit_2_before_any_request(
    standin: StandIn, tmp_path: Path
) -> None:
    result = ask(standin, tmp_path / "d", "-o", "temperature", "9", "hi")
    assert result.exit_code == 2 and "temperature" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(standin.requests) == 0


def test_invalid_utf8_and_control_characters_are_replaced_with_a_notice(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.reply = replies.echo
    result = ask(standin, tmp_path / "d", "-", stdin=b"caf\xe9 \x1b[31mred\x07")
    assert result.exit_code == 0
    assert "not valid UTF-8" in result.stderr and "Control characters" in result.stderr
    assert rows(tmp_path / "d")[0]["content"] == "caf\ufffd \ufffd[31mred\ufffd"


def test_a_failed_turn_is_one_line_and_exit_1(standin: StandIn, tmp_path: Path) -> None:
    standin.script_fault("chat", Fault.status(500, "model requires more memory"), count=4)
    result = ask(standin, tmp_path / "d", "hi")
    assert result.exit_code == 1 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "more memory" in line and standin.url in line
    assert [r["status"] for r in rows(tmp_path / "d")] == ["complete", "failed"]


def test_no_ollama_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    result = ask(None, tmp_path / "d", "hi")
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert "127.0.0.1:9" in line and "ollama serve" in line and "make demo" in line


def test_a_1mb_paste_is_cut_to_fit_and_the_person_told(standin: StandIn, tmp_path: Path) -> None:
    big = ("lorem ipsum dolor sit amet " * 40_000)[:1_000_000]
    result = ask(standin, tmp_path / "d", "--json", "-", stdin=big)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert any("cut to fit" in n for n in out["notices"])
    sent = standin.requests.to("/api/chat")[-1].body["messages"][-1]["content"]
    assert "characters cut here" in sent and len(sent) < 40_000
    assert rows(tmp_path / "d")[0]["content"] == big  # stored whole
