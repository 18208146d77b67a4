"""`queue status` and `queue clear --stale`: who is in the shared request queue (queue.db, or
the Redis at `queue.url`).

The queue itself keeps a ticket exactly as long as its process on this machine; these commands
show it and remove what can no longer stand (docs/queue.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from utils.queue import TicketBook


@click.group()
def queue() -> None:
    """Show and tidy the shared request queue (one line per Ollama host)."""


@contextmanager
def _book(app: Any) -> Iterator[TicketBook | None]:
    """The queue's tickets (queue.db, or Redis with `queue.url`); None when there is no
    queue.db yet; their errors as one line (an unreachable Redis: `QueueUnavailable`)."""
    from utils.queue import open_book

    path: Path = app.settings.data_path / "queue.db"
    try:
        book = open_book(app.settings.queue.url, path, app.clock)
    except (sqlite3.Error, OSError) as exc:
        if app.settings.queue.url:
            raise
        raise click.ClickException(
            f"cannot read the queue file {path}: {exc}; it holds only the waiting line, "
            "so it can be deleted while no pocketchat runs"
        ) from None
    try:
        yield book
    finally:
        if book is not None:
            book.close()


@queue.command()
@click.pass_obj
def status(app: Any) -> None:
    """List the tickets, holders and waiters, with their processes.

    One row per ticket: host, ticket (its place in line), state, pid, machine, when it joined,
    its last heartbeat and its process: running, suspended, process gone, unchecked (another
    machine), heartbeat expired or in the future. Problems go to stderr."""
    from utils.queue.health import ago, problems, views

    settings = app.settings.queue
    with _book(app) as book:
        rows, now = book.read() if book is not None else ([], app.clock.now())
    if not rows:
        click.echo("the queue is empty")
        return
    tickets = views(rows, now, settings.ticket_ttl_seconds)
    from cli.table import table

    cells = [(v.row.host, str(v.row.id), v.row.state, str(v.row.pid or "?"), v.row.machine or "?",
              ago(now - v.row.created_at), ago(now - v.row.heartbeat_at), v.status)
             for v in tickets]  # fmt: skip
    header = ("HOST", "TICKET", "STATE", "PID", "MACHINE", "AGE", "HEARTBEAT", "PROCESS")
    for line in table(header, cells):
        click.echo(line)
    found = problems(tickets, now, settings.ticket_ttl_seconds, settings.slots)
    if found:
        click.echo(f"{len(found)} problem(s): " + "; ".join(found), err=True)
        click.echo("`pocketchat queue clear --stale` removes tickets that cannot stand.", err=True)


@queue.command()
@click.option("--stale", is_flag=True, help="Remove tickets that can no longer stand.")
@click.pass_obj
def clear(app: Any, stale: bool) -> None:
    """Remove tickets that can no longer stand (with --stale).

    Stale: its process has ended (or its pid now belongs to another process), or it cannot be
    checked (another machine) and its heartbeat expired or lies in the future. A running
    process's ticket is kept, even suspended: removing it would let two requests share one
    slot; resume that process (fg, kill -CONT PID) or end it instead."""
    if not stale:
        raise click.UsageError("say what to clear: --stale (tickets that can no longer stand)")
    ttl = app.settings.queue.ticket_ttl_seconds
    with _book(app) as book:
        if book is None:
            click.echo("the queue is empty: nothing to clear")
            return
        removed, left = book.clear_stale(ttl)
    for row, verdict in removed:
        click.echo(f"removed ticket {row.id} ({row.state}, pid {row.pid or '?'}, {row.host}): "
                   f"{verdict.value}")  # fmt: skip
    click.echo(f"{len(removed)} stale ticket(s) removed, {left} standing")
