"""`memory list | search | show | forget | clear`: what pocketchat remembers about a person.

The person is you (the local user of `chat` and `ask`) unless `--key NAME` names a serve-mode
API key, whose holder's memories those are. Forget and clear erase for good (the person asked:
nothing else ever deletes a memory). docs/memory.md.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from cli._ctx import get_store, store_errors

if TYPE_CHECKING:
    from utils.memory import Memory

KEY_OPTION = click.option("--key", "key_name", metavar="NAME",
                          help="A serve-mode API key's memories instead of yours.")  # fmt: skip
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group()
def memory() -> None:
    """See and erase what pocketchat remembers about you across conversations."""


def owner_of(ctx: click.Context, key_name: str | None) -> str:
    from utils.memory import LOCAL_OWNER, owner_for_key

    if key_name is None:
        return LOCAL_OWNER
    with store_errors():
        found = [k for k in get_store(ctx).list_keys() if k.name == key_name]
    if not found:
        raise click.BadParameter(f"no key named '{key_name}' (see `keys list`)",
                                 param_hint="'--key'")  # fmt: skip
    return owner_for_key(found[0].id)


def line(m: Memory) -> str:
    used = f", used {m.use_count}x" if m.use_count else ""
    return f"[m{m.id}] {m.text}  ({m.updated_at[:10]}{used})"


def parse_id(text: str) -> int:
    raw = text.strip().lower().removeprefix("[").removesuffix("]").removeprefix("m")
    if not raw.isdigit():
        raise click.BadParameter(f"'{text}' is not a memory id such as m12 or 12",
                                 param_hint="'ID'")  # fmt: skip
    return int(raw)


def _print(found: list[Memory], as_json: bool, empty: str) -> None:
    if as_json:
        click.echo(json.dumps([m.as_json() for m in found], ensure_ascii=False, indent=2))
    elif not found:
        click.echo(empty)
    else:
        for m in found:
            click.echo(line(m))


@memory.command(name="list")
@click.option("--limit", type=click.IntRange(1, None), default=None,
              help="At most N, newest first.")  # fmt: skip
@KEY_OPTION
@JSON_OPTION
@click.pass_context
def list_(ctx: click.Context, limit: int | None, key_name: str | None, as_json: bool) -> None:
    """List the memories, newest first, with their ids."""
    from utils.memory import memories_sql

    owner = owner_of(ctx, key_name)
    with store_errors():
        found = memories_sql.list_memories(get_store(ctx), owner, limit)
    _print(found, as_json, "no memories (memory.enabled turns memory on; docs/memory.md)")


@memory.command()
@click.argument("words")
@KEY_OPTION
@JSON_OPTION
@click.pass_context
def search(ctx: click.Context, words: str, key_name: str | None, as_json: bool) -> None:
    """Memories holding every one of WORDS (case and punctuation ignored)."""
    from utils.memory import memories_sql

    owner = owner_of(ctx, key_name)
    with store_errors():
        found = memories_sql.search_text(get_store(ctx), owner, words)
    _print(found, as_json, f"no memory holds '{words}'")


@memory.command()
@click.argument("memory_id", metavar="ID")
@KEY_OPTION
@JSON_OPTION
@click.pass_context
def show(ctx: click.Context, memory_id: str, key_name: str | None, as_json: bool) -> None:
    """One memory: its text, where it came from (session and message) and when it was used."""
    from utils.memory import memories_sql

    owner = owner_of(ctx, key_name)
    store = get_store(ctx)
    with store_errors():
        found = memories_sql.get(store, owner, parse_id(memory_id))
    if found is None:
        raise click.ClickException(f"no memory {memory_id} (see `memory list`)")
    source = None
    if found.source_message_id is not None:
        row = store.db.execute("SELECT content FROM messages WHERE id = ?",
                               [found.source_message_id]).fetchone()  # fmt: skip
        source = str(row[0]) if row else None
    if as_json:
        click.echo(json.dumps({**found.as_json(), "source_text": source}, ensure_ascii=False,
                              indent=2))  # fmt: skip
        return
    click.echo(f"m{found.id}: {found.text}")
    click.echo(f"from: session {found.source_session_id or '-'}, message "
               f"{found.source_message_id or '-'}")  # fmt: skip
    if source is not None:
        click.echo(f"said: {source}")
    click.echo(f"stated: {found.created_at}, last {found.updated_at}")
    click.echo(f"used: {found.use_count} times, last {found.last_used_at or 'never'}")
    click.echo(f"embedding: {found.embed_model or '-'} ({found.dims or '-'} dimensions)")


@memory.command()
@click.argument("memory_id", metavar="ID")
@KEY_OPTION
@click.pass_context
def forget(ctx: click.Context, memory_id: str, key_name: str | None) -> None:
    """Erase one memory for good."""
    from utils.memory import memories_sql

    owner = owner_of(ctx, key_name)
    with store_errors():
        gone = memories_sql.forget(get_store(ctx), owner, parse_id(memory_id))
    if not gone:
        raise click.ClickException(f"no memory {memory_id} (see `memory list`)")
    click.echo(f"forgot m{parse_id(memory_id)}")


@memory.command()
@click.option("--yes", is_flag=True, help="Really erase every memory.")
@KEY_OPTION
@click.pass_context
def clear(ctx: click.Context, yes: bool, key_name: str | None) -> None:
    """Erase every memory (of yours, or of --key NAME) for good; needs --yes."""
    from utils.memory import memories_sql

    if not yes:
        raise click.UsageError("this erases every memory for good: add --yes")
    owner = owner_of(ctx, key_name)
    with store_errors():
        n = memories_sql.clear(get_store(ctx), owner)
    click.echo(f"forgot {n} memories")
