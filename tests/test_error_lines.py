"""Plain bad input, met as a person meets it (a real `python main.py`): one line on stderr that
says what was wrong and what to do, a non-zero exit, no traceback, no "internal error" and no
second `command_crashed` line — also when the command fails before logging is set up."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.errors import describe

ROOT = Path(__file__).resolve().parent.parent
DEAD_HOST = "http://127.0.0.1:9"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        cwd=ROOT,
    )


def error_line(result: subprocess.CompletedProcess[str], code: int | None = None) -> str:
    """The one `Error:` line, checked: non-zero exit, nothing else that looks like a crash."""
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    if code is not None:
        assert result.returncode == code, out
    assert "Traceback" not in out and "internal error" not in out, out
    assert "command_crashed" not in out, out
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, out
    return errors[0]


def test_flow_compare_on_a_non_utf8_file_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "run.jsonl"
    bad.write_bytes(b'{"line": 1}\n\xff\xfe{bad\n')
    result = run("--data-dir", str(tmp_path / "d"), "flow", "compare", str(bad), str(bad))
    assert error_line(result, 1) == f"Error: {bad}:2: not UTF-8 text (byte 0xff); save it as UTF-8."
    assert result.stdout == ""


def test_stats_with_a_window_past_any_date_says_use_all(tmp_path: Path) -> None:
    result = run("--data-dir", str(tmp_path / "d"), "stats", "--since", "99999999999w")
    line = error_line(result, 2)
    assert "longer than a hundred years; use --since all" in line
    assert "'--since'" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["sessions", "list", "--limit", "99999999999999999999"], "is not between 1 and"),
        (["sessions", "search", "x", "--limit", "0"], "is not between 1 and"),
        (["sessions", "archive", "--idle-days", "nan"], "not a number of days from 0 to 36500"),
        (["sessions", "archive", "--idle-days", "inf"], "not a number of days from 0 to 36500"),
        (["sessions", "archive", "--idle-days", "1e308"], "not a number of days from 0 to 36500"),
    ],
)
def test_numbers_out_of_range_are_usage_errors(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    result = run("--data-dir", str(tmp_path / "d"), *args)
    assert expected in error_line(result, 2)


def test_the_longest_idle_days_still_archives(tmp_path: Path) -> None:
    result = run("--data-dir", str(tmp_path / "d"), "sessions", "archive", "--idle-days", "36500")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "archived 0 session(s)"


def test_flow_run_input_not_utf8_and_out_unwritable(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    bad = tmp_path / "in.jsonl"
    bad.write_bytes(b'{"user_message": "hi\xff"}\n')
    result = run(
        "--host", DEAD_HOST, "--data-dir", data, "flow", "run", "chat", "--input", str(bad)
    )
    assert error_line(result, 1) == f"Error: {bad}:1: not UTF-8 text (byte 0xff); save it as UTF-8."
    good = tmp_path / "ok.jsonl"
    good.write_text('{"user_message": "hi"}\n', encoding="utf-8")
    out = tmp_path / "missing" / "out.jsonl"
    result = run(
        "--host", DEAD_HOST, "--data-dir", data, "flow", "run", "chat", "--input", str(good),
        "--out", str(out),
    )  # fmt: skip
    line = error_line(result, 1)
    assert str(out) in line and "no such file or directory" in line


def test_a_data_dir_that_is_a_file_is_named_without_a_log_path(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "plain-file"
    not_a_dir.write_text("x", encoding="utf-8")
    for args in (["sessions", "list"], ["db", "status"], ["ask", "--host", DEAD_HOST, "hi"]):
        line = error_line(run("--data-dir", str(not_a_dir), *args), 2)
        assert line == (
            f"Error: data_dir {not_a_dir}: a file, not a directory; give --data-dir (or "
            "$POCKETCHAT_DATA_DIR) a directory, which is created if missing."
        )
        assert "pocketchat.log" not in line
    doctor = run("--data-dir", str(not_a_dir), "--host", DEAD_HOST, "doctor")
    assert doctor.returncode == 1
    assert f"fail  database  data_dir {not_a_dir}: a file, not a directory" in doctor.stdout


@pytest.mark.parametrize("command", [["ask", "hi"], ["models", "list"], ["doctor"]])
def test_a_malformed_ollama_host_is_one_line(tmp_path: Path, command: list[str]) -> None:
    result = run("--data-dir", str(tmp_path / "d"), *command, env={"OLLAMA_HOST": "::::"})
    if command == ["doctor"]:  # doctor reports it as the failed check and goes on
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "fail  ollama    host: Ollama host has a bad port: '::::'" in result.stdout
        return
    assert error_line(result, 2) == (
        "Error: host: Ollama host has a bad port: '::::'. Give --host or OLLAMA_HOST a URL "
        "such as http://127.0.0.1:11434."
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"name: x\nstart: a\x00\n", ":2: invalid YAML: the character U+0000 is not allowed"),
        (b"name: x\x07\n", ":1: invalid YAML: the character U+0007 is not allowed"),
        (b"name: x\nnodes:\n  a: {type: \xff}\n", ":3: not UTF-8 text (byte 0xff)"),
    ],
)
def test_a_flow_file_with_bad_characters_is_file_line(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    flow = tmp_path / "bad.yaml"
    flow.write_bytes(content)
    data = str(tmp_path / "d")
    result = run("--data-dir", data, "flow", "validate", str(flow))
    assert result.returncode == 1 and result.stderr == ""
    assert result.stdout.strip() == f"{flow}{expected}" + result.stdout.strip().split(expected)[1]
    assert "Traceback" not in result.stdout and "internal error" not in result.stdout
    ran = run("--host", DEAD_HOST, "--data-dir", data, "ask", "--flow", str(flow), "hi")
    assert f"{flow}{expected}" in error_line(ran, 1)


def test_a_garbage_queue_file_is_named_with_what_to_do(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    (data / "queue.db").write_bytes(os.urandom(4096))
    fast = tmp_path / "fast.yaml"
    fast.write_text("retry:\n  max_retries: 0\n", encoding="utf-8")
    base = ["--config", str(fast), "--host", DEAD_HOST, "--data-dir", str(data)]
    result = run(*base, "ask", "hi")
    assert error_line(result, 1) == (
        f"Error: {data / 'queue.db'}: not an SQLite database; it holds only the queue's "
        "tickets: delete it and pocketchat makes a new one."
    )
    (data / "queue.db").unlink()
    again = run(*base, "ask", "hi")
    assert again.returncode == 1 and "Cannot reach Ollama" in again.stderr  # the turn ran


def test_an_internal_error_is_one_line_and_its_traceback_only_in_the_log(tmp_path: Path) -> None:
    """A real bug (a person's node that raises) is one line naming the flow, node, class and
    file:line, and the log; the traceback goes to pocketchat.log, and no `[error]
    command_crashed` line joins it."""
    (tmp_path / "boom_nodes.py").write_text(
        "from nodes.base import PocketNode\n\n"
        "class Boom(PocketNode):\n"
        "    def exec(self, prep_res):\n"
        "        raise ZeroDivisionError('a bug')\n",
        encoding="utf-8",
    )
    flow = tmp_path / "boom.yaml"
    flow.write_text(
        "imports: [boom_nodes]\nstart: b\nnodes:\n  b: {type: Boom}\n", encoding="utf-8"
    )
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("otters", encoding="utf-8")
    data = tmp_path / "d"
    result = run("--host", DEAD_HOST, "--data-dir", str(data), "rag", "ingest", str(docs),
                 "-C", "n", "--flow", str(flow))  # fmt: skip
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == [
        "Error: flow boom, node 'b' (Boom, boom_nodes.py:5): ZeroDivisionError: a bug "
        f"(traceback in {data / 'pocketchat.log'}, or rerun with --debug)"
    ]
    log = (data / "pocketchat.log").read_text(encoding="utf-8")
    assert "command_crashed" in log and "ZeroDivisionError" in log
    debug = run("--debug", "--host", DEAD_HOST, "--data-dir", str(data), "rag", "ingest",
                str(docs), "-C", "n", "--flow", str(flow))  # fmt: skip
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_a_sqlite_failure_reaching_the_edge_names_the_data_dir(tmp_path: Path) -> None:
    """A real read-only database error (opened read-only, then written) is worded for people."""
    db = tmp_path / "ro.db"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.commit()
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as caught:
        conn.execute("INSERT INTO t VALUES (1)")
    conn.close()

    class Known:
        class settings:
            data_path = tmp_path

    code, line = describe(caught.value, Known())
    assert code == 1 and line.startswith(f"{tmp_path}: a database is read-only here")
    assert "check the owner and mode of the data dir" in line
    assert "internal error" not in line


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[Path]:
    """A real small tmpfs holding a data dir with a database, remounted read-only (which binds
    root too, unlike file modes)."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True
        ).returncode
    ):
        pytest.skip("needs root and mount")
    try:
        made = run("--config", str(_no_floor(tmp_path)), "--data-dir", str(mount / "d"),
                   "sessions", "list")  # fmt: skip
        assert made.returncode == 0, made.stderr
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield mount / "d"
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def _no_floor(tmp_path: Path) -> Path:
    config = tmp_path / "no-floor.yaml"
    config.write_text("disk:\n  min_free_mb: 0\nretry:\n  max_retries: 0\n", encoding="utf-8")
    return config


@pytest.mark.parametrize("command", [["sessions", "list"], ["db", "status"], ["stats"]])
def test_a_read_only_data_dir_fails_with_a_line_naming_it(
    read_only_mount: Path, tmp_path: Path, command: list[str]
) -> None:
    """Reading commands may work; whatever fails says where and why in one line. (`ask` on a
    database it cannot write answers unsaved: tests/test_permissions.py.)"""
    result = run("--config", str(_no_floor(tmp_path)), "--host", DEAD_HOST,
                 "--data-dir", str(read_only_mount), *command)  # fmt: skip
    if result.returncode == 0:
        return
    assert str(read_only_mount) in error_line(result)
