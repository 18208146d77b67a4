"""The command line as a person meets it: help, bad input, doctor, logging, file modes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import click
import pytest

from main import COMMANDS, cli
from tests.standin import StandIn

ROOT = Path(__file__).resolve().parent.parent


def run(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        input=stdin,
        timeout=60,
        cwd=ROOT,
    )


def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert name in result.stdout


def _walk(command: click.Command, path: str) -> list[tuple[str, click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{path} {name} cannot be loaded"
            found.extend(_walk(sub, f"{path} {name}"))
    return found


def test_every_command_has_help_text() -> None:
    for path, command in _walk(cli, "pocketchat"):
        text = command.help or command.short_help
        assert text and text.strip(), f"`{path}` has no help text"


def test_unknown_command_suggests_the_nearest() -> None:
    result = run("sesions")
    assert result.returncode == 2
    assert "Did you mean 'sessions'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("chat:\n  window: lots\n")
    result = run("--config", str(config), "sessions", "list")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(config) in lines[0] and "chat.window" in lines[0] and "whole number" in lines[0]


def test_doctor_without_ollama_fails_in_one_line(tmp_path: Path) -> None:
    result = run("--host", "http://127.0.0.1:9", "--data-dir", str(tmp_path / "d"), "doctor")
    assert result.returncode == 1
    ollama_line = next(line for line in result.stdout.splitlines() if "ollama" in line)
    assert ollama_line.startswith("fail")
    assert "127.0.0.1:9" in ollama_line and "make demo" in ollama_line
    assert "Traceback" not in result.stderr


def test_doctor_with_ollama_passes(standin: StandIn, tmp_path: Path) -> None:
    result = run("--host", standin.url, "--data-dir", str(tmp_path / "d"), "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok    ollama" in result.stdout and "version" in result.stdout
    assert "ok    model     llama3.2:1b is pulled" in result.stdout


def test_chat_without_ollama_one_clear_line(tmp_path: Path) -> None:
    result = run("--host", "http://127.0.0.1:9", "--data-dir", str(tmp_path / "d"), "chat")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "127.0.0.1:9" in lines[0] and "ollama serve" in lines[0] and "make demo" in lines[0]


def test_turn_logs_carry_ids_and_stdout_only_the_reply(standin: StandIn, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run("--host", standin.url, "--data-dir", str(data), "ask", "hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Hello! I am the stand-in model. You sent 1 message(s)."
    events = [json.loads(line) for line in (data / "pocketchat.log").read_text().splitlines()]
    turn = [
        e for e in events if e.get("event") in ("turn_persisted", "turn_done", "session_loaded")
    ]
    assert turn, events
    request_ids = {e.get("request_id") for e in turn}
    assert len(request_ids) == 1 and None not in request_ids
    assert all(e.get("session_id") for e in turn)


def test_data_dir_and_database_are_private(standin: StandIn, tmp_path: Path) -> None:
    data = tmp_path / "private"
    assert run("--host", standin.url, "--data-dir", str(data), "ask", "hi").returncode == 0
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "pocketchat.db").stat().st_mode) == 0o600


@pytest.mark.parametrize("doc", ["README.md", "docs/design.md"])
def test_docs_exist(doc: str) -> None:
    assert (ROOT / doc).is_file()


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci and "make test" in readme


def test_every_node_type_is_documented() -> None:
    from nodes.registry import builtin_registry

    design = (ROOT / "docs" / "design.md").read_text()
    missing = [name for name in builtin_registry().names() if f"`{name}`" not in design]
    assert not missing, f"not in docs/design.md: {missing}"


def test_bad_host_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run("--data-dir", str(tmp_path / "d"), "ask", "--host", "ftp://nowhere", "hi")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Error: host: Ollama host must use http or https, got 'ftp://nowhere'. "
        "Give --host or OLLAMA_HOST a URL such as http://127.0.0.1:11434."
    ]


def test_node_modules_from_the_config_are_usable_in_any_flow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    (tmp_path / "cfg_nodes.py").write_text(
        "from pocketflow import Node\n\nclass Hello(Node):\n    actions = ('default',)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    config = tmp_path / "config.yaml"
    config.write_text("imports: [cfg_nodes]\n")
    flow = tmp_path / "hello.yaml"
    flow.write_text("name: hello\nstart: hi\nnodes:\n  hi: {type: Hello}\n")
    base = ["--config", str(config), "--data-dir", str(tmp_path / "d")]
    ok = CliRunner().invoke(cli, [*base, "flow", "validate", str(flow)])
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("imports: [no_such_nodes_module]\n")
    missing = CliRunner().invoke(
        cli,
        ["--config", str(bad), "--data-dir", str(tmp_path / "d"), "flow", "validate", str(flow)],
    )
    assert missing.exit_code == 1 and "no_such_nodes_module" in missing.output
    assert "Traceback" not in missing.output


def test_every_module_the_docs_name_exists() -> None:
    """A newcomer goes from any row of the docs to the file in one hop."""
    import re

    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    missing = []
    for doc in docs:
        text = doc.read_text()
        for path in re.findall(r"\b((?:app|cli|config|flows|nodes|utils)/[\w/]*\w\.py)\b", text):
            if not (ROOT / path).is_file():
                missing.append(f"{doc.name}: {path}")
        for dotted in re.findall(r"`((?:app|utils)(?:\.\w+)+)", text):
            parts = dotted.split(".")
            if not any(
                (ROOT / Path(*parts[:n])).with_suffix(".py").is_file()
                or (ROOT / Path(*parts[:n]) / "__init__.py").is_file()
                for n in range(len(parts), 1, -1)
            ):
                missing.append(f"{doc.name}: {dotted}")
    assert not missing, missing
