"""The slash-command table: `@command` registers a handler, `say` prints a line to stderr.

The commands live in cli/slash.py (/help, /bye), cli/slash_model.py and cli/slash_session.py;
cli/slash.py dispatches. Kept apart so the command modules never import the dispatcher back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from cli.repl import Repl

Handler = Callable[["Repl", str], None]
COMMANDS: dict[str, tuple[Handler, str]] = {}
ARGS: dict[str, str] = {}  # what a command takes, as /help shows it: "[NAME]", "KEY VALUE"


def command(name: str, help_text: str, args: str = "") -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = (fn, help_text)
        ARGS[name] = args
        return fn

    return register


def say(text: str) -> None:
    click.echo(text, err=True)
