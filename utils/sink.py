"""Where a turn's output goes. Nodes never print: they push to a sink.

The terminal sink lives in `cli/`; tests use `RecordingSink`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class Sink(Protocol):
    def reply(self, piece: str) -> None:
        """A piece of the model's reply, as it streams."""
        ...

    def reply_done(self) -> None:
        """The reply has ended (complete or not)."""
        ...

    def status(self, text: str) -> None:
        """A transient status line ("#2 in line", "loading model…", "thinking…"); "" clears."""
        ...

    def waiting(self, position: int, eta: float | None) -> None:
        """A place in Ollama's queue (on joining and at each change); the next `status` or
        `reply` ends the wait. A terminal draws it as a status; elsewhere a plain line."""
        ...

    def notice(self, text: str) -> None:
        """One line the person should read (truncation, cached answer, model switch…)."""
        ...

    def progress(self, label: str, completed: int, total: int | None, unit: str = "bytes") -> None:
        """Progress of a long job (a model pull in bytes, an ingest in chunks); total None when
        unknown. A terminal ends the line when completed reaches total."""
        ...


def queue_status(position: int, eta: float | None) -> str:
    """`#2 in line, about 6 s` (no estimate yet: `#2 in line`)."""
    return f"#{position} in line" + (f", about {eta:.0f} s" if eta else "")


@dataclass
class RecordingSink:
    """Keeps everything it is sent, for tests and for `--json` output."""

    pieces: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    progress_events: list[tuple[str, int, int | None]] = field(default_factory=list)
    progress_units: list[str] = field(default_factory=list)
    replies_done: int = 0

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def reply(self, piece: str) -> None:
        self.pieces.append(piece)

    def reply_done(self) -> None:
        self.replies_done += 1

    def status(self, text: str) -> None:
        self.statuses.append(text)

    def waiting(self, position: int, eta: float | None) -> None:
        self.statuses.append(f"{queue_status(position, eta)}…")

    def notice(self, text: str) -> None:
        self.notices.append(text)

    def progress(self, label: str, completed: int, total: int | None, unit: str = "bytes") -> None:
        self.progress_events.append((label, completed, total))
        self.progress_units.append(unit)
