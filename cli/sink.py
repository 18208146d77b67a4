"""The terminal's sink: the reply on stdout, status and notices on stderr.

stdout carries only the conversation, so `ask` can be piped. The status line ("#2 in line…",
"thinking…") is drawn only when stderr is a terminal, and erased before any text appears.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO


class TerminalSink:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.live = self.err.isatty()
        self._status_shown = False
        self._last_char = "\n"
        self._last_label = ""
        self._lock = threading.Lock()

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

    def progress(self, label: str, completed: int, total: int | None) -> None:
        with self._lock:
            if self.live:
                shown = f"{label} {_percent(completed, total)}" if total else label
                self.err.write(f"\r\x1b[2K{shown}")
                self._status_shown = True
            elif label != self._last_label:
                self.err.write(f"{label}\n")
            self._last_label = label
            self.err.flush()

    def _clear_status(self) -> None:
        if self._status_shown:
            self.err.write("\r\x1b[2K")
            self.err.flush()
            self._status_shown = False


def _percent(completed: int, total: int) -> str:
    mib = 1024 * 1024
    return f"{100 * completed / total:5.1f}% ({completed / mib:,.0f}/{total / mib:,.0f} MiB)"
