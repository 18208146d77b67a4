"""Is the process that took a queue ticket still there? Asked of the kernel, not of a clock.

A ticket records its process as (`machine`, `pid`, `started`):
- `machine`: the host name; a ticket from another machine cannot be checked (its TTL decides).
- `started`: `<boot id>/<start time>` from `/proc` — the boot (`/proc/sys/kernel/random/boot_id`)
  and the process's start in clock ticks since boot (`/proc/<pid>/stat` field 22). A pid reused
  by a later process, or a pid from before a reboot, has another `started`: the ticket's
  process is gone.
- Without `/proc` (macOS, BSD) `started` is None: a pid that does not exist is gone
  (`kill(pid, 0)`), one that exists cannot be told from a reused pid, so its TTL decides.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path

PROC = Path("/proc")


class Life(Enum):
    ALIVE = "alive"  # this machine, the very process that took the ticket
    GONE = "gone"  # this machine, and that process has ended (or the pid is another's now)
    UNKNOWN = "unknown"  # another machine, or no /proc and the pid exists: the TTL decides


@dataclass(frozen=True)
class ProcessId:
    machine: str
    pid: int
    started: str | None


@cache
def machine() -> str:
    return socket.gethostname() or "localhost"


@cache
def _boot_id() -> str | None:
    try:
        return (PROC / "sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """`/proc/<pid>/stat` from field 3 (state) on; the name (field 2) may hold spaces and ')'."""
    try:
        raw = (PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    return raw[raw.rfind(b")") + 2 :].decode("ascii", "replace").split()


def started_mark(pid: int) -> str | None:
    """`<boot id>/<start ticks>` of a running process; None without /proc or if it is gone."""
    boot, fields = _boot_id(), _stat_fields(pid)
    if boot is None or fields is None or len(fields) < 20:
        return None
    return f"{boot}/{fields[19]}"  # field 22 is the 20th from field 3


def this_process() -> ProcessId:
    """This process, as a ticket records it (asked per ticket: a forked child is another)."""
    pid = os.getpid()
    return ProcessId(machine(), pid, started_mark(pid))


def life(who: ProcessId) -> Life:
    """Whether the process that took a ticket is still running."""
    if who.machine != machine():
        return Life.UNKNOWN
    if who.started is not None and _boot_id() is not None:
        fields = _stat_fields(who.pid)
        if fields is None or len(fields) < 20 or fields[0] in ("Z", "X"):  # a zombie has ended
            return Life.GONE
        return Life.ALIVE if f"{_boot_id()}/{fields[19]}" == who.started else Life.GONE
    try:
        os.kill(who.pid, 0)
    except ProcessLookupError:
        return Life.GONE
    except PermissionError:  # exists, owned by another user
        return Life.UNKNOWN
    return Life.UNKNOWN


def is_stopped(pid: int) -> bool:
    """True when the process is suspended (SIGSTOP, Ctrl+Z: state T) or traced (t)."""
    fields = _stat_fields(pid)
    return fields is not None and bool(fields) and fields[0] in ("T", "t")
