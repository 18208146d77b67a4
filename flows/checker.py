"""`Checker`: collects the issues of one flow file (with file and line) while it is checked.

Used by `flows.validate` (keys, nodes, params) and `flows.graph` (edges, ends, reachability),
which therefore never import each other back.
"""

from __future__ import annotations

from pathlib import Path

from flows.errors import FlowIssue
from flows.source import Source


class Checker:
    """Collects the issues of one flow file while building its `FlowSpec`."""

    def __init__(self, source: Source, path: Path, *, imports_skipped: bool = False) -> None:
        self.source = source
        self.path = path
        self.issues: list[FlowIssue] = []
        # `flow validate --no-imports`: a type the registry lacks may come from a module not
        # imported; it is noted in `unchecked`, not an issue, and its node is left out
        self.imports_skipped = imports_skipped
        self.unchecked: list[FlowIssue] = []

    def add(self, line: int | None, node: str | None, message: str) -> None:
        self.issues.append(FlowIssue(self.source.file, line, node, message))

    def line(self, *path: str | int) -> int | None:
        return self.source.line(*path)
