"""`models` commands: list, show, pull. The service comes from `ctx.obj.llm()`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Protocol, cast

import click

from utils.ollama import quirks_for

if TYPE_CHECKING:  # ollama and httpx load only when a command runs, not for --help
    from utils.ollama import OllamaError, OllamaService, PullProgress


class HasLlm(Protocol):
    def llm(self) -> OllamaService: ...


def _service(ctx: click.Context) -> OllamaService:
    return cast(HasLlm, ctx.obj).llm()


def _fail(service: OllamaService, error: OllamaError) -> click.ClickException:
    return click.ClickException(error.user_line(service.host))


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


@click.group("models")
def models() -> None:
    """List, inspect and download Ollama models."""


@models.command("list")
@click.pass_context
def list_cmd(ctx: click.Context) -> None:
    """List the installed models."""
    service = _service(ctx)
    from utils.ollama import OllamaError

    try:
        found = service.list_models()
    except OllamaError as exc:
        raise _fail(service, exc) from None
    if not found:
        click.echo("No models installed. Try: ollama pull llama3.2:1b")
        return
    from cli.table import table

    cells = [(m.name, _size(m.size), m.family or "-", m.parameter_size or "-",
              m.quantization or "-") for m in sorted(found, key=lambda m: m.name)]  # fmt: skip
    for line in table(("NAME", "SIZE", "FAMILY", "PARAMETERS", "QUANTIZATION"), cells, right={1}):
        click.echo(line)


@models.command("show")
@click.argument("name")
@click.pass_context
def show_cmd(ctx: click.Context, name: str) -> None:
    """Show a model's family, context length, capabilities and quirks."""
    service = _service(ctx)
    from utils.ollama import OllamaError

    try:
        d = service.show(name)
    except OllamaError as exc:
        raise _fail(service, exc) from None
    quirks = quirks_for(name, d.family)
    click.echo(f"model:          {d.name}")
    click.echo(f"family:         {d.family or '-'}")
    click.echo(f"parameters:     {d.parameter_size or '-'} ({d.quantization or '-'})")
    click.echo(f"context length: {d.context_length or '-'}")
    click.echo(f"capabilities:   {', '.join(d.capabilities) or '-'}")
    for key, values in d.parameters.items():
        click.echo(f"  {key}: {', '.join(values)}")
    if quirks.note:
        click.echo(f"note:           {quirks.note}")


@models.command("pull")
@click.argument("name")
@click.pass_context
def pull_cmd(ctx: click.Context, name: str) -> None:
    """Download a model, showing progress."""
    if not name.strip():
        raise click.UsageError("give a model name, e.g. `models pull llama3.2:1b`")
    service = _service(ctx)
    tty = sys.stdout.isatty()
    last = ""
    from utils.ollama import OllamaError

    try:
        for p in service.pull(name):
            last = _report(p, tty, last)
    except OllamaError as exc:
        if tty:
            click.echo()
        raise _fail(service, exc) from None
    if tty:
        click.echo()
    click.echo(f"Pulled {name}.")


def _report(p: PullProgress, tty: bool, last: str) -> str:
    """One \\r-rewritten line on a terminal; a plain line per new status otherwise."""
    if tty:
        pct = f" {100 * (p.completed or 0) // p.total:3d}%" if p.total else ""
        click.echo(f"\r{p.status}{pct}".ljust(60), nl=False)
        return p.status
    if p.status != last:
        click.echo(p.status)
    return p.status
