"""Test support: `pocketchat` as a real process, as this user or as the unprivileged `nobody`
(root ignores file permissions, so a permissions test must drop them in the child), in
directories `nobody` can reach (pytest's tmp_path lives under a 0700 dir of root's).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FAST = "retry:\n  backoff: 0.01\n  jitter: 0.0\nollama:\n  auto_pull: 'false'\n"


def pocketchat(
    data: Path, *args: str, host: str = "http://127.0.0.1:9", config: Path | None = None,
    as_nobody: bool = False, timeout: float = 60,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run `main.py --data-dir DATA --host HOST [--config C] ARGS...`; text output captured."""
    cmd = [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data), "--host", host]
    if config is not None:
        cmd += ["--config", str(config)]
    if as_nobody:
        cmd = [*nobody_prefix(), *cmd]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POCKETCHAT_", "OLLAMA_"))}
    env["HOME"] = str(data.parent)  # never the real home; readable by the child
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT, check=False)  # fmt: skip


def nobody_prefix() -> list[str]:
    """The command prefix that runs the rest as `nobody` (setpriv: the exec itself is still
    allowed to reach the interpreter, whatever its path)."""
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def can_drop_privileges() -> str | None:
    """None when this runner can run pocketchat as `nobody`; else why not (a skip reason)."""
    if os.geteuid() != 0:
        return "needs root to switch to nobody (and root to ignore permissions otherwise)"
    if shutil.which("setpriv") is None:
        return "setpriv is not installed"
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        return "no user nobody"
    probe = subprocess.run([*nobody_prefix(), sys.executable, "-c", "import click, sqlite_utils"],
                           capture_output=True, cwd=ROOT, check=False)  # fmt: skip
    return None if probe.returncode == 0 else "the interpreter cannot run as nobody"


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A fresh 0755 directory under the system temp dir, reachable by `nobody`; removed after."""
    path = Path(tempfile.mkdtemp(prefix="pocketchat-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def write_config(where: Path, extra: str = "") -> Path:
    path = where / "fast.yaml"
    path.write_text(FAST + extra, encoding="utf-8")
    path.chmod(0o644)
    return path
