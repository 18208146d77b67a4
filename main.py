"""pocketchat: conversations with local LLMs served by Ollama.

The command-line entry point. Commands are imported only when they run, so `--help` and
start-up stay fast (ollama, pocketflow and the store are never imported for `--help`).
The objects every command uses are built in one place, `app/root.py` (the composition root).
"""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Any

# What pyproject.toml installs (import names). A missing one means this Python is not the
# project's: one line says what to run instead of a traceback.
DEPENDENCIES = frozenset({
    "click", "httpx", "numpy", "ollama", "pocketflow", "prometheus_client", "prompt_toolkit",
    "pydantic", "pypdf", "sqlite_utils", "sse_starlette", "starlette", "structlog", "uvicorn",
    "yaml",
})  # fmt: skip


def not_installed(missing: ModuleNotFoundError) -> str | None:
    """The line for a dependency this Python lacks; None when `missing` is something else."""
    name = (missing.name or "").partition(".")[0]
    if name not in DEPENDENCIES:
        return None
    return (
        f"pocketchat: the module '{name}' is not installed for {sys.executable}. "
        "Run `make chat` once (it installs into ./.venv), then `source .venv/bin/activate` "
        "and use `pocketchat …` (or run `.venv/bin/pocketchat …`)."
    )


try:
    import click
except ModuleNotFoundError as _missing:  # not the project's Python
    sys.exit(not_installed(_missing) or str(_missing))

# name -> (module, attribute, one-line help shown by `--help` without importing the module)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "chat": ("cli.chat", "chat", "Chat with a model in the terminal."),
    "ask": ("cli.ask", "ask", "Ask one question and print the answer."),
    "models": ("cli.models", "models", "List, show and pull Ollama models."),
    "sessions": ("cli.sessions", "sessions", "List, show, search, export and archive sessions."),
    "flow": ("cli.flow", "flow", "List, show, validate and run YAML flows."),
    "nodes": ("cli.nodes_cmd", "nodes", "List node types; show their params, actions and keys."),
    "rag": ("cli.rag", "rag", "Ingest documents into collections for RAG flows."),
    "stats": ("cli.stats", "stats", "Show usage metrics (queue, latency, cache, truncation)."),
    "db": ("cli.db", "db", "Show and apply database migrations."),
    "queue": ("cli.queue_cmd", "queue", "Show the request queue; clear stale tickets."),
    "doctor": ("cli.doctor", "doctor", "Check Ollama, the model, the database, disk and queue."),
    "keys": ("cli.keys_cmd", "keys", "Make, list and revoke API keys for serve mode."),
    "memory": ("cli.memory_cmd", "memory", "List, search, show and erase long-term memories."),
    "serve": ("cli.serve_cmd", "serve", "Serve the HTTP API (sessions, runs, OpenAI-compatible)."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        command = getattr(module, entry[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in self.list_commands(ctx):
            import difflib

            near = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            hint = f" Did you mean '{near[0]}'?" if near else ""
            raise click.UsageError(f"No such command '{name}'.{hint}", ctx)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        from cli.errors import quiet_logging, run_guarded

        quiet_logging(bool(ctx.params.get("debug")))
        return run_guarded(ctx, lambda: super(LazyGroup, self).invoke(ctx))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    metavar="FILE",
    help="A user config file (default: $POCKETCHAT_CONFIG).",
)
@click.option("--host", metavar="URL", help="The Ollama server (default: $OLLAMA_HOST).")
@click.option(
    "--data-dir",
    metavar="DIR",
    help="Sessions and logs dir (default: $POCKETCHAT_DATA_DIR, else ~/.local/share/pocketchat).",
)
@click.option("--debug", is_flag=True, help="Log everything to stderr and show tracebacks.")
@click.version_option("0.1.0", prog_name="pocketchat")
@click.pass_context
def cli(
    ctx: click.Context,
    config_file: str | None,
    host: str | None,
    data_dir: str | None,
    debug: bool,
) -> None:
    """pocketchat: hold conversations with local LLMs served by Ollama.

    Start with `chat`. Sessions are kept in SQLite and never deleted by age.
    """
    from app import App

    ctx.obj = App(
        config_file=config_file, overrides={"host": host, "data_dir": data_dir}, debug=debug
    )
    ctx.call_on_close(lambda: close_quietly(ctx))


def close_quietly(ctx: click.Context) -> None:
    """Close what the command opened; a failure there is one line too (after the command's own
    output), never a traceback."""
    from cli.errors import run_guarded

    run_guarded(ctx, ctx.obj.close)


def run() -> int:
    """The `pocketchat` console script (pyproject.toml `[project.scripts]`) and `python main.py`.
    Start-up allocates much and frees little: the cyclic collector is paused until the first
    flow is loaded (app/root.py `start_up_done`): a tenth of a one-shot `ask` saved."""
    gc.disable()
    try:
        code: int = cli.main(prog_name="pocketchat")
    except ModuleNotFoundError as missing:
        line = not_installed(missing)
        if line is None:
            raise
        click.echo(line, err=True)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(run())
