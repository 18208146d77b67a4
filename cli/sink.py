"""The terminal's sink: the reply on stdout, status and notices on stderr.

stdout carries only the conversation, so `ask` can be piped. The status line ("#2 in line…",
"thinking…") is drawn only when stderr is a terminal, and erased before any text appears.
Off a terminal (a script, a log, CI), a wait in Ollama's queue that passes WAIT_NOTICE seconds
is told in plain lines, `waiting for Ollama: #2 in line, about 6 s`, at most one per change of
position, with no escape codes.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from utils.sink import queue_status

WAIT_NOTICE = 1.0  # seconds in line before a plain "waiting for Ollama" line


class TerminalSink:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.live = self.err.isatty()
        self._status_shown = False
        self._last_char = "\n"
        self._last_label = ""
        self._lock = threading.Lock()
        self._wait: _PlainWait | None = None

    def waiting(self, position: int, eta: float | None) -> None:
        if self.live:
            self.status(f"{queue_status(position, eta)}…")
            return
        with self._lock:
            if self._wait is None:
                self._wait = _PlainWait(self.err, self._lock)
            self._wait.update(position, eta)

    def reply(self, piece: str) -> None:
        with self._lock:
            self._clear_status()
            self.out.write(piece)
            self.out.flush()
            if piece:
                self._last_char = piece[-1]

    def reply_done(self) -> None:
        with self._lock:
            self._clear_status()
            if self._last_char != "\n":
                self.out.write("\n")
                self.out.flush()
                self._last_char = "\n"

    def status(self, text: str) -> None:
        if not self.live:
            with self._lock:
                self._end_wait()
            return
        with self._lock:
            if text:
                self.err.write(f"\r\x1b[2K\x1b[2m{text}\x1b[0m")
                self._status_shown = True
            else:
                self._clear_status()
            self.err.flush()

    def notice(self, text: str) -> None:
        with self._lock:
            self._clear_status()  # reply() flushes stdout itself, so the order on screen holds
            self.err.write(f"[{text}]\n" if not text.startswith("(") else f"{text}\n")
            self.err.flush()

    def progress(self, label: str, completed: int, total: int | None, unit: str = "bytes") -> None:
        with self._lock:
            if self.live:
                shown = f"{label} {_percent(completed, total, unit)}" if total else label
                done = bool(total) and completed >= (total or 0)
                self.err.write(f"\r\x1b[2K{shown}" + ("\n" if done else ""))
                self._status_shown = not done  # a finished job's line stays, ended
            elif label != self._last_label:
                counted = f" {total:,} {unit}" if total and unit != "bytes" else ""
                self.err.write(f"{label}{counted}\n")
            self._last_label = label
            self.err.flush()

    def _end_wait(self) -> None:
        if self._wait is not None:
            self._wait.end()
            self._wait = None

    def _clear_status(self) -> None:
        self._end_wait()
        if self._status_shown:
            self.err.write("\r\x1b[2K")
            self.err.flush()
            self._status_shown = False


class _PlainWait:
    """One wait in line off a terminal: silent for WAIT_NOTICE seconds, then a line now and at
    each change of position. Its timer says it when the position holds still past the mark.
    Called with the sink's lock held; the timer takes it."""

    def __init__(self, err: TextIO, lock: threading.Lock) -> None:
        self.err = err
        self.lock = lock
        self.started = time.monotonic()
        self.current: tuple[int, float | None] = (0, None)
        self.said: int | None = None
        self.ended = False
        self.timer = threading.Timer(WAIT_NOTICE, self._on_timer)
        self.timer.daemon = True
        self.timer.start()

    def update(self, position: int, eta: float | None) -> None:
        self.current = (position, eta)
        if time.monotonic() - self.started >= WAIT_NOTICE:
            self._say()

    def end(self) -> None:
        self.ended = True
        self.timer.cancel()

    def _on_timer(self) -> None:
        with self.lock:
            if not self.ended:
                self._say()

    def _say(self) -> None:
        position, eta = self.current
        if position != self.said:
            self.said = position
            self.err.write(f"waiting for Ollama: {queue_status(position, eta)}\n")
            self.err.flush()


def _percent(completed: int, total: int, unit: str) -> str:
    """` 42.0% (12/30 MiB)` for bytes, ` 40.0% (12/30 chunks)` for anything counted."""
    share = f"{100 * completed / total:5.1f}%"
    if unit != "bytes":
        return f"{share} ({completed:,}/{total:,} {unit})"
    mib = 1024 * 1024
    return f"{share} ({completed / mib:,.0f}/{total / mib:,.0f} MiB)"
