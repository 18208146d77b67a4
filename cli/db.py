"""`db status`, `db migrate`: the schema version of the conversations database; `db copy`:
the whole history into another store (SQLite <-> Postgres), checked table by table."""

from __future__ import annotations

import json

import click

from cli._ctx import get_store, open_unmigrated, store_errors


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


@db.command("copy")
@click.option("--to", "target", required=True, metavar="URL_OR_PATH",
              help="A postgresql:// URL or a SQLite file (made if missing).")  # fmt: skip
@click.option("--force", is_flag=True,
              help="Copy into a target that holds history (its rows are kept).")  # fmt: skip
@click.pass_context
def copy_cmd(ctx: click.Context, target: str, force: bool) -> None:
    """Copy the whole history into another store (SQLite <-> Postgres), with counts and
    checksums of every table on both sides."""
    from utils.store.copy import copy

    with store_errors():
        source = get_store(ctx)
        dest = ctx.obj.open_store_at(target)
        try:
            report = copy(source, dest, force=force)
            where = dest.location
        finally:
            dest.close()
    click.echo(f"from {source.location}\nto   {where}")
    click.echo(f"{'TABLE':<18} {'SOURCE':>8} {'TARGET':>8} {'COPIED':>8}  CHECKSUMS")
    for t in report:
        sums = t.source_sum[:12] + (" = " if t.source_sum == t.target_sum else " != ")
        click.echo(f"{t.table:<18} {t.source_rows:>8} {t.target_rows:>8} {t.copied:>8}  "
                   f"{sums}{t.target_sum[:12]}{'' if t.ok else '  DIFFERS'}")  # fmt: skip
    bad = [t.table for t in report if not t.ok]
    if bad:
        raise click.ClickException(f"the copy differs from the source in: {', '.join(bad)}")
    click.echo(f"copied {sum(t.copied for t in report)} rows; every table matches")
