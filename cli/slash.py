"""The chat's slash commands. `/help` lists them; an unknown one suggests the nearest."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from pathlib import Path
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
    say("  Ctrl+C stops a reply (you stay in the chat); Ctrl+D leaves.")


@command("bye", "leave the chat")
def _bye(repl: Repl, arg: str) -> None:
    repl.running = False


@command("model", "[NAME] list the models, or switch to NAME")
def _model(repl: Repl, arg: str) -> None:
    if not arg:
        running = {m.name for m in repl.llm.running()}
        for info in repl.llm.list_models():
            mark = "*" if info.name == repl.model else " "
            loaded = " (loaded)" if info.name in running else ""
            say(f" {mark} {info.name}{loaded}")
        return
    from utils.ollama_types import normalise_model

    if normalise_model(arg) == normalise_model(repl.model):
        say(f"Already using {repl.model}.")
        return
    running = {normalise_model(m.name) for m in repl.llm.running()}
    old, repl.model = repl.model, arg
    say(f"Switched from {old} to {arg}; the conversation goes on with the new model.")
    if normalise_model(arg) not in running:
        say(f"{arg} is not loaded: Ollama loads it for the next reply (loading in the background).")
        repl.start_warmup(arg)


@command("system", "[TEXT] show or set the system prompt")
def _system(repl: Repl, arg: str) -> None:
    if not arg:
        current = repl.pending_system or (repl.session.system if repl.session else None)
        say(current or "(no system prompt)")
        return
    if repl.session is not None:
        repl.store.update_session(repl.session.id, system=arg)
        repl.session = repl.store.get_session(repl.session.id)
    else:
        repl.pending_system = arg
    say("System prompt set.")


@command(
    "set",
    "KEY VALUE set a model option, or cache on|off, keep_alive 30m, context shared|per-model;"
    " /set alone shows them",
)
def _set(repl: Repl, arg: str) -> None:
    from utils.options import parse_option, validate_options

    current = {**(repl.session.options if repl.session else {}), **repl.pending_options}
    if not arg:
        if not current:
            say("(no options set: the model's defaults apply)")
        for key, value in sorted(current.items()):
            say(f"  {key} = {value}")
        say(f"  context = {_context_mode(repl)}")
        return
    key, _, value = arg.partition(" ")
    value = value.strip()
    if not value:
        raise click.UsageError(f"/set {key} needs a value, e.g. /set temperature 0.2")
    if key == "context":
        _set_context(repl, value)
        return
    if key == "keep_alive":
        parsed: dict[str, object] = {"keep_alive": value}
    elif key == "cache":
        if value not in ("on", "off"):
            raise click.UsageError("/set cache takes on or off")
        parsed = {"cache": value == "on"}
    else:
        parsed = validate_options({key: parse_option(key, value)})
    if key == "num_ctx":
        say("Changing num_ctx makes Ollama reload the model for the next reply.")
    if repl.session is not None:
        repl.store.update_session(repl.session.id, options={**repl.session.options, **parsed})
        repl.session = repl.store.get_session(repl.session.id)
    else:
        repl.pending_options.update(parsed)
    say(f"Set {key} = {next(iter(parsed.values()))}.")


def _context_mode(repl: Repl) -> str:
    if repl.pending_context_mode:
        return repl.pending_context_mode
    return repl.session.context_mode if repl.session else repl.app.settings.chat.context_mode


def _set_context(repl: Repl, value: str) -> None:
    from nodes.load_session import CONTEXT_MODES

    if value not in CONTEXT_MODES:
        raise click.UsageError("/set context takes shared or per-model")
    if repl.session is not None:
        repl.store.update_session(repl.session.id, context_mode=value)
        repl.session = repl.store.get_session(repl.session.id)
    else:
        repl.pending_context_mode = value
    if value == "per-model":
        say("Set context = per-model: each model now sees only its own thread of this chat.")
    else:
        say("Set context = shared: every model sees the whole conversation.")


@command("show", "the session, model, tokens used and the last turn's timings")
def _show(repl: Repl, arg: str) -> None:
    from utils.quirks import quirks_for

    session = repl.session
    say(f"session:  {session.id if session else '(new; starts with your first message)'}")
    if session is not None:
        say(f"title:    {session.title or '(untitled)'}")
        say(f"messages: {repl.store.message_count(session.id)}")
    say(f"model:    {repl.model} (context {_context_mode(repl)})")
    note = quirks_for(repl.model).note
    if note:
        say(f"note:     {note}")
    turn = repl.last_turn.get("turn") or {}
    context = repl.last_turn.get("context") or {}
    if context:
        used = turn.get("prompt_tokens") or context.get("estimated_tokens")
        say(
            f"context:  {used:,} of {context['num_ctx']:,} tokens"
            + (f" ({context['dropped']} older messages left out)" if context.get("dropped") else "")
        )
    timings = turn.get("timings") or {}
    if timings:
        shown = ", ".join(f"{k} {v:.2f}" for k, v in timings.items() if isinstance(v, float))
        say(f"timings:  {shown}")


@command("sessions", "list recent sessions")
def _sessions(repl: Repl, arg: str) -> None:
    for s in repl.store.list_sessions(limit=15):
        mark = "*" if repl.session and s.id == repl.session.id else " "
        say(
            f" {mark} {s.id}  {s.updated_at[:16]}  {s.messages:>4} msgs  {s.model:<16} "
            f"{s.title or ''}"
        )


@command("load", "ID continue another session")
def _load(repl: Repl, arg: str) -> None:
    if not arg:
        raise click.UsageError("/load needs a session id (see /sessions)")
    session = repl.store.resolve_session(arg)
    if session.status == "archived":
        repl.store.restore(session.id)
        session = repl.store.resolve_session(session.id)
    repl.switch_session(session)
    say(f"Loaded {session.id} ({session.title or 'untitled'}), model {session.model}.")


@command("new", "[TITLE] start a new session")
def _new(repl: Repl, arg: str) -> None:
    repl.switch_session(None)
    repl.pending_title = arg or None
    say("New session: it starts with your next message.")


@command("title", "TEXT rename the session")
def _title(repl: Repl, arg: str) -> None:
    if not arg:
        raise click.UsageError("/title needs the new title")
    if repl.session is None:
        repl.pending_title = arg
    else:
        repl.store.update_session(repl.session.id, title=arg)
        repl.session = repl.store.get_session(repl.session.id)
    say(f"Title: {arg}")


@command("history", "[N] show the last N messages (default 10)")
def _history(repl: Repl, arg: str) -> None:
    if repl.session is None:
        say("(no messages yet)")
        return
    count = int(arg) if arg.isdigit() else 10
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
    say(f"Pinned: {last[-1].content[:60]}")


@command("export", "[md|json] write the session to a file here")
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
