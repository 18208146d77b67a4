"""`sessions ...`: list, show, search, export, archive, restore and delete conversations."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import click

from cli._ctx import get_settings, get_store, store_errors
from cli.params import Count, Days
from cli.sessions_list import list_


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.group()
def sessions() -> None:
    """Saved conversations: list, show, search, export, archive, restore, delete."""


sessions.add_command(list_)


@sessions.command()
@click.argument("session_id")
@click.option("--json", "as_json", is_flag=True, help="Print the session and messages as JSON.")
@click.pass_context
def show(ctx: click.Context, session_id: str, as_json: bool) -> None:
    """Show one session (ID or a unique prefix of at least 4 characters)."""
    with store_errors():
        store = get_store(ctx)
        if as_json:
            _echo_json(store.export_json(session_id))
            return
        session = store.resolve_session(session_id)
        click.echo(f"{session.id}  {session.title or '(untitled)'}  [{session.status}]")
        click.echo(f"model: {session.model}  created: {session.created_at}")
        if session.system:
            click.echo(f"system: {session.system}")
        for m in store.messages(session.id):
            mark = "" if m.status == "complete" else f" [{m.status}]"
            click.echo(f"\n#{m.seq} {m.role}{mark}{' (' + m.model + ')' if m.model else ''}")
            click.echo(m.content)
            for src in m.meta.get("sources") or []:
                click.echo(f"  [{src.get('n')}] {src.get('path')} (chunk {src.get('chunk')}, "
                           f"id {src.get('chunk_id')}, score {src.get('score')}, "
                           f"{src.get('model')})")  # fmt: skip


@sessions.command()
@click.argument("query")
@click.option(
    "--limit", type=Count(), default=20, show_default=True, help="Show at most this many hits."
)
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
@click.pass_context
def search(ctx: click.Context, query: str, limit: int, as_json: bool) -> None:
    """Full-text search of every message, archived sessions included."""
    if not query.strip():
        raise click.UsageError("give words to search for, e.g. `sessions search WAL mode`")
    with store_errors():
        hits = get_store(ctx).search(query, limit)
    if as_json:
        _echo_json([dataclasses.asdict(h) for h in hits])
        return
    if not hits:
        click.echo("no matches")
    for h in hits:
        click.echo(f"{h.session_id} #{h.seq} {h.role}: {h.snippet}")


@sessions.command()
@click.argument("session_id")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md",
              show_default=True, help="Markdown to read, JSON to keep everything.")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout.")  # fmt: skip
@click.pass_context
def export(ctx: click.Context, session_id: str, fmt: str, output: Path | None) -> None:
    """Export a session with all messages, statuses, models, timings and metadata."""
    with store_errors():
        store = get_store(ctx)
        if fmt == "json":
            text = json.dumps(store.export_json(session_id), indent=2, ensure_ascii=False) + "\n"
        else:
            text = store.export_markdown(session_id)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        from utils.paths import write_private

        write_private(output, text)  # 0600: a conversation is private
    except OSError as exc:
        raise click.ClickException(f"{output}: cannot write ({exc.strerror}).") from exc
    click.echo(f"wrote {output}", err=True)


@sessions.command()
@click.argument("session_ids", nargs=-1)
@click.option(
    "--idle-days",
    type=Days(),
    default=None,
    help="Archive sessions idle longer than this (default: archive.idle_days).",
)
@click.pass_context
def archive(ctx: click.Context, session_ids: tuple[str, ...], idle_days: float | None) -> None:
    """Archive the given sessions, or every idle one; nothing is deleted."""
    with store_errors():
        store = get_store(ctx)
        if session_ids:
            done = []
            for key in session_ids:
                session = store.resolve_session(key)
                store.archive(session.id)
                done.append(session.id)
        else:
            days = idle_days if idle_days is not None else get_settings(ctx).archive.idle_days
            done = store.archive_idle(days)
    click.echo(f"archived {len(done)} session(s)" + (": " + " ".join(done) if done else ""))


@sessions.command()
@click.argument("session_id")
@click.pass_context
def restore(ctx: click.Context, session_id: str) -> None:
    """Make an archived session active again."""
    with store_errors():
        store = get_store(ctx)
        session = store.resolve_session(session_id)
        if session.status != "archived":
            click.echo(f"{session.id} is not archived (it is {session.status}): nothing to restore")
            return
        store.restore(session.id)
    click.echo(f"restored {session.id}")


@sessions.command()
@click.argument("session_id")
@click.option("--yes", is_flag=True, help="Delete without asking.")
@click.pass_context
def delete(ctx: click.Context, session_id: str, yes: bool) -> None:
    """Delete a session and all its messages, for good."""
    with store_errors():
        store = get_store(ctx)
        session = store.resolve_session(session_id)
        count = store.message_count(session.id)
        if not yes:
            if not sys.stdin.isatty():
                raise click.UsageError("refusing to delete without --yes (not a terminal)")
            click.confirm(
                f"Delete session {session.id} ({session.title or 'untitled'}, "
                f"{count} messages) for good?",
                abort=True,
            )
        store.delete_session(session.id)
    click.echo(f"deleted {session.id} ({count} messages)")
