"""The chat's slash commands. `/help` lists them; an unknown one suggests the nearest."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from cli.repl import Repl

Handler = Callable[["Repl", str], None]
COMMANDS: dict[str, tuple[Handler, str]] = {}


def command(name: str, help_text: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = (fn, help_text)
        return fn

    return register


def dispatch(repl: Repl, line: str) -> None:
    name, _, arg = line[1:].partition(" ")
    name = name.lower()
    entry = COMMANDS.get(name)
    if entry is None:
        near = difflib.get_close_matches(name, list(COMMANDS), n=1, cutoff=0.5)
        hint = f" Did you mean /{near[0]}?" if near else ""
        say(f"Unknown command /{name}.{hint} /help lists them.")
        return
    try:
        entry[0](repl, arg.strip())
    except Exception as exc:  # one line, and the chat goes on
        from cli.errors import describe

        say(describe(exc, repl.app)[1])


def say(text: str) -> None:
    click.echo(text, err=True)


@command("help", "list the commands")
def _help(repl: Repl, arg: str) -> None:
    for name, (_fn, text) in COMMANDS.items():
        say(f"  /{name:<10} {text}")
    say('  """        start and end a message of several lines')
    say("  Ctrl+X Ctrl+E writes the message in $EDITOR; Up/Down and Ctrl+R search your history.")
    say("  Ctrl+C stops a reply (you stay in the chat); Ctrl+D leaves.")


@command("bye", "leave the chat")
def _bye(repl: Repl, arg: str) -> None:
    repl.running = False


# The commands themselves, registered (in /help's order) as these modules load.
from cli import slash_model, slash_session  # noqa: E402, F401
