"""Data "private to you" (issue 14, item 7): every file pocketchat makes is 0600 in a 0700 dir
— the log, the database, the queue, exports and `flow run --out` files — and a data dir or file
of yours found open to others is tightened when pocketchat opens it, and the log says so.
Files of another owner are left as they are (tests/test_permissions.py)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.real_runs import pocketchat, write_config
from tests.standin import StandIn
from utils.paths import secure_file, tighten


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_made_by_ask_export_and_flow_run_are_private(
    tmp_path: Path, standin: StandIn
) -> None:
    data = tmp_path / "data"
    config = write_config(tmp_path)
    asked = pocketchat(data, "ask", "--json", "hello", host=standin.url, config=config)
    assert asked.returncode == 0, asked.stderr
    assert mode(data) == 0o700
    for name in ("pocketchat.db", "pocketchat.log", "queue.db"):
        assert mode(data / name) == 0o600, name

    sid = json.loads(asked.stdout)["session_id"]
    for fmt in ("md", "json"):
        out = tmp_path / f"export.{fmt}"
        done = pocketchat(data, "sessions", "export", sid, "--format", fmt, "-o", str(out))
        assert done.returncode == 0, done.stderr
        assert mode(out) == 0o600 and "hello" in out.read_text()

    lines = tmp_path / "in.jsonl"
    lines.write_text('{"user_message": "hi"}\n')
    out = tmp_path / "runs.jsonl"
    out.write_text("old\n")
    out.chmod(0o644)  # an existing file of ours is tightened too
    ran = pocketchat(data, "flow", "run", "chat", "--input", str(lines), "--out", str(out),
                     host=standin.url, config=config)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert mode(out) == 0o600 and "Hello!" in out.read_text()


def test_an_open_data_dir_and_files_are_tightened_and_logged(
    tmp_path: Path, standin: StandIn
) -> None:
    data = tmp_path / "data"
    config = write_config(tmp_path)
    assert pocketchat(data, "ask", "hello", host=standin.url, config=config).returncode == 0
    data.chmod(0o755)
    for name in ("pocketchat.db", "pocketchat.log", "queue.db"):
        (data / name).chmod(0o644)
    (data / "prompt_history").write_text("")
    (data / "prompt_history").chmod(0o644)

    assert pocketchat(data, "sessions", "list").returncode == 0  # reads: db, dir, log
    assert mode(data) == 0o700
    assert mode(data / "pocketchat.db") == 0o600 and mode(data / "pocketchat.log") == 0o600
    asked = pocketchat(data, "ask", "-c", "again", host=standin.url, config=config)
    assert asked.returncode == 0 and mode(data / "queue.db") == 0o600  # the queue, on use
    secure_file(data / "prompt_history")  # what the chat does before reading it
    assert mode(data / "prompt_history") == 0o600

    events = [json.loads(line) for line in (data / "pocketchat.log").read_text().splitlines()]
    tightened = {Path(e["path"]).name for e in events if e["event"] == "file_mode_tightened"}
    assert {"data", "pocketchat.log", "pocketchat.db", "queue.db"} <= tightened, tightened


def test_shared_dirs_and_read_only_files_are_never_opened_up_or_locked(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # /tmp given as --data-dir: others keep their access
    assert not tighten(shared, 0o700) and mode(shared) == 0o1777
    kept = tmp_path / "kept.db"
    kept.write_text("")
    kept.chmod(0o444)
    assert tighten(kept, 0o600) and mode(kept) == 0o400  # group/other bits go, none are added
