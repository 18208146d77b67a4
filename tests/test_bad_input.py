"""Bad input anywhere gets one clear line and the right exit status, never a crash line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner, Result

from cli.errors import describe
from main import cli
from tests.standin import StandIn
from utils.clock import SystemClock
from utils.ollama import ModelNotFound
from utils.store import SqliteStore

ROOT = Path(__file__).resolve().parent.parent


def run(standin: StandIn, data: Path, *args: str) -> Result:
    base = ["--host", standin.url, "--data-dir", str(data)]
    return CliRunner().invoke(cli, [*base, *args])


def one_line(result: Result) -> str:
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert "internal error" not in result.output and "Traceback" not in result.output
    return lines[-1]


def test_a_non_finite_option_is_refused_before_anything_is_stored(
    standin: StandIn, tmp_path: Path
) -> None:
    result = run(standin, tmp_path, "ask", "-o", "temperature", "nan", "hi")
    assert result.exit_code == 2
    assert "temperature must be a number between 0 and 2" in one_line(result)
    assert not (tmp_path / "pocketchat.db").exists() or _sessions(tmp_path) == 0


def _sessions(data: Path) -> int:
    store = SqliteStore.open(data / "pocketchat.db", SystemClock())
    try:
        return len(store.list_sessions())
    finally:
        store.close()


def test_a_flow_that_is_not_a_turn_is_a_usage_error(standin: StandIn, tmp_path: Path) -> None:
    result = run(standin, tmp_path, "ask", "--flow", "ingest", "hello")
    assert result.exit_code == 2
    assert "is not a chat turn" in one_line(result)


def test_rag_without_a_collection_is_refused_before_a_session_is_made(
    standin: StandIn, tmp_path: Path
) -> None:
    result = run(standin, tmp_path, "ask", "--flow", "rag", "hello")
    assert result.exit_code == 2
    assert "give --collection NAME" in one_line(result)
    assert _sessions(tmp_path) == 0


def test_continue_with_nothing_to_continue(standin: StandIn, tmp_path: Path) -> None:
    result = run(standin, tmp_path, "ask", "-c", "hello")
    assert result.exit_code == 2
    assert "no session to continue" in one_line(result)


def test_usage_mistakes_in_other_commands(standin: StandIn, tmp_path: Path) -> None:
    assert run(standin, tmp_path, "models", "pull", "").exit_code == 2
    assert run(standin, tmp_path, "sessions", "search", " ").exit_code == 2
    result = run(standin, tmp_path, "sessions", "archive", "--idle-days", "-1")
    assert result.exit_code == 2 and "-1" in result.output


def test_flow_run_names_the_missing_input(standin: StandIn, tmp_path: Path) -> None:
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"question": "no user_message here"}\n[1, 2]\n')
    result = run(standin, tmp_path, "flow", "run", "chat", "--input", str(lines))
    assert result.exit_code == 1
    assert "needs a 'user_message' input" in result.output
    assert "line 2 is not a JSON object" in result.output
    assert "internal error" not in result.output


def test_slash_command_mistakes_are_usage_lines() -> None:
    assert describe(click.UsageError("/export takes md or json"), None) == (
        2,
        "/export takes md or json",
    )


def test_missing_model_line_does_not_claim_nothing_is_installed() -> None:
    unknown = ModelNotFound("not found", model="nosuch").user_line("http://h:1")
    assert "installed: none" not in unknown and "models list" in unknown
    known = ModelNotFound("x", model="nosuch", installed=["a:1b"]).user_line("http://h:1")
    assert "installed: a:1b" in known


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--data-dir", str(tmp_path), "flow", "show",
         "chat"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head -0`
    err = proc.stderr.read().decode()
    proc.wait(timeout=30)
    proc.stderr.close()
    assert proc.returncode in (0, 141)
    assert "internal error" not in err and "Traceback" not in err and "Exception" not in err
