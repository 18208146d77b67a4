"""The numbered sources under a RAG answer, as the person reads them (`chat --collection`,
`ask --collection`, any flow that retrieves): `[1] notes/ops.md (chunk 2)`, one per line.

They go to stderr with the other lines about the reply, so stdout stays the answer alone (a
pipe gets the text; `--json` and `sessions show` carry the sources for programs)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click


def source_lines(sources: Sequence[Mapping[str, Any]]) -> list[str]:
    """`sources:` then `  [n] path (chunk k)` for each source the prompt held."""
    lines = ["sources:"]
    for n, source in enumerate(sources, start=1):
        lines.append(f"  [{source.get('n', n)}] {_shown(source.get('path'))} "
                     f"(chunk {source.get('chunk', '?')})")  # fmt: skip
    return lines


def show_sources(shared: Mapping[str, Any]) -> None:
    """Under a RAG turn's reply (complete or cut short): its sources. Nothing for a turn that
    retrieved nothing (a notice said so) or did not retrieve at all."""
    turn = shared.get("turn") or {}
    sources = shared.get("sources") or (turn.get("meta") or {}).get("sources")
    if not sources or not turn.get("text"):
        return
    for line in source_lines(sources):
        click.echo(line, err=True)


def _shown(path: object) -> str:
    """A path under the current directory or the home directory, shortened."""
    text = str(path or "?")
    try:
        resolved = Path(text)
        if resolved.is_absolute():
            here = Path.cwd()
            if resolved.is_relative_to(here):
                return str(resolved.relative_to(here))
            home = Path(os.path.expanduser("~"))
            if resolved.is_relative_to(home):
                return "~/" + str(resolved.relative_to(home))
    except (OSError, ValueError):
        pass
    return text
