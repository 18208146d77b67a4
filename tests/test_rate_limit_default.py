"""The rate limit is off by default for the local CLI: a script of many `ask -c` turns runs."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from config.settings import load_settings
from main import cli
from tests.standin import StandIn

ROOT = Path(__file__).resolve().parent.parent


def _replies(data: Path) -> list[str]:
    conn = sqlite3.connect(data / "pocketchat.db")
    try:
        return [r[0] for r in conn.execute(
            "SELECT status FROM messages WHERE role = 'assistant' ORDER BY id")]  # fmt: skip
    finally:
        conn.close()


def test_the_default_config_has_no_rate_limit() -> None:
    assert load_settings(env={}).rate_limit.turns_per_minute == 0


def test_sixty_ask_c_turns_in_a_row_succeed(tmp_path: Path, standin: StandIn) -> None:
    data = tmp_path / "data"
    base = ["--host", standin.url, "--data-dir", str(data), "ask"]
    runner = CliRunner()
    for n in range(60):
        result = runner.invoke(cli, [*base, *(["-c"] if n else []), f"turn {n}"])
        assert result.exit_code == 0, f"turn {n}: {result.output}"
    assert _replies(data) == ["complete"] * 60
    conn = sqlite3.connect(data / "pocketchat.db")
    assert conn.execute("SELECT COUNT(DISTINCT session_id) FROM messages").fetchone() == (1,)
    conn.close()


def test_ask_c_processes_in_a_row_are_not_limited(tmp_path: Path, standin: StandIn) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "OLLAMA_HOST": standin.url, "POCKETCHAT_DATA_DIR": str(data)}
    for n in range(4):
        done = subprocess.run(
            [sys.executable, "main.py", "ask", *(["-c"] if n else []), f"turn {n}"],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert _replies(data) == ["complete"] * 4
