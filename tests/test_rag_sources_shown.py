"""A RAG answer shows its numbered sources (path, chunk), as a person runs it: `rag ingest` a
folder, then a real `ask --collection` process, and `chat --collection` in a real terminal
(whose banner names the collection)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect

from tests.rag_support import CONFIG, write_docs
from tests.sigint import default_sigint
from tests.standin import StandIn

ROOT = Path(__file__).resolve().parent.parent


def _setup(standin: StandIn, tmp_path: Path) -> dict[str, str]:
    """A notes folder ingested into collection `notes`; the environment to run commands in."""
    write_docs(tmp_path / "notes")
    config = tmp_path / "pocketchat.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    env = {**os.environ, "OLLAMA_HOST": standin.url, "POCKETCHAT_DATA_DIR": str(tmp_path / "d"),
           "POCKETCHAT_CONFIG": str(config), "HOME": str(tmp_path)}  # fmt: skip
    ingest = _run(env, tmp_path, "rag", "ingest", "notes", "--collection", "notes")
    assert ingest.returncode == 0, ingest.stderr
    return env


def _run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_ask_with_a_collection_lists_the_sources_under_the_answer(
    standin: StandIn, tmp_path: Path
) -> None:
    env = _setup(standin, tmp_path)
    result = _run(env, tmp_path, "ask", "--collection", "notes", "How is the lens polished?")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    start = lines.index("sources:")
    listed = lines[start + 1 :]
    assert listed and all(line.startswith("  [") for line in listed)
    assert listed[0].startswith("  [1] notes/") and "(chunk " in listed[0]
    assert any("notes/lighthouse.md (chunk" in line for line in listed)
    assert "sources:" not in result.stdout  # stdout is the answer alone, for a pipe
    # the same numbers as the stored sources (`--json`)
    as_json = _run(env, tmp_path, "ask", "--json", "--collection", "notes", "lens?")
    stored = json.loads(as_json.stdout)["sources"]
    assert [s["n"] for s in stored] == list(range(1, len(stored) + 1))
    assert "sources:" not in as_json.stderr


def test_a_plain_ask_shows_no_sources(standin: StandIn, tmp_path: Path) -> None:
    env = _setup(standin, tmp_path)
    result = _run(env, tmp_path, "ask", "hello")
    assert result.returncode == 0 and "sources:" not in result.stderr


def test_chat_with_a_collection_names_it_and_lists_sources(
    standin: StandIn, tmp_path: Path
) -> None:
    env = {**_setup(standin, tmp_path), "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"}
    child = pexpect.spawn(sys.executable, [str(ROOT / "main.py"), "chat", "--collection", "notes"],
                          env=env, cwd=str(tmp_path), encoding="utf-8", timeout=15,
                          dimensions=(40, 200), preexec_fn=default_sigint)  # fmt: skip
    try:
        child.expect_exact("Answering from collection 'notes'")
        child.expect_exact(">>>")
        child.sendline("What do zebras eat?")
        child.expect_exact("sources:")
        child.expect(r"\[1\] notes/\w+\.\w+ \(chunk \d+\)")
        child.expect_exact(">>>")
        child.sendcontrol("d")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
