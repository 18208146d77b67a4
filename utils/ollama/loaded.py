"""Whether a model has to be loaded before it can answer, so a reply can say "loading" first.

`/api/ps` lists the models in Ollama's memory, each with the `context_length` it was loaded
with (another `num_ctx` reloads it). It is asked before a reply unless the same model (and
`num_ctx`) answered the last request less than `FRESH` seconds ago and was asked to stay
(`keep_alive` not 0): under load, replies follow each other and the question costs nothing on
the path from one to the next; after a pause it costs one small request. Another model asked
in between may have pushed it out, so then it is asked again. A `/api/ps` that fails says
nothing (no "loading").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from utils.ollama.errors import OllamaError
from utils.ollama.results import normalise_model

if TYPE_CHECKING:
    from utils.clock import Clock
    from utils.ollama.client import OllamaService

log = structlog.get_logger()

FRESH = 2.0  # seconds after a request during which its model counts as still loaded


class LoadWatch:
    def __init__(self, clock: Clock, fresh: float = FRESH) -> None:
        self.clock = clock
        self.fresh = fresh
        # model, num_ctx, monotonic, host (with several hosts, the last one may be another)
        self._last: tuple[str, int | None, float, object] | None = None

    def needs_load(
        self, llm: OllamaService, model: str, num_ctx: int | None, keep_alive: object = None
    ) -> bool:
        """True when `model` (with `num_ctx`) is not in Ollama's memory now. Called just before
        the request that uses it: that request counts as the model's last use."""
        key, now = normalise_model(model), self.clock.monotonic()
        host = getattr(llm, "host", None)
        last = self._last
        stays = not _zero(keep_alive)
        self._last = (key, num_ctx, now, host) if stays else None
        recent = last is not None and 0 <= now - last[2] < self.fresh and last[3] == host
        if recent and last is not None and last[0] == key and _fits(last[1], num_ctx):
            return False
        try:
            running = llm.running()
        except OllamaError as exc:
            log.info("model_load_unknown", model=model, error=type(exc).__name__)
            return False
        for item in running:
            if normalise_model(item.name) == key and _fits(item.context_length, num_ctx):
                return False
        return True


def _fits(loaded: int | None, wanted: int | None) -> bool:
    return loaded is None or wanted is None or loaded == wanted


def _zero(keep_alive: object) -> bool:
    """A keep_alive that unloads the model as soon as the reply ends."""
    if isinstance(keep_alive, int | float) and not isinstance(keep_alive, bool):
        return keep_alive == 0
    return isinstance(keep_alive, str) and keep_alive.strip() in ("0", "0s", "0m", "0h")
