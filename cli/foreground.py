"""The terminal's foreground for the chat, so Ctrl+C reaches the chat and nothing else.

A terminal sends Ctrl+C's SIGINT to its whole foreground process group. Started by `make`
(`make chat`, `make demo`), the chat shares that group with make (and the demo's stand-in):
make then ends with `make: *** [chat] Interrupt` (or the demo dies with Error 130) although
the chat caught the signal and stayed. So the chat runs in a process group of its own that
holds the terminal's foreground while it runs, and gives it back after.

- `own_foreground()`: for the chat itself: when it is not the leader of its group and standard
  input is a terminal, it makes a group of its own and takes the foreground (a shell that
  started it directly already did that: then nothing happens).
- `run_in_foreground(argv, env)`: for a parent (the demo): runs `argv` in a new group holding
  the foreground, ignores SIGINT meanwhile, and afterwards takes the terminal back and restores
  its modes, whatever became of the child (killed, crashed, left the terminal raw).

A job in a group of its own that the shell does not know of cannot be woken by `fg`: Ctrl+Z
(SIGTSTP) is ignored there, as prompt_toolkit ignores it at the prompt.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import termios
from collections.abc import Iterator, Mapping, Sequence


def _terminal_fd() -> int | None:
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return fd if os.isatty(fd) else None


def _give_foreground(fd: int, pgid: int) -> None:
    """tcsetpgrp from a background group stops the caller with SIGTTOU unless it is ignored."""
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, pgid)
    finally:
        signal.signal(signal.SIGTTOU, previous)


@contextlib.contextmanager
def own_foreground() -> Iterator[None]:
    fd = _terminal_fd()
    if fd is None or os.getpgrp() == os.getpid():
        yield
        return
    try:
        before = os.tcgetpgrp(fd)
        os.setpgid(0, 0)
        _give_foreground(fd, os.getpid())
    except OSError:  # not our terminal's foreground, or no job control: stay as we are
        yield
        return
    suspend = signal.signal(signal.SIGTSTP, signal.SIG_IGN)  # no shell would wake us
    try:
        yield
    finally:
        signal.signal(signal.SIGTSTP, suspend)
        with contextlib.suppress(OSError):
            _give_foreground(fd, before)


def _child_setup() -> None:
    """In the child before exec (already in its own group): Ctrl+C at its default, not
    inherited as ignored, and the terminal's foreground taken before it reads a key."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTSTP, signal.SIG_IGN)  # stopped, no shell would wake it
    fd = _terminal_fd()
    if fd is not None:
        with contextlib.suppress(OSError):
            _give_foreground(fd, os.getpid())


def run_in_foreground(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Run `argv` as the terminal's foreground job; its exit status (128+N if killed by N)."""
    fd = _terminal_fd()
    modes = termios.tcgetattr(fd) if fd is not None else None
    mine = os.getpgrp()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        child = subprocess.Popen(
            list(argv), env=dict(env), process_group=0, preexec_fn=_child_setup
        )
        code = child.wait()
    finally:
        if fd is not None:
            with contextlib.suppress(OSError):
                _give_foreground(fd, mine)
            if modes is not None:
                with contextlib.suppress(termios.error):
                    termios.tcsetattr(fd, termios.TCSADRAIN, modes)
        signal.signal(signal.SIGINT, previous)
    return 128 - code if code < 0 else code
