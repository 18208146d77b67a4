"""What `chat`, `ask` and `flow run` share: building a turn flow and running turns on it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pocketflow import Flow

    from app import App
    from flows.spec import FlowSpec
    from utils.sink import Sink


CHAT_RETRY_HINT = "/retry regenerates it."


class TurnRunner:
    """A flow built once (nodes hold no per-run state) and run once per turn. `retry_hint` is
    how a cut-off reply is retried where the person is (`shared["retry_hint"]`)."""

    def __init__(
        self,
        app: App,
        sink: Sink,
        flow_source: str | None = None,
        collection: str | None = None,
        *,
        chat_turn: bool = False,
        retry_hint: str | None = CHAT_RETRY_HINT,
    ) -> None:
        from flows.loader import build_flow, load_flow, resolve_flow

        self.app = app
        self.sink = sink
        self.retry_hint = retry_hint
        settings = app.settings
        source = flow_source or settings.turn_flow
        self.flow_path = resolve_flow(source, search_path=app.flow_search_path())
        self.spec = load_flow(self.flow_path, app.registry(), extra_imports=settings.imports)
        if chat_turn:  # `chat` and `ask`: the flow must hold a conversation turn
            require_turn_flow(self.spec)
            require_collection(self.spec, collection)
        self.deps = app.deps(sink)
        self.flow: Flow[Any, Any] = build_flow(self.spec, self.deps, settings.retry)
        self.last_shared: dict[str, Any] = {}  # the last turn's store, even if it raised

    def turn(self, **inputs: Any) -> dict[str, Any]:
        from flows.turn import run_turn

        shared: dict[str, Any] = {k: v for k, v in inputs.items() if v is not None}
        shared["_store"] = self.deps.store
        if self.retry_hint and "retry_hint" not in shared:
            shared["retry_hint"] = self.retry_hint
        self.last_shared = shared
        return run_turn(self.flow, shared)


def parse_options(pairs: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """`-o KEY VALUE` pairs, each checked (raises OptionError with one line)."""
    from utils.ollama import parse_option, validate_options

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


TURN_NODES = ("LoadSession", "PersistTurn")


def require_turn_flow(spec: FlowSpec) -> None:
    """`chat` and `ask` need a flow that holds a conversation turn; say so if it does not."""
    import click

    def types(flow: FlowSpec) -> set[str]:
        found = {n.type_name for n in flow.nodes.values() if n.type_name}
        for node in flow.nodes.values():
            if node.subflow is not None:
                found |= types(node.subflow)
        return found

    missing = [name for name in TURN_NODES if name not in types(spec)]
    if missing:
        raise click.UsageError(
            f"flow '{spec.name}' is not a chat turn (it has no {' or '.join(missing)} node); "
            f"run it with `flow run {spec.name} --input FILE.jsonl`"
        )


def require_collection(spec: FlowSpec, collection: str | None) -> None:
    """A flow that retrieves needs a collection: from --collection or the node's own param."""
    import click

    needs = [
        n.id
        for n in spec.nodes.values()
        if n.type_name in ("EmbedQuery", "Retrieve") and not n.params.get("collection")
    ]
    if needs and not collection:
        raise click.UsageError(
            f"flow '{spec.name}' answers from a collection: give --collection NAME "
            "(`rag list` shows them; `rag ingest PATH --collection NAME` makes one)"
        )


def title_from(text: str) -> str:
    """A session title from the person's first message: one line, at most 60 characters."""
    line = " ".join(text.split())
    return line if len(line) <= 60 else line[:57] + "…"
