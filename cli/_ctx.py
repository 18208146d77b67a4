"""How commands reach the store: through `ctx.obj`, built by the composition root.

`ctx.obj` is any object with `.settings` (config.settings.Settings) and `.store()` returning an
open, migrated Store (the root owns closing it). It may also offer `.clock`; `db` commands that
must open the file without migrating use it (else the system clock).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from utils.store import StoreError

if TYPE_CHECKING:
    from config.settings import Settings
    from utils.store import Store


def get_store(ctx: click.Context) -> Store:
    store: Store = ctx.obj.store()
    return store


def get_settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj.settings
    return settings


def open_unmigrated(ctx: click.Context) -> Store:
    """The store without applying migrations (for `db status` / `db migrate`); caller closes."""
    store: Store = ctx.obj.open_store(migrate=False)
    return store


@contextmanager
def store_errors() -> Iterator[None]:
    """Turn a store's one-line error into click's one-line error (exit status 1)."""
    try:
        yield
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
