"""Progress of long work: a tqdm bar with rate and ETA on a real pty, plain lines now and then
off a terminal, nothing when quiet — for `flow run` and `rag ingest`."""

from __future__ import annotations

import fcntl
import io
import os
import select
import struct
import termios
import time
from pathlib import Path

from cli.progress import Progress
from tests.rag_support import invoke, write_docs
from tests.standin import StandIn


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _drain(fd: int) -> str:
    chunks = []
    while select.select([fd], [], [], 0.2)[0]:
        data = os.read(fd, 65536)
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_bar_with_rate_and_eta_on_a_terminal() -> None:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    stream = os.fdopen(slave, "w", encoding="utf-8")
    try:
        assert stream.isatty()
        with Progress(4, "flow run", "runs", stream=stream) as progress:
            for _ in range(2):
                progress.step(note="ignored on a terminal")
                time.sleep(0.15)  # past tqdm's minimum interval between redraws
            shown = _drain(master)
            progress.step(2)
        shown += _drain(master)
    finally:
        stream.close()
        os.close(master)
    assert "flow run:" in shown and "2/4" in shown and "4/4" in shown
    assert "runs/s" in shown and "<" in shown  # tqdm's `elapsed<remaining`
    assert "ignored on a terminal" not in shown


def test_plain_lines_now_and_then_off_a_terminal() -> None:
    ticks, out = Ticks(), io.StringIO()
    progress = Progress(10, "flow run", "runs", stream=out, every=5.0, clock=ticks)
    for i in range(10):
        ticks.now += 1.0
        progress.step(note=f"line {i + 1} ok", force=i == 3)
    lines = out.getvalue().splitlines()
    # the first (due at once), the forced 4th, then every 5 s after the last one, and the last
    assert lines == [
        "flow run [1/10] 1.00 runs/s, eta 9s: line 1 ok",
        "flow run [4/10] 1.00 runs/s, eta 6s: line 4 ok",
        "flow run [9/10] 1.00 runs/s, eta 1s: line 9 ok",
        "flow run [10/10] 1.00 runs/s: line 10 ok",
    ]
    quiet = io.StringIO()
    Progress(3, "x", stream=quiet, quiet=True).step(3, force=True)
    assert quiet.getvalue() == ""


def test_ingest_progress_off_a_terminal_and_quiet(standin: StandIn, tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs")
    shown = invoke(standin, tmp_path / "data", "rag", "ingest", str(docs), "-C", "a")
    assert shown.exit_code == 0, shown.output
    progress = [x for x in shown.output.splitlines() if x.startswith("embedding [")]
    assert progress and progress[-1].startswith("embedding [") and "chunks/s" in progress[-1]
    done, total = progress[-1].split("[")[1].split("]")[0].split("/")
    assert done == total
    quiet = invoke(standin, tmp_path / "data", "rag", "ingest", str(docs), "-C", "b", "-q")
    assert quiet.exit_code == 0 and "embedding [" not in quiet.output, quiet.output
