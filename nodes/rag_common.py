"""What the RAG nodes share: a failure value, and calling /api/embed with retry semantics.

Retry is PocketFlow's own, as in CallOllama: a transient Ollama error (refused, reset, 503,
500, timeout) is raised so PocketFlow runs `exec` again after `wait_before_retry()`; anything
else is returned as a `Failure`, and `post` turns it into the `failed` action with
shared["error"] = {"kind", "line"} (the line PersistTurn stores and the CLI prints).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from nodes.base import Shared
from nodes.deps import Deps
from utils.ollama import OllamaError

log = structlog.get_logger()


@dataclass(frozen=True)
class Failure:
    kind: str
    line: str


def failure(exc: Exception, deps: Deps) -> Failure:
    """The one line a person reads for `exc`."""
    if isinstance(exc, OllamaError):
        return Failure(type(exc).__name__, exc.user_line(deps.llm.host))
    line = getattr(exc, "user_line", None)
    return Failure(type(exc).__name__, str(line() if callable(line) else exc))


def embed(deps: Deps, model: str, texts: list[str]) -> list[list[float]]:
    """Vectors for `texts`; a non-transient Ollama error is re-raised as `Permanent`."""
    try:
        return deps.llm.embed(model, texts)
    except OllamaError as exc:
        if exc.transient:
            raise
        raise Permanent(exc) from exc


class Permanent(Exception):
    """Wraps an error that retrying will not fix."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def fail(shared: Shared, result: Failure) -> str:
    """Record `result` in shared["error"] and return the `failed` action (the flow's end or
    PersistTurn tells the person)."""
    shared["error"] = {"kind": result.kind, "line": result.line}
    log.info("rag_step_failed", error=result.kind)
    return "failed"


def last_user_text(shared: Shared) -> str:
    """The question: shared["user_message"], else the last person's message in the window
    (a /retry regenerates without a new message)."""
    text = shared.get("user_message")
    if text:
        return str(text)
    history: list[Any] = shared.get("history") or []
    for message in reversed(history):
        if getattr(message, "role", None) == "user":
            return str(message.content)
    return ""
