"""`sessions list`: conversations newest first, with where each came from; batch sessions
(`flow run`) hidden unless asked for, and a line on stderr saying what was left out."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click

from cli._ctx import get_store, store_errors
from cli.params import Count

DEFAULT_LIMIT = 50
LIST_ORIGINS = ("chat", "ask", "flow-run", "api", "unknown")  # `sessions list --origin`


@click.command("list")
@click.option("--archived", is_flag=True, help="List archived sessions instead of active ones.")
@click.option("--limit", type=Count(), default=None,
              help="Show at most this many.  [default: 50; --all: no limit]")  # fmt: skip
@click.option(
    "--all",
    "all_",
    is_flag=True,
    help="Every session: batch ones (`flow run`, hidden by default) too, no limit.",
)
@click.option(
    "--origin",
    type=click.Choice(LIST_ORIGINS),
    help="Only sessions started by this (unknown: from before origins were kept).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of sessions.")
@click.pass_context
def list_(
    ctx: click.Context, archived: bool, limit: int | None, all_: bool, origin: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """List sessions, most recently active first; batch sessions (`flow run`) only with --all
    or --origin flow-run."""
    if limit is None and not all_:
        limit = DEFAULT_LIMIT
    with store_errors():
        store = get_store(ctx)
        rows = store.list_sessions(archived=archived, limit=limit, origin=origin, batch=all_)
        total = store.count_sessions(archived=archived, origin=origin, batch=all_)
        hidden = 0 if all_ or origin else (
            store.count_sessions(archived=archived, batch=True) - total
        )  # fmt: skip
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(r) for r in rows], indent=2, ensure_ascii=False))
    else:
        _print_sessions(rows, archived)
    for line in list_hints(len(rows), total, hidden):
        click.echo(line, err=True)


def _print_sessions(rows: list[Any], archived: bool) -> None:
    if not rows:
        click.echo("no archived sessions" if archived else "no sessions yet")
        return
    from cli.table import table

    cells = [(r.id, r.last_active_at[:16].replace("T", " "), str(r.messages),
              r.origin or "unknown", r.model, r.title or "(untitled)") for r in rows]  # fmt: skip
    header = ("ID", "LAST ACTIVE", "MSGS", "ORIGIN", "MODEL", "TITLE")
    for line in table(header, cells, right={2}):
        click.echo(line)


def list_hints(shown: int, total: int, hidden: int) -> list[str]:
    """What the listing left out: more than the limit, and batch sessions hidden."""
    lines = []
    if total > shown:
        lines.append(f"{shown} of {total} shown; --limit N or --all")
    if hidden:
        lines.append(f"{hidden} batch session(s) from `flow run` hidden; --all or "
                     "--origin flow-run shows them")  # fmt: skip
    return lines
