"""What each of Ollama's models can do (`/api/show`'s `capabilities`), for `GET /v1/models`.

Asked once per model and kept for `TTL` seconds in this server process, so listing models
stays one `/api/tags` call (plus one `/api/show` per model new or gone stale). A model whose
`/api/show` fails is listed without capabilities (clients then treat it as able to chat, as
pocketchat does with an Ollama too old to say).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol

import structlog

from utils.ollama import ModelDetails, OllamaError

log = structlog.get_logger()

TTL = 60.0


class Shows(Protocol):
    def show(self, model: str) -> ModelDetails: ...


class ModelCapabilities:
    def __init__(self, ttl: float = TTL, now: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._now = now
        self._known: dict[str, tuple[float, tuple[str, ...] | None]] = {}
        self._lock = threading.Lock()

    def of(self, llm: Shows, names: Iterable[str]) -> dict[str, tuple[str, ...] | None]:
        """Each name's capabilities (None when Ollama would not say); blocking, for a thread."""
        found: dict[str, tuple[str, ...] | None] = {}
        for name in names:
            now = self._now()
            with self._lock:
                kept = self._known.get(name)
            if kept is not None and now - kept[0] < self.ttl:
                found[name] = kept[1]
                continue
            caps: tuple[str, ...] | None
            try:
                caps = llm.show(name).capabilities or None
            except OllamaError as exc:
                log.warning("model_show_failed", model=name, error=type(exc).__name__)
                caps = None
            with self._lock:
                self._known[name] = (now, caps)
            found[name] = caps
        return found
