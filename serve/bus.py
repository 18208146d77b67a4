"""The bus: how a run's news reaches the streams following it, on any replica.

Every event is stored first (the store is the log, replayed from any replica); the bus only
wakes the followers, who then read the store from their last id, so a lost wake-up costs
latency, never an event. `LocalBus` is one process (the event loop is woken directly, nothing
crosses processes); `RedisBus` (serve/redis_bus.py) carries wake-ups and cancels between
replicas over Redis pub/sub, and followers also re-read the store every `recheck_seconds`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

Wake = Callable[[Sequence[str]], None]  # runs whose logs grew
Cancel = Callable[[str], object]  # stop this run if it runs here


class Bus(Protocol):
    recheck_seconds: float | None  # followers re-read the store this often (None: only woken)

    def start(self, wake: Wake, cancel: Cancel) -> None:
        """Deliver the other replicas' news to `wake` and `cancel` (from a thread of its own)."""

    def announce(self, run_ids: Sequence[str]) -> None:
        """Tell the other replicas these runs' logs grew (this replica woke its own)."""

    def cancel(self, run_id: str) -> None:
        """Ask every replica to stop `run_id` if it is running there."""

    def close(self) -> None: ...


class LocalBus:
    """One replica: nothing to tell anyone else."""

    recheck_seconds: float | None = None

    def __init__(self) -> None:
        self._cancel: Cancel | None = None

    def start(self, wake: Wake, cancel: Cancel) -> None:
        self._cancel = cancel

    def announce(self, run_ids: Sequence[str]) -> None:
        return None

    def cancel(self, run_id: str) -> None:
        if self._cancel is not None:
            self._cancel(run_id)

    def close(self) -> None:
        return None
