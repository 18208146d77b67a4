"""What every node receives: one frozen object of injected services.

Built only by the composition root (`app/root.py`); nodes never construct clients, open files or
touch the terminal themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.settings import Settings
    from utils.clock import Clock
    from utils.ollama import OllamaService
    from utils.queue import Gate, TurnLimit
    from utils.sink import Sink
    from utils.store import Store


@dataclass(frozen=True)
class Deps:
    settings: Settings
    store: Store
    llm: OllamaService
    sink: Sink
    clock: Clock
    gate: Gate | None = None  # the shared request queue; None = no queueing
    turn_limit: TurnLimit | None = None  # turns per minute kept in Redis; None = the store's
