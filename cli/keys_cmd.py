"""`keys create NAME | list | revoke NAME`: the API keys serve mode asks for (docs/serve.md).

A key is printed once, alone on stdout, when it is made (`KEY=$(pocketchat keys create ci)`);
only its hash is stored. While any key is live, every `/v1` request needs
`Authorization: Bearer KEY`; with none, `serve` answers anyone on loopback only.
"""

from __future__ import annotations

import click

from cli._ctx import get_store, store_errors


@click.group()
def keys() -> None:
    """Make, list and revoke API keys for `serve`."""


@keys.command()
@click.argument("name")
@click.pass_context
def create(ctx: click.Context, name: str) -> None:
    """Make a key named NAME and print it (alone on stdout, shown only this once).

    NAME: 1-64 letters, digits, '.', '_', '@' or '-'; unique, also among revoked keys."""
    with store_errors():
        key_id, secret = get_store(ctx).create_key(name)
    click.echo(secret)
    click.echo(f"key '{name}' ({key_id}) made; it is not shown again", err=True)


@keys.command(name="list")
@click.pass_context
def list_keys(ctx: click.Context) -> None:
    """List the keys: name, id, state (live or revoked), made, last used. Never the key."""
    from cli.table import table

    with store_errors():
        found = get_store(ctx).list_keys()
    if not found:
        click.echo("no keys (serve answers without one, on loopback only)")
        return
    rows = [(k.name, k.id, "revoked" if k.revoked_at else "live", _day(k.created_at),
             _day(k.last_used_at)) for k in found]  # fmt: skip
    for line in table(("NAME", "ID", "STATE", "CREATED", "LAST USED"), rows):
        click.echo(line)


@keys.command()
@click.argument("name")
@click.pass_context
def revoke(ctx: click.Context, name: str) -> None:
    """Revoke the key named NAME: it stops working at once (kept in `keys list`)."""
    with store_errors():
        key = get_store(ctx).revoke_key(name)
    click.echo(f"key '{key.name}' revoked at {_day(key.revoked_at)}")


def _day(stamp: str | None) -> str:
    """`2026-11-29T15:50:02.123456Z` -> `2026-11-29 15:50`; None -> `-`."""
    return "-" if stamp is None else stamp[:16].replace("T", " ")
