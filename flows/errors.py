"""The flow loader's errors: every problem names the file, the line and the node."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlowIssue:
    """One problem found in a flow file; `line` is 1-based, `node` the YAML node id."""

    file: str
    line: int | None
    node: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        who = f" node '{self.node}':" if self.node else ""
        return one_line(f"{where}:{who} {self.message}")


def one_line(text: str) -> str:
    """Control characters (a node id of "\\r", a NUL in a key) shown escaped, so one issue is
    always one printed line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class FlowError(Exception):
    """A flow file cannot be used; `issues` holds every problem found, in file order."""

    def __init__(self, issues: list[FlowIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.file, i.line or 0))
        first = str(self.issues[0]) if self.issues else "invalid flow"
        more = len(self.issues) - 1
        super().__init__(first + (f" (and {more} more problems)" if more else ""))


class FlowRoutingError(RuntimeError):
    """At run time, a node returned an action that has no edge and does not end the flow."""
