"""`serve [--host 127.0.0.1] [--port 8080]`: the HTTP API (docs/serve.md).

Refuses, with one line, to listen beyond loopback while no API key exists (`keys create NAME`
makes one), a bad `serve.on_disconnect`, and a `queue.url` that is not a reachable Redis. The
app itself is in `serve/` (imported here, only when the command runs).
"""

from __future__ import annotations

import ipaddress
from typing import Any

import click

ON_DISCONNECT = ("continue", "cancel")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", "bind", default="127.0.0.1", show_default=True, metavar="ADDRESS",
              help="The address to listen on; beyond loopback only once an API key exists.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="The port (0: any free one; the line on stderr says which).")  # fmt: skip
@click.pass_obj
def serve(app: Any, bind: str, port: int) -> None:
    """Serve the HTTP API: sessions, runs with live queue positions, OpenAI-compatible chat.

    Stop it with SIGTERM or Ctrl+C: running replies may finish for serve.drain_seconds, then
    are kept, marked partial.
    """
    settings = app.settings
    if settings.serve.on_disconnect not in ON_DISCONNECT:
        raise click.UsageError(
            f"serve.on_disconnect must be continue or cancel, not {settings.serve.on_disconnect!r}"
        )
    store = app.store()
    if not is_loopback(bind) and not store.has_keys():
        raise click.UsageError(
            f"refusing to listen on {bind} with no API key: make one with "
            "`pocketchat keys create NAME` (or listen on 127.0.0.1)"
        )
    if not (settings.rate_limit.turns_per_minute or settings.serve.turns_per_minute):
        click.echo("pocketchat serve: the rate limit is off (serve.turns_per_minute: 0)", err=True)

    from serve.app import create_app
    from serve.replicas import SharingError
    from serve.server import serve as run_server

    try:
        web = create_app(app)
    except SharingError as exc:  # queue.url: a bad URL, or Redis unreachable
        raise click.ClickException(str(exc)) from exc
    try:
        run_server(web, bind, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {bind}:{port}: {exc.strerror}") from exc
