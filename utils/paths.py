"""The data directory: created 0700; files in it are the person's alone.

Files pocketchat creates there (database, queue, log, prompt history) and the files it writes
for the person (exports, `flow run --out`) are created 0600 (`secure_file`, `write_private`).
A data dir or file found with group/other bits is tightened (`tighten`) when it is the
person's own; the change is logged (`file_mode_tightened`).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import TextIO

import structlog

log = structlog.get_logger()


def ensure_data_dir(path: Path) -> Path:
    """Create the data dir (mode 0700) if missing, tighten it if it is ours, and return it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    tighten(path, 0o700)
    return path


def secure_file(path: Path) -> None:
    """Create `path` if missing and make it readable by its owner only (0600)."""
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    tighten(path, 0o600)


def tighten(path: Path, limit: int) -> bool:
    """Drop the mode bits of `path` outside `limit` (0600, 0700) if it is ours; never adds
    any (a 0444 file stays unwritable: 0400). A shared dir (sticky or world-writable, like /tmp
    given as `--data-dir`) is left alone. True when it changed; quiet when it cannot."""
    try:
        info = path.stat()
        mode = stat.S_IMODE(info.st_mode)
        if info.st_uid != os.geteuid() or not mode & ~limit:
            return False
        if stat.S_ISDIR(info.st_mode) and mode & (stat.S_ISVTX | stat.S_IWOTH):
            return False
        os.chmod(path, mode & limit)
    except OSError:
        return False
    log.info("file_mode_tightened", path=str(path), was=oct(mode), now=oct(mode & limit))
    return True


def open_private(path: Path) -> TextIO:
    """`path` opened for writing text (UTF-8, truncated), created 0600; an existing file of
    ours is tightened. Raises OSError like `open`."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    tighten(path, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8")


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` as `open_private` does."""
    with open_private(path) as fh:
        fh.write(text)


def free_mb(path: Path) -> float:
    """Free space, in MiB, on the file system holding `path` (or its nearest parent)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free / (1024 * 1024)
