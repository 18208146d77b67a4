"""The CLI's edge: every failure becomes one clear line and an exit status.

Exit status 2 for bad settings or usage, 1 for everything else. A traceback only with --debug.
Library errors are recognised by a `user_line()` method (Ollama errors take the host) or by
their class; anything unexpected is reported in one line that points at the log file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click
import structlog

log = structlog.get_logger()


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line to stderr and exit with `code`."""
    click.echo(f"Error: {message}", err=True)  # the same prefix as click's own errors
    raise SystemExit(code)


def run_guarded(ctx: click.Context, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
        raise
    except KeyboardInterrupt:
        click.echo("", err=True)
        raise SystemExit(130) from None
    except BrokenPipeError:  # the reader went away (`… | head`): stop quietly, like a shell tool
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(141) from None
    except Exception as exc:
        debug = bool(getattr(ctx.obj, "debug", False))
        code, line = describe(exc, ctx.obj)
        if debug:
            raise
        if code == 1 and line.startswith("internal error"):
            log.error("command_crashed", exc_info=exc)
        fail(line, code)


def describe(exc: BaseException, app: object) -> tuple[int, str]:
    """(exit status, one line) for an exception that reached the edge."""
    from config.settings import SettingsError

    if isinstance(exc, SettingsError):
        return 2, str(exc)
    if isinstance(exc, click.ClickException):  # raised inside the chat (slash commands)
        return exc.exit_code, exc.format_message()
    user_line = getattr(exc, "user_line", None)
    if callable(user_line):
        host = getattr(app, "host_display", "") if app is not None else ""
        try:
            return 1, str(user_line(host))
        except TypeError:
            return 1, str(user_line())
    for module, name in (
        ("nodes.base", "InputError"),
        ("utils.store", "StoreError"),
        ("flows.errors", "FlowError"),
        ("utils.ollama", "OptionError"),
    ):
        cls = _lookup(module, name)
        if cls is not None and isinstance(exc, cls):
            return (2 if name in ("OptionError", "InputError") else 1), str(exc)
    where = getattr(app, "log_path", None)
    hint = f"; details in {where}" if where else ""
    return 1, f"internal error: {type(exc).__name__}: {exc} (rerun with --debug{hint})"


def _lookup(module: str, name: str) -> type[BaseException] | None:
    import importlib

    try:
        cls = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return cls if isinstance(cls, type) and issubclass(cls, BaseException) else None
