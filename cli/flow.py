"""`flow list | show | validate` (drawn and checked); `run` and `compare` live in flow_run.py."""

from __future__ import annotations

from pathlib import Path

import click

from cli._flow_ctx import get_extra_imports, get_registry, get_search_path, note_shadowing
from flows.errors import FlowError
from flows.loader import available_flows, load_flow, shadow_note, shadowed
from flows.render import mermaid, outline
from flows.source import YamlProblem, parse_source
from flows.spec import FlowSpec

__all__ = ["flow", "get_registry"]


@click.group()
def flow() -> None:
    """List, show, validate, run and compare the YAML flows."""


@flow.command("list")
@click.pass_context
def list_flows(ctx: click.Context) -> None:
    """Name, description and file of every flow in the flows folder."""
    found = available_flows(get_search_path(ctx))
    if not found:
        click.echo("no flows found")
        return
    from cli.table import table

    rows = [(*_summary(path), str(path)) for path in found.values()]
    for line in table(("NAME", "DESCRIPTION", "FILE"), rows, limits={1: 60}):
        click.echo(line)
    for name in shadowed(get_search_path(ctx)):
        click.echo(shadow_note(name, get_search_path(ctx)), err=True)


@flow.command("show")
@click.argument("name_or_file")
@click.pass_context
def show(ctx: click.Context, name_or_file: str) -> None:
    """Draw a flow (mermaid `flowchart TD`) and outline its nodes, params and edges.

    Modules listed under the flow's `imports:` (and the config's `imports:`) are imported,
    which runs their code: only use flow files you trust (`flow validate --no-imports`
    checks a file without running anything)."""
    spec = _load_or_exit(ctx, name_or_file)
    click.echo("```mermaid")
    click.echo(mermaid(spec))
    click.echo("```")
    click.echo()
    click.echo(outline(spec))


@flow.command("validate")
@click.argument("name_or_file")
@click.option(
    "--no-imports",
    is_flag=True,
    help="Import nothing: check the structure of a file you do not trust; types its imports "
    "would add are listed as not checked.",
)
@click.pass_context
def validate(ctx: click.Context, name_or_file: str, no_imports: bool) -> None:
    """Check a flow file; print every problem as file:line: node 'x': message (exit 1).

    Modules listed under the flow's `imports:` (and the config's `imports:`) are imported,
    which runs their code: only use flow files you trust; --no-imports checks the file without
    running anything."""
    spec = _load_or_exit(ctx, name_or_file, run_imports=not no_imports)
    unchecked = spec.all_unchecked()
    for line in (*spec.all_warnings(), *unchecked):
        click.echo(line)
    tail = f"; {len(unchecked)} not checked: imports not run" if unchecked else ""
    click.echo(f"ok: {spec.file} ({len(spec.nodes) + len(spec.unchecked)} nodes{tail})")


def _load_or_exit(ctx: click.Context, name_or_file: str, *, run_imports: bool = True) -> FlowSpec:
    registry = get_registry(ctx)
    note_shadowing(ctx, name_or_file)
    try:
        return load_flow(
            name_or_file,
            registry,
            search_path=get_search_path(ctx),
            extra_imports=get_extra_imports(ctx),
            run_imports=run_imports,
        )
    except FlowError as exc:
        for issue in exc.issues:
            click.echo(str(issue))
        ctx.exit(1)


def _summary(path: Path) -> tuple[str, str]:
    """(name, description) read leniently: a broken file still gets listed."""
    try:
        data = parse_source(path.read_text(encoding="utf-8"), str(path)).data
    except (OSError, YamlProblem):
        return path.stem, "(unreadable: run `flow validate`)"
    if not isinstance(data, dict):
        return path.stem, "(not a flow: run `flow validate`)"
    return str(data.get("name", path.stem)), str(data.get("description", ""))


def _register_experiments() -> None:
    from cli.flow_run import compare, run

    flow.add_command(run)
    flow.add_command(compare)


_register_experiments()
