"""`ask` on a data disk that is full (issue 14, item 1): a real tmpfs, filled to the last byte
after the database exists. The reply is still shown, the person reads one "not being saved"
line, the exit status is 0 (answered), and nothing prints a traceback or a logging error — the
log file cannot be written, the queue file cannot set up its WAL, the database cannot make
its WAL index. What was stored before stays, and nothing new is written.
"""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.real_runs import pocketchat, write_config
from tests.standin import StandIn

FLOOR = "disk:\n  min_free_mb: 0.5\n"  # below the real free space until it is filled


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted for this test; unmounted after."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def fill(disk: Path) -> Path:
    """Write one file until the disk refuses another byte."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as fh:
        chunk = b"\0" * 4096
        try:
            while True:
                fh.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        try:
            while True:
                fh.write(b"\0")
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_ask_on_a_full_disk_answers_and_says_so_once(
    small_disk: Path, tmp_path: Path, standin: StandIn
) -> None:
    data = small_disk / "data"
    config = write_config(tmp_path, FLOOR)
    first = pocketchat(data, "ask", "hello", host=standin.url, config=config)
    assert first.returncode == 0, first.stderr
    stored = pocketchat(data, "sessions", "list").stdout
    assert _messages(stored) == 2
    filler = fill(small_disk)

    for args in (["ask", "hello again"], ["ask", "-c", "and again"]):
        result = pocketchat(data, *args, host=standin.url, config=config)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("Hello! I am the stand-in model.")
        said = [line for line in result.stderr.splitlines() if "not being saved" in line]
        assert len(said) == 1 and "disk is full" in said[0], result.stderr
        for bad in ("Traceback", "Logging error", "internal error", "OperationalError"):
            assert bad not in result.stderr, result.stderr
        assert len(result.stderr) < 600, result.stderr  # a notice and one queue line, no more

    listed = pocketchat(data, "sessions", "list")
    assert listed.returncode == 0 and listed.stdout == stored, listed.stderr
    filler.unlink()
    assert pocketchat(data, "sessions", "list").stdout == stored  # nothing new was written
    again = pocketchat(data, "ask", "-c", "room again", host=standin.url, config=config)
    assert again.returncode == 0 and "not being saved" not in again.stderr, again.stderr
    assert _messages(pocketchat(data, "sessions", "list").stdout) == 4


def _messages(listing: str) -> int:
    """The MSGS column of the one session `sessions list` shows (under its header row)."""
    header, line = listing.splitlines()
    return int(line.split()[header.split().index("MSGS")])  # LAST ACTIVE: two words, as its value
