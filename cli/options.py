"""Click options shared by `chat` and `ask`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def turn_options(fn: F) -> F:
    """-m, -s/-c, --system, --flow, --collection, -o KEY VALUE, --host."""
    decorators = [
        click.option("-m", "--model", help="The model (default: the session's, else the config)."),
        click.option("-s", "--session", "session_id", metavar="ID", help="Continue session ID."),
        click.option(
            "-c", "--continue", "continue_", is_flag=True, help="Continue the most recent session."
        ),
        click.option("--system", metavar="TEXT", help="The system prompt for this session."),
        click.option("--flow", "flow", metavar="NAME|FILE", help="The turn flow (default: chat)."),
        click.option(
            "--collection",
            metavar="NAME",
            help="Answer from this RAG collection (shared['collection']; implies --flow rag).",
        ),
        click.option(
            "-o",
            "--option",
            "options",
            nargs=2,
            multiple=True,
            metavar="KEY VALUE",
            help="A model option, e.g. -o temperature 0.2.",
        ),
        click.option("--host", metavar="URL", help="The Ollama server for this command."),
    ]
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn
