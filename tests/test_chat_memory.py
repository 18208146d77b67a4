"""`chat` with memory on: the background thread extracts between turns (never during one),
and `/memory` lists, shows and forgets what is remembered."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cli.repl import Repl
from cli.slash import dispatch
from tests.memory_kit import facts_rule
from tests.standin import StandIn
from tests.turn_kit import make_app
from utils.memory import memories_sql

ON = {"memory.enabled": True}


def _repl(standin: StandIn, data: Path) -> Repl:
    app = make_app(standin, data, **ON)
    return Repl(app, flow_source=None, session=None, model=app.settings.model, system=None,
                options={}, title=None, ollama_version="0.12.6", dispatch=dispatch)  # fmt: skip


def test_chat_extracts_in_the_background_and_slash_memory_shows_it(
    tmp_path: Path, standin: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    standin.reply = facts_rule()
    repl = _repl(standin, tmp_path / "d")
    assert repl.memory is not None and repl.memory.is_alive()
    try:
        repl.ask("My name is Alice and I live in Lisbon.")
        deadline = time.monotonic() + 10
        while not memories_sql.list_memories(repl.store, "local"):
            assert time.monotonic() < deadline, "the background never extracted"
            time.sleep(0.02)
        capsys.readouterr()
        dispatch(repl, "/memory")
        listed = capsys.readouterr().err
        assert "[m1] My name is Alice and I live in Lisbon" in listed
        dispatch(repl, "/memory show m1")
        assert "from session" in capsys.readouterr().err
        dispatch(repl, "/memory forget 1")
        assert "forgot m1" in capsys.readouterr().err
        assert memories_sql.list_memories(repl.store, "local") == []
        dispatch(repl, "/memory clear")
        assert "/memory clear yes" in capsys.readouterr().err
    finally:
        repl.memory_hold.set()
        repl.memory.stop()
        repl.app.close()
    assert not repl.memory.is_alive()


def test_a_flow_without_extraction_starts_no_thread(tmp_path: Path, standin: StandIn) -> None:
    app = make_app(standin, tmp_path / "d")  # memory off: flows/chat.yaml
    repl = Repl(app, flow_source=None, session=None, model=app.settings.model, system=None,
                options={}, title=None, ollama_version="0.12.6", dispatch=dispatch)  # fmt: skip
    assert repl.memory is None
    app.close()
