"""Nothing is lost when Ctrl+C lands at the worst moment: as the first piece is shown (before
its reply row exists), just as a write transaction begins, or a second time while the reply's
final write runs. Each moment is hit on purpose, not by timing."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

from tests.sigint import python_sigint
from tests.standin import StandIn, replies
from tests.turn_kit import TimedSink, rows, runner


class InterruptingConn:
    """A real sqlite3 connection whose next `BEGIN IMMEDIATE`, once armed, raises
    KeyboardInterrupt as it returns (where Python delivers a SIGINT that came during the call),
    or sends this process a real SIGINT (`signal_it`)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.armed = False
        self.signal_it = False
        self.fired = 0

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        cursor = self._conn.execute(sql, *args)
        if self.armed and sql == "BEGIN IMMEDIATE":
            self.armed = False
            self.fired += 1
            if self.signal_it:
                os.kill(os.getpid(), signal.SIGINT)
            else:
                raise KeyboardInterrupt
        return cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def _rig(standin: StandIn, data: Path, sink: Any) -> tuple[Any, InterruptingConn]:
    turns = runner(standin, data, sink)
    store: Any = turns.deps.store
    conn = InterruptingConn(store.db.conn)
    store.db.conn = conn
    return turns, conn


def test_ctrl_c_as_the_first_piece_is_shown_keeps_it(standin: StandIn, tmp_path: Path) -> None:
    standin.reply = replies.essay(60)
    standin.tokens_per_second = 40.0

    class StopsAtFirst(TimedSink):
        def reply(self, piece: str) -> None:
            super().reply(piece)
            if len(self.pieces) == 1:  # on screen; its reply row is not made yet
                raise KeyboardInterrupt

    sink = StopsAtFirst()
    shared = runner(standin, tmp_path, sink).turn(user_message="write at length")
    assert shared["reply"].status == "interrupted"
    reply = rows(tmp_path)[-1]
    assert (reply["role"], reply["status"]) == ("assistant", "interrupted")
    assert reply["content"] == sink.pieces[0] != ""
    assert "stopped; the partial reply is kept" in " ".join(sink.notices)


def test_ctrl_c_as_the_reply_row_is_begun_keeps_the_text_and_the_database_usable(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.reply = replies.essay(60)
    standin.tokens_per_second = 40.0
    conn: InterruptingConn

    class ArmsAtFirst(TimedSink):
        def reply(self, piece: str) -> None:
            super().reply(piece)
            if len(self.pieces) == 1:  # the next write is the reply row's
                conn.armed = True

    sink = ArmsAtFirst()
    turns, conn = _rig(standin, tmp_path, sink)
    shared = turns.turn(user_message="write at length")
    assert conn.fired == 1
    assert shared["reply"].status == "interrupted"
    assert not conn.in_transaction  # nothing left open to swallow the later writes
    standin.reply = replies.fixed("Short answer.")
    standin.tokens_per_second = None
    turns.turn(session_id=shared["session_id"], user_message="again")
    turns.app.close()
    statuses = [(r["role"], r["status"], r["content"]) for r in rows(tmp_path)]
    assert statuses == [
        ("user", "complete", "write at length"),
        ("assistant", "interrupted", sink.pieces[0]),
        ("user", "complete", "again"),
        ("assistant", "complete", "Short answer."),
    ]


def test_a_write_interrupted_as_it_begins_is_rolled_back(standin: StandIn, tmp_path: Path) -> None:
    turns, conn = _rig(standin, tmp_path, TimedSink())
    store: Any = turns.deps.store
    session = store.create_session("llama3.2:1b")
    conn.armed = True
    try:
        store.append_message(session.id, "user", "lost to Ctrl+C")
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the armed BEGIN did not raise")
    assert not conn.in_transaction
    store.append_message(session.id, "user", "kept")
    assert [r["content"] for r in rows(tmp_path)] == ["kept"]  # committed, seen from outside


def test_a_second_ctrl_c_during_the_final_write_does_not_cut_it(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.reply = replies.essay(60)
    standin.tokens_per_second = 40.0
    conn: InterruptingConn

    class StopsAtThird(TimedSink):
        def reply(self, piece: str) -> None:
            super().reply(piece)
            if len(self.pieces) == 3:
                conn.armed = True  # the write after this Ctrl+C is the final one
                conn.signal_it = True
                raise KeyboardInterrupt

    sink = StopsAtThird()
    turns, conn = _rig(standin, tmp_path, sink)
    with python_sigint():
        shared = turns.turn(user_message="write at length")
    assert conn.fired == 1
    assert shared["reply"].status == "interrupted"
    reply = rows(tmp_path)[-1]
    assert (reply["status"], reply["content"]) == ("interrupted", sink.text)
