"""Progress of long work (`flow run` over a file, `rag ingest`): a tqdm bar with rate and ETA on
a terminal (stderr); off a terminal, plain lines on stderr — the first, then one every
`every` seconds or whenever `plain_line` asks (a failure), and the last; nothing when quiet."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

Clock = Callable[[], float]


class Progress:
    """`step(done_text)` after each unit of work; `close()` at the end (or use `with`)."""

    def __init__(self, total: int | None, label: str, unit: str = "it", *, quiet: bool = False,
                 every: float = 10.0, stream: TextIO | None = None,
                 clock: Clock = time.monotonic) -> None:  # fmt: skip
        self.total, self.label, self.unit, self.every = total, label, unit, every
        self.stream = stream if stream is not None else sys.stderr
        self.quiet, self.clock = quiet, clock
        self.done, self.started, self.last = 0, clock(), float("-inf")
        self.bar: Any = None
        if not quiet and self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit=unit, file=self.stream,
                            dynamic_ncols=True, leave=True)  # fmt: skip

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def step(self, n: int = 1, note: str = "", *, force: bool = False) -> None:
        """`n` more done; off a terminal a line now if `force`, the first or last, or due."""
        self.done += n
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.update(n)
            return
        now = self.clock()
        last = self.total is not None and self.done >= self.total
        if force or last or now - self.last >= self.every:
            self.last = now
            self.stream.write(self.line(note) + "\n")
            self.stream.flush()

    def set_to(self, completed: int, note: str = "") -> None:
        """Jump to `completed` (a job that reports totals, like embedding batches)."""
        if completed > self.done:
            self.step(completed - self.done, note)

    def line(self, note: str = "") -> str:
        """`label [done/total] rate/s, eta`, then the note."""
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = self.done / elapsed
        of = f"/{self.total}" if self.total is not None else ""
        eta = ""
        if self.total is not None and rate > 0 and self.done < self.total:
            eta = f", eta {_duration((self.total - self.done) / rate)}"
        tail = f": {note}" if note else ""
        return f"{self.label} [{self.done}{of}] {rate:.2f} {self.unit}/s{eta}{tail}"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, s = divmod(seconds, 60)
    return f"{minutes}m{s:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"
