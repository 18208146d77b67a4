"""Which hosts have a model in memory: each host's `/api/ps`, remembered for `fresh` seconds.

Asked only when more than one host is free (the answer then decides). A reply that just
started on a host counts as that model being loaded there. A host whose `/api/ps` answers an
error counts as not having it; one that cannot be reached (a transient error) raises it, and
the pool cools that host down.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from utils.clock import Clock
from utils.ollama import OllamaError, OllamaService, normalise_model

log = structlog.get_logger()

FRESH = 2.0


class LoadedModels:
    def __init__(
        self, llm_for: Callable[[str], OllamaService], clock: Clock, fresh: float = FRESH
    ) -> None:
        self.llm_for = llm_for
        self.clock = clock
        self.fresh = fresh
        self._seen: dict[str, tuple[float, frozenset[str]]] = {}  # url -> (monotonic, models)
        self._lock = threading.Lock()

    def has(self, url: str, model: str) -> bool:
        key, now = normalise_model(model), self.clock.monotonic()
        with self._lock:
            seen = self._seen.get(url)
        if seen is None or not 0 <= now - seen[0] < self.fresh:
            try:
                running = frozenset(normalise_model(m.name) for m in self.llm_for(url).running())
            except OllamaError as exc:
                if exc.transient:  # the host is failing: the pool cools it down
                    raise
                log.info("host_models_unknown", error=type(exc).__name__)
                running = frozenset()
            seen = (now, running)
            with self._lock:
                self._seen[url] = seen
        return key in seen[1]

    def used(self, url: str, model: str) -> None:
        """A reply started on `url` with `model`: it is loaded there now."""
        now = self.clock.monotonic()
        with self._lock:
            old = self._seen.get(url, (now, frozenset()))[1]
            self._seen[url] = (now, old | {normalise_model(model)})
