"""A database the person may read but not write is not "corrupt" (issue 14, item 2).

Run as `nobody` against a data dir and database owned by root (0755 / 0644), as a person meets
a database of another account or on a read-only mount: reading commands work read-only, `ask`
answers without saving and says why once, writes fail with one line naming the path and what
to do. The file is never changed. Files nobody may read, or a database needing migrations it
cannot apply, get one line each.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.real_runs import can_drop_privileges, open_dir, pocketchat, write_config
from tests.standin import StandIn

__all__ = ["open_dir"]  # the fixture, imported for pytest

FIXTURES = Path(__file__).parent / "fixtures"
pytestmark = pytest.mark.skipif(bool(can_drop_privileges()), reason=str(can_drop_privileges()))


def _root_owned_history(where: Path, standin: StandIn) -> tuple[Path, str]:
    """A data dir with one conversation, made by root, then left 0755 / 0644."""
    data = where / "data"
    made = pocketchat(data, "ask", "--json", "hello lighthouse", host=standin.url,
                      config=write_config(where))  # fmt: skip
    assert made.returncode == 0, made.stderr
    data.chmod(0o755)
    for path in data.iterdir():
        path.chmod(0o644)
    sid = made.stdout.split('"session_id": "')[1][:12]
    return data, sid


def _one_clean_line(text: str) -> None:
    assert "Traceback" not in text and "internal error" not in text and "corrupt" not in text


def test_reading_commands_work_on_a_database_you_may_not_write(
    open_dir: Path, standin: StandIn
) -> None:
    data, sid = _root_owned_history(open_dir, standin)
    db = data / "pocketchat.db"
    before = db.read_bytes()
    for args in (["sessions", "list"], ["sessions", "show", sid[:6]],
                 ["sessions", "search", "lighthouse"], ["stats"]):  # fmt: skip
        result = pocketchat(data, *args, as_nobody=True)
        assert result.returncode == 0, (args, result.stderr)
        _one_clean_line(result.stderr)
        assert result.stderr == "", (args, result.stderr)
    assert "hello lighthouse" in pocketchat(data, "sessions", "show", sid, as_nobody=True).stdout
    status = pocketchat(data, "db", "status", as_nobody=True)
    assert status.returncode == 0 and "m007_message_parts" in status.stdout
    assert f"read-only: {db} is not writable by you" in status.stdout
    doctor = pocketchat(data, "doctor", host=standin.url, as_nobody=True)
    [line] = [line for line in doctor.stdout.splitlines() if line.split()[1:2] == ["database"]]
    assert line.startswith("warn") and "read-only" in line and "not writable by you" in line

    asked = pocketchat(data, "ask", "-c", "again", host=standin.url, as_nobody=True,
                       config=write_config(open_dir))  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.startswith("Hello!")
    said = [line for line in asked.stderr.splitlines() if "not being saved" in line]
    assert len(said) == 1 and str(db) in said[0] and "ownership or permissions" in said[0]
    _one_clean_line(asked.stderr)

    migrate = pocketchat(data, "db", "migrate", as_nobody=True)
    assert migrate.returncode == 1 and len(migrate.stderr.splitlines()) == 1
    assert "not writable by you" in migrate.stderr
    _one_clean_line(migrate.stderr)
    assert db.read_bytes() == before
    assert oct(db.stat().st_mode & 0o777) == "0o644"  # not ours to tighten


def test_a_read_only_copy_is_read(open_dir: Path, standin: StandIn) -> None:
    data, sid = _root_owned_history(open_dir, standin)
    copy = open_dir / "copy"
    copy.mkdir()
    shutil.copy(data / "pocketchat.db", copy / "pocketchat.db")
    shutil.chown(copy, "nobody", "nogroup")
    shutil.chown(copy / "pocketchat.db", "nobody", "nogroup")
    (copy / "pocketchat.db").chmod(0o444)
    shown = pocketchat(copy, "sessions", "show", sid, as_nobody=True)
    assert shown.returncode == 0 and "hello lighthouse" in shown.stdout, shown.stderr
    assert oct((copy / "pocketchat.db").stat().st_mode & 0o777) == "0o400"  # never made writable


def test_unreadable_database_and_uncreatable_one_say_permissions(
    open_dir: Path, standin: StandIn
) -> None:
    data, _ = _root_owned_history(open_dir, standin)
    (data / "pocketchat.db").chmod(0o600)
    result = pocketchat(data, "sessions", "list", as_nobody=True)
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "permission denied" in result.stderr and str(data / "pocketchat.db") in result.stderr
    _one_clean_line(result.stderr)

    empty = open_dir / "empty"
    empty.mkdir(mode=0o755)
    result = pocketchat(empty, "sessions", "list", as_nobody=True)
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "permission denied" in result.stderr and "create" in result.stderr
    _one_clean_line(result.stderr)


def test_pending_migrations_on_a_read_only_database_say_so_in_one_line(open_dir: Path) -> None:
    data = open_dir / "old"
    data.mkdir(mode=0o755)
    conn = sqlite3.connect(data / "pocketchat.db")
    conn.executescript((FIXTURES / "db_v6.sql").read_text())
    conn.close()
    (data / "pocketchat.db").chmod(0o644)
    before = (data / "pocketchat.db").read_bytes()
    result = pocketchat(data, "sessions", "list", as_nobody=True)
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "migration(s) pending" in result.stderr and "not writable by you" in result.stderr
    _one_clean_line(result.stderr)
    status = pocketchat(data, "db", "status", as_nobody=True)  # never migrates: it can tell
    assert status.returncode == 0 and "pending  m007_message_parts" in status.stdout
    assert (data / "pocketchat.db").read_bytes() == before
