"""`ollama.hosts: [{url, slots, models?}]`: the Ollama servers one pocketchat spreads over.

Each entry names a server (`url`, parsed like `host`), how many requests it serves at once
(`slots`: its `OLLAMA_NUM_PARALLEL`; `queue.slots` when left out) and, optionally, which models
it serves (`models`: a host without the list serves any model). The settings check the
entries' shape (config/settings.py); `parse_hosts` parses the URLs and builds the specs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from utils.ollama import display_host, normalise_host, normalise_model
from utils.queue import host_key


@dataclass(frozen=True)
class HostSpec:
    url: str  # normalised, credentials kept (for the client)
    slots: int
    models: tuple[str, ...] | None = None  # normalised names; None = every model

    @property
    def key(self) -> str:
        """The queue line's name, shared with a single-host process on the same server."""
        return host_key(display_host(self.url))

    @property
    def shown(self) -> str:
        """The URL without credentials, for logs, tables and metric labels."""
        return display_host(self.url)

    def serves(self, model: str | None) -> bool:
        return model is None or self.models is None or normalise_model(model) in self.models


def parse_hosts(raw: Sequence[Mapping[str, Any]], default_slots: int = 1) -> list[HostSpec]:
    """The specs of a list the settings check passed (entries with url, slots, models); a URL
    that does not parse, or two entries for one server, raise ValueError naming the entry."""
    specs: list[HostSpec] = []
    seen: dict[str, int] = {}
    for n, entry in enumerate(raw):
        where = f"ollama.hosts[{n}]"
        try:
            url = normalise_host(str(entry["url"]))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from exc
        models = entry.get("models")
        spec = HostSpec(
            url=url,
            slots=max(1, int(entry.get("slots", default_slots))),
            models=None if models is None else tuple(normalise_model(m) for m in models),
        )
        if spec.key in seen:
            raise ValueError(f"{where}: the same server as ollama.hosts[{seen[spec.key]}].")
        seen[spec.key] = n
        specs.append(spec)
    return specs
