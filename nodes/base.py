"""The base of every pocketchat node.

- `actions` lists every action `post` can return ("default" for None); the flow loader checks
  edges against it.
- `reads`, `may_read`, `writes` and `writes_on` declare the shared keys it uses (key -> type,
  or the type's name as text when importing it would cost start-up): `reads` are needed from an
  upstream node or a flow input, `may_read` are read when present, `writes` are set whenever
  `post` runs, `writes_on` maps an action to the keys set only on it, `may_write` are set only
  sometimes. `flow validate` checks the
  wiring with them (flows/wiring.py); `nodes show` prints them (nodes/keys.py).
- The constructor takes the frozen `Deps` first, then keyword params from YAML. Keep no mutable
  state on `self`: PocketFlow shallow-copies nodes per step, so it would be shared by every run.
- Retry is PocketFlow's own (`max_retries`, with `wait=0`); a node that retries calls
  `self.wait_before_retry()` first thing in `exec`, which sleeps `backoff * 2**(n-1)` seconds,
  +/- `jitter`, before attempt n+1. PocketFlow retries every `Exception`, so such a node lets
  only a transient `OllamaError` out of `exec`; anything else that is not an Ollama failure (a
  bug) is returned as a `Crash`, which `post` re-raises: no backoff, no "retrying", no Ollama
  failure line.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

import structlog
from pocketflow import Node

from nodes.deps import Deps

log = structlog.get_logger()

Shared = dict[str, Any]

if TYPE_CHECKING:  # pocketflow's stub is generic; the runtime class is not
    _Node = Node[Any, Any, Any]
else:
    _Node = Node


@dataclass(frozen=True)
class Crash:
    """An unexpected error caught in `exec` so PocketFlow does not retry it; `post` calls
    `reraise()`, which raises it with its own traceback."""

    error: Exception

    def reraise(self) -> NoReturn:
        log.info("node_crashed", error=type(self.error).__name__)
        raise self.error


class InputError(ValueError):
    """A node's input or param is missing or wrong: one line for the person, exit status 2."""


class PocketNode(_Node):
    actions: ClassVar[tuple[str, ...]] = ("default",)
    # The inputs it reads from whoever runs the flow (a `flow run` line, `ask`...): shared key
    # -> type hint. `flow run` checks each input line against these (`flows/inputs.py`).
    inputs: ClassVar[Mapping[str, Any]] = {}
    reads: ClassVar[Mapping[str, Any]] = {}
    may_read: ClassVar[Mapping[str, Any]] = {}
    writes: ClassVar[Mapping[str, Any]] = {}
    writes_on: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    may_write: ClassVar[Mapping[str, Any]] = {}  # set only sometimes (not relied on downstream)
    # Where a param's default comes from when left out: param -> dotted setting ("chat.window")
    param_settings: ClassVar[Mapping[str, str]] = {}

    def __init__(self, deps: Deps) -> None:
        super().__init__(max_retries=1, wait=0)
        self.deps = deps
        self.backoff = 0.0
        self.jitter = 0.0

    def configure_retry(self, max_retries: int, backoff: float, jitter: float = 0.0) -> None:
        """Set by the flow loader from a node's `retry:` block in YAML."""
        self.max_retries = max(1, max_retries)
        self.backoff = max(0.0, backoff)
        self.jitter = min(max(0.0, jitter), 1.0)

    def retry_delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1-based): 1, 2, 4… times backoff."""
        base = self.backoff * 2 ** (attempt - 1)
        return max(0.0, float(base * (1 + random.uniform(-self.jitter, self.jitter))))

    def wait_before_retry(self) -> None:
        attempt = int(getattr(self, "cur_retry", 0))
        if attempt > 0:
            delay = self.retry_delay(attempt)
            log.info("node_retry_wait", node=type(self).__name__, attempt=attempt, delay=delay)
            self.deps.clock.sleep(delay)
