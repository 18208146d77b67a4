"""Logging: structlog, configured once by the composition root (`main.py`).

JSON lines go to `pocketchat.log` in the data dir, info and up (`--debug`: debug events too);
stderr shows warnings and errors in human form (`--debug`: everything, with tracebacks). An
event below both levels is dropped first thing (`filter_by_level`), before any processor runs:
a turn's debug events cost next to nothing unless asked for. stdout is never touched: it
carries only the conversation or `--json` output. Session and request ids are bound with
`structlog.contextvars.bound_contextvars` and so appear on every line of a turn.

The log file is created 0600 (it names sessions and paths). A crash's traceback is kept there
without the frames' variables, which would carry message text. When it cannot be written (a full
disk), logging to it stops quietly: no `--- Logging error ---` blocks in the person's terminal;
the console keeps its lines.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import structlog

from utils.paths import tighten

# A crash's traceback as a dict, without each frame's variables: they hold what people wrote.
_TRACEBACKS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)

_SHARED: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(log_file: Path | None, level: str = "warning", debug: bool = False) -> None:
    """Send JSON to `log_file` (info and up; with `debug`, everything) and human lines to
    stderr (`level` and up; with `debug`, everything)."""
    console_level = logging.DEBUG if debug else _level(level)
    file_level = logging.DEBUG if debug else logging.INFO
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,  # below every handler's level: dropped here
            *_SHARED,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,  # reconfigurable (tests capture logs after a CLI run)
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(console_level)  # lowered to the file's level below if there is a file

    console = logging.StreamHandler(sys.stderr)
    console.setLevel(console_level)
    console.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _drop_tracebacks if not debug else _keep,
                structlog.dev.ConsoleRenderer(colors=False),
            ],
        )
    )
    root.addHandler(console)

    if log_file is not None:
        try:
            os.close(os.open(log_file, os.O_CREAT | os.O_WRONLY, 0o600))  # new: 0600
            file_handler: logging.Handler | None = QuietFileHandler(log_file, encoding="utf-8")
        except OSError:
            file_handler = None
        if file_handler is not None:
            file_handler.setLevel(file_level)
            root.setLevel(min(console_level, file_level))
            file_handler.setFormatter(
                structlog.stdlib.ProcessorFormatter(
                    foreign_pre_chain=_SHARED,
                    processors=[
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        _TRACEBACKS,
                        structlog.processors.JSONRenderer(),
                    ],
                )
            )
            root.addHandler(file_handler)
            tighten(log_file.parent, 0o700)  # after the handler: the change is logged
            tighten(log_file, 0o600)
    # Libraries chatter at INFO/DEBUG (httpx logs every request): keep them in the file only.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.WARNING)


class QuietFileHandler(logging.FileHandler):
    """A FileHandler that stops writing after its first failure (a full disk, a revoked file)
    instead of printing a traceback block per record to stderr."""

    failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.failed:
            super().emit(record)

    def flush(self) -> None:
        try:
            super().flush()
        except OSError:
            self.failed = True

    def close(self) -> None:
        try:
            super().close()
        except OSError:
            self.failed = True

    def handleError(self, record: logging.LogRecord) -> None:
        self.failed = True


def _level(name: str) -> int:
    value = logging.getLevelName(name.upper())
    return value if isinstance(value, int) else logging.WARNING


def _drop_tracebacks(
    _logger: object, _name: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    event.pop("exc_info", None)
    event.pop("exception", None)
    return event


def _keep(
    _logger: object, _name: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    return event
