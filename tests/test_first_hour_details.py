"""The smaller things a newcomer meets in their first hour (issue 15, item 10), each driven the
way a person does: the real command line (CliRunner on `main.cli`, or a real process), and a
real pty where the terminal matters (the ingest progress line)."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pexpect
from click.testing import CliRunner, Result

from main import cli
from tests.rag_support import invoke, write_docs
from tests.sigint import default_sigint
from tests.standin import Fault, StandIn, replies
from tests.standin.models import ModelSpec
from tests.turn_kit import rows, wait_for

ROOT = Path(__file__).resolve().parent.parent
LONG_MODEL = "hf.co/someone/a-rather-long-model-name-GGUF:Q4_K_M"


def run(standin: StandIn, data: Path, *args: str) -> Result:
    base = ["--host", standin.url, "--data-dir", str(data)]
    return CliRunner().invoke(cli, [*base, *args], catch_exceptions=False)


def test_ingest_progress_counts_chunks_and_ends_before_the_summary(
    standin: StandIn, tmp_path: Path
) -> None:
    docs, data = write_docs(tmp_path / "docs"), tmp_path / "data"
    config = tmp_path / "small-chunks.yaml"
    config.write_text("rag:\n  chunk_size: 80\n  chunk_overlap: 0\n  embed_batch: 2\n")
    child = pexpect.spawn(
        sys.executable,
        [str(ROOT / "main.py"), "--config", str(config), "--host", standin.url, "--data-dir",
         str(data), "rag", "ingest", str(docs), "-C", "notes"],
        env={**os.environ, "TERM": "xterm"}, cwd=str(tmp_path), encoding="utf-8", timeout=30,
    )  # fmt: skip
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    screen = (child.before or "").replace("\r\n", "\n")
    assert "MiB" not in screen
    assert "(2/6 chunks)" in screen  # counted in chunks, batch by batch
    last = screen.split("\n")
    done = next(i for i, line in enumerate(last) if line.endswith("100.0% (6/6 chunks)"))
    assert last[done + 1].startswith("notes: 3 files read")  # on a line of its own


def test_rag_list_has_a_header_and_no_unrelated_notice(standin: StandIn, tmp_path: Path) -> None:
    docs, data = write_docs(tmp_path / "docs"), tmp_path / "data"
    assert invoke(standin, data, "rag", "ingest", str(docs), "-C", "notes").exit_code == 0
    listed = invoke(standin, data, "rag", "list")
    assert listed.exit_code == 0
    assert "sqlite" not in listed.output and "search:" not in listed.output
    header, line = listed.output.splitlines()
    assert header.split() == ["COLLECTION", "DOCUMENTS", "CHUNKS", "EMBEDDING", "MODEL", "UPDATED"]
    assert line.split()[:4] == ["notes", "3", "6", "nomic-embed-text"]


def test_sessions_list_has_a_header_and_columns_that_hold_with_long_model_names(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.models[LONG_MODEL] = ModelSpec()
    data = tmp_path / "data"
    assert run(standin, data, "ask", "-m", LONG_MODEL, "first question").exit_code == 0
    assert run(standin, data, "ask", "second question").exit_code == 0
    out = run(standin, data, "sessions", "list").output.splitlines()
    assert out[0].split() == ["ID", "LAST", "ACTIVE", "MSGS", "ORIGIN", "MODEL", "TITLE"]
    title_at = out[0].index("TITLE")
    assert sorted(line[title_at:] for line in out[1:]) == ["first question", "second question"]
    model_at = out[0].index("MODEL")
    assert {line[model_at:].split()[0] for line in out[1:]} == {LONG_MODEL, "llama3.2:1b"}


def test_models_list_has_a_header_and_aligned_columns(standin: StandIn, tmp_path: Path) -> None:
    standin.models[LONG_MODEL] = ModelSpec()
    out = run(standin, tmp_path / "data", "models", "list").output.splitlines()
    assert out[0].split() == ["NAME", "SIZE", "FAMILY", "PARAMETERS", "QUANTIZATION"]
    family_at = out[0].index("FAMILY")
    assert all(line[family_at - 1] == " " and line[family_at] != " " for line in out[1:])
    assert any(line.startswith(LONG_MODEL + "  ") for line in out[1:])


def test_flow_list_has_a_header(standin: StandIn, tmp_path: Path) -> None:
    out = run(standin, tmp_path / "data", "flow", "list").output.splitlines()
    assert out[0].split() == ["NAME", "DESCRIPTION", "FILE"]
    file_at = out[0].index("FILE")
    assert all(line[file_at:].endswith(".yaml") for line in out[1:])
    assert all(len(line[out[0].index("DESCRIPTION"):file_at].rstrip()) <= 60 for line in out[1:])


def test_doctor_reports_each_config_problem_once_and_all_of_them(tmp_path: Path) -> None:
    config = tmp_path / "mine.yaml"
    config.write_text("model: 3\nbogus: 1\nchat:\n  window: many\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--config", str(config), "--data-dir",
         str(tmp_path / "d"), "doctor"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines() == [
        f"fail  config    {config}: 'model' must be text, got 3.",
        f"fail  config    {config}: unknown setting 'bogus'.",
        f"fail  config    {config}: 'chat.window' must be a whole number, got 'many'.",
        "(the other checks run once the config loads)",
    ]
    other = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--config", str(config), "sessions", "list"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert other.returncode == 2
    assert other.stderr.strip() == (
        f"Error: {config}: 'model' must be text, got 3. (and 2 more: `pocketchat doctor` lists "
        "them all)"
    )


def test_restoring_an_active_session_says_it_was_not_archived(
    standin: StandIn, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    run(standin, data, "ask", "hello")
    sid = run(standin, data, "sessions", "list").output.splitlines()[1].split()[0]
    active = run(standin, data, "sessions", "restore", sid)
    assert active.exit_code == 0
    assert active.output.strip() == f"{sid} is not archived (it is active): nothing to restore"
    assert run(standin, data, "sessions", "archive", sid).exit_code == 0
    assert run(standin, data, "sessions", "restore", sid).output.strip() == f"restored {sid}"


def test_the_markdown_footer_is_words_and_rounded_numbers(
    standin: StandIn, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    standin.reply = replies.fixed("Otters hold hands while they sleep.")
    run(standin, data, "ask", "tell me about otters")
    sid = run(standin, data, "sessions", "list").output.splitlines()[1].split()[0]
    md = run(standin, data, "sessions", "export", sid).output
    footer = re.findall(r"<sub>(.*)</sub>", md)[-1]
    assert footer.startswith(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", footer)[0])  # type: ignore[index]
    assert "tokens in" in footer and "first token" in footer and "context:" in footer
    for raw in ("{", "}", "'", "_seconds", "=", "meta"):
        assert raw not in footer
    assert not re.search(r"\d\.\d{3,}", footer)  # no unrounded floats


def test_stats_counts_interrupted_replies_apart_from_dropped_streams(
    standin: StandIn, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    assert run(standin, data, "ask", "one").exit_code == 0  # complete
    standin.script_fault("chat", Fault.cut(after=4))
    assert run(standin, data, "ask", "two").exit_code == 1  # the stream broke: partial
    standin.reply = replies.essay(100)
    standin.tokens_per_second = 25.0
    proc = subprocess.Popen(  # stopped by its person: a real SIGINT, as Ctrl+C sends
        [sys.executable, str(ROOT / "main.py"), "--host", standin.url, "--data-dir", str(data),
         "ask", "three"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint,
    )  # fmt: skip
    try:
        assert wait_for(lambda: len(_replies(data)) == 3, timeout=8)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert sorted(_replies(data)) == ["complete", "interrupted", "partial"]
    out = run(standin, data, "stats", "--since", "all").output
    assert "streaming disconnect rate: 33.3% (the stream broke)" in out
    assert "interrupted rate: 33.3% (stopped with Ctrl+C)" in out


def _replies(data: Path) -> list[str]:
    try:
        return [r["status"] for r in rows(data) if r["role"] == "assistant"]
    except sqlite3.Error:
        return []
