"""Ctrl+C held back for the moment a write must finish whole.

`sigint_held()` notes a SIGINT arriving inside its block instead of raising KeyboardInterrupt
there, and says whether one came. Only in the main thread, and only while Python's own handler
is installed (a program that ignores SIGINT or handles it otherwise is left alone).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def sigint_held() -> Iterator[list[int]]:
    """Within the block SIGINT is noted, not raised; the list yielded is non-empty if one came."""
    pressed: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.default_int_handler:
        yield pressed
        return

    def note(signum: int, _frame: FrameType | None) -> None:
        pressed.append(signum)

    signal.signal(signal.SIGINT, note)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)
