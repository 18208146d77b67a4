"""`db status` and `db migrate`: the schema version of the conversations database."""

from __future__ import annotations

import json

import click

from cli._ctx import open_unmigrated, store_errors


@click.group()
def db() -> None:
    """Inspect and upgrade the conversations database."""


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show the database path, schema version, applied and pending migrations."""
    with store_errors():
        store = open_unmigrated(ctx)
        try:
            applied, pending = store.migrations_status()
        finally:
            store.close()
    data = {
        "path": store.location,
        "schema_version": len(applied),
        "applied": [{"name": n, "applied_at": at} for n, at in applied],
        "pending": pending,
        "writable": store.writable,
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"database: {store.location}")
    click.echo(f"schema version: {len(applied)} ({applied[-1][0] if applied else 'empty'})")
    for name, at in applied:
        click.echo(f"  applied  {name}  {at}")
    for name in pending:
        click.echo(f"  pending  {name}")
    if not store.writable:
        click.echo(f"read-only: {store.read_only_reason}")


@db.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Apply pending migrations (each in its own transaction)."""
    with store_errors():
        store = open_unmigrated(ctx)
        try:
            done = store.apply_migrations()
        finally:
            store.close()
    if done:
        for name in done:
            click.echo(f"applied {name}")
    else:
        click.echo("database is up to date")
