"""What the `flow` commands need from the click context object (see cli/_ctx.py for the store).

The composition root (main.py) passes an object with a `registry()` method (the node types, built
lazily: validation imports node classes but constructs nothing); it may also offer
`flow_search_path()` (folders of named flows) and `extra_imports()` (the config's `imports`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import click

from flows.loader import FLOWS_DIR, shadow_note
from nodes.registry import Registry, builtin_registry


@runtime_checkable
class FlowContext(Protocol):
    def registry(self) -> Registry: ...


def get_registry(ctx: click.Context) -> Registry:
    """The registry from `ctx.obj.registry()`; the built-in one when no object was given."""
    obj = ctx.find_root().obj
    try:
        return obj.registry() if isinstance(obj, FlowContext) else builtin_registry()
    except Exception as exc:  # a node module that fails to import: one line, no traceback
        raise click.ClickException(f"cannot load node types: {type(exc).__name__}: {exc}") from exc


def get_search_path(ctx: click.Context) -> Sequence[Path]:
    method = getattr(ctx.find_root().obj, "flow_search_path", None)
    return tuple(method()) if callable(method) else (FLOWS_DIR,)


def get_extra_imports(ctx: click.Context) -> Sequence[str]:
    method = getattr(ctx.find_root().obj, "extra_imports", None)
    return tuple(method()) if callable(method) else ()


def note_shadowing(ctx: click.Context, name_or_file: str) -> None:
    """On stderr, one line when a flow asked for by name hides another of that name."""
    note = shadow_note(name_or_file, get_search_path(ctx))
    if note:
        click.echo(note, err=True)
