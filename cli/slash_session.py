"""Slash commands about sessions: /sessions, /load, /new, /title, /history, /retry, /clear,
/pin, /unpin, /export, and /prompt (the last request sent)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.slash_registry import command, say

if TYPE_CHECKING:
    from cli.repl import Repl


@command("sessions", "list recent sessions")
def _sessions(repl: Repl, arg: str) -> None:
    for s in repl.store.list_sessions(limit=15):
        mark = "*" if repl.session and s.id == repl.session.id else " "
        say(
            f" {mark} {s.id}  {s.updated_at[:16]}  {s.messages:>4} msgs  {s.model:<16} "
            f"{s.title or ''}"
        )


@command("load", "continue another session", args="ID")
def _load(repl: Repl, arg: str) -> None:
    if not arg:
        raise click.UsageError("/load needs a session id (see /sessions)")
    session = repl.store.resolve_session(arg)
    if session.status == "archived":
        repl.store.restore(session.id)
        session = repl.store.resolve_session(session.id)
    repl.switch_session(session)
    say(f"Loaded {session.id} ({session.title or 'untitled'}), model {session.model}.")


@command("new", "start a new session", args="[TITLE]")
def _new(repl: Repl, arg: str) -> None:
    repl.switch_session(None)
    repl.pending_title = arg or None
    say("New session: it starts with your next message.")


@command("title", "rename the session", args="TEXT")
def _title(repl: Repl, arg: str) -> None:
    if not arg:
        raise click.UsageError("/title needs the new title")
    if repl.session is None:
        repl.pending_title = arg
    else:
        repl.store.update_session(repl.session.id, title=arg)
        repl.session = repl.store.get_session(repl.session.id)
    say(f"Title: {arg}")


@command("history", "show the last N messages (default 10)", args="[N]")
def _history(repl: Repl, arg: str) -> None:
    if repl.session is None:
        say("(no messages yet)")
        return
    if arg and not arg.isdigit():
        raise click.UsageError(f"/history takes a number of messages, not {arg!r}")
    count = int(arg) if arg else 10
    for m in repl.store.window(repl.session.id, count):
        status = "" if m.status == "complete" else f" [{m.status}]"
        say(f"{m.role}{status}: {m.content}")


@command("retry", "regenerate the last reply")
def _retry(repl: Repl, arg: str) -> None:
    if repl.session is None:
        say("Nothing to retry yet.")
        return
    repl.ask("", regenerate=True)


@command("clear", "start a fresh context (old messages are kept)")
def _clear(repl: Repl, arg: str) -> None:
    if repl.session is None:
        say("The context is already empty.")
        return
    last = repl.store.window(repl.session.id, 1)
    start = (last[-1].seq + 1) if last else 0
    repl.store.update_session(repl.session.id, context_start_seq=start)
    repl.session = repl.store.get_session(repl.session.id)
    say("Context cleared; earlier messages are kept in the session.")


@command("pin", "keep the last message in every prompt")
def _pin(repl: Repl, arg: str) -> None:
    last = repl.store.window(repl.session.id, 1) if repl.session else []
    if not last:
        say("Nothing to pin yet.")
        return
    repl.store.update_message(last[-1].id, pinned=True)
    say(f"Pinned: {last[-1].content[:60]} (/show lists pins; /unpin lets it go)")


@command("unpin", "let the newest pin go (or pin N of /show's list, or all)", args="[N|all]")
def _unpin(repl: Repl, arg: str) -> None:
    pins = repl.store.pinned(repl.session.id) if repl.session else []
    if not pins:
        say("Nothing is pinned.")
        return
    if arg == "all":
        chosen = pins
    elif not arg:
        chosen = [max(pins, key=lambda m: m.seq)]  # the undo of the last /pin
    elif arg.isdigit() and 1 <= int(arg) <= len(pins):
        chosen = [pins[int(arg) - 1]]
    else:
        raise click.UsageError(f"/unpin takes a number from 1 to {len(pins)} (see /show) or all")
    for message in chosen:
        repl.store.update_message(message.id, pinned=False)
    if len(chosen) == 1:
        say(f"Unpinned: {chosen[0].content[:60]}")
    else:
        say(f"Unpinned {len(chosen)} messages.")


@command("export", "write the session to a file here", args="[md|json]")
def _export(repl: Repl, arg: str) -> None:
    if repl.session is None:
        say("Nothing to export yet.")
        return
    fmt = arg or "md"
    if fmt not in ("md", "json"):
        raise click.UsageError("/export takes md or json")
    path = Path(f"pocketchat-{repl.session.id}.{fmt}")
    if fmt == "md":
        path.write_text(repl.store.export_markdown(repl.session.id), encoding="utf-8")
    else:
        data = repl.store.export_json(repl.session.id)
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    say(f"Exported to {path.resolve()}")


@command("prompt", "show the exact messages and options of the last request, with tokens")
def _prompt(repl: Repl, arg: str) -> None:
    from cli.prompt_view import prompt_lines

    shared = repl.runner.last_shared
    if not shared:
        say("No turn yet in this chat: /prompt shows the last request once one is sent.")
        return
    for line in prompt_lines(shared.get("request")):
        say(line)
