"""Slash commands about the model and its settings: /model, /system, /set, /show."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cli.slash_registry import command, say

if TYPE_CHECKING:
    from cli.repl import Repl


def unquote(arg: str) -> str:
    """`"text"` or `'text'` as typed around an argument: the text inside."""
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'":
        return arg[1:-1].strip()
    return arg


def _embedding_only(repl: Repl, name: str) -> bool:
    """Whether Ollama says `name` only embeds; False when it cannot say (not installed, old)."""
    from utils.ollama import OllamaError

    try:
        return repl.llm.show(name).embedding_only
    except OllamaError:
        return False


@command("model", "list the models, or switch to NAME", args="[NAME]")
def _model(repl: Repl, arg: str) -> None:
    if not arg:
        running = {m.name for m in repl.llm.running()}
        for info in repl.llm.list_models():
            mark = "*" if info.name == repl.model else " "
            loaded = " (loaded)" if info.name in running else ""
            embeds = " (embedding only: cannot chat)" if _embedding_only(repl, info.name) else ""
            say(f" {mark} {info.name}{loaded}{embeds}")
        return
    arg = unquote(arg)
    if not arg or any(c.isspace() for c in arg):
        raise click.UsageError(
            "/model takes one model name, e.g. /model qwen2.5:0.5b; /model alone lists them"
        )
    from utils.ollama import normalise_model

    if normalise_model(arg) == normalise_model(repl.model):
        say(f"Already using {repl.model}.")
        return
    from utils.ollama import pull_if_missing

    # pull it now (auto_pull), or say how, before switching
    auto_pull = repl.app.settings.ollama.auto_pull == "true"
    pull_if_missing(repl.llm, arg, auto_pull=auto_pull, sink=repl.sink)
    if _embedding_only(repl, arg):
        raise click.UsageError(
            f"{arg} is an embedding model: it cannot chat (it serves RAG collections); "
            f"staying with {repl.model}. /model lists the models."
        )
    running = {normalise_model(m.name) for m in repl.llm.running()}
    old, repl.model = repl.model, arg
    say(f"Switched from {old} to {arg}; the conversation goes on with the new model.")
    if normalise_model(arg) not in running:
        say(f"{arg} is not loaded: Ollama loads it for the next reply (loading in the background).")
        repl.start_warmup(arg)


@command(
    "system", "show the system prompt, set it to TEXT, or clear it", args="[TEXT|--clear]"
)
def _system(repl: Repl, arg: str) -> None:
    if not arg:
        current = repl.pending_system or (repl.session.system if repl.session else None)
        say(current or "(no system prompt)")
        return
    text = unquote(arg)
    if arg == "--clear" or not text:  # `/system ""` means no system prompt, not the text ""
        repl.pending_system = None
        if repl.session is not None:
            repl.store.update_session(repl.session.id, system=None)
            repl.session = repl.store.get_session(repl.session.id)
        say("System prompt cleared.")
        return
    if repl.session is not None:
        repl.store.update_session(repl.session.id, system=text)
        repl.session = repl.store.get_session(repl.session.id)
    else:
        repl.pending_system = text
    say("System prompt set.")


@command(
    "set",
    "set a model option, or cache on|off, keep_alive 30m, think true|false, "
    "context shared|per-model; /set alone shows them",
    args="KEY VALUE",
)
def _set(repl: Repl, arg: str) -> None:
    from utils.ollama import parse_option, validate_options

    current = {**(repl.session.options if repl.session else {}), **repl.pending_options}
    if not arg:
        if not current:
            say("(no options set: the model's defaults apply)")
        for key, value in sorted(current.items()):
            say(f"  {key} = {_shown(key, value)}")
        say(f"  context = {_context_mode(repl)}")
        return
    key, _, value = arg.partition(" ")
    value = value.strip()
    if not value:
        raise click.UsageError(f"/set {key} needs a value, e.g. /set temperature 0.2")
    if key == "context":
        _set_context(repl, value)
        return
    parsed: dict[str, object]
    if key == "cache":
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
    shown = _shown(key, next(iter(parsed.values())))
    say(f"cache: {shown}" if key == "cache" else f"Set {key} = {shown}.")


def _shown(key: str, value: object) -> str:
    """A value as it is typed: cache on/off, other switches true/false."""
    if isinstance(value, bool):
        return ("on" if value else "off") if key == "cache" else str(value).lower()
    return str(value)


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
    from utils.ollama import quirks_for

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
    pins = repl.store.pinned(session.id) if session is not None else []
    say(f"pinned:   {len(pins) or 'none'}" + (" (/unpin N lets one go)" if pins else ""))
    for number, message in enumerate(pins, 1):
        text = " ".join(message.content.split())
        say(f"  {number}. {message.role}: {text[:70]}{'…' if len(text) > 70 else ''}")
