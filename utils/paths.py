"""The data directory: created 0700; files in it are the person's alone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def ensure_data_dir(path: Path) -> Path:
    """Create the data dir (mode 0700) if missing and return it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def secure_file(path: Path) -> None:
    """Create `path` if missing and make it readable by its owner only (0600)."""
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


def free_mb(path: Path) -> float:
    """Free space, in MiB, on the file system holding `path` (or its nearest parent)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free / (1024 * 1024)
