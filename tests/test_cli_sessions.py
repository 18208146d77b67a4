from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
import structlog
from click.testing import CliRunner

from cli.db import db
from cli.sessions import sessions
from config.settings import Settings
from tests.clocks import FixedClock
from utils.store import SqliteStore, Store


@dataclass
class FakeApp:
    """Stands in for the composition root's ctx.obj."""

    settings: Settings
    clock: FixedClock = field(default_factory=FixedClock)
    _store: Store | None = None

    def store(self) -> Store:
        if self._store is None:
            self._store = SqliteStore.open(self.settings.db_path, self.clock)
        return self._store

    def open_store(self, *, migrate: bool = True, min_free_mb: float | None = None) -> Store:
        floor = self.settings.disk.min_free_mb if min_free_mb is None else min_free_mb
        return SqliteStore.open(self.settings.db_path, self.clock, min_free_mb=floor,
                                migrate=migrate)  # fmt: skip


@pytest.fixture
def app(tmp_path: Path):
    a = FakeApp(Settings(data_dir=str(tmp_path / "data")))
    yield a
    if a._store is not None:
        a._store.close()


def run(app: FakeApp, group: click.Group, *args: str, input: str | None = None):
    with structlog.testing.capture_logs():  # keep log lines out of the captured output
        return CliRunner().invoke(group, list(args), obj=app, input=input)


def _seed(app: FakeApp) -> tuple[str, str]:
    store = app.store()
    a = store.create_session("llama", title="Birds")
    store.append_message(a.id, "user", "tell me about herons")
    store.append_message(a.id, "assistant", "Herons wade.", model="llama", status="partial")
    app.clock.advance(60)
    b = store.create_session("qwen", title="Cats")
    store.append_message(b.id, "user", "cats purr")
    return a.id, b.id


def test_list_json_newest_first(app: FakeApp) -> None:
    a, b = _seed(app)
    result = run(app, sessions, "list", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["id"] for d in data] == [b, a]
    assert {"id", "title", "model", "status", "messages", "updated_at"} <= set(data[0])
    assert data[1]["messages"] == 2
    assert a in run(app, sessions, "list").output


def test_show_search_export(app: FakeApp, tmp_path: Path) -> None:
    a, _ = _seed(app)
    shown = run(app, sessions, "show", a[:5])
    assert shown.exit_code == 0 and "Herons wade." in shown.output and "[partial]" in shown.output
    assert json.loads(run(app, sessions, "show", a, "--json").output)["session"]["id"] == a
    hits = json.loads(run(app, sessions, "search", "herons", "--json").output)
    assert sorted((h["session_id"], h["seq"]) for h in hits) == [(a, 1), (a, 2)]
    assert run(app, sessions, "search", 'NOT "(').exit_code == 0
    out = tmp_path / "x.json"
    assert run(app, sessions, "export", a, "--format", "json", "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text())["messages"][1]["status"] == "partial"
    md = run(app, sessions, "export", a, "--format", "md")
    assert md.output.startswith("# Birds")


def test_archive_restore_delete(app: FakeApp) -> None:
    a, b = _seed(app)
    app.clock.advance_days(31)
    assert run(app, sessions, "archive").output.startswith("archived 2")
    assert json.loads(run(app, sessions, "list", "--json").output) == []
    assert len(json.loads(run(app, sessions, "list", "--archived", "--json").output)) == 2
    assert run(app, sessions, "restore", a).exit_code == 0
    assert run(app, sessions, "archive", a).exit_code == 0
    refused = run(app, sessions, "delete", b)  # CliRunner's stdin is not a terminal
    assert refused.exit_code == 2 and "--yes" in refused.output
    assert app.store().get_session(b) is not None
    assert run(app, sessions, "delete", b, "--yes").exit_code == 0
    assert app.store().get_session(b) is None


@pytest.mark.parametrize(
    "args",
    [["show", "ffffffff"], ["export", "ffff"], ["restore", "nope"], ["delete", "ffff", "--yes"],
     ["archive", "ffff"]],
)  # fmt: skip
def test_unknown_session_is_one_line_exit_1(app: FakeApp, args: list[str]) -> None:
    result = run(app, sessions, *args)
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "no session" in result.output and "sessions list" in result.output


def test_db_status_and_migrate(app: FakeApp) -> None:
    app.store()
    result = run(app, db, "status", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["pending"] == [] and data["schema_version"] >= 2
    assert data["path"] == str(app.settings.db_path)
    assert "m001_sessions_and_messages" in run(app, db, "status").output
    assert "up to date" in run(app, db, "migrate").output


def test_every_command_has_help() -> None:
    for group in (sessions, db):
        assert group.help
        for name, command in group.commands.items():
            assert command.help, name
            assert CliRunner().invoke(group, [name, "--help"]).exit_code == 0
