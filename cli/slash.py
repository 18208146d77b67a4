"""The chat's slash commands. `/help` lists them; an unknown one suggests the nearest.

The chat command hands `dispatch` to the `Repl` (cli/chat.py), so the REPL never imports this
module and the command modules never import it back (they register in cli/slash_registry.py).
"""

from __future__ import annotations

import difflib
import shutil
import textwrap
from typing import TYPE_CHECKING

from cli.slash_registry import ARGS, COMMANDS, command, say

if TYPE_CHECKING:
    from cli.repl import Repl


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


@command("help", "list the commands")
def _help(repl: Repl, arg: str) -> None:
    for line in help_lines(shutil.get_terminal_size().columns):
        say(line)


def help_lines(columns: int) -> list[str]:
    """/help: each command with what it takes in one column, what it does in the next
    (wrapped under itself on a narrow terminal), then the keys."""
    usage = [(f"/{name} {ARGS.get(name, '')}".rstrip(), text)
             for name, (_fn, text) in COMMANDS.items()]  # fmt: skip
    usage.append(('"""', "start and end a message of several lines"))
    width = max(len(u) for u, _ in usage)
    room = max(30, columns - width - 5)
    lines = []
    for left, text in usage:
        wrapped = textwrap.wrap(text, room, break_on_hyphens=False) or [""]
        lines.append(f"  {left:<{width}}  {wrapped[0]}")
        lines += [f"  {'':<{width}}  {more}" for more in wrapped[1:]]
    return [
        *lines,
        "  Ctrl+X Ctrl+E writes the message in $EDITOR; Up/Down and Ctrl+R search your history.",
        "  Ctrl+C stops a reply (you stay in the chat); Ctrl+D leaves.",
    ]


@command("bye", "leave the chat")
def _bye(repl: Repl, arg: str) -> None:
    repl.running = False


# The commands themselves, registered (in /help's order) as these modules load.
from cli import slash_model, slash_session  # noqa: E402, F401, I001
from cli import slash_memory  # noqa: E402, F401  (last in /help)
