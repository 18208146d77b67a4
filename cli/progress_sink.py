"""The terminal sink for long jobs (`rag ingest`): a job counted in items (embedding chunks) is
shown by `cli.progress.Progress` — a bar with rate and ETA on a terminal, plain lines now and
then off one, nothing when quiet; downloads in bytes keep the sink's own line."""

from __future__ import annotations

from typing import TextIO

from cli.progress import Progress
from cli.sink import TerminalSink


class ProgressSink(TerminalSink):
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, *,
                 quiet: bool = False, every: float = 10.0) -> None:  # fmt: skip
        super().__init__(out, err)
        self.quiet, self.every = quiet, every
        self._jobs: dict[str, Progress] = {}

    def progress(self, label: str, completed: int, total: int | None, unit: str = "bytes") -> None:
        if unit == "bytes":
            super().progress(label, completed, total, unit)
            return
        with self._lock:
            self._clear_status()
            job = self._jobs.get(label)
            if job is None:
                job = Progress(total, label, unit, quiet=self.quiet, every=self.every,
                               stream=self.err)  # fmt: skip
                self._jobs[label] = job
            job.set_to(completed)
            if total is not None and completed >= total:
                job.close()

    def reply_done(self) -> None:
        for job in self._jobs.values():
            job.close()
        super().reply_done()
