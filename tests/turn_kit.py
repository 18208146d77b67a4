"""Test support for chat turns: an App on a stand-in and a tmp data dir, a timed sink, and a
way to press Ctrl+C from a timer (a real SIGINT to this process, as a terminal sends)."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import App
from cli.turns import TurnRunner
from tests.sigint import python_sigint
from tests.standin import StandIn
from utils.sink import RecordingSink
from utils.store.parts_sql import MESSAGE_COLUMNS

FAST = {"retry.backoff": 0.01, "retry.jitter": 0.0, "ollama.auto_pull": "false"}


def make_app(standin: StandIn, data: Path, **overrides: Any) -> App:
    return App(overrides={"host": standin.url, "data_dir": str(data), **FAST, **overrides})


def runner(standin: StandIn, data: Path, sink: Any = None, **overrides: Any) -> TurnRunner:
    return TurnRunner(make_app(standin, data, **overrides), sink or TimedSink())


@dataclass
class TimedSink(RecordingSink):
    """A RecordingSink that also notes when each reply piece arrived (monotonic seconds)."""

    times: list[float] = field(default_factory=list)

    def reply(self, piece: str) -> None:
        self.times.append(time.monotonic())
        super().reply(piece)


def rows(data: Path, session_id: str | None = None) -> list[dict[str, Any]]:
    """Messages read through a connection of our own (as another process would), as every
    reader sees them: content followed by any parts not folded in yet."""
    conn = sqlite3.connect(data / "pocketchat.db")
    conn.row_factory = sqlite3.Row
    try:
        sql = f"SELECT {MESSAGE_COLUMNS} FROM messages"
        args: list[Any] = []
        if session_id:
            sql += " WHERE session_id = ?"
            args.append(session_id)
        return [dict(r) for r in conn.execute(sql + " ORDER BY session_id, seq", args)]
    finally:
        conn.close()


@contextmanager
def ctrl_c_after(seconds: float) -> Iterator[None]:
    """Send this process SIGINT after `seconds` (the main thread gets KeyboardInterrupt, however
    the runner was started: see tests/sigint.py)."""
    with python_sigint():
        timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        try:
            yield
        finally:
            timer.cancel()


def wait_for(predicate: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())
