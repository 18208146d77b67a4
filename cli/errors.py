"""The CLI's edge: every failure becomes one clear line and an exit status.

Exit status 2 for bad settings or usage, 1 for everything else. A traceback only with --debug.
Library errors are recognised by a `user_line()` method (Ollama errors take the host) or by
their class; a file the system refused (OSError with a file name) is named with the reason;
an error out of a flow's node names the flow, node, class and file:line (`flows/node_errors.py`);
anything else unexpected is one line that points at the log file, and its traceback goes to that
file only (never a second line on stderr). Until the composition root configures logging, log
lines go to stderr without tracebacks (`quiet_logging`), so a command that fails before it reads
its settings still prints one line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import typing
from collections.abc import Callable, MutableMapping
from typing import Any, NoReturn

import click


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line to stderr and exit with `code`."""
    if not message.isprintable():  # a key or value with a new line or NUL: still one line
        message = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)
    click.echo(f"Error: {message}", err=True)  # the same prefix as click's own errors
    raise SystemExit(code)


def quiet_logging(debug: bool) -> None:
    """Before settings are read: structlog to stderr, warnings and up, no tracebacks (all of it
    with --debug). The composition root replaces this once it knows the log file."""
    import structlog

    structlog.configure(
        processors=[
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _keep if debug else _drop_tracebacks,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.DEBUG if debug else logging.WARNING
        ),
        logger_factory=structlog.PrintLoggerFactory(typing.cast(typing.TextIO, _Stderr())),
        cache_logger_on_first_use=False,
    )


class _Stderr:
    """Whatever `sys.stderr` is when a line is written (tests swap it); a closed one is skipped."""

    def write(self, text: str) -> int:
        try:
            return sys.stderr.write(text)
        except (ValueError, OSError):
            return 0

    def flush(self) -> None:
        with contextlib.suppress(ValueError, OSError):
            sys.stderr.flush()


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
        from flows.node_errors import node_line

        in_node = node_line(exc)
        if code == 1 and (
            line.startswith("internal error") or (in_node is not None and line.startswith(in_node))
        ):
            log_to_file("command_crashed", exc)  # a bug (ours, or in a person's node)
        fail(line, code)


def log_to_file(event: str, exc: BaseException) -> None:
    """`event` with its traceback, to the log file only (nothing when there is none yet)."""
    record = logging.LogRecord(
        "cli.errors", logging.ERROR, __file__, 0, event, None, (type(exc), exc, exc.__traceback__)
    )
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            with contextlib.suppress(Exception):  # best effort; the person still gets their line
                handler.handle(record)


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
        except Exception:  # the host itself is what is wrong: say the error without it
            return 1, str(exc)
    for module, name in (
        ("nodes.base", "InputError"),
        ("utils.store", "StoreError"),
        ("flows.errors", "FlowError"),
        ("utils.ollama", "OptionError"),
    ):
        cls = _lookup(module, name)
        if cls is not None and isinstance(exc, cls):
            return (2 if name in ("OptionError", "InputError") else 1), str(exc)
    import sqlite3

    if isinstance(exc, sqlite3.Error):
        sqlite_line = _sqlite_line(exc, app)
        if sqlite_line:
            return 1, sqlite_line
    psycopg = sys.modules.get("psycopg")  # loaded only when the store is Postgres
    if psycopg is not None and isinstance(exc, psycopg.OperationalError):
        said = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return 1, f"the Postgres store failed: {said} (is the server up? see store.url)"
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        return 1, f"{exc.filename}: {exc.strerror.lower()}; check the path and its permissions."
    where = getattr(app, "log_path", None)
    from flows.node_errors import node_line

    in_node = node_line(exc)  # a node of a flow raised: say which, and where in its module
    if in_node is not None:
        return 1, in_node + (f" (traceback in {where}, or rerun with --debug)" if where else "")
    hint = f"; details in {where}" if where else ""
    return 1, f"internal error: {type(exc).__name__}: {exc} (rerun with --debug{hint})"


# what SQLite says -> what it means and what to do (a bug, e.g. a constraint, stays internal)
_SQLITE_CAUSES = (
    ("readonly", "is read-only here",
     "check the owner and mode of the data dir and its files (they must be yours, writable)"),
    ("unable to open", "cannot be opened",
     "check the data dir and its files exist and are yours (ls -l)"),
    ("disk i/o", "could not be read or written (disk I/O error)",
     "check the disk and free some space"),
    ("full", "cannot grow: the disk is full", "free some space"),
    ("locked", "is held by another process", "try again when it is done"),
    ("not a database", "holds a file that is not a database",
     "move the file aside (pocketchat.db: restore a backup; queue.db: just delete it)"),
)  # fmt: skip


def _sqlite_line(exc: BaseException, app: object) -> str | None:
    """One line for a storage failure that reached the edge unnamed: the data dir (which holds
    pocketchat.db and queue.db), what went wrong and what to do."""
    text = str(exc).lower()
    for needle, what, todo in _SQLITE_CAUSES:
        if needle in text:
            try:
                where = str(app.settings.data_path)  # type: ignore[attr-defined]
            except Exception:
                where = "the data dir"
            return f"{where}: a database {what} ({exc}); {todo}."
    return None


def _lookup(module: str, name: str) -> type[BaseException] | None:
    import importlib

    try:
        cls = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return cls if isinstance(cls, type) and issubclass(cls, BaseException) else None


def _drop_tracebacks(
    _logger: object, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    event.pop("exc_info", None)
    event.pop("exception", None)
    return event


def _keep(_logger: object, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return event
