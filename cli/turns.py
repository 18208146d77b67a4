"""What `chat`, `ask` and `flow run` share: building a turn flow and running turns on it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pocketflow import Flow

    from cli.app import App
    from utils.sink import Sink


class TurnRunner:
    """A flow built once (nodes hold no per-run state) and run once per turn."""

    def __init__(self, app: App, sink: Sink, flow_source: str | None = None) -> None:
        from flows.loader import build_flow, load_flow, resolve_flow

        self.app = app
        self.sink = sink
        settings = app.settings
        source = flow_source or settings.flow
        self.flow_path = resolve_flow(source)
        self.spec = load_flow(self.flow_path, app.registry(), extra_imports=settings.imports)
        self.deps = app.deps(sink)
        self.flow: Flow[Any, Any] = build_flow(self.spec, self.deps, settings.retry)
        self.last_shared: dict[str, Any] = {}  # the last turn's store, even if it raised

    def turn(self, **inputs: Any) -> dict[str, Any]:
        from flows.turn import run_turn

        shared: dict[str, Any] = {k: v for k, v in inputs.items() if v is not None}
        shared["_store"] = self.deps.store
        self.last_shared = shared
        return run_turn(self.flow, shared)


def parse_options(pairs: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """`-o KEY VALUE` pairs, each checked (raises OptionError with one line)."""
    from utils.options import parse_option, validate_options

    return validate_options({key: parse_option(key, value) for key, value in pairs})


def resolve_auto_pull(app: App) -> None:
    """`auto_pull: auto` means on when a person is at a terminal."""
    if app.settings.ollama.auto_pull == "auto":
        on = sys.stdin.isatty() and sys.stderr.isatty()
        app.override(**{"ollama.auto_pull": "true" if on else "false"})


def clean_text(raw: str) -> tuple[str, bool]:
    """Replace control characters (except tab and new line) and lone surrogates (undecodable
    bytes from argv) with U+FFFD; report whether any were."""
    raw = raw.replace("\r\n", "\n")
    cleaned = "".join(ch if _printable(ch) else "\ufffd" for ch in raw)
    return cleaned, cleaned != raw


def _printable(ch: str) -> bool:
    code = ord(ch)
    if ch in "\t\n":
        return True
    return code >= 32 and code != 127 and not 0x80 <= code < 0xA0 and not 0xD800 <= code < 0xE000
