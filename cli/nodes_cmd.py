"""`nodes list | show TYPE`: the node types a flow can name, as they describe themselves.

Built-in types, the config's `imports:`, `--imports MODULE` (repeatable) and the `imports:` of
`--flow FILE` (imported from the flow's folder, as `flow validate` would). `show` prints the
docstring's first lines, the params (type, default, the setting a left-out param comes from),
the actions and the shared keys (inputs from the caller, reads, may read, writes, writes on an
action): nodes/keys.py reads them from the class.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli._flow_ctx import get_extra_imports, get_registry
from nodes.keys import REQUIRED, declaration, first_lines, params, type_text
from nodes.registry import Registry

__all__ = ["nodes"]

_FROM = click.option(
    "--imports",
    "modules",
    multiple=True,
    metavar="MODULE",
    help="Also a module of your own node classes (imported from the working directory; "
    "importing runs its code).",
)
_FLOW = click.option(
    "--flow",
    "flow_file",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Also the node modules a flow file lists under imports: (importing runs their code).",
)


@click.group()
def nodes() -> None:
    """List node types; show one's params, actions and the shared keys it reads and writes."""


@nodes.command("list")
@_FROM
@_FLOW
@click.pass_context
def list_nodes(ctx: click.Context, modules: tuple[str, ...], flow_file: str | None) -> None:
    """Every node type a flow can name: built-in, and your own from imports."""
    from cli.table import table

    registry = _registry(ctx, modules, flow_file)
    rows = []
    for name in registry.names():
        cls = registry.get(name)
        if cls is None:
            continue
        decl = declaration(cls)
        summary = (first_lines(cls, 1) or [""])[0].removeprefix(f"{name}: ")
        rows.append((name, ", ".join(decl.actions), registry.origin(name), summary))
    for line in table(("TYPE", "ACTIONS", "MODULE", "WHAT IT DOES"), rows, limits={3: 70}):
        click.echo(line)


@nodes.command("show")
@click.argument("type_name", metavar="TYPE")
@_FROM
@_FLOW
@click.pass_context
def show(
    ctx: click.Context, type_name: str, modules: tuple[str, ...], flow_file: str | None
) -> None:
    """A node type's params, actions and the shared keys it reads and writes."""
    registry = _registry(ctx, modules, flow_file)
    cls = registry.get(type_name)
    if cls is None:
        from flows.params import did_you_mean

        raise click.ClickException(
            f"no node type '{type_name}'{did_you_mean(type_name, registry.names())}; "
            "`nodes list` shows them (your own need --imports MODULE or --flow FILE)"
        )
    for line in describe(type_name, cls, registry.origin(type_name)):
        click.echo(line)


def describe(name: str, cls: type[Any], origin: str) -> list[str]:
    """The lines `nodes show` prints for one type."""
    decl = declaration(cls)
    lines = [f"{name}  ({origin})"]
    lines += [f"  {line}" for line in first_lines(cls, 4)]
    lines.append("params:" if params(cls) else "params: none")
    for p in params(cls):
        default = "required" if p.default is REQUIRED else f"default {p.default!r}"
        if p.setting:
            default += f" (from setting {p.setting})"
        lines.append(f"  {p.name}: {type_text(p.hint)}, {default}")
    lines.append(f"actions: {', '.join(decl.actions)}")
    if not decl.declared:
        lines.append("reads, writes: not declared (`flow validate` checks no keys around it)")
    sections = [
        ("inputs (from the caller)", decl.inputs),
        ("reads", decl.reads),
        ("may read", decl.may_read),
        ("writes", decl.writes),
        *((f"writes on {action}", keys) for action, keys in decl.writes_on.items()),
        ("may write", decl.may_write),
    ]
    for title, keys in sections:
        if keys:
            lines.append(f"{title}:")
            lines += [f"  {key}: {type_text(hint)}" for key, hint in keys.items()]
    return lines


def _registry(ctx: click.Context, modules: tuple[str, ...], flow_file: str | None) -> Registry:
    registry = get_registry(ctx)
    wanted = [(m, Path.cwd()) for m in (*get_extra_imports(ctx), *modules)]
    if flow_file is not None:
        folder = Path(flow_file).resolve().parent
        wanted += [(m, folder) for m in _flow_imports(Path(flow_file))]
    from flows.person_modules import describe_import_error, import_person_module

    for dotted, folder in wanted:
        try:
            registry.add_module(import_person_module(dotted, folder))
        except Exception as exc:  # a person's module: one line, not a traceback
            raise click.ClickException(describe_import_error(dotted, exc, folder)) from exc
    return registry


def _flow_imports(path: Path) -> list[str]:
    from flows.source import YamlProblem, parse_source

    try:
        data = parse_source(path.read_text(encoding="utf-8"), str(path)).data
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot read ({exc.strerror})") from exc
    except (YamlProblem, UnicodeDecodeError) as exc:
        what = f"{path}: not a readable flow ({exc}); see `flow validate`"
        raise click.ClickException(what) from exc
    imports = data.get("imports") if isinstance(data, dict) else None
    return [str(i) for i in imports] if isinstance(imports, list) else []
