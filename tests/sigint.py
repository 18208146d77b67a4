"""SIGINT in tests that does not depend on how the test runner was started.

A job started in the background by a non-interactive shell inherits SIGINT ignored (POSIX), and
an ignored signal stays ignored across exec: Python then installs no KeyboardInterrupt handler
and Ctrl+C does nothing. A test that sends SIGINT restores the default handler in the process
it signals: `default_sigint` as a child's `preexec_fn` (before exec, so the child's Python
installs its own handler), `python_sigint()` around a test that signals its own process.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


def default_sigint() -> None:
    """For `preexec_fn`: the child starts with SIGINT at its default, as from a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def python_sigint() -> Iterator[None]:
    """This process raises KeyboardInterrupt on SIGINT for the duration (main thread only)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
